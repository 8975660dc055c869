import { JobError, JobProtocolError, JobRequestError, JobTransportError, JobUnauthorizedError } from '../../contract/errors';
import { clampRetryAfter } from '../../contract/retryAfter';
import type { HttpTransport } from '../fetchTransport';
import { readEventStream } from '../eventStreamReader';
import type { SseEvent } from '../sseParser';

/**
 * @internal One multiplexed `GET {base}/events?ids=…&output=…` stream and its
 * reconnect state. Its ids (and the ids whose output it carries) are fixed when
 * it is opened; the output positions are read again on every attempt.
 */
export interface Connection {
  /** The ids on the stream (`ids=`), sorted. */
  readonly ids: readonly string[];
  readonly idSet: ReadonlySet<string>;
  /** The ids whose output the stream carries (`output=`), each also in {@link ids}. */
  readonly outputIds: readonly string[];
  readonly outputSet: ReadonlySet<string>;
  /** Aborts the whole connection (all attempts). */
  readonly controller: AbortController;
  lastEventId: string | null;
  open: boolean;
  /** Listeners were told the stream dropped, and have not seen it reopen yet. */
  dropped: boolean;
  /** Ids whose listeners were told about a malformed `job`/`missing` frame and have had no valid one since. */
  readonly degraded: Set<string>;
  /** Ids whose output listeners were told about a malformed `output` frame and have had no valid one since. */
  readonly outputDegraded: Set<string>;
  /** Ids whose output ended on this stream (`done: true` arrived): it carries no more of it. */
  readonly outputEnded: Set<string>;
  /** Replaced by newer connections; closed once they are open. */
  retiring: boolean;
  closed: boolean;
  failures: number;
  attempts: number;
  resyncQueued: boolean;
}

/** @internal A connection not yet running: `ids` sorted, `outputIds` a subset of them. */
export function newConnection(ids: string[], outputIds: string[], lastEventId: string | null): Connection {
  return {
    ids,
    idSet: new Set(ids),
    outputIds,
    outputSet: new Set(outputIds),
    controller: new AbortController(),
    lastEventId,
    open: false,
    dropped: false,
    degraded: new Set(),
    outputDegraded: new Set(),
    outputEnded: new Set(),
    retiring: false,
    closed: false,
    failures: 0,
    attempts: 0,
    resyncQueued: false,
  };
}

/** @internal What {@link runConnection} asks of the rest of the event streams. */
export interface ConnectionHooks {
  transport: HttpTransport;
  silenceTimeoutMs: number;
  /** Source of jitter in [0, 1). */
  random(): number;
  /** The query of the next attempt (`ids=…`, and `&output=…` with the current positions). */
  query(c: Connection): string;
  /** Every event read. */
  onEvent(c: Connection, event: SseEvent): void;
  /** The stream answered as an event stream; `reopened` after a drop or a failed attempt. */
  opened(c: Connection, reopened: boolean): void;
  /** The stream broke (or failed to open) and is about to be retried. */
  dropped(c: Connection, error: JobError): void;
  /** The server refused the stream in a way reconnecting cannot fix (401/403, 400): end its subscriptions. */
  refused(c: Connection, error: JobError): void;
  /** Whether the stream still carries anything a listener waits for (when it ended cleanly). */
  needed(c: Connection): boolean;
  /** Closes the connection for good. */
  close(c: Connection): void;
}

const MAX_RECONNECT_DELAY_MS = 30_000;

/** @internal The reconnect delay after `failures` failures: exponential with jitter, a Retry-After outranking it, clamped. */
export function reconnectDelay(failures: number, random: number, retryAfterMs: number | undefined): number {
  const ceiling = Math.min(MAX_RECONNECT_DELAY_MS, 1000 * 2 ** Math.min(failures - 1, 30));
  const retryAfter = clampRetryAfter(retryAfterMs) ?? 0;
  return clampRetryAfter(Math.max(ceiling / 2 + (ceiling / 2) * random, retryAfter)) ?? 0;
}

function sleep(c: Connection, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      c.controller.signal.removeEventListener('abort', done);
      resolve();
    }
    c.controller.signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * @internal Keeps one connection's stream open until it is closed: opens it
 * (headers called on every attempt, `Last-Event-ID` sent), reads it, and on a
 * failure tells `dropped` and reconnects with backoff and jitter; the backoff
 * starts over only once the stream delivers a valid event (the caller resets
 * `c.failures`).
 */
export async function runConnection(c: Connection, hooks: ConnectionHooks): Promise<void> {
  const { transport } = hooks;
  while (!c.closed) {
    const attempt = new AbortController();
    const stop = () => attempt.abort();
    c.controller.signal.addEventListener('abort', stop, { once: true });
    try {
      const headers = await transport.headers();
      headers.set('accept', 'text/event-stream');
      if (c.lastEventId !== null) headers.set('last-event-id', c.lastEventId);
      if (c.closed) return;
      const url = transport.url('/events', hooks.query(c));
      let response: Response;
      try {
        response = await transport.open(url, { method: 'GET', headers }, attempt.signal);
      } catch (error) {
        if (!c.closed && (error instanceof JobUnauthorizedError || error instanceof JobRequestError)) {
          // Reconnecting cannot fix these: end the subscriptions; the watcher polls instead.
          hooks.refused(c, error);
          hooks.close(c);
          return;
        }
        throw error;
      }
      if (c.closed) {
        void response.body?.cancel().catch(() => {});
        return;
      }
      // A 200 that is not an event stream (a login page, a proxy's error page) is a failure, not a success.
      const type = response.headers.get('content-type') ?? '';
      if (!/^text\/event-stream\s*(;|$)/i.test(type.trim())) {
        void response.body?.cancel().catch(() => {});
        throw new JobProtocolError('', `event stream answered with content type "${type}", not text/event-stream`);
      }
      if (!response.body) throw new JobTransportError('Event stream answered without a body');
      const reopened = c.dropped || c.attempts > 0;
      c.open = true;
      c.dropped = false;
      hooks.opened(c, reopened);
      await readEventStream(response.body, {
        attempt,
        silenceTimeoutMs: hooks.silenceTimeoutMs,
        onEvent: (event) => hooks.onEvent(c, event),
      });
      if (c.closed) return;
      c.open = false;
      if (!hooks.needed(c)) {
        // The server ends the stream once every job left it: nothing more to wait for.
        hooks.close(c);
        return;
      }
      throw new JobTransportError('Event stream ended');
    } catch (thrown) {
      if (c.closed) return;
      c.open = false;
      // Whatever broke the stream (undici's "terminated", a reset), listeners see a typed error.
      const error =
        thrown instanceof JobError
          ? thrown
          : new JobTransportError(`Event stream interrupted: ${thrown instanceof Error ? thrown.message : String(thrown)}`, {
              cause: thrown,
            });
      hooks.dropped(c, error);
      c.failures += 1;
      c.attempts += 1;
      const retryAfter = error instanceof JobTransportError ? error.retryAfterMs : undefined;
      await sleep(c, reconnectDelay(c.failures, hooks.random(), retryAfter));
    } finally {
      c.controller.signal.removeEventListener('abort', stop);
    }
  }
}
