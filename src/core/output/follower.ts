import { isFatalJobError } from '../../contract/errors';
import { MAX_OUTPUT_PAGE_PARTS, parseOutputPage, parseOutputParts } from '../../contract/output';
import type { JobClient, JobOutputListener, JobOutputPart } from '../../contract/types';
import { jittered, timerDelay } from '../watcher/backoff';
import { EMPTY_OUTPUT_SNAPSHOT } from './snapshot';
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

/**
 * One followed job: its source (push or poll, gap fills, retries), its in-order delivery and the
 * parts kept; also its watcher's entry (the watches sharing it and the published snapshot).
 */
export interface OutputFollower {
  /** `maxParts` of each open watch (keyed by the watch's handle). */
  readonly watches: Map<object, number>;
  /** The snapshot last published (the empty one before any; only `publish` sets it). */
  snapshot: JobOutputSnapshot;
  /** The teardown pending after the last watch was released. */
  grace?: ReturnType<typeof setTimeout>;
  /**
   * Takes the snapshot now: a new frozen object (with a new `parts` array only when the kept
   * parts changed) when something it shows changed; returns whether it did.
   */
  publish(): boolean;
  /** Keeps at most `max` parts from now on (the oldest are dropped at once when fewer are kept). */
  setMax(max: number): void;
  /** Starts following (the watcher calls it once, after the first `setMax`). */
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
  /** Whether the kept parts changed since the last snapshot. */
  let partsChanged = false;
  /** The `seq` of the last part delivered (the start position before any). */
  let lastSeq = after;
  /** Earlier parts are not kept: a jump over missing parts (trimmed by the store, a start position after 0), or dropped for `max`. */
  let trimmed = after > 0;
  /** A batch said `done`: the output is done once nothing is held. */
  let ending = false;
  /** The last part of a terminal job has been delivered. */
  let done = false;
  /** Parts after a gap, by `seq`, until it is filled. */
  const held = new Map<number, JobOutputPart>();
  let error: Error | null = null;
  let connection: JobOutputConnection = 'idle';
  let supported = true;
  /** Following without push: `readOutput` every `pollInterval`. */
  let polling = false;
  /** Following is over (done, fatal, or stopped): nothing more goes out. */
  let ended = false;
  let unsubscribe: (() => void) | null = null;
  /** The pending retry or next poll (one at a time: when it runs, it does what is missing, see `resume`). */
  let timer: ReturnType<typeof setTimeout> | undefined;
  let reading: AbortController | null = null;
  let failures = 0;

  /** Drops the oldest parts past `max`. */
  function trim(): void {
    const excess = all.length - first - max;
    if (excess <= 0) return;
    first += excess;
    trimmed = partsChanged = true;
    if (first > max) {
      all = all.slice(first);
      first = 0;
    }
  }

  /** Delivers the held parts that follow on from `lastSeq`, and forgets those at or before it. */
  function drain(): void {
    for (let part: JobOutputPart | undefined; (part = held.get(lastSeq + 1)); lastSeq++) {
      all.push(part);
      partsChanged = true;
    }
    trim();
    for (const seq of held.keys()) if (seq <= lastSeq) held.delete(seq);
    // Every part up to the end was delivered or held when `done` came: nothing held is the end.
    if (ending && held.size === 0) done = true;
  }

  /** Jumps over the gap before the first held part (accepting that the parts in it are gone), delivering from there. */
  function jump(seq: number): void {
    trimmed = true;
    lastSeq = seq - 1;
    drain();
  }

  /**
   * Takes a batch: a pushed one from the wire (checked here: one breaking the contract shows its
   * error, the parts shown stay), or a read page's parts (`read`: checked with the page already,
   * and they may jump a gap: what the store has after `after`).
   */
  function take(batch: unknown, info: { done?: boolean; trimmed?: boolean }, read: boolean): void {
    try {
      const parts = read ? (batch as JobOutputPart[]) : parseOutputParts(batch);
      if (!done) {
        const fresh = parts.filter((part) => part.seq > lastSeq);
        for (const part of fresh) held.set(part.seq, part);
        if (info.done) ending = true;
        // The store no longer has the parts in between: accept the jump.
        if (fresh[0] && fresh[0].seq !== lastSeq + 1 && (info.trimmed || read)) jump(fresh[0].seq);
        else drain();
        if (held.size > max) {
          // More held behind a gap than is kept: once delivered, all but the newest `max` would be
          // dropped anyway, so skip to them now. Memory stays within `maxParts` while a gap stays open.
          let top = 0;
          for (const seq of held.keys()) top = Math.max(top, seq);
          jump(top - max + 1);
        }
      }
      // A delivery clears the last error (never a fatal one: nothing is taken once following ended).
      error = null;
      if (done) finish();
    } catch (cause) {
      // Watching goes on (a gap this leaves is filled by a read).
      error = asError(cause);
    }
    deps.changed();
  }

