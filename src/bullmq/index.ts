/**
 * `jobwatch/bullmq`: serve a BullMQ queue as a JobStore for `createJobHandler`.
 * Needs the optional peers `bullmq` and `ioredis`.
 */
export { CANCEL_STREAM, createBullMQJobStore } from './createBullMQJobStore';
export type { BullMQJobStore, BullMQJobStoreOptions } from './createBullMQJobStore';
export { listenForCancels } from './listenForCancels';
export type { CancelListener, ListenForCancelsOptions } from './listenForCancels';
export { createJobOutputWriter } from './outputWriter';
export type { JobOutputWriter, JobOutputWriterOptions } from './outputWriter';
