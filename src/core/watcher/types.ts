import type { Job, JobClient } from '../../contract/types';

/** Default poll interval of a watched job, in ms. */
export const DEFAULT_POLL_INTERVAL = 2000;
/** While push is healthy, polling drops to this safety interval, in ms. */
export const DEFAULT_SAFETY_POLL_INTERVAL = 30_000;

/**
 * Where the watcher keeps job data. The React provider backs it with the
 * app's QueryClient (so `getQueryData(jobKeys.status(id))` works); without one
 * the watcher keeps jobs in a plain Map.
 */
export interface JobCache {
  /** The cached job, if any. */
  get(id: string): Job | undefined;
  /** Stores a newer job. */
  set(id: string, job: Job): void;
  /** Keeps the cached entry alive while the job is watched; returns the release function. */
  retain?(id: string): () => void;
}

/**
 * Page visibility and connectivity. The default reads `document` and
 * `navigator` (and is absent where they are, e.g. on a server).
 */
export interface JobWatcherEnvironment {
  /** Whether the page is visible. */
  isVisible(): boolean;
  /** Whether the browser believes it is online. */
  isOnline(): boolean;
  /** Calls `listener` whenever visibility or connectivity may have changed; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

/** Options of {@link createJobWatcher}. */
export interface JobWatcherOptions {
  /** The client that reads jobs. Replace it later with {@link JobWatcher.setClient}. */
  client: JobClient;
  /** Where job data lives. Default: an in-memory Map owned by this watcher. */
  cache?: JobCache;
  /** Called once per job id for the watcher's whole life, when the job is first seen terminal. */
  onJobSettled?: (job: Job) => void;
  /** Called when a watched job is seen in a new status (not on progress alone); `previous` is undefined the first time. */
  onJobStatusChange?: (job: Job, previous: Job | undefined) => void;
  /**
   * Called with a watched job's first answer (a read or a push) since it
   * started being watched, whatever its status and whether or not it changed:
   * e.g. to refresh counts that may not include a job just started.
   */
  onJobFirstSeen?: (job: Job) => void;
  /** Visibility and connectivity source. Default: the browser's `document`/`navigator`; `null` disables pausing. */
  environment?: JobWatcherEnvironment | null;
  /** Source of jitter in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Poll interval while a push subscription is healthy, in ms. Default {@link DEFAULT_SAFETY_POLL_INTERVAL}. */
  safetyPollInterval?: number;
  /** Most ids in one `getStatuses` call; larger rounds are split. Default 100 (the REST contract's limit). */
  maxBatchSize?: number;
}

/** How one watcher (one hook or component) wants a job watched. Read again at every scheduling decision. */
export interface WatchOptions {
  /** Poll interval in ms, or `(job) => ms | false`. Default {@link DEFAULT_POLL_INTERVAL}. */
  pollInterval?: number | ((job: Job | undefined) => number | false);
  /** Keep polling while the page is hidden. Default `false`. */
  pollWhenHidden?: boolean;
  /** Prefer push (the client's `subscribe`) when available. Default `true`. */
  live?: boolean;
}

/** How a watched job is being kept fresh. See `JobConnection` in the React API. */
export type WatchConnection = 'idle' | 'polling' | 'live' | 'paused' | 'error';

/** What the watcher knows about one job. Immutable: a new object on every change. */
export interface JobSnapshot {
  /** The latest accepted job, kept through transient errors. */
  readonly job: Job | undefined;
  /** The last error, or `null` after a success. */
  readonly error: Error | null;
  /** Whether `error` ended watching (`JobNotFoundError`, `JobUnauthorizedError`). */
  readonly fatal: boolean;
  /** How the job is being kept fresh. */
  readonly connection: WatchConnection;
  /** `job` is an optimistic guess (set with `replace(job, { silent: true })`) the server has not confirmed yet. */
  readonly optimistic?: boolean;
}

/** A registration made by {@link JobWatcher.watch}. */
export interface WatchHandle {
  /** Stops this registration; the job stops being watched when its last registration goes. */
  release(): void;
  /** Re-reads the options (e.g. after the poll interval changed) and reschedules. */
  update(): void;
}

/** The per-provider engine that schedules, fetches, merges and notifies. */
export interface JobWatcher {
  /** Starts watching `id` until the returned handle is released. Same id watched twice costs one poll. */
  watch(id: string, options?: WatchOptions | (() => WatchOptions)): WatchHandle;
  /** Calls `listener` whenever the snapshot of `id` changes; returns the unsubscribe function. */
  subscribe(id: string, listener: () => void): () => void;
  /** The current snapshot of `id` (stable while nothing changes). */
  getSnapshot(id: string): JobSnapshot;
  /**
   * Fetches `id` now (or once a server's `Retry-After` has passed), deduplicated
   * with a request in flight. A terminal job is not fetched again.
   */
  refresh(id: string): Promise<void>;
  /**
   * Offers a job from elsewhere (a list, a push, a cache write); kept only if
   * newer than what is shown. A job offered just before it is watched is not
   * read again before its interval is up.
   */
  ingest(job: Job): void;
  /** Swaps the client; requests in flight finish on the old one. */
  setClient(client: JobClient): void;
  /**
   * Sets a job as it is, even over a newer or terminal one: for optimistic
   * updates, their rollback, and answers of cancel/retry mutations. A job
   * made active again (a retry) is watched again and may settle again.
   * Returns the job it replaced. With `silent`, the change is shown but not
   * announced (no status-change or settled callbacks): for optimistic guesses
   * and their rollback, which the server has not confirmed.
   */
  replace(job: Job, options?: { silent?: boolean }): Job | undefined;
  /** Calls `listener` whenever a job is first seen terminal (once per settle); returns the unsubscribe function. */
  onSettled(listener: (job: Job) => void): () => void;
  /**
   * While set, a hidden page keeps polling at this interval (ms) instead of
   * pausing — e.g. so a notification can fire when a job settles in a
   * background tab. `false` (default) pauses while hidden.
   */
  setHiddenPollInterval(interval: number | false): void;
}
