import type { Job, JobFilter, JobState } from '../contract/types';

/**
 * How a watched job is being kept fresh, apart from the job's own status:
 * - `idle`: not watching (no id, disabled, terminal, or server render);
 * - `polling`: polling on an interval;
 * - `live`: updates arrive by push;
 * - `paused`: polling paused because the tab is hidden or the browser is offline;
 * - `error`: the last request failed (retrying with backoff) or watching stopped on an error.
 */
export type JobConnection = 'idle' | 'polling' | 'live' | 'paused' | 'error';

/** A poll interval in ms, or a function of the latest job returning ms, or `false` to stop polling. */
export type PollInterval<TResult = unknown> = number | ((job: Job<TResult> | undefined) => number | false);

/** Options of {@link useJobStatus}. Inline values (new objects or callbacks every render) never restart watching. */
export interface UseJobStatusOptions<TResult = unknown> {
  /** Poll interval in ms, or `(job) => ms | false`. Default 2000. */
  pollInterval?: PollInterval<TResult>;
  /** Set `false` to stop watching without unmounting. Default `true`. */
  enabled?: boolean;
  /** Use the client's `subscribe` (push) when it has one. Default `true`. */
  live?: boolean;
  /** Keep polling while the tab is hidden. Default `false`: polling pauses and refreshes once on return. */
  pollWhenHidden?: boolean;
  /** Called once when the job is first seen `completed`. */
  onComplete?: (job: Job<TResult>) => void;
  /**
   * Called once when watching ends badly: `JobFailedError` (the job failed; `job` is given),
   * `JobNotFoundError` or `JobUnauthorizedError`. Never called for transient errors.
   */
  onError?: (error: Error, job?: Job<TResult>) => void;
  /** Called once when the job is first seen terminal (completed, failed or cancelled). */
  onSettled?: (job: Job<TResult>) => void;
  /** Called whenever the observed status changes; `previous` is undefined on the first observation. */
  onStatusChange?: (job: Job<TResult>, previous: JobState | undefined) => void;
}

/** What {@link useJobStatus} returns. */
export interface UseJobStatusResult<TResult = unknown> {
  /** The latest job, or `undefined` before the first answer. Kept through transient errors. */
  job: Job<TResult> | undefined;
  /** Shorthand for `job?.status`. */
  status: JobState | undefined;
  /** Whether the job is completed, failed or cancelled. */
  isTerminal: boolean;
  /** Watching, with no job and no final error yet. */
  isLoading: boolean;
  /** `job.progress` (0..1) or `null` when indeterminate or unknown. */
  progress: number | null;
  /**
   * When the job is expected to finish, or `null` when there is no honest answer:
   * - while pending or processing, the server's `estimatedCompletionAt` when it sends one;
   * - otherwise, while processing with a numeric `progress`, an estimate from the pace this
   *   hook observed: shown after a warm-up (three changes of progress over at least 3 s and
   *   2%), smoothed, and `null` again while progress stalls (no change for 3× the usual
   *   gap, at least 5 s) until a new warm-up; a retry or a restart starts it over;
   * - `null` while progress is indeterminate without a server estimate, and once the job ended.
   *
   * Never before the moment it was computed, but it may be in the past by the time you
   * read it: treat that as "any moment now". The same `Date` object is kept while the
   * estimate moves by less than 5% of the time left (at least 1 s). See `createEtaEstimator`.
   */
  eta: Date | null;
  /** The last error: transient (watching goes on) or final (`JobNotFoundError`, `JobUnauthorizedError`). `null` after a success. */
  error: Error | null;
  /** How the job is being kept fresh. */
  connection: JobConnection;
  /** Fetches the job now (deduplicated with a request in flight). */
  refetch: () => Promise<void>;
}

/** Options of {@link usePendingJobsCount}. */
export interface UsePendingJobsCountOptions {
  /** Scope the count, e.g. `{ meta: { projectId } }`. */
  filter?: Pick<JobFilter, 'meta'>;
  /** Refresh interval in ms. Default 5000. */
  pollInterval?: number;
  /** Set `false` to stop counting. Default `true`. */
  enabled?: boolean;
}

/** What {@link usePendingJobsCount} returns. */
export interface UsePendingJobsCountResult {
  /** Jobs waiting to start (0 until the first answer). */
  pending: number;
  /** Jobs running (0 until the first answer). */
  processing: number;
  /** `pending + processing`. */
  total: number;
  /** No answer yet. */
  isLoading: boolean;
  /** The last error, or `null`; the last good counts stay. */
  error: Error | null;
}
