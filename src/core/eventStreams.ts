import { JobError, JobNotFoundError, JobProtocolError, JobRequestError, JobTransportError, JobUnauthorizedError } from '../contract/errors';
import type { HttpTransport } from './fetchTransport';
import { isTerminal } from '../contract/states';
import { isNewerJob } from '../contract/ordering';
import { parseJob } from '../contract/parseJob';
import { compareEventIds, isEventId } from '../contract/eventIds';
import { formatIdList } from '../contract/ids';
import { HEARTBEAT_INTERVAL_MS } from '../contract/heartbeat';
import { MAX_IDS_PER_REQUEST } from '../contract/limits';
import { clampRetryAfter } from '../contract/retryAfter';
import { readEventStream } from './eventStreamReader';
import type { SseEvent } from './sseParser';
import type { Job, JobBatch, JobSubscriptionListener } from '../contract/types';

/** @internal */
export interface EventStreamsOptions {
  transport: HttpTransport;
  /** One batch read, to catch up after a reconnect. */
  resync(ids: string[]): Promise<JobBatch>;
  /** Source of jitter in [0, 1). Default `Math.random`. */
  random?: () => number;
  /**
   * A stream silent for this long is considered dead and reopened. Default
   * {@link DEFAULT_SILENCE_TIMEOUT_MS}; a stream whose server announces a
   * slower heartbeat (`: heartbeat <ms>`) waits three of those instead.
   */
  silenceTimeoutMs?: number;
  /** Why an id cannot be subscribed to (it is then not put on a stream), or `null`. */
  invalidId?(id: string): JobError | null;
}

/** @internal Three of the server's default heartbeats. */
export const DEFAULT_SILENCE_TIMEOUT_MS = 3 * HEARTBEAT_INTERVAL_MS;

interface Connection {
  readonly ids: readonly string[];
  readonly idSet: ReadonlySet<string>;
  /** Aborts the whole connection (all attempts). */
  readonly controller: AbortController;
  lastEventId: string | null;
  open: boolean;
  /** Listeners were told the stream dropped, and have not seen it reopen yet. */
  dropped: boolean;
  /** Ids whose listeners were told about a malformed frame and have had no valid one since. */
  readonly degraded: Set<string>;
  /** Replaced by newer connections; closed once they are open. */
  retiring: boolean;
  closed: boolean;
  failures: number;
  attempts: number;
  resyncQueued: boolean;
}

const MAX_RECONNECT_DELAY_MS = 30_000;

/**
 * @internal The push half of `createFetchJobClient`: every subscription of a
 * client shares one `GET {base}/events?ids=…` stream (one per 100 ids).
 * Changing the set of ids opens the new stream before closing the old one,
 * and updates are de-duplicated per job, so nothing is lost in between.
 */
