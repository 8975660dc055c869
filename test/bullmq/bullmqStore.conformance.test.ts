// @vitest-environment node
import { Queue, Worker, type Job as BullJob } from 'bullmq';
import { createBullMQJobStore, createJobOutputWriter } from '../../src/bullmq';
import { describeJobStoreConformance } from '../support/jobStoreConformance';
import { useTestRedis } from '../support/redis';

/**
 * The shared JobStore conformance suite against a real Redis (Debian's redis-server on a
 * unix socket in a temp dir, started here and stopped after). No mocks, nothing skipped:
 * without redis-server every test fails with an install hint.
 */
const suite = useTestRedis();

/** Jobs are created delayed (pending) far in the future; `start` promotes one and takes it by hand. */
const FAR_FUTURE_MS = 1_000_000_000;
/** A small parts-per-job limit, so the output section's trimming test runs. */
const MAX_OUTPUT_PARTS = 8;

describeJobStoreConformance('createBullMQJobStore (BullMQ on Redis)', async () => {
  const connection = { path: suite.redis.socket, maxRetriesPerRequest: null };
  const name = suite.uniqueName('conformance');
  const queue = new Queue(name, { connection });
  // A manual worker: the test decides which job starts, progresses, completes or fails.
  const worker = new Worker(name, null, { connection });
  const active = new Map<string, { job: BullJob; token: string }>();

  async function start(id: string): Promise<{ job: BullJob; token: string }> {
    const held = active.get(id);
    if (held) return held;
    const job = await queue.getJob(id);
    if (!job) throw new Error(`no job ${id}`);
    await job.promote();
    const token = `token-${id}`;
    const next = await worker.getNextJob(token);
    if (!next || String(next.id) !== id) throw new Error(`expected to take job ${id}, got ${String(next?.id)}`);
    const entry = { job: next, token };
    active.set(id, entry);
    return entry;
  }

  const store = createBullMQJobStore({
    queue,
    connection,
    owner: (job) => (typeof job.data?.owner === 'string' ? job.data.owner : null),
    maxOutputParts: MAX_OUTPUT_PARTS,
    // The worker's cooperative reaction to a cancel: it stops the job (here: fails it by hand).
    cancelActive: async (job) => {
      const held = active.get(String(job.id));
      if (!held) return;
      active.delete(String(job.id));
      await held.job.moveToFailed(new Error('cancelled'), held.token, false);
    },
  });
  await queue.waitUntilReady();
  // Parts are appended as a worker process would: through the worker's connection.
  const writer = createJobOutputWriter(worker, { maxOutputParts: MAX_OUTPUT_PARTS });

  return {
    store,
    controls: {
      create: async ({ owner, meta, id }) => {
        const job = await queue.add('job', { owner, meta }, { delay: FAR_FUTURE_MS, ...(id === undefined ? {} : { jobId: id }) });
        return String(job.id);
      },
      start: async (id) => void (await start(id)),
      progress: async (id, fraction, message) => {
        const { job } = await start(id);
        await job.updateProgress({ progress: fraction * 100, message });
      },
      complete: async (id, result) => {
        const { job, token } = await start(id);
        active.delete(id);
        await job.moveToCompleted(result ?? null, token, false);
      },
      fail: async (id, message) => {
        const { job, token } = await start(id);
        active.delete(id);
        await job.moveToFailed(new Error(message), token, false);
      },
    },
    output: {
      appendOutput: async (id, part) => void (await writer.append(id, part)),
      maxParts: MAX_OUTPUT_PARTS,
    },
    teardown: async () => {
      await store.close();
      await worker.close(true);
      await queue.obliterate({ force: true });
      await queue.close();
    },
  };
});
