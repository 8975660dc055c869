/**
 * What `jobwatch/core` and `jobwatch` both export. `jobwatch/core` (./index.ts) adds
 * `shareClientAcrossTabs`; `jobwatch` leaves it out, so its tab-sharing code stays in the
 * chunk `JobClientProvider` loads only when it shares (an app with `share="none"` never loads it).
 */
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
  JobOutputInput,
  JobOutputKind,
  JobOutputListener,
  JobOutputPage,
  JobOutputPart,
  JobOutputReadOptions,
} from '../contract/types';
export {
  isSafeOutputUrl,
  JOB_OUTPUT_KINDS,
  MAX_OUTPUT_PAGE_PARTS,
  MAX_OUTPUT_PART_LENGTH,
  parseOutputPage,
  parseOutputPart,
  type JobOutputEvent,
} from '../contract/output';
export { isTerminal, JOB_STATES } from '../contract/states';
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
} from '../contract/errors';
export { parseJob, parseJobBatch, parseJobPage, parsePendingCount } from '../contract/parseJob';
export { isNewerJob } from '../contract/ordering';
export {
  createJobWatcher,
  DEFAULT_POLL_INTERVAL,
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
export { compareEventIds, isEventId } from '../contract/eventIds';
export { DEFAULT_LIST_LIMIT, MAX_IDS_PER_REQUEST, MAX_LIST_LIMIT } from '../contract/limits';
export {
  formatIdList,
  isValidJobId,
  MAX_JOB_ID_LENGTH,
  RESERVED_JOB_IDS,
} from '../contract/ids';
export { HEARTBEAT_INTERVAL_MS } from '../contract/heartbeat';
export { MAX_CURSOR_LENGTH } from '../contract/cursors';
export { type JobErrorBody } from '../contract/routes';
export { MAX_EVENT_STREAM_LINE_LENGTH } from './sseParser';
export { MAX_RETRY_AFTER_MS } from '../contract/retryAfter';
export { MAX_META_FILTER_LENGTH, MAX_META_FILTERS } from '../contract/meta';
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
export {
  createJobOutputWatcher,
} from './output/createJobOutputWatcher';
export type {
  JobOutputConnection,
  JobOutputFrameScheduler,
  JobOutputSnapshot,
  JobOutputWatcher,
  JobOutputWatcherOptions,
  JobOutputWatchHandle,
  JobOutputWatchOptions,
} from './output/types';
