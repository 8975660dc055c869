import type { HttpTransport } from './createFetchJobClient';
import { JobError, JobNotFoundError, JobRequestError, JobTransportError, JobUnauthorizedError } from './errors';
import { isTerminal } from './isTerminal';
import { isNewerJob } from './mergeJob';
import { parseJob } from './parseJob';
import { compareEventIds, formatIdList, HEARTBEAT_INTERVAL_MS, isEventId, MAX_IDS_PER_REQUEST } from './restContract';
import { createSseParser, type SseEvent } from './sseParser';
import type { Job, JobBatch, JobSubscriptionListener } from './types';

/** @internal */
export interface EventStreamsOptions {
  transport: HttpTransport;
  /** One batch read, to catch up after a reconnect. */
  resync(ids: string[]): Promise<JobBatch>;
  /** Source of jitter in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** A stream silent for this long is considered dead and reopened. Default three heartbeats. */
  silenceTimeoutMs?: number;
}

interface Connection {
  readonly ids: readonly string[];
  readonly idSet: ReadonlySet<string>;
  /** Aborts the whole connection (all attempts). */
  readonly controller: AbortController;
  lastEventId: string | null;
  open: boolean;
  /** Listeners were told the stream dropped, and have not seen it reopen yet. */
  dropped: boolean;
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
  const silenceTimeoutMs = options.silenceTimeoutMs ?? 3 * HEARTBEAT_INTERVAL_MS;

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

  function onEvent(c: Connection, event: SseEvent): void {
    if (event.id !== undefined && event.id !== '') c.lastEventId = event.id;
    if (event.event === 'job') {
      let job: Job;
      try {
        job = parseJob(JSON.parse(event.data));
      } catch {
        // A malformed frame: read the jobs again rather than lose an update.
        queueResync(c);
        return;
      }
      if (c.idSet.has(job.id)) deliver(job);
    } else if (event.event === 'missing') {
      let id: unknown;
      try {
        id = (JSON.parse(event.data) as { id?: unknown })?.id;
      } catch {
        return;
      }
      if (typeof id === 'string' && c.idSet.has(id)) fail(id, new JobNotFoundError(id));
    }
  }

  async function read(c: Connection, body: ReadableStream<Uint8Array>, attempt: AbortController): Promise<void> {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const parser = createSseParser((event) => onEvent(c, event));
    let watchdog: ReturnType<typeof setTimeout> | null = null;
    const arm = () => {
      if (watchdog !== null) clearTimeout(watchdog);
      watchdog = setTimeout(() => attempt.abort(new JobTransportError('Event stream went silent')), silenceTimeoutMs);
    };
    const onAbort = () => void reader.cancel().catch(() => {});
    attempt.signal.addEventListener('abort', onAbort, { once: true });
    try {
      arm();
      for (;;) {
        const { done, value } = await reader.read();
        if (attempt.signal.aborted) throw attempt.signal.reason ?? new JobTransportError('Event stream aborted');
        if (done) return;
        arm();
        parser.feed(decoder.decode(value, { stream: true }));
      }
    } finally {
      if (watchdog !== null) clearTimeout(watchdog);
      attempt.signal.removeEventListener('abort', onAbort);
      reader.releaseLock?.();
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
        const response = await transport.fetch(url, { method: 'GET', headers }, { signal: attempt.signal, timeout: true });
        if (c.closed) {
          void response.body?.cancel().catch(() => {});
          return;
        }
        if (!response.ok) {
          const error = await transport.errorFor(response);
          if (error instanceof JobUnauthorizedError || error instanceof JobRequestError) {
            // Reconnecting cannot fix these: end the subscriptions; the watcher polls instead.
            for (const id of c.ids) fail(id, error);
            close(c);
            return;
          }
          throw error;
        }
        if (!response.body) throw new JobTransportError('Event stream answered without a body');
        const reopened = c.dropped || c.attempts > 0;
        c.open = true;
        c.dropped = false;
        c.failures = 0;
        retireCovered();
        // Catch up on whatever changed while the stream was down.
        if (reopened) queueResync(c);
        await read(c, response.body, attempt);
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
        const ceiling = Math.min(MAX_RECONNECT_DELAY_MS, 1000 * 2 ** (c.failures - 1));
        const retryAfter = error instanceof JobTransportError ? (error.retryAfterMs ?? 0) : 0;
        await sleep(c, Math.max(ceiling / 2 + (ceiling / 2) * random(), retryAfter));
      } finally {
        c.controller.signal.removeEventListener('abort', stop);
      }
    }
  }

  /** `JobClient.subscribe`: one shared stream carries every subscribed job. */
  function subscribe(id: string, listener: JobSubscriptionListener): () => void {
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
