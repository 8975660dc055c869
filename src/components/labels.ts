/**
 * Every string {@link JobStatus} shows. Pass a partial object as its `labels`
 * prop to translate or reword; strings that take numbers or server text are
 * functions.
 */
export interface JobStatusLabels {
  /** Label of a job waiting to start. Default `"Queued"`. */
  pending: string;
  /** Label of a running job. Default `"Processing"`. */
  processing: string;
  /** Label of a finished job. Default `"Completed"`. */
  completed: string;
  /** Label of a failed job. Default `"Failed"`. */
  failed: string;
  /** Label of a cancelled job. Default `"Cancelled"`. */
  cancelled: string;
  /** Shown before the first answer. Default `"Loading job status…"`. */
  loading: string;
  /** Shown beside the label while a processing job is being watched. Default `"(updating…)"`. */
  updating: string;
  /**
   * The retry count in the detailed view, shown once a job has retried.
   * Default `"Retry 2 of 3"`, or `"Retry 2"` when `maxRetries` is unknown.
   */
  retry: (retryCount: number, maxRetries: number | null) => string;
  /**
   * The job's last error in the detailed view while it is still being retried.
   * A failed job shows its error message as is. Default `"Last error: <message>"`.
   */
  lastError: (message: string) => string;
  /** Shown while requests fail and watching retries (the job shown may be stale). Default `"Connection problem, retrying…"`. */
  connectionError: string;
  /** Shown when the job does not exist (or the caller may not see it). Default `"Job not found"`. */
  notFound: string;
  /** Shown when the server refused the caller. Default `"Not allowed to see this job"`. */
  unauthorized: string;
  /** Shown when watching ended on any other error. Default `"Could not load job status"`. */
  loadError: string;
  /** Text of the Cancel button (`actions`). Default `"Cancel"`. */
  cancelAction: string;
  /** Text of the Cancel button while the cancel is being sent. Default `"Cancelling…"`. */
  cancelling: string;
  /** Shown after a cancel failed (the job is shown as it was again). Default `"Could not cancel the job"`. */
  cancelFailed: string;
  /** Text of the Retry button (`actions`). Default `"Retry"`. (`retry` is the retry count of the detailed view.) */
  retryAction: string;
  /** Text of the Retry button while the retry is being sent. Default `"Retrying…"`. */
  retrying: string;
  /** Shown after a retry failed (the job is shown as it was again). Default `"Could not retry the job"`. */
  retryFailed: string;
}

/** The English labels {@link JobStatus} uses unless its `labels` prop replaces them. */
export const defaultJobStatusLabels: JobStatusLabels = {
  pending: 'Queued',
  processing: 'Processing',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
  loading: 'Loading job status…',
  updating: '(updating…)',
  retry: (retryCount, maxRetries) => (maxRetries == null ? `Retry ${retryCount}` : `Retry ${retryCount} of ${maxRetries}`),
  lastError: (message) => `Last error: ${message}`,
  connectionError: 'Connection problem, retrying…',
  notFound: 'Job not found',
  unauthorized: 'Not allowed to see this job',
  loadError: 'Could not load job status',
  cancelAction: 'Cancel',
  cancelling: 'Cancelling…',
  cancelFailed: 'Could not cancel the job',
  retryAction: 'Retry',
  retrying: 'Retrying…',
  retryFailed: 'Could not retry the job',
};

/**
 * Every string {@link PendingJobsBadge} shows. Pass a partial object as its
 * `labels` prop to translate or reword.
 */
export interface PendingJobsBadgeLabels {
  /**
   * What the number counts, read right after it: the badge's text reads
   * "3 active jobs (2 pending, 1 processing)". The default stylesheet hides it
   * visually but screen readers read it. Default `"active job"` / `"active jobs"`.
   */
  activeJobs: (total: number) => string;
  /** The split of the total. Default `"(2 pending, 1 processing)"`. */
  breakdown: (pending: number, processing: number) => string;
}

/** The English labels {@link PendingJobsBadge} uses unless its `labels` prop replaces them. */
export const defaultPendingJobsBadgeLabels: PendingJobsBadgeLabels = {
  activeJobs: (total) => (total === 1 ? 'active job' : 'active jobs'),
  breakdown: (pending, processing) => `(${pending} pending, ${processing} processing)`,
};

/** A value, or a function computing it from a component's render state. */
export type ValueOrFunction<T, S> = T | ((state: S) => T);

/** @internal Returns `value(state)` when `value` is a function, else `value`. */
export function resolve<T, S>(value: ValueOrFunction<T, S>, state: S): T {
  return typeof value === 'function' ? (value as (state: S) => T)(state) : value;
}

/** @internal Defaults overlaid with the given overrides; an `undefined` override keeps the default. */
export function mergeLabels<T extends object>(defaults: T, overrides: Partial<T> | undefined): T {
  if (!overrides) return defaults;
  const merged = { ...defaults };
  for (const key of Object.keys(overrides) as (keyof T)[]) {
    const value = overrides[key];
    if (value !== undefined) merged[key] = value as T[keyof T];
  }
  return merged;
}
