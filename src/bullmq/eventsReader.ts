import { QueueEvents } from 'bullmq';
import type { ConnectionOptions, Queue } from 'bullmq';
import { JobNotFoundError } from '../contract/errors';
import type { JobSubscriptionListener } from '../contract/types';
import { compareEventIds } from '../contract/eventIds';
import { STREAM_ID } from './changeLog';
import { isTerminalState, type Entry } from './jobMapping';
import { reconnectSoon } from './redisAccess';

/** When the stream's newest id cannot be read, QueueEvents start this far back by the local clock. */
const EVENTS_REPLAY_MS = 5000;
const PUSH_EVENTS = ['added', 'progress', 'active', 'completed', 'failed', 'removed', 'waiting', 'delayed', 'stalled'] as const;

/** The name of an event the reader reacts to. */
export type ReaderEventName = (typeof PUSH_EVENTS)[number];
/** How soon a subscription whose read failed reads again, and how often a lost Redis is probed. */
const RETRY_READ_MS = 1000;

/** What the events reader needs from the store. */
export interface EventsReaderOptions {
  queue: Queue;
  /** Connection of the `QueueEvents` reader (default: the queue's connection options). */
  connection?: ConnectionOptions | undefined;
  /** Reads one job as the store does (`null` when unknown). */
  readEntry(id: string): Promise<Entry | null>;
  /** The newest id of the queue's event stream. */
  logPosition(): Promise<string>;
  /**
   * Called with every event, one at a time in the stream's order, before subscribers read the
   * job it names (so what it writes is what they read).
   */
  onEvent?(name: ReaderEventName, args: Record<string, unknown> & { jobId: string }, streamId: string): Promise<void>;
}

/** Push over BullMQ's event stream: one `QueueEvents` reader for every subscription of a store. */
export interface EventsReader {
  subscribe(id: string, listener: JobSubscriptionListener, owner: string): () => void;
  /** Starts the reader (once; again after `close`) without a subscription. */
  start(): void;
  /** Starts the reader and resolves once it is connected and reading. */
  ready(): Promise<void>;
  /**
   * Resolves once every event up to `position` has been handled (`onEvent` done), or after
   * `timeoutMs`, or at once when the reader is not running.
   */
  handled(position: string, timeoutMs: number): Promise<void>;
  /** Reads `id` again for its subscribers (after a change the store made itself). */
  notify(id: string): void;
  /** Ends every subscription and closes the reader. */
  close(): Promise<void>;
}

interface Subscription {
  id: string;
  owner: string;
  listener: JobSubscriptionListener;
  /** The last job delivered, serialized (nothing unchanged is delivered twice). */
  last: string | null;
  open: boolean;
  retry: ReturnType<typeof setTimeout> | undefined;
}

/** A job to read and deliver: after an event (with its stream id), or for one subscription only. */
interface Pending {
  id: string;
  position: string | null;
  only?: Subscription;
}

