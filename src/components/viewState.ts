import { isFatalJobError, JobNotFoundError, JobUnauthorizedError } from '../contract/errors';
import type { Job, JobState } from '../contract/types';
import type { UseJobStatusOptions } from '../react/types';

/**
 * What a job view ({@link JobStatus}, {@link JobProgress}) shows; also its
 * `data-state` attribute. One union for every view: `JobStatusState` and
 * `JobProgressState` are this type under the names each component exports.
 * - a {@link JobState} (`pending`, `processing`, `completed`, `failed`, `cancelled`) once the job is known;
 * - `loading` while waiting for the first answer (also while that first request is being retried);
 * - `error` when watching ended with nothing to show: the job was not found, the
 *   caller may not see it, or it vanished while it was still running;
 * - `idle` when nothing is watched: `jobId` is `null`/`undefined`, or `enabled`
 *   is `false` before any answer.
 */
export type JobViewState = JobState | 'loading' | 'error' | 'idle';

/** @internal The texts every job view needs for its states. */
export type JobViewLabels = Record<JobState | 'loading' | 'notFound' | 'unauthorized' | 'loadError', string>;

/** @internal Derives what a view shows from `useJobStatus`'s result. */
export function viewState(
  jobId: string | null | undefined,
  job: Job<unknown> | undefined,
  isTerminal: boolean,
  isLoading: boolean,
  error: Error | null,
): JobViewState {
  if (jobId == null) return 'idle';
  const fatal = isFatalJobError(error);
  // A job that vanished (404/401) mid-run is no longer truthfully "processing";
  // a terminal one is final, so whatever came after it cannot change it.
  if (job && (isTerminal || !fatal)) return job.status;
  if (error && (fatal || !isLoading)) return 'error';
  if (isLoading) return 'loading';
  return 'idle';
}

/** @internal The text of a view state; empty when idle. */
export function viewStateLabel(state: JobViewState, error: Error | null, labels: JobViewLabels): string {
  switch (state) {
    case 'idle':
      return '';
    case 'error':
      if (error instanceof JobNotFoundError) return labels.notFound;
      if (error instanceof JobUnauthorizedError) return labels.unauthorized;
      return labels.loadError;
    default:
      return labels[state];
  }
}

const WATCH_OPTION_KEYS = [
  'pollInterval',
  'enabled',
  'live',
  'pollWhenHidden',
  'onComplete',
  'onError',
  'onSettled',
  'onStatusChange',
] as const satisfies ReadonlyArray<keyof UseJobStatusOptions>;

/** @internal Splits a component's props into the `useJobStatus` options it passes through and the rest. */
export function splitWatchOptions<TResult, P extends UseJobStatusOptions<TResult>>(
  props: P,
): [UseJobStatusOptions<TResult>, Omit<P, (typeof WATCH_OPTION_KEYS)[number]>] {
  const options: Record<string, unknown> = {};
  const rest = { ...props } as Record<string, unknown>;
  for (const key of WATCH_OPTION_KEYS) {
    options[key] = props[key];
    delete rest[key];
  }
  return [options as UseJobStatusOptions<TResult>, rest as Omit<P, (typeof WATCH_OPTION_KEYS)[number]>];
}
