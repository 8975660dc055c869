export type {
  Job,
  JobBatch,
  JobClient,
  JobErrorInfo,
  JobFilter,
  JobMetaValue,
  JobPage,
  JobRequestOptions,
  JobState,
  JobSubscriptionListener,
  PendingCount,
} from './types';
export { isTerminal, JOB_STATES } from './isTerminal';
export {
  JobError,
  JobFailedError,
  JobNotFoundError,
  JobProtocolError,
  JobRequestError,
  JobTransportError,
  JobUnauthorizedError,
  isAbortError,
  isFatalJobError,
} from './errors';
export { parseJob, parseJobBatch, parseJobPage, parsePendingCount } from './parseJob';
export { isNewerJob } from './mergeJob';
export {
  createJobWatcher,
  DEFAULT_POLL_INTERVAL,
  MAX_BACKOFF_MS,
  type JobCache,
  type JobSnapshot,
  type JobWatcher,
  type JobWatcherEnvironment,
  type JobWatcherOptions,
  type WatchConnection,
  type WatchHandle,
  type WatchOptions,
} from './createJobWatcher';
