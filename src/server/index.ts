/**
 * `jobwatch/server`: `createJobHandler`, a Fetch-API handler serving the
 * jobwatch REST contract from a `JobStore`. No React; runs wherever
 * `Request`/`Response` exist.
 */
export { createJobHandler, type JobHandlerOptions } from './createJobHandler';
export type { JobPushInfo, JobStore, JobStoreRequestOptions, JobSubscriptionListener } from '../core/types';
