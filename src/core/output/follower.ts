import { isAbortError, isFatalJobError } from '../../contract/errors';
import { MAX_OUTPUT_PAGE_PARTS, parseOutputPage, parseOutputParts } from '../../contract/output';
import type { JobClient, JobOutputListener, JobOutputPart } from '../../contract/types';
import { jittered, timerDelay } from '../watcher/backoff';
import type { JobOutputConnection, JobOutputSnapshot } from './types';

/** What a follower needs from its watcher. */
export interface FollowerDeps {
  /** The client to use now (the provider may replace it). */
  client(): JobClient | undefined;
  /** Poll interval of `readOutput` without push, ms. */
  pollInterval: number;
  /** Jitter source in [0, 1). */
  random: () => number;
  /** Whether polling waits now (the page is hidden or offline): no read goes out, the next interval asks again. */
  paused(): boolean;
  /** Something the snapshot shows changed (parts, connection, error, done…). */
  changed(): void;
}

/** One followed job: its source (push or poll, gap fills, retries), its in-order delivery and the parts kept. */
export interface OutputFollower {
  /**
   * The snapshot now: `previous` itself when nothing it shows changed, else a new frozen
   * object (with a new `parts` array only when the kept parts changed). `previous` is the
   * snapshot this follower returned last (the empty one before any).
   */
  snapshot(previous: JobOutputSnapshot): JobOutputSnapshot;
  /** Keeps at most `max` parts from now on (the oldest are dropped at once when fewer are kept). */
  setMax(max: number): void;
  /** Starts following (once). */
  start(): void;
  /** Stops everything: the subscription, the running read, the timers. */
  stop(): void;
}

/** Base delay of the backoff of failed reads and subscriptions, ms. */
const RETRY_BASE_MS = 1000;

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/**
 * Follows one job's output from `after`: through `subscribeOutput` when the client has it
 * (resubscribing from the last part delivered after an error, with backoff), else by polling
 * `readOutput` until a page says `done`. `JobNotFoundError` / `JobUnauthorizedError` end
 * following; any other failure is retried.
 *
 * Delivery is exactly once and in order: batches may come in any order, repeat (replays after
 * a reconnect) or skip (a lost event). Parts at or before the last one delivered are dropped;
 * parts after a gap are held, the gap filled with `readOutput({ after })` (paging until
 * closed), then delivered in order. A batch the store marks `trimmed`, or a read answer (what
 * the store has after `after`), may jump over a gap: the output is then `trimmed`.
 */
