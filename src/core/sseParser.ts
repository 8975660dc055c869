/** @internal One event read from a Server-Sent Events stream. */
export interface SseEvent {
  /** The `id` field sent with this event, if any (`''` for an empty `id:` line). */
  id: string | undefined;
  /** The `event` field, or `undefined` when absent or empty (where `EventSource` would say "message"). */
  event: string | undefined;
  /** The `data` lines, joined with `\n`. */
  data: string;
}

/** @internal What {@link createSseParser} returns. */
export interface SseParser {
  /** Reads the next piece of the stream, already decoded; chunks may split lines anywhere. */
  feed(chunk: string): void;
}

/**
 * @internal Reads a `text/event-stream` body as the WHATWG HTML standard's
 * "event stream interpretation" does, calling `onEvent` for every event.
 *
 * - Lines end in CRLF, LF or CR. Lines are read when a chunk brings a line
 *   ending, and a CR that ends a chunk waits for the next one: followed by
 *   LF, the two are one line ending.
 * - A U+FEFF (BOM) that starts the stream is dropped.
 * - A line starting with `:` is a comment. Otherwise the field name runs up
 *   to the first `:` and the value follows it, less one leading space; a line
 *   without `:` is a field with an empty value.
 * - `data` appends its value and a `\n` to the data buffer; `event` sets the
 *   type; `id` sets the id unless the value contains U+0000. `retry` and
 *   unknown fields are ignored.
 * - A blank line ends the event: it is dispatched, without the last `\n` of
 *   its data, unless the data buffer is empty; either way the buffers reset.
 *
 * `id` is the id sent with that event only (`undefined` without one):
 * keeping the last event ID across events, as `EventSource` does, is up to
 * the caller.
 */
export function createSseParser(onEvent: (event: SseEvent) => void): SseParser {
  /** The text after the last complete line. */
  let pending = '';
  let atStart = true;
  let data = '';
  let type: string | undefined;
  let id: string | undefined;

  function readLine(line: string): void {
    if (line === '') {
      // A blank line dispatches the event, if it has data, and starts the next one.
      if (data !== '') onEvent({ id, event: type, data: data.slice(0, -1) });
      data = '';
      type = id = undefined;
      return;
    }
    const colon = line.indexOf(':');
    if (colon === 0) return; // A comment.
    // `name: value`, or a bare `name` with an empty value; one space after the colon is not part of the value.
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    // Each data line ends in \n in the buffer; the last one is dropped on dispatch.
    if (field === 'data') data += `${value}\n`;
    else if (field === 'event') type = value || undefined;
    // An id containing U+0000 is ignored. `retry` and unknown fields are too.
    else if (field === 'id' && !value.includes('\0')) id = value;
  }

  return {
    feed(chunk) {
      pending += chunk;
      if (atStart && pending !== '') {
        atStart = false;
        if (pending[0] === '\uFEFF') pending = pending.slice(1);
      }
      // No line ending, no complete line: nothing to read yet.
      if (!/[\r\n]/.test(chunk)) return;
      // A trailing CR waits: if the next chunk starts with LF, the two are one line ending.
      const end = pending.endsWith('\r') ? pending.length - 1 : pending.length;
      const lines = pending.slice(0, end).split(/\r\n?|\n/);
      pending = lines.pop()! + pending.slice(end);
      for (const line of lines) readLine(line);
    },
  };
}
