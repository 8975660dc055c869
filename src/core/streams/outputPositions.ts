import { isAbortError, JobNotFoundError, JobRequestError, JobTransportError, JobUnauthorizedError } from '../../contract/errors';
import { MAX_OUTPUT_PAGE_PARTS, type JobOutputEvent } from '../../contract/output';
import type { JobOutputListener, JobOutputPage, JobOutputPart } from '../../contract/types';
import { reconnectDelay } from './connection';
import { guarded } from './jobDispatch';

/** One `subscribeOutput` listener and the last seq it was given. */
interface OutputSubscriber {
  readonly listener: JobOutputListener;
  last: number;
}

/** The output subscriptions of one id. */
interface OutputEntry {
  readonly id: string;
  readonly subscribers: Set<OutputSubscriber>;
  /** Events that arrived while a gap was being filled, in arrival order. */
  readonly queue: JobOutputEvent[];
  /** A fill read is running, or waits for its retry: events queue meanwhile. */
  filling: boolean;
  /** Aborts the running fill read. */
  controller: AbortController | null;
  retryTimer: ReturnType<typeof setTimeout> | null;
  failures: number;
  /** Listeners were told a fill read failed, and it has not succeeded since. */
  told: boolean;
  closed: boolean;
}

/** @internal What {@link createOutputPositions} needs. */
export interface OutputPositionsOptions {
  /** `JobClient.readOutput`: fills gaps and catches up late listeners. */
  readOutput(id: string, options: { after: number; signal: AbortSignal }): Promise<JobOutputPage>;
  /** The set of ids whose output is wanted changed (an entry came or left): re-plan the streams. */
  changed(): void;
  /** Source of jitter in [0, 1), for the retry of a failed fill read. */
  random(): number;
}

/** A read that cannot succeed by being retried: the output subscriptions end with it. */
function isFinal(error: unknown): boolean {
  return error instanceof JobNotFoundError || error instanceof JobUnauthorizedError || error instanceof JobRequestError;
}

/**
 * @internal The output half of dispatch: per id, its `subscribeOutput`
 * listeners and the last seq each was given. Parts reach every listener in
 * seq order exactly once, whichever connection or read brought them:
 * - a part at or before a listener's position is dropped (streams overlap
 *   while the id set changes, and reconnects resend);
 * - a gap (the first new seq past position + 1) is filled with `readOutput`
 *   before anything after it is delivered; what the store no longer has is
 *   delivered with `info.trimmed`;
 * - `done` is delivered once, then the id's entry is gone.
 *
 * The stream resumes each id after its position: the smallest last seq of its listeners.
 */