export function createOutputFollower(id: string, after: number, deps: FollowerDeps): OutputFollower {
  /** Most parts kept: the watcher sets it before starting. */
  let max = 1;
  /** The parts delivered; those from `first` on are kept (the array is compacted once it holds twice what is kept). */
  let all: JobOutputPart[] = [];
  let first = 0;
  /** The joined text of the text parts, and how much of its head belongs to dropped parts (cut when a snapshot is taken). */
  let text = '';
  let cut = 0;
  /** Whether any part was dropped for `max`. */
  let dropped = false;
  /** Whether the kept parts changed since the last snapshot. */
  let partsChanged = false;
  /** The `seq` of the last part delivered (the start position before any). */
  let lastSeq = after;
  /** A jump over missing parts was accepted (trimmed by the store, or a start position after 0). */
  let trimmed = after > 0;
  /** The last part of a terminal job has been delivered. */
  let done = false;
  /** The last `seq` of the terminal job, once a batch said `done`. */
  let doneSeq: number | undefined;
  /** Parts after a gap, by `seq`, until it is filled. */
  const held = new Map<number, JobOutputPart>();
  let error: Error | null = null;
  let connection: JobOutputConnection = 'idle';
  let supported = true;
  let stopped = false;
  let started = false;
  let unsubscribe: (() => void) | null = null;
  /** Pending retries: of a read (poll or gap fill) and of the subscription. */
  const timers: Record<'read' | 'subscribe', ReturnType<typeof setTimeout> | undefined> = { read: undefined, subscribe: undefined };
  let reading: AbortController | null = null;
  let failures = 0;

  const ended = () => stopped || done || (error !== null && isFatalJobError(error));

  /** Drops the oldest parts (and their text) past `max`. */
  function trim(): void {
    const excess = all.length - first - max;
    if (excess <= 0) return;
    for (const part of all.slice(first, first + excess)) if (part.kind === 'text') cut += part.text?.length ?? 0;
    first += excess;
    dropped = partsChanged = true;
    if (first > max) {
      all = all.slice(first);
      first = 0;
    }
  }

  /** Delivers the held parts that follow on from `lastSeq`, and forgets those at or before it. */
  function drain(): void {
    for (let part: JobOutputPart | undefined; (part = held.get(lastSeq + 1)); lastSeq++) {
      all.push(part);
      if (part.kind === 'text' && part.text) text += part.text;
      partsChanged = true;
    }
    trim();
    for (const seq of held.keys()) if (seq <= lastSeq) held.delete(seq);
    if (!done && doneSeq !== undefined && held.size === 0 && lastSeq >= doneSeq) done = true;
  }

  /** Takes one batch of valid parts (in order, without gaps inside); `jump` accepts a gap before it. */
  function accept(parts: readonly JobOutputPart[], info: { done?: boolean; trimmed?: boolean }, jump: boolean): void {
    if (done) return;
    const fresh = parts.filter((part) => part.seq > lastSeq);
    for (const part of fresh) held.set(part.seq, part);
    if (fresh.length > 0 && fresh[0]!.seq !== lastSeq + 1 && (info.trimmed || jump)) {
      // The store no longer has the parts in between: accept the jump.
      trimmed = true;
      lastSeq = fresh[0]!.seq - 1;
    }
    if (info.done) {
      // The end is the last part seen: delivered, held, or in this batch (all held or delivered now).
      let end = lastSeq;
      for (const seq of held.keys()) end = Math.max(end, seq);
      doneSeq = Math.max(doneSeq ?? 0, end);
    }
    drain();
  }

  function later(slot: keyof typeof timers, ms: number, run: () => void): void {
    clearTimeout(timers[slot]);
    timers[slot] = setTimeout(() => {
      timers[slot] = undefined;
      if (!ended()) run();
    }, timerDelay(ms));
  }

  function retryDelay(): number {
    return jittered(Math.max(RETRY_BASE_MS, deps.pollInterval), failures - 1, deps.random);
  }

  /** Ends following for good (done or fatal). */
  function finish(): void {
    unsubscribe?.();
    unsubscribe = null;
    clearTimeout(timers.read);
    clearTimeout(timers.subscribe);
    timers.read = timers.subscribe = undefined;
    reading?.abort();
    reading = null;
    connection = 'idle';
  }

  /** A failed read or subscription: fatal ends following, else the error shows and `retry` runs after the backoff. */
  function fail(cause: unknown, slot: keyof typeof timers, retry: () => void): void {
    error = asError(cause);
    if (isFatalJobError(cause)) finish();
    else {
      failures++;
      connection = 'error';
      later(slot, retryDelay(), retry);
    }
    deps.changed();
  }

  /**
   * Takes a batch: a pushed one from the wire (checked here: one breaking the contract shows its
   * error, the parts shown stay), or a read page's parts (`read`: checked with the page already,
   * and they may jump a gap).
   */
  function take(parts: unknown, info: { done?: boolean; trimmed?: boolean }, read: boolean): void {
    try {
      accept(read ? (parts as JobOutputPart[]) : parseOutputParts(parts), info, read);
      if (error && !isFatalJobError(error)) error = null;
      if (done) finish();
    } catch (cause) {
      // Watching goes on (a gap this leaves is filled by a read).
      error = asError(cause);
    }
    deps.changed();
  }

  /** One `readOutput` after the last delivered part; resolves to the page's part count, or `null` when it failed or was stopped. */
  async function read(retry: () => void): Promise<number | null> {
    const client = deps.client();
    if (!client?.readOutput) return null;
    const controller = new AbortController();
    reading = controller;
    try {
      const page = parseOutputPage(await client.readOutput(id, { after: lastSeq, signal: controller.signal }));
      if (stopped || reading !== controller) return null;
      reading = null;
      failures = 0;
      take(page.parts, page, true);
      return page.parts.length;
    } catch (cause) {
      if (reading === controller) reading = null;
      if (!stopped && !isAbortError(cause)) fail(cause, 'read', retry);
      return null;
    }
  }

  /** Pages through `readOutput` until the gap before the held parts is closed. */
  async function fill(): Promise<void> {
    if (reading || ended() || held.size === 0) return;
    if (!deps.client()?.readOutput) {
      // Nothing can fill the gap: deliver the held parts from the first, as trimmed.
      while (held.size > 0) {
        trimmed = true;
        lastSeq = Math.min(...held.keys()) - 1;
        drain();
      }
      if (done) finish();
      deps.changed();
      return;
    }
    while (held.size > 0 && !ended()) {
      const before = lastSeq;
      if ((await read(fill)) === null) return;
      if (lastSeq === before) {
        // The store has nothing after the last part yet (the push ran ahead): ask again soon.
        failures++;
        later('read', retryDelay(), fill);
        return;
      }
    }
  }

  async function poll(): Promise<void> {
    if (ended() || reading) return;
    if (deps.paused()) {
      later('read', deps.pollInterval, poll);
      return;
    }
    if (connection !== 'error') connection = 'polling';
    const count = await read(poll);
    if (count === null || ended()) return;
    connection = 'polling';
    deps.changed();
    // A full page means more is waiting: read on at once.
    if (count >= MAX_OUTPUT_PAGE_PARTS) void poll();
    else later('read', deps.pollInterval, poll);
  }

  function subscribe(): void {
    const client = deps.client();
    if (ended() || !client?.subscribeOutput) return;
    let closed = false;
    const listener: JobOutputListener = {
      next(parts, info) {
        if (closed || ended()) return;
        connection = 'live';
        failures = 0;
        take(parts, info ?? {}, false);
        if (held.size > 0) void fill();
      },
      error(cause) {
        if (closed || ended()) return;
        const stop = unsubscribe;
        closed = true;
        unsubscribe = null;
        stop?.();
        fail(cause, 'subscribe', subscribe);
      },
      disconnected() {
        if (closed || ended()) return;
        connection = 'error';
        deps.changed();
      },
    };
    let stop: () => void;
    try {
      stop = client.subscribeOutput(id, { after: lastSeq }, listener);
    } catch (cause) {
      listener.error!(cause);
      return;
    }
    if (closed || ended()) return stop();
    unsubscribe = stop;
    connection = 'live';
    deps.changed();
  }

  return {
    snapshot(previous) {
      if (cut > 0) {
        text = text.slice(cut);
        cut = 0;
      }
      const next: JobOutputSnapshot = {
        parts: partsChanged ? Object.freeze(all.slice(first)) : previous.parts,
        text,
        done,
        trimmed: trimmed || dropped,
        error,
        connection,
        lastSeq,
        supported,
      };
      partsChanged = false;
      for (const key in next) if (next[key as keyof JobOutputSnapshot] !== previous[key as keyof JobOutputSnapshot]) return Object.freeze(next);
      return previous;
    },
    setMax(next) {
      max = Math.max(1, next);
      trim();
    },
    start() {
      if (started) return;
      started = true;
      const client = deps.client();
      if (client?.subscribeOutput) subscribe();
      else if (client?.readOutput) {
        connection = 'polling';
        deps.changed();
        void poll();
      } else {
        supported = false;
        deps.changed();
      }
    },
    stop() {
      stopped = true;
      finish();
    },
  };
}