/** Starts no connection until the first `subscribe`. */
export function createEventsReader(options: EventsReaderOptions): EventsReader {
  const { queue, readEntry, logPosition } = options;
  const subscriptions = new Map<string, Set<Subscription>>();
  let reader: QueueEvents | null = null;
  let readerStart: Promise<void> | null = null;
  /** Bumped by `close`, so a reader still starting then is never opened. */
  let readerGeneration = 0;
  let pending: Pending[] = [];
  let draining = false;
  /** The event reader lost Redis: subscribers were told, and reads resume once Redis answers. */
  let down = false;
  let recovery: ReturnType<typeof setInterval> | undefined;
  /** Events are handled one after the other. */
  let handled: Promise<void> = Promise.resolve();
  /** The stream id of the newest event handled. */
  let handledUpTo = '0-0';
  const waiters = new Set<{ position: string; done(): void }>();

  function handledUntil(streamId: string): void {
    if (!STREAM_ID.test(streamId)) return;
    handledUpTo = streamId;
    for (const waiter of waiters) if (compareEventIds(handledUpTo, waiter.position) >= 0) waiter.done();
  }

  function waitHandled(position: string, timeoutMs: number): Promise<void> {
    if (!reader || !STREAM_ID.test(position) || compareEventIds(handledUpTo, position) >= 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const waiter = {
        position,
        done: () => {
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.done, timeoutMs);
      waiters.add(waiter);
    });
  }

  function enqueue(item: Pending): void {
    pending.push(item);
    void drain();
  }

  function notify(id: string): void {
    if (subscriptions.has(id)) enqueue({ id, position: null });
  }

  function closeSubscription(sub: Subscription): void {
    if (!sub.open) return;
    sub.open = false;
    clearTimeout(sub.retry);
    const set = subscriptions.get(sub.id);
    set?.delete(sub);
    if (set && set.size === 0) subscriptions.delete(sub.id);
  }

  /**
   * Reads and delivers in batches, one batch at a time, in the event stream's order. Every job
   * a batch names is read after all of its events happened, so the position handed to the
   * listeners (the batch's newest stream id) vouches that every change up to it has been
   * delivered: a client resuming from it through any instance misses nothing.
   */
  async function drain(): Promise<void> {
    if (draining) return;
    draining = true;
    try {
      while (pending.length > 0) {
        const batch = pending;
        pending = [];
        let position: string | null = null;
        const targets = new Map<string, Set<Subscription>>();
        for (const item of batch) {
          if (item.position !== null) position = item.position;
          const subs = item.only ? (item.only.open ? [item.only] : []) : [...(subscriptions.get(item.id) ?? [])];
          if (subs.length === 0) continue;
          const set = targets.get(item.id) ?? new Set<Subscription>();
          for (const sub of subs) set.add(sub);
          targets.set(item.id, set);
        }
        const ids = [...targets.keys()];
        const reads = await Promise.all(
          ids.map((id) =>
            readEntry(id).then(
              (entry) => ({ entry, error: null as unknown }),
              (error: unknown) => ({ entry: null, error: error ?? new Error('read failed') }),
            ),
          ),
        );
        ids.forEach((id, i) => {
          for (const sub of targets.get(id) ?? []) deliver(sub, reads[i]!, position);
        });
      }
    } finally {
      draining = false;
    }
  }

  function deliver(sub: Subscription, read: { entry: Entry | null; error: unknown }, position: string | null): void {
    if (!sub.open) return;
    if (read.error) {
      // Redis did not answer: say so, keep the subscription, read again in a second.
      sub.listener.disconnected?.(read.error);
      clearTimeout(sub.retry);
      sub.retry = setTimeout(() => enqueue({ id: sub.id, position: null, only: sub }), RETRY_READ_MS);
      return;
    }
    const entry = read.entry;
    if (!entry || entry.owner === null || entry.owner !== sub.owner) {
      closeSubscription(sub);
      sub.listener.error?.(new JobNotFoundError(sub.id));
      return;
    }
    const serialized = JSON.stringify(entry.job);
    if (serialized === sub.last) return;
    sub.last = serialized;
    if (isTerminalState(entry.job.status)) closeSubscription(sub);
    sub.listener.next(entry.job, position === null ? undefined : { position });
  }

  /** While Redis is away: probe every second; once it answers, read every subscribed job again. */
  function onReaderError(error: unknown): void {
    if (!down) {
      down = true;
      for (const set of subscriptions.values()) for (const sub of set) sub.listener.disconnected?.(error);
    }
    recovery ??= setInterval(() => {
      logPosition().then(
        () => {
          if (!down) return;
          down = false;
          clearInterval(recovery);
          recovery = undefined;
          for (const id of subscriptions.keys()) enqueue({ id, position: null });
        },
        () => undefined,
      );
    }, RETRY_READ_MS);
  }

  /** Starts the event reader once (again after `close`); resolves when it is listening. */
  function ensureReader(): Promise<void> {
    if (readerStart) return readerStart;
    const generation = ++readerGeneration;
    readerStart = (async () => {
      // From the stream's own newest id, no clock involved: every event after it reaches the
      // reader, and the first reads of subscriptions come after it.
      const from = await logPosition().catch(() => `${Math.max(0, Date.now() - EVENTS_REPLAY_MS)}-0`);
      if (generation !== readerGeneration) return;
      // Everything up to where it starts is behind it.
      if (STREAM_ID.test(from) && compareEventIds(from, handledUpTo) > 0) handledUpTo = from;
      const given = options.connection ?? (queue.opts.connection as ConnectionOptions);
      // Connection options (not a client): reconnect within a second of Redis coming back.
      const connection =
        typeof (given as { duplicate?: unknown }).duplicate === 'function' || 'retryStrategy' in given
          ? given
          : ({ ...given, retryStrategy: reconnectSoon } as ConnectionOptions);
      const events = new QueueEvents(queue.name, {
        connection,
        ...(queue.opts.prefix ? { prefix: queue.opts.prefix } : {}),
        lastEventId: from,
      });
      reader = events;
      events.on('error', onReaderError);
      // Every event the reader reads moves how far it has handled, whatever its name (a wait
      // for the stream's newest position must end): QueueEvents has no catch-all listener, so
      // its emit is followed, after the listeners (whose work is chained first).
      const emit = events.emit.bind(events);
      events.emit = ((name: string | symbol, ...rest: unknown[]) => {
        const result = emit(name as 'drained', ...(rest as [string]));
        const streamId = rest[rest.length - 1];
        if (generation === readerGeneration && typeof name === 'string' && !name.includes(':') && typeof streamId === 'string') {
          handled = handled.then(() => handledUntil(streamId));
        }
        return result;
      }) as typeof events.emit;
      for (const name of PUSH_EVENTS) {
        events.on(name as 'progress', (args: { jobId: string }, streamId: string) => {
          if (generation !== readerGeneration) return;
          const id = String(args.jobId);
          handled = handled
            .then(() => options.onEvent?.(name, args as Record<string, unknown> & { jobId: string }, streamId))
            .catch(() => undefined)
            .then(() => {
              if (subscriptions.has(id)) enqueue({ id, position: STREAM_ID.test(streamId) ? streamId : null });
            });
        });
      }
    })();
    return readerStart;
  }

  function subscribe(id: string, listener: JobSubscriptionListener, owner: string): () => void {
    const sub: Subscription = { id, owner, listener, last: null, open: true, retry: undefined };
    const set = subscriptions.get(id) ?? new Set<Subscription>();
    subscriptions.set(id, set);
    // Listening before the first read, so no change falls between them.
    set.add(sub);
    void ensureReader().then(() => {
      if (sub.open) enqueue({ id, position: null, only: sub });
    });
    return () => closeSubscription(sub);
  }

  async function close(): Promise<void> {
    for (const set of [...subscriptions.values()]) for (const sub of [...set]) closeSubscription(sub);
    pending = [];
    clearInterval(recovery);
    recovery = undefined;
    readerGeneration++;
    readerStart = null;
    for (const waiter of [...waiters]) waiter.done();
    const current = reader;
    reader = null;
    await current?.close();
  }

  async function ready(): Promise<void> {
    await ensureReader();
    await reader?.waitUntilReady();
  }

  return { subscribe, notify, close, start: () => void ensureReader().catch(() => undefined), ready, handled: waitHandled };
}
