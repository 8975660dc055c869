import { JobTransportError } from '../contract/errors';
import { parseHeartbeatAnnouncement } from '../contract/heartbeat';
import { createSseParser, type SseEvent } from './sseParser';

/** However slow a heartbeat a server announces, a stream silent for an hour is dead. */
const MAX_SILENCE_TIMEOUT_MS = 3_600_000;

/** @internal What {@link readEventStream} needs. */
export interface EventStreamReadOptions {
  /** Aborting it ends the read; the read aborts it itself, with a `JobTransportError`, when the stream goes silent. */
  attempt: AbortController;
  /** Silence (no bytes at all) after which the stream is taken for dead. */
  silenceTimeoutMs: number;
  /** Every event read. */
  onEvent(event: SseEvent): void;
}

/**
 * @internal Reads one event stream's body until it ends (resolves), or
 * breaks (rejects): aborted, silent too long, or a line past
 * `MAX_EVENT_STREAM_LINE_LENGTH` (`JobProtocolError`). On a rejection the body
 * is cancelled.
 *
 * A server may announce its heartbeat interval with the comment
 * `: heartbeat <ms>`; the silence limit of this stream is then
 * `max(silenceTimeoutMs, 3 × <ms>)` (at most an hour).
 */
export async function readEventStream(body: ReadableStream<Uint8Array>, options: EventStreamReadOptions): Promise<void> {
  const { attempt, silenceTimeoutMs } = options;
  const reader = body.getReader();
  const decoder = new TextDecoder();
  /** This stream's silence limit: the default, or three heartbeats the server announced. */
  let silence = silenceTimeoutMs;
  let watchdog: ReturnType<typeof setTimeout> | null = null;
  const arm = () => {
    if (watchdog !== null) clearTimeout(watchdog);
    watchdog = setTimeout(() => attempt.abort(new JobTransportError(`Event stream went silent for ${silence} ms`)), silence);
  };
  const parser = createSseParser(options.onEvent, {
    onComment(text) {
      const announced = parseHeartbeatAnnouncement(text);
      if (announced === null) return;
      silence = Math.min(MAX_SILENCE_TIMEOUT_MS, Math.max(silenceTimeoutMs, 3 * announced));
      arm();
    },
  });
  const onAbort = () => void reader.cancel().catch(() => {});
  attempt.signal.addEventListener('abort', onAbort, { once: true });
  try {
    arm();
    for (;;) {
      const { done, value } = await reader.read();
      if (attempt.signal.aborted) throw attempt.signal.reason ?? new JobTransportError('Event stream aborted');
      if (done) return;
      arm();
      // Throws JobProtocolError on a line past MAX_EVENT_STREAM_LINE_LENGTH: the caller reopens with backoff.
      parser.feed(decoder.decode(value, { stream: true }));
    }
  } catch (error) {
    void reader.cancel().catch(() => {});
    throw error;
  } finally {
    if (watchdog !== null) clearTimeout(watchdog);
    attempt.signal.removeEventListener('abort', onAbort);
    reader.releaseLock?.();
  }
}
