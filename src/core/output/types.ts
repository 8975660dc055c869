import type { JobClient, JobOutputPart } from '../../contract/types';
import type { JobWatcherEnvironment } from '../watcher/types';

/**
 * How a job's output is being followed:
 * - `idle`: not followed (nothing watched, the output is done, watching ended, or the client has no output methods);
 * - `live`: pushed by `client.subscribeOutput`;
 * - `polling`: read with `client.readOutput` every `pollInterval`;
 * - `error`: the last request failed or the push connection dropped; watching retries by itself.
 */
export type JobOutputConnection = 'idle' | 'live' | 'polling' | 'error';

/**
 * What is known of one job's output. Immutable: a new object only when something changed,
 * so it can be compared by identity (and read through `useSyncExternalStore`).
 */
export interface JobOutputSnapshot {
  /** The parts shown, in `seq` order with no gap and no duplicate: the newest `maxParts` of them. */
  readonly parts: readonly JobOutputPart[];
  /** The `text` of the text parts in {@link JobOutputSnapshot.parts}, joined. */
  readonly text: string;
  /** The job is terminal and its last part has been delivered: no more output will come. */
  readonly done: boolean;
  /**
   * Earlier parts are not in `parts`: dropped by `maxParts`, trimmed by the store, or
   * skipped by a start position (`after`) given to the watch.
   */
  readonly trimmed: boolean;
  /**
   * The last error, or `null`. Transient (a failed read, a part that broke the contract:
   * `JobProtocolError`) while watching goes on; final for `JobNotFoundError` /
   * `JobUnauthorizedError` (see `isFatalJobError`). Cleared by the next delivery.
   */
  readonly error: Error | null;
  /** How the output is being followed. */
  readonly connection: JobOutputConnection;
  /** The `seq` of the last part delivered (also when it was dropped from `parts` since); 0 for none. */
  readonly lastSeq: number;
  /** Whether the client can deliver output at all (`subscribeOutput` or `readOutput`). */
  readonly supported: boolean;
}

/** Options of one {@link JobOutputWatcher.watch}. */
export interface JobOutputWatchOptions {
  /**
   * Keep only the newest N parts in memory (older ones, and their text, are dropped and
   * the snapshot says `trimmed`). Watches of one id with different values share the largest.
   * Default `DEFAULT_STORED_OUTPUT_PARTS` (10,000, what a store keeps by default).
   */
  maxParts?: number;
  /**
   * Start position: parts up to this `seq` are not fetched (a resume point, e.g. the last
   * part shown before a reload minus `maxParts`, so a reload never replays the whole output).
   * Only the watch that starts following an id sets it; later watches join where it is. Default 0.
   */
  after?: number;
}

/** What {@link JobOutputWatcher.watch} returns. */
export interface JobOutputWatchHandle {
  /** Stops this watch (idempotent). The last one of an id tears its subscription down after the grace period. */
  release(): void;
}

/**
 * When notifications go out: `schedule(callback)` runs `callback` once, later (the next
 * animation frame in browsers), and returns a function that cancels it.
 */
export type JobOutputFrameScheduler = (callback: () => void) => () => void;

/** Options of {@link createJobOutputWatcher}. */
export interface JobOutputWatcherOptions {
  /** The client output is read from. Can be set or replaced later with {@link JobOutputWatcher.setClient}. */
  client?: JobClient;
  /** How often `readOutput` is polled while the job's output is not done and there is no push. Default 1000 ms. */
  pollInterval?: number;
  /** How long an id stays followed after its last watch is released (StrictMode's unmount and mount again keep one subscription). Default 1000 ms. */
  graceMs?: number;
  /**
   * Batches notifications: at most one per scheduled frame per job. Default: `requestAnimationFrame`
   * where there is one, else a 16 ms timer. Tests pass their own to flush by hand.
   */
  scheduleFrame?: JobOutputFrameScheduler;
  /** Jitter source of the retry backoff, in [0, 1). Default `Math.random`. */
  random?: () => number;
  /**
   * Page visibility and connectivity: polling waits while the page is hidden or offline.
   * Default: the browser's (looked up at the first poll); `null`: never waits.
   */
  environment?: JobWatcherEnvironment | null;
}

/**
 * Follows the output of jobs for many watchers at once: several watches of one id share
 * one entry and one subscription (or one poll), torn down after the last is released.
 * Parts reach listeners in `seq` order exactly once, whatever mix of push, reads and
 * reconnects delivered them. Starts nothing until {@link JobOutputWatcher.watch} is called.
 */
export interface JobOutputWatcher {
  /** Starts (or joins) following `id`'s output. */
  watch(id: string, options?: JobOutputWatchOptions): JobOutputWatchHandle;
  /** The latest snapshot of `id` (an empty one when it is not followed). */
  getSnapshot(id: string): JobOutputSnapshot;
  /** Calls `listener` (at most once per frame) whenever `id`'s snapshot changed; returns the unsubscribe function. */
  subscribe(id: string, listener: () => void): () => void;
  /** Uses `client` for every later request and subscription (the ones running go on). */
  setClient(client: JobClient): void;
  /** Stops everything at once: subscriptions, polls, timers (watches released, snapshots cleared). */
  dispose(): void;
}
