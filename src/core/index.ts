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
  JobStore,
  JobStoreRequestOptions,
  JobPushInfo,
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
export {
  createFetchJobClient,
  parseRetryAfter,
  type FetchJobClient,
  type FetchJobClientHeaders,
  type FetchJobClientOptions,
} from './createFetchJobClient';
export {
  compareEventIds,
  DEFAULT_LIST_LIMIT,
  formatIdList,
  HEARTBEAT_INTERVAL_MS,
  isEventId,
  isValidJobId,
  MAX_CURSOR_LENGTH,
  MAX_IDS_PER_REQUEST,
  MAX_JOB_ID_LENGTH,
  MAX_LIST_LIMIT,
  RESERVED_JOB_IDS,
  type JobErrorBody,
} from './restContract';
export { MAX_EVENT_STREAM_LINE_LENGTH } from './sseParser';
export { clampRetryAfter, MAX_RETRY_AFTER_MS } from './retryAfter';
export {
  createEtaEstimator,
  type EtaEstimate,
  type EtaEstimator,
  type EtaEstimatorOptions,
} from './estimateEta';
export { createJobKeys, jobKeys, type JobKeys } from './jobKeys';
export {
  jobStatusQueryOptions,
  type JobStatusQueryKey,
  type JobStatusQueryOptions,
} from './jobStatusQueryOptions';
