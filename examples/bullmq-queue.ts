// bullmq-queue.ts — the queue and its JobStore, shared by the route handlers and the worker.
import { Queue } from 'bullmq';
import { createBullMQJobStore } from 'jobwatch/bullmq';

export interface GenerationData {
  userId: string;
  prompt: string;
}

export interface GenerationResult {
  url: string;
}

// A redis:// URL or a unix socket path. BullMQ's blocking connections need maxRetriesPerRequest: null.
export const connection = { url: process.env.REDIS_URL ?? 'redis://localhost:6379', maxRetriesPerRequest: null };

export const generations = new Queue<GenerationData, GenerationResult>('generations', {
  connection,
  defaultJobOptions: {
    attempts: 3,
    backoff: { type: 'exponential', delay: 5000 },
    // Keep finished jobs bounded (Redis memory); watchers still see the final state for keepFinishedMs.
    removeOnComplete: { age: 24 * 3600, count: 1000 },
    removeOnFail: { age: 7 * 24 * 3600, count: 1000 },
  },
});

export const jobStore = createBullMQJobStore({
  queue: generations,
  owner: (job) => job.data.userId,
  cancelActive: 'workers', // workers running listenForCancels stop a cancelled active job
});
