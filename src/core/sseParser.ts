import { JobProtocolError } from '../contract/errors';

/**
 * The longest line the event-stream reader accepts (and the most data one
 * event may carry), in UTF-16 code units: 1 MiB. A longer one is a
 * `JobProtocolError`, so a stream that never sends a line ending cannot make
 * the client buffer without limit; the client then reconnects with backoff.
 */
export const MAX_EVENT_STREAM_LINE_LENGTH = 1_048_576;

/** @internal One event read from a Server-Sent Events stream. */
export interface SseEvent {
  /** The `id` field sent with this event, if any (`''` for an empty `id:` line). */
  id: string | undefined;
  /** The `event` field, or `undefined` when absent or empty (where `EventSource` would say "message"). */
  event: string | undefined;
  /** The `data` lines, joined with `\n`. */
  data: string;
}

/** @internal Options of {@link createSseParser}. */
export interface SseParserOptions {
  /** Called with the text of every comment line (after its `:`, less one leading space), e.g. `heartbeat 60000`. */
  onComment?(text: string): void;
  /** Longest line, and most data per event, in UTF-16 code units. Default {@link MAX_EVENT_STREAM_LINE_LENGTH}. */
  maxLineLength?: number;
}

/** @internal What {@link createSseParser} returns. */
export interface SseParser {
  /**
   * Reads the next piece of the stream, already decoded; chunks may split lines anywhere.
   * Throws `JobProtocolError` once a line (or an event's data) grows past the limit; every later call throws it again.
   */
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
 * - A line starting with `:` is a comment, reported to `onComment`. Otherwise the field name runs up
 *   to the first `:` and the value follows it, less one leading space; a line
 *   without `:` is a field with an empty value.
 * - `data` appends its value and a `\n` to the data buffer; `event` sets the
 *   type; `id` sets the id unless the value contains U+0000. `retry` and
 *   unknown fields are ignored.
 * - A blank line ends the event: it is dispatched, without the last `\n` of
 *   its data, unless the data buffer is empty; either way the buffers reset.
 *
 * - A line longer than `maxLineLength`, or an event whose data grows past
 *   it, throws `JobProtocolError` (the rules set no limit; a client must).
 *
 * `id` is the id sent with that event only (`undefined` without one):
 * keeping the last event ID across events, as `EventSource` does, is up to
 * the caller.
 */
export function createSseParser(onEvent: (event: SseEvent) => void, options: SseParserOptions = {}): SseParser {
  const maxLineLength = options.maxLineLength ?? MAX_EVENT_STREAM_LINE_LENGTH;
  /** Set once the stream broke a limit: nothing more is read. */
  let broken: JobProtocolError | null = null;
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
    if (colon === 0) {
      // A comment: `: heartbeat 60000` says how often the server sends one.
      options.onComment?.(line[1] === ' ' ? line.slice(2) : line.slice(1));
      return;
    }
    // `name: value`, or a bare `name` with an empty value; one space after the colon is not part of the value.
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value[0] === ' ') value = value.slice(1);
    // Each data line ends in \n in the buffer; the last one is dropped on dispatch.
    if (field === 'data') {
      data += `${value}\n`;
      if (data.length > maxLineLength + 1) fail(`an event's data is longer than ${maxLineLength} characters`);
    } else if (field === 'event') {
      type = value || undefined;
    } else if (field === 'id' && !value.includes('\0')) {
      // An id containing U+0000 is ignored. `retry` and unknown fields are too.
      id = value;
    }
  }

  function fail(problem: string): never {
    pending = data = '';
    broken = new JobProtocolError('', `event stream: ${problem}`);
    throw broken;
  }

  const tooLong = () => fail(`a line is longer than ${maxLineLength} characters`);

  return {
    feed(chunk) {
      if (broken) throw broken;
      pending += chunk;
      if (atStart && pending !== '') {
        atStart = false;
        if (pending[0] === '\uFEFF') pending = pending.slice(1);
      }
      // No line ending, no complete line: nothing to read yet.
      if (!/[\r\n]/.test(chunk)) {
        // A trailing CR may wait here; it is not part of the line.
        if (pending.length > maxLineLength + 1) tooLong();
        return;
      }
      // A trailing CR waits: if the next chunk starts with LF, the two are one line ending.
      const end = pending.endsWith('\r') ? pending.length - 1 : pending.length;
      const lines = pending.slice(0, end).split(/\r\n?|\n/);
      pending = lines.pop()! + pending.slice(end);
      for (const line of lines) {
        if (line.length > maxLineLength) tooLong();
        readLine(line);
      }
      if (pending.length > maxLineLength + 1) tooLong();
    },
  };
}
