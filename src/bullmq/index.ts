/**
 * `jobwatch/bullmq`: serve a BullMQ queue as a JobStore for `createJobHandler`.
 * Needs the optional peers `bullmq` and `ioredis`.
 */
export { createBullMQJobStore } from './createBullMQJobStore';
export type { BullMQJobStore, BullMQJobStoreOptions } from './createBullMQJobStore';