export function createEventStreams(options: EventStreamsOptions) {
  const { transport } = options;
  const random = options.random ?? Math.random;
  const silenceTimeoutMs = options.silenceTimeoutMs ?? DEFAULT_SILENCE_TIMEOUT_MS;

  const listeners = new Map<string, Set<JobSubscriptionListener>>();
  /** The newest job delivered per id, for de-duplication and late subscribers. */
  const latest = new Map<string, Job>();
  /** Ids whose terminal state was delivered: the server sends nothing more for them. */
  const finished = new Set<string>();
  let connections: Connection[] = [];
  let syncQueued = false;

  function wanted(): string[] {
    return [...listeners.keys()].filter((id) => !finished.has(id)).sort();
  }

  function forEachListener(id: string, fn: (listener: JobSubscriptionListener) => void): void {
    for (const listener of [...(listeners.get(id) ?? [])]) {
      try {
        fn(listener);
      } catch (error) {
        // A throwing listener must not break delivery to the others or the stream.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  function deliver(job: Job): void {
    if (finished.has(job.id) || !isNewerJob(latest.get(job.id), job)) return;
    latest.set(job.id, job);
    if (isTerminal(job)) finished.add(job.id);
    forEachListener(job.id, (l) => l.next(job));
  }

  /** Ends every subscription to `id` with `error`. */
  function fail(id: string, error: unknown): void {
    const set = listeners.get(id);
    if (!set) return;
    listeners.delete(id);
    latest.delete(id);
    finished.delete(id);
    // Nobody listens to `id` any more: a stream left carrying only such ids must close.
    queueSync();
    for (const listener of set) {
      try {
        listener.error?.(error);
      } catch (thrown) {
        queueMicrotask(() => {
          throw thrown;
        });
      }
    }
  }

  function queueSync(): void {
    if (syncQueued) return;
    syncQueued = true;
    queueMicrotask(() => {
      syncQueued = false;
      sync();
    });
  }

  /** Makes the open streams cover exactly what is wanted, opening new streams before closing old ones. */
  function sync(): void {
    const want = wanted();
    const wantSet = new Set(want);
    for (const c of connections) {
      if (!c.ids.some((id) => wantSet.has(id))) close(c);
    }
    const active = connections.filter((c) => !c.retiring && !c.closed);
    const uncovered = want.some((id) => !active.some((c) => c.idSet.has(id)));
    if (!uncovered) return;
    for (const c of active) c.retiring = true;
    for (let i = 0; i < want.length; i += MAX_IDS_PER_REQUEST) {
      const ids = want.slice(i, i + MAX_IDS_PER_REQUEST);
      open(ids, resumeFrom(ids));
    }
  }

  /**
   * Last-Event-ID for a new stream: the oldest position of the streams it
   * replaces, and only when each of its ids was on one of them (a new id needs
   * its full snapshot).
   */
  function resumeFrom(ids: readonly string[]): string | null {
    let min: string | null = null;
    for (const id of ids) {
      const source = connections.find((c) => !c.closed && c.idSet.has(id) && c.lastEventId !== null);
      const position = source?.lastEventId;
      if (!isEventId(position)) return null;
      if (min === null || compareEventIds(position, min) < 0) min = position;
    }
    return min;
  }

  function open(ids: string[], lastEventId: string | null): void {
    const c: Connection = {
      ids,
      idSet: new Set(ids),
      controller: new AbortController(),
      lastEventId,
      open: false,
      dropped: false,
      degraded: new Set(),
      retiring: false,
      closed: false,
      failures: 0,
      attempts: 0,
      resyncQueued: false,
    };
    connections.push(c);
    void run(c);
  }

  function close(c: Connection): void {
    if (c.closed) return;
    c.closed = true;
    c.controller.abort();
    connections = connections.filter((x) => x !== c);
  }

  /** Closes replaced streams whose wanted ids are now all carried by open streams. */
  function retireCovered(): void {
    const openOnes = connections.filter((c) => c.open && !c.retiring);
    for (const c of connections) {
      if (!c.retiring) continue;
      const covered = c.ids.every(
        (id) => !listeners.has(id) || finished.has(id) || openOnes.some((o) => o.idSet.has(id)),
      );
      if (covered) close(c);
    }
  }

  function notifyDropped(c: Connection, error: unknown): void {
    if (c.dropped || c.retiring) return;
    c.dropped = true;
    for (const id of c.ids) forEachListener(id, (l) => l.disconnected?.(error));
  }

  function queueResync(c: Connection): void {
    if (c.resyncQueued) return;
    c.resyncQueued = true;
    queueMicrotask(() => {
      c.resyncQueued = false;
      const ids = c.ids.filter((id) => listeners.has(id) && !finished.has(id));
      if (c.closed || ids.length === 0) return;
      options.resync(ids).then(
        (batch) => {
          if (c.closed) return;
          for (const job of batch.jobs) if (c.idSet.has(job.id)) deliver(job);
          for (const id of batch.missing) if (c.idSet.has(id)) fail(id, new JobNotFoundError(id));
        },
        // The stream itself keeps delivering; a failed catch-up read is not fatal.
        () => {},
      );
    });
  }

  /**
   * A malformed frame is dropped, never re-read in a loop: the listeners of
   * the job it names (of every job on the stream when it names none) are told
   * once, through `disconnected`, so the watcher polls them until a valid
   * frame arrives. The stream stays open.
   */
  function malformed(c: Connection, data: string, problem: unknown): void {
    let named: unknown;
    try {
      named = (JSON.parse(data) as { id?: unknown } | null)?.id;
    } catch {
      named = undefined;
    }
    const ids = typeof named === 'string' && c.idSet.has(named) ? [named] : c.ids;
    const error =
      problem instanceof JobProtocolError ? problem : new JobProtocolError('', 'event stream frame is not JSON', { cause: problem });
    for (const id of ids) {
      if (c.degraded.has(id) || c.retiring) continue;
      c.degraded.add(id);
      forEachListener(id, (l) => l.disconnected?.(error));
    }
  }

  /** A valid frame arrived: the stream works, its backoff starts over. */
  function valid(c: Connection, id: string): void {
    c.failures = 0;
    c.degraded.delete(id);
  }

  function onEvent(c: Connection, event: SseEvent): void {
    if (event.id !== undefined && event.id !== '') c.lastEventId = event.id;
    if (event.event === 'job') {
      let job: Job;
      try {
        job = parseJob(JSON.parse(event.data));
      } catch (error) {
        malformed(c, event.data, error);
        return;
      }
      if (!c.idSet.has(job.id)) return;
      valid(c, job.id);
      deliver(job);
    } else if (event.event === 'missing') {
      let id: unknown;
      try {
        id = (JSON.parse(event.data) as { id?: unknown })?.id;
      } catch (error) {
        malformed(c, event.data, error);
        return;
      }
      if (typeof id !== 'string') malformed(c, event.data, new JobProtocolError('id', 'of a missing event must be a string'));
      else if (c.idSet.has(id)) {
        valid(c, id);
        fail(id, new JobNotFoundError(id));
      }
    }
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

  async function run(c: Connection): Promise<void> {
    while (!c.closed) {
      const attempt = new AbortController();
      const stop = () => attempt.abort();
      c.controller.signal.addEventListener('abort', stop, { once: true });
      try {
        const headers = await transport.headers();
        headers.set('accept', 'text/event-stream');
        if (c.lastEventId !== null) headers.set('last-event-id', c.lastEventId);
        if (c.closed) return;
        const url = transport.url('/events', `ids=${formatIdList(c.ids)}`);
        let response: Response;
        try {
          response = await transport.open(url, { method: 'GET', headers }, attempt.signal);
        } catch (error) {
          if (!c.closed && (error instanceof JobUnauthorizedError || error instanceof JobRequestError)) {
            // Reconnecting cannot fix these: end the subscriptions; the watcher polls instead.
            for (const id of c.ids) fail(id, error);
            close(c);
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
        // The backoff starts over only once this stream delivers a valid event (see `valid`).
        retireCovered();
        // Catch up on whatever changed while the stream was down.
        if (reopened) queueResync(c);
        await readEventStream(response.body, { attempt, silenceTimeoutMs, onEvent: (event) => onEvent(c, event) });
        if (c.closed) return;
        c.open = false;
        if (c.ids.every((id) => finished.has(id) || !listeners.has(id))) {
          // The server ends the stream once every job left it: nothing more to wait for.
          close(c);
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
        notifyDropped(c, error);
        c.failures += 1;
        c.attempts += 1;
        // Exponential with jitter; a Retry-After outranks it, clamped so a huge one never overflows setTimeout.
        const ceiling = Math.min(MAX_RECONNECT_DELAY_MS, 1000 * 2 ** Math.min(c.failures - 1, 30));
        const retryAfter = error instanceof JobTransportError ? (clampRetryAfter(error.retryAfterMs) ?? 0) : 0;
        await sleep(c, clampRetryAfter(Math.max(ceiling / 2 + (ceiling / 2) * random(), retryAfter)) ?? 0);
      } finally {
        c.controller.signal.removeEventListener('abort', stop);
      }
    }
  }

  /** `JobClient.subscribe`: one shared stream carries every subscribed job. */
  function subscribe(id: string, listener: JobSubscriptionListener): () => void {
    const invalid = options.invalidId?.(id) ?? null;
    if (invalid) {
      // Never put on a shared stream: one bad id must not fail the others' stream.
      let active = true;
      queueMicrotask(() => {
        if (active) listener.error?.(invalid);
      });
      return () => {
        active = false;
      };
    }
    let set = listeners.get(id);
    if (!set) listeners.set(id, (set = new Set()));
    set.add(listener);
    const known = latest.get(id);
    if (known) {
      // A late subscriber gets what is known at once (in a microtask, never during subscribe).
      queueMicrotask(() => {
        if (listeners.get(id)?.has(listener)) listener.next(known);
      });
    }
    queueSync();
    let active = true;
    return () => {
      if (!active) return;
      active = false;
      const current = listeners.get(id);
      if (!current) return;
      current.delete(listener);
      if (current.size === 0) {
        listeners.delete(id);
        latest.delete(id);
        finished.delete(id);
      }
      queueSync();
    };
  }

  return { subscribe };
}
