// @vitest-environment node
import { Queue, Worker } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { createBullMQJobStore, type BullMQJobStoreOptions } from '../../src/bullmq';
import { JobNotFoundError } from '../../src/contract/errors';
import type { Job } from '../../src/contract/types';
import { useTestRedis } from '../support/redis';
import { until as untilValue } from '../support/until';

/**
 * `removeOnComplete: true` / `removeOnFail: true` delete a job the moment it finishes: the
 * store keeps its final state (`keepFinishedMs`) so watchers still see it complete or fail.
 * Against a real redis-server with a real worker.
 */
const suite = useTestRedis();
const ALICE = { owner: 'alice' };
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const until = <T>(read: () => T | Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 10_000) =>
  untilValue(read, ok, what, timeoutMs);

/** A queue whose jobs are removed as they finish, a worker that runs them, and a store. */
async function fixture(extra: Partial<BullMQJobStoreOptions> = {}) {
  const connection = { path: suite.redis.socket, maxRetriesPerRequest: null };
  const name = suite.uniqueName('finished');
  const queue = new Queue(name, { connection, defaultJobOptions: { removeOnComplete: true, removeOnFail: true } });
  let release = false;
  const worker = new Worker(
    name,
    async (job) => {
      await job.updateProgress({ progress: 50, message: 'Halfway' });
      while (!release) await sleep(10);
      if (job.data.fail) throw new Error('The render crashed');
      return { url: `/images/${job.id}.png` };
    },
    { connection },
  );
  const store = createBullMQJobStore({ queue, owner: (job) => job.data.owner, ...extra });
  suite.cleanup(async () => {
    await store.close();
    await worker.close(true);
    await queue.obliterate({ force: true });
    await queue.close();
  });
  // The events reader writes the final states: it reads before the first job starts.
  await store.ready();
  return { queue, store, finish: () => (release = true) };
}

describe('removeOnComplete / removeOnFail (keepFinishedMs)', () => {
  it('a job removed as it completes reads as completed with its result, and push delivers it', async () => {
    const f = await fixture();
    const id = String((await f.queue.add('render', { owner: 'alice' })).id);
    const pushed: Job[] = [];
    const errors: unknown[] = [];
    f.store.subscribe(id, { next: (job) => pushed.push(job), error: (e) => errors.push(e) }, ALICE);
    await until(() => f.store.getStatus(id, ALICE), (job) => job.progressMessage === 'Halfway', 'the job to run');
    f.finish();
    await until(() => f.queue.getJob(id), (job) => job === undefined, 'BullMQ to remove the job');
    expect(await f.store.getStatus(id, ALICE)).toMatchObject({ id, status: 'completed', result: { url: `/images/${id}.png` }, progress: 1 });
    expect((await f.store.getStatuses([id], ALICE)).jobs.map((job) => job.status)).toEqual(['completed']);
    await until(() => pushed.at(-1)?.status, (status) => status === 'completed', 'push to deliver the completion');
    expect(pushed.at(-1)).toMatchObject({ status: 'completed', result: { url: `/images/${id}.png` } });
    expect(errors).toEqual([]);
    // Another owner still reads nothing.
    await expect(f.store.getStatus(id, { owner: 'bob' })).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('a job removed as it fails reads as failed with its error, and push delivers it', async () => {
    const f = await fixture();
    const id = String((await f.queue.add('render', { owner: 'alice', fail: true })).id);
    const pushed: Job[] = [];
    f.store.subscribe(id, { next: (job) => pushed.push(job) }, ALICE);
    await until(() => f.store.getStatus(id, ALICE), (job) => job.status === 'processing', 'the job to run');
    f.finish();
    await until(() => f.queue.getJob(id), (job) => job === undefined, 'BullMQ to remove the job');
    expect(await f.store.getStatus(id, ALICE)).toMatchObject({ id, status: 'failed', error: { message: 'The render crashed' } });
    await until(() => pushed.at(-1)?.status, (status) => status === 'failed', 'push to deliver the failure');
  });

  it('the final state is forgotten after keepFinishedMs, and kept nowhere with keepFinishedMs: 0', async () => {
    const f = await fixture({ keepFinishedMs: 300 });
    const id = String((await f.queue.add('render', { owner: 'alice' })).id);
    await until(() => f.store.getStatus(id, ALICE), (job) => job.status === 'processing', 'the job to run');
    f.finish();
    await until(() => f.store.getStatus(id, ALICE).catch(() => null), (job) => job?.status === 'completed', 'the completion');
    await sleep(400);
    await expect(f.store.getStatus(id, ALICE)).rejects.toBeInstanceOf(JobNotFoundError);

    const off = await fixture({ keepFinishedMs: 0 });
    const other = String((await off.queue.add('render', { owner: 'alice' })).id);
    await until(() => off.store.getStatus(other, ALICE), (job) => job.status === 'processing', 'the job to run');
    off.finish();
    await until(() => off.queue.getJob(other), (job) => job === undefined, 'BullMQ to remove the job');
    await sleep(100);
    await expect(off.store.getStatus(other, ALICE)).rejects.toBeInstanceOf(JobNotFoundError);
  }, 20_000);
});