export function createOutputPositions(options: OutputPositionsOptions) {
  const entries = new Map<string, OutputEntry>();

  function position(entry: OutputEntry): number {
    let min = Number.POSITIVE_INFINITY;
    for (const s of entry.subscribers) min = Math.min(min, s.last);
    return Number.isFinite(min) ? min : 0;
  }

  function drop(entry: OutputEntry): void {
    if (entry.closed) return;
    entry.closed = true;
    if (entries.get(entry.id) === entry) entries.delete(entry.id);
    entry.controller?.abort();
    if (entry.retryTimer !== null) clearTimeout(entry.retryTimer);
    entry.queue.length = 0;
    options.changed();
  }

  function each(entry: OutputEntry, fn: (s: OutputSubscriber) => void): void {
    for (const s of [...entry.subscribers]) {
      if (entry.subscribers.has(s)) guarded(() => fn(s));
    }
  }

  /**
   * Gives each listener the parts after its own position; `parts` are in seq
   * order without gaps. With `done`, every listener is given it once and the entry ends.
   */
  function deliver(entry: OutputEntry, parts: readonly JobOutputPart[], done: boolean): void {
    each(entry, (s) => {
      const start = parts.findIndex((p) => p.seq > s.last);
      const slice = start < 0 ? [] : parts.slice(start);
      if (slice.length === 0 && !done) return;
      const trimmed = slice.length > 0 && slice[0]!.seq > s.last + 1;
      if (slice.length > 0) s.last = slice[slice.length - 1]!.seq;
      // Set before the call: a listener that throws still never gets a part twice.
      if (done || trimmed) s.listener.next(slice, { ...(done ? { done: true } : {}), ...(trimmed ? { trimmed: true } : {}) });
      else s.listener.next(slice);
    });
    if (done) {
      entry.subscribers.clear();
      drop(entry);
    }
  }

  /** Applies one event: dropped parts, a gap to fill first (unless `mayFill` is false: then delivered as trimmed), or delivery. */
  function apply(entry: OutputEntry, event: JobOutputEvent, mayFill: boolean): void {
    const at = position(entry);
    const parts = event.parts.filter((p) => p.seq > at);
    if (mayFill && !event.trimmed && parts.length > 0 && parts[0]!.seq > at + 1) {
      entry.queue.push(event);
      fill(entry);
      return;
    }
    deliver(entry, parts, event.done === true);
  }

  /** Delivers what queued during a fill; the first one's remaining gap (the store trimmed it) is not filled again. */
  function drain(entry: OutputEntry): void {
    let mayFill = false;
    while (!entry.closed && !entry.filling && entry.queue.length > 0) {
      apply(entry, entry.queue.shift()!, mayFill);
      mayFill = true;
    }
  }

  /**
   * Reads the parts after the entry's position with `readOutput`, page by
   * page, until it reaches the first queued event (or, with none queued, the
   * present), then delivers the queue. A failed read is retried with backoff
   * (listeners told once, through `disconnected`); an unknown job, 401 or 400
   * ends the subscriptions with the error.
   */
  function fill(entry: OutputEntry): void {
    if (entry.filling || entry.closed) return;
    entry.filling = true;
    const controller = new AbortController();
    entry.controller = controller;
    void (async () => {
      try {
        for (;;) {
          const after = position(entry);
          const page = await options.readOutput(entry.id, { after, signal: controller.signal });
          if (entry.closed) return;
          entry.failures = 0;
          entry.told = false;
          // A listener joined behind the others while the read ran: read again from its position.
          if (position(entry) < after) continue;
          const parts = page.parts.filter((p) => p.seq > after);
          deliver(entry, parts, page.done);
          if (entry.closed) return;
          const next = entry.queue[0]?.parts[0]?.seq;
          if (parts.length === 0) break;
          if (next !== undefined ? position(entry) + 1 >= next : page.parts.length < MAX_OUTPUT_PAGE_PARTS) break;
        }
        entry.controller = null;
        entry.filling = false;
        drain(entry);
      } catch (error) {
        if (entry.closed || (isAbortError(error) && controller.signal.aborted)) return;
        entry.controller = null;
        if (isFinal(error)) {
          fail(entry.id, error);
          return;
        }
        entry.failures += 1;
        if (!entry.told) {
          entry.told = true;
          each(entry, (s) => s.listener.disconnected?.(error));
        }
        const retryAfter = error instanceof JobTransportError ? error.retryAfterMs : undefined;
        entry.retryTimer = setTimeout(
          () => {
            entry.retryTimer = null;
            entry.filling = false;
            fill(entry);
          },
          reconnectDelay(entry.failures, options.random(), retryAfter),
        );
      }
    })();
  }

  /** Ends every output subscription to `id` with `error`. */
  function fail(id: string, error: unknown): void {
    const entry = entries.get(id);
    if (!entry) return;
    const subscribers = [...entry.subscribers];
    entry.subscribers.clear();
    drop(entry);
    for (const s of subscribers) guarded(() => s.listener.error?.(error));
  }

  return {
    /** Whether an output listener waits for `id`. */
    wants: (id: string) => entries.has(id),
    /** The ids whose output is waited for. */
    wanted: () => [...entries.keys()],
    /** The last seq every listener of `id` has (0 when none is subscribed): the stream resumes after it. */
    position: (id: string) => {
      const entry = entries.get(id);
      return entry ? position(entry) : 0;
    },
    /** An `output` event from a stream (already checked against the contract). */
    receive(event: JobOutputEvent): void {
      const entry = entries.get(event.id);
      if (!entry) return;
      if (entry.filling) entry.queue.push(event);
      else apply(entry, event, true);
    },
    /** Something of `id`'s output may have been lost (a malformed frame): read what came after the position. */
    recover(id: string): void {
      const entry = entries.get(id);
      if (entry) fill(entry);
    },
    /** Calls `fn` for each output listener of `id`. */
    each(id: string, fn: (listener: JobOutputListener) => void): void {
      const entry = entries.get(id);
      if (entry) each(entry, (s) => fn(s.listener));
    },
    fail,
    /**
     * Adds a listener that wants the parts after `after`. With `catchUp` (its
     * id's output is already carried by an open stream, which will not resend
     * what it sent), the parts since `after` are read at once.
     */
    add(id: string, after: number, listener: JobOutputListener, catchUp: boolean): () => void {
      let entry = entries.get(id);
      const before = entry ? position(entry) : Number.POSITIVE_INFINITY;
      if (!entry) {
        entry = {
          id,
          subscribers: new Set(),
          queue: [],
          filling: false,
          controller: null,
          retryTimer: null,
          failures: 0,
          told: false,
          closed: false,
        };
        entries.set(id, entry);
      }
      const subscriber: OutputSubscriber = { listener, last: after };
      entry.subscribers.add(subscriber);
      const added = entry;
      // A listener behind the others (or the first one on a stream already carrying the id) catches up by a read.
      if (catchUp && after < before) queueMicrotask(() => fill(added));
      options.changed();
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        if (!added.subscribers.delete(subscriber)) return;
        if (added.subscribers.size === 0) drop(added);
      };
    },
  };
}

/** @internal The output half of dispatch, as {@link createOutputPositions} makes it. */
export type OutputPositions = ReturnType<typeof createOutputPositions>;