  /** Runs {@link resume} after `ms` (replacing the pending one). */
  function later(ms: number): void {
    clearTimeout(timer);
    timer = setTimeout(resume, timerDelay(ms));
  }

  /** After a wait: resubscribes when the subscription is gone, and reads (polls, or fills a gap). */
  function resume(): void {
    if (ended) return;
    if (!polling && !unsubscribe) subscribe();
    void pull();
  }

  /** Ends following for good (done or fatal). */
  function finish(): void {
    ended = true;
    unsubscribe?.();
    unsubscribe = null;
    clearTimeout(timer);
    reading?.abort();
    reading = null;
    connection = 'idle';
  }

  /** A failed read or subscription: fatal ends following, else the error shows and a retry comes after the backoff. */
  function fail(cause: unknown): void {
    error = asError(cause);
    if (isFatalJobError(cause)) finish();
    else {
      connection = 'error';
      retry();
    }
    deps.changed();
  }

  /** Schedules the next try after the backoff of one more failure. */
  function retry(): void {
    later(jittered(Math.max(RETRY_BASE_MS, deps.pollInterval), failures++, deps.random));
  }

  /**
   * Reads after the last delivered part: when polling, every `pollInterval` (at once again
   * after a full page); with push, only while parts are held after a gap, paging until it is
   * closed (the next try after the backoff when the store has nothing after the last part yet:
   * the push ran ahead).
   */
  async function pull(): Promise<void> {
    if (reading || ended || (!polling && held.size === 0)) return;
    if (polling && deps.paused()) return later(deps.pollInterval);
    const client = deps.client();
    if (!client?.readOutput) {
      // Nothing can fill the gap: deliver the held parts from the first, as trimmed.
      while (held.size > 0) jump(Math.min(...held.keys()));
      if (done) finish();
      deps.changed();
      return;
    }
    const controller = (reading = new AbortController());
    const before = lastSeq;
    let count: number;
    try {
      const page = parseOutputPage(await client.readOutput(id, { after: lastSeq, signal: controller.signal }));
      if (reading !== controller) return;
      reading = null;
      failures = 0;
      if (polling) connection = 'polling';
      take(page.parts, page, true);
      count = page.parts.length;
    } catch (cause) {
      // Stopped or ended meanwhile (the read was aborted): nothing to retry. Any other
      // failure is retried, an AbortError of the client's own (say, its timeout) included.
      if (reading !== controller) return;
      reading = null;
      fail(cause);
      return;
    }
    if (ended) return;
    if (polling) {
      // A full page means more is waiting: read on at once.
      if (count >= MAX_OUTPUT_PAGE_PARTS) void pull();
      else later(deps.pollInterval);
    } else if (lastSeq !== before) void pull();
    else if (held.size > 0) retry();
  }

  function subscribe(): void {
    const client = deps.client();
    if (!client?.subscribeOutput) return;
    /** This subscription failed (a later one may be open): what it still sends is ignored. */
    let closed = false;
    const open = () => !closed && !ended;
    const listener: JobOutputListener = {
      next(parts, info) {
        if (!open()) return;
        connection = 'live';
        failures = 0;
        take(parts, info ?? {}, false);
        void pull();
      },
      error(cause) {
        if (!open()) return;
        closed = true;
        unsubscribe?.();
        unsubscribe = null;
        fail(cause);
      },
      disconnected() {
        if (!open()) return;
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
    if (!open()) return stop();
    unsubscribe = stop;
    connection = 'live';
    deps.changed();
  }

  const follower: OutputFollower = {
    watches: new Map(),
    snapshot: EMPTY_OUTPUT_SNAPSHOT,
    publish() {
      const previous = follower.snapshot;
      const parts = partsChanged ? Object.freeze(all.slice(first)) : previous.parts;
      const next: JobOutputSnapshot = {
        parts,
        // Joined once per frame, like the parts copied (text parts always have their text: checked on arrival).
        text: partsChanged ? parts.reduce((text, part) => (part.kind === 'text' ? text + part.text : text), '') : previous.text,
        done,
        trimmed,
        error,
        connection,
        lastSeq,
        supported,
      };
      partsChanged = false;
      for (const key in next) {
        if (next[key as keyof JobOutputSnapshot] !== previous[key as keyof JobOutputSnapshot]) {
          follower.snapshot = Object.freeze(next);
          return true;
        }
      }
      return false;
    },
    setMax(next) {
      max = Math.max(1, next);
      trim();
    },
    start() {
      const client = deps.client();
      if (client?.subscribeOutput) return subscribe();
      if (client?.readOutput) {
        polling = true;
        connection = 'polling';
        void pull();
      } else supported = false;
      deps.changed();
    },
    stop: finish,
  };
  return follower;
}
