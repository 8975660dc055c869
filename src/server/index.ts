/**
 * `jobwatch/server`: `createJobHandler`, a Fetch-API handler serving the
 * jobwatch REST contract from a `JobStore`. No React; runs wherever
 * `Request`/`Response` exist.
 */
export { createJobHandler, type JobHandlerOptions } from './createJobHandler';
export { DEFAULT_STORE_TIMEOUT_MS } from './guardStore';
export { DEFAULT_UNAVAILABLE_RETRY_AFTER_MS } from './http';
export { MAX_EVENT_STREAM_BUFFER_BYTES } from './eventStreamContext';
export type {
  JobOutputListener,
  JobOutputPage,
  JobOutputPart,
  JobPushInfo,
  JobStore,
  JobStoreRequestOptions,
  JobSubscriptionListener,
} from '../contract/types';
export type { JobOutputEvent } from '../contract/output';
