// @vitest-environment node
import { Queue, UnrecoverableError, Worker, type Job as BullJob } from 'bullmq';
import IORedis from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBullMQJobStore, listenForCancels, type BullMQJobStore, type BullMQJobStoreOptions } from '../../src/bullmq';
import { JobNotFoundError, JobRequestError } from '../../src/contract/errors';
import { compareEventIds, isEventId } from '../../src/contract/eventIds';
import type { Job, JobPushInfo } from '../../src/contract/types';
import { createJobHandler, type JobStore } from '../../src/server';
import { useTestRedis } from '../support/redis';
import { readEvents } from '../support/sse';
import { until as untilValue } from '../support/until';

/**
 * `jobwatch/bullmq` beyond the shared conformance suite: the change log behind
 * Last-Event-ID (BullMQ's Redis event stream), cancels under way, and a lost Redis.
 * Against a real redis-server; nothing is mocked.
 */
const suite = useTestRedis();

// Registered after useTestRedis, so it runs before the clean-ups (after-hooks run last registered first).
afterEach(() => {
  vi.useRealTimers();
});

const ALICE = { owner: 'alice' };
const FAR_FUTURE_MS = 1_000_000_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const until = <T>(read: () => T | Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 10_000) =>
  untilValue(read, ok, what, timeoutMs);

/** A queue with a hand-driven worker (the test decides when a job starts, progresses, ends) and a store. */
async function fixture(extra: Partial<BullMQJobStoreOptions> = {}, queueOptions: { eventsMaxLen?: number } = {}) {
  const connection = { path: suite.redis.socket, maxRetriesPerRequest: null };
  const name = suite.uniqueName('log');
  const queue = new Queue(name, {
    connection,
    ...(queueOptions.eventsMaxLen ? { streams: { events: { maxLen: queueOptions.eventsMaxLen } } } : {}),
  });
  const worker = new Worker(name, null, { connection });
  // The lost-Redis test makes every connection fail for a while: that is expected here.
  queue.on('error', () => undefined);
  worker.on('error', () => undefined);
  const held = new Map<string, { job: BullJob; token: string }>();
  const stores: BullMQJobStore[] = [];
  const newStore = (more: Partial<BullMQJobStoreOptions> = {}) => {
    const store = createBullMQJobStore({
      queue,
      connection,
      owner: (job) => (typeof job.data?.owner === 'string' ? job.data.owner : null),
      ...extra,
      ...more,
    });
    stores.push(store);
    return store;
  };
  const store = newStore();
  await queue.waitUntilReady();
  suite.cleanup(async () => {
    for (const s of stores) await s.close();
    await worker.close(true);
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  });

  async function start(id: string) {
    const current = held.get(id);
    if (current) return current;
    const job = await queue.getJob(id);
    if (!job) throw new Error(`no job ${id}`);
    await job.promote();
    const token = `token-${id}`;
    const next = await worker.getNextJob(token);
    if (!next || String(next.id) !== id) throw new Error(`expected to take ${id}, got ${String(next?.id)}`);
    const entry = { job: next, token };
    held.set(id, entry);
    return entry;
  }

  return {
    queue,
    store,
    newStore,
    create: async (owner = 'alice') => String((await queue.add('job', { owner }, { delay: FAR_FUTURE_MS })).id),
    start,
    progress: async (id: string, percent: number, message?: string) => {
      const { job } = await start(id);
      await job.updateProgress(message === undefined ? percent : { progress: percent, message });
    },
    complete: async (id: string, result: unknown = null) => {
      const { job, token } = await start(id);
      held.delete(id);
      await job.moveToCompleted(result, token, false);
    },
    fail: async (id: string, message: string) => {
      const { job, token } = await start(id);
      held.delete(id);
      await job.moveToFailed(new Error(message), token, false);
    },
    held,
  };
}

function handlerFor(store: JobStore, onError?: (error: unknown) => void) {
  return createJobHandler({
    store,
    basePath: '/api/jobs',
    authorize: (request) => ({ owner: request.headers.get('x-owner') ?? 'alice' }),
    ...(onError ? { onError } : {}),
  });
}

function eventsRequest(ids: string[], lastEventId?: string): Request {
  const headers = new Headers({ 'x-owner': 'alice' });
  if (lastEventId !== undefined) headers.set('last-event-id', lastEventId);
  return new Request(`http://localhost/api/jobs/events?ids=${ids.map(encodeURIComponent).join(',')}`, { headers });
}

describe('the change log behind Last-Event-ID', () => {
  it('logPosition is the newest id of the queue’s Redis event stream and moves with every change', async () => {
    const f = await fixture();
    const before = await f.store.logPosition({});
    expect(isEventId(before)).toBe(true);
    const id = await f.create();
    const afterAdd = await f.store.logPosition({});
    expect(compareEventIds(afterAdd, before)).toBeGreaterThan(0);
    await f.progress(id, 10);
    const afterProgress = await f.store.logPosition({});
    expect(compareEventIds(afterProgress, afterAdd)).toBeGreaterThan(0);
    // It is the stream's own id, readable by any instance.
    const client = new IORedis({ path: suite.redis.socket });
    suite.cleanup(() => client.quit());
    const newest = await client.xrevrange(f.queue.toKey('events'), '+', '-', 'COUNT', 1);
    expect(afterProgress).toBe(newest[0]?.[0]);
  });

  it('changedSince names exactly the jobs with events after a position', async () => {
    const f = await fixture();
    const a = await f.create();
    const b = await f.create();
    const c = await f.create();
    await f.start(a);
    const position = await f.store.logPosition({});
    expect(await f.store.changedSince([a, b, c], position, ALICE)).toEqual([]);
    await f.progress(a, 40, 'Rendering'); // a progress event: the job's times do not move
    await f.complete(b, { ok: true });
    expect((await f.store.changedSince([a, b, c], position, ALICE))?.sort()).toEqual([a, b].sort());
    expect(await f.store.changedSince([c], position, ALICE)).toEqual([]);
    const later = await f.store.logPosition({});
    expect(await f.store.changedSince([a, b, c], later, ALICE)).toEqual([]);
  });

  it('changedSince cannot tell (null) for a position trimmed away, one the log never reached, or a malformed one', async () => {
    const f = await fixture({}, { eventsMaxLen: 10 });
    const first = await f.create();
    const early = await f.store.logPosition({});
    // BullMQ trims its event stream (approximately, by whole nodes): push the early position out.
    for (let i = 0; i < 400; i++) await f.queue.add('filler', { owner: 'nobody' }, { delay: FAR_FUTURE_MS });
    await until(() => f.queue.trimEvents(10).then(() => f.store.changedSince([first], early, ALICE)), (v) => v === null, 'the early position to be trimmed');
    const [ms = '0', seq = '0'] = (await f.store.logPosition({})).split('-');
    expect(await f.store.changedSince([first], `${BigInt(ms) + 1000n}-${seq}`, ALICE)).toBeNull();
    for (const bad of ['1732800000000', 'abc', '', '1-2-3']) {
      expect(await f.store.changedSince([first], bad, ALICE)).toBeNull();
    }
  });

  it('pushes carry stream positions: after the last one, nothing changed that was not delivered', async () => {
    const f = await fixture();
    const a = await f.create();
    const b = await f.create();
    const seen: { id: string; job: Job; info: JobPushInfo | undefined }[] = [];
    for (const id of [a, b]) f.store.subscribe(id, { next: (job, info) => seen.push({ id, job, info }) }, ALICE);
    await until(() => seen.length, (n) => n >= 2, 'the first reads');
    await f.start(a);
    await f.progress(a, 30);
    await f.start(b);
    await f.progress(b, 60, 'Upscaling');
    await f.complete(a, 'done');
    await until(() => seen.filter((s) => s.id === a).at(-1)?.job.status, (s) => s === 'completed', 'a to complete');
    await until(() => seen.filter((s) => s.id === b).at(-1)?.job.progressMessage, (m) => m === 'Upscaling', 'b’s progress');
    const positions = seen.map((s) => s.info?.position).filter((p): p is string => p !== undefined);
    expect(positions.length).toBeGreaterThan(0);
    for (const p of positions) expect(isEventId(p)).toBe(true);
    // In delivery order, positions never go back.
    for (let i = 1; i < positions.length; i++) expect(compareEventIds(positions[i]!, positions[i - 1]!)).toBeGreaterThanOrEqual(0);
    // Whatever changed after the last position (reads may run ahead of their events) is
    // already in what was delivered: a resume from it misses nothing.
    for (const id of (await f.store.changedSince([a, b], positions.at(-1)!, ALICE)) ?? [a, b]) {
      expect(seen.filter((s) => s.id === id).at(-1)?.job).toEqual(await f.store.getStatus(id, ALICE));
    }
  });

  it('a client reconnecting through another instance with Last-Event-ID is sent exactly what changed, progress included', async () => {
    const f = await fixture();
    const a = await f.create();
    const b = await f.create();
    await f.start(a);
    await f.progress(a, 20, 'Step 1');
    const first = readEvents(await handlerFor(f.store)(eventsRequest([a, b])));
    await until(() => first.jobs().length, (n) => n === 2, 'the snapshot');
    for (const event of first.events()) expect(isEventId(event.id) && event.id.includes('-')).toBe(true);
    const lastId = first.lastId()!;
    await first.cancel().catch(() => undefined);

    // While the client is away: a progress step (BullMQ moves none of the job's times for it).
    await f.progress(a, 60, 'Step 2');
    const instance2 = handlerFor(f.newStore());
    const second = readEvents(await instance2(eventsRequest([a, b], lastId)));
    await until(() => second.jobs().length, (n) => n >= 1, 'the resumed snapshot');
    await sleep(200);
    expect(second.jobs().map((job) => [job.id, job.progress, job.progressMessage])).toEqual([[a, 0.6, 'Step 2']]);
    expect(compareEventIds(second.lastId()!, lastId)).toBeGreaterThan(0);

    // b was left out, but is still watched: its change arrives.
    await f.start(b);
    await until(() => second.jobs().find((job) => job.id === b)?.status, (s) => s === 'processing', 'b to start on the resumed stream');
    await second.cancel().catch(() => undefined);
  });

  it('a reconnect from before the trimmed part of the log is sent every job again', async () => {
    const f = await fixture({}, { eventsMaxLen: 10 });
    const a = await f.create();
    const stream = readEvents(await handlerFor(f.store)(eventsRequest([a])));
    await until(() => stream.jobs().length, (n) => n === 1, 'the snapshot');
    const lastId = stream.lastId()!;
    await stream.cancel().catch(() => undefined);
    for (let i = 0; i < 400; i++) await f.queue.add('filler', { owner: 'nobody' }, { delay: FAR_FUTURE_MS });
    await until(() => f.queue.trimEvents(10).then(() => f.store.changedSince([a], lastId, ALICE)), (v) => v === null, 'the log to be trimmed');
    const again = readEvents(await handlerFor(f.store)(eventsRequest([a], lastId)));
    await until(() => again.jobs().length, (n) => n === 1, 'the full snapshot');
    expect(again.jobs()[0]).toMatchObject({ id: a, status: 'pending' });
    await again.cancel().catch(() => undefined);
  });
});

describe('cancel under way', () => {
  it('a job whose worker ignores the cancel keeps reading processing, and the cancel answers 409', async () => {
    const f = await fixture({ cancelActive: () => undefined, cancelTimeoutMs: 400 });
    const id = await f.create();
    await f.start(id);
    const statuses: string[] = [];
    const cancel = f.store.cancel(id, ALICE).catch((error: unknown) => error);
    const watchedUntil = Date.now() + 300;
    while (Date.now() < watchedUntil) {
      statuses.push((await f.store.getStatus(id, ALICE)).status);
      const listed = await f.store.list({ status: 'cancelled' }, ALICE);
      statuses.push(...listed.jobs.map((job) => `listed ${job.status}`));
      await sleep(20);
    }
    const error = await cancel;
    expect(error).toBeInstanceOf(JobRequestError);
    expect(error).toMatchObject({ status: 409, code: 'not_cancellable' });
    expect(statuses.length).toBeGreaterThan(3);
    expect(new Set(statuses)).toEqual(new Set(['processing']));
    expect((await f.store.getStatus(id, ALICE)).status).toBe('processing');
    expect(await f.store.getPendingCount({}, ALICE)).toEqual({ pending: 0, processing: 1 });
  });

  it('a job that completes while being cancelled answers 409 and keeps its result', async () => {
    const f = await fixture({
      cancelActive: async (job) => {
        const held = f.held.get(String(job.id))!;
        f.held.delete(String(job.id));
        await held.job.moveToCompleted({ url: '/done.png' }, held.token, false);
      },
    });
    const id = await f.create();
    await f.start(id);
    await expect(f.store.cancel(id, ALICE)).rejects.toMatchObject({ status: 409, code: 'not_cancellable' });
    expect(await f.store.getStatus(id, ALICE)).toMatchObject({ status: 'completed', result: { url: '/done.png' } });
  });

  it('cancelActive: "workers" with listenForCancels aborts the processor through its AbortSignal', async () => {
    const connection = { path: suite.redis.socket, maxRetriesPerRequest: null };
    const name = suite.uniqueName('cancel');
    const queue = new Queue(name, { connection });
    let aborted: string | null = null;
    let steps = 0;
    const worker = new Worker(
      name,
      async (job, _token, signal) => {
        await job.updateProgress({ progress: 10, message: 'Working' });
        while (!signal?.aborted) {
          steps++;
          await sleep(20);
        }
        aborted = String(signal.reason ?? '');
        throw new UnrecoverableError('Cancelled');
      },
      { connection },
    );
    const cancels = await listenForCancels(worker, { reason: 'Cancelled by its owner' });
    const store = createBullMQJobStore({ queue, owner: (job) => job.data.owner, cancelActive: 'workers' });
    suite.cleanup(async () => {
      await cancels.close();
      await store.close();
      await worker.close(true);
      await queue.obliterate({ force: true });
      await queue.close();
    });
    const job = await queue.add('render', { owner: 'alice' });
    const id = String(job.id);
    await until(() => store.getStatus(id, ALICE), (j) => j.status === 'processing' && j.progressMessage === 'Working', 'the job to run');
    const cancelled = await store.cancel(id, ALICE);
    expect(cancelled.status).toBe('cancelled');
    expect(aborted).toBe('Cancelled by its owner');
    const stepsAtCancel = steps;
    await sleep(100);
    expect(steps).toBe(stepsAtCancel);
    expect(await store.getStatus(id, ALICE)).toMatchObject({ id, status: 'cancelled' });
    expect(await queue.getJob(id)).toBeUndefined();
    // A cancelled job is listed as cancelled, and no longer counted.
    expect((await store.list({ status: 'cancelled' }, ALICE)).jobs.map((j) => j.id)).toEqual([id]);
    expect(await store.getPendingCount({}, ALICE)).toEqual({ pending: 0, processing: 0 });
  });
});

describe('keepCancelledMs', () => {
  it('forgets a cancelled job after keepCancelledMs, and lists delete its mark', async () => {
    const f = await fixture({ keepCancelledMs: 300 });
    const id = await f.create();
    const kept = await f.create();
    expect((await f.store.cancel(id, ALICE)).status).toBe('cancelled');
    expect((await f.store.getStatus(id, ALICE)).status).toBe('cancelled');
    expect((await f.store.list({ status: 'cancelled' }, ALICE)).jobs.map((job) => job.id)).toEqual([id]);
    await sleep(400);
    await expect(f.store.getStatus(id, ALICE)).rejects.toBeInstanceOf(JobNotFoundError);
    expect((await f.store.list({}, ALICE)).jobs.map((job) => job.id)).toEqual([kept]);
    const admin = new IORedis({ path: suite.redis.socket });
    suite.cleanup(() => admin.quit());
    expect(await admin.hexists(f.queue.toKey('jobwatch:cancelled'), id)).toBe(0);
  });
});

describe('listenForCancels', () => {
  it('a replayed cancel does not stop a new job that reuses the cancelled job’s id', async () => {
    const connection = { path: suite.redis.socket, maxRetriesPerRequest: null };
    const name = suite.uniqueName('reuse');
    const queue = new Queue(name, { connection });
    const admin = new IORedis({ path: suite.redis.socket });
    let release = false;
    const results: string[] = [];
    const processor = async (job: BullJob, _token?: string, signal?: AbortSignal) => {
      while (!release && !signal?.aborted) await sleep(20);
      if (signal?.aborted) throw new UnrecoverableError('Cancelled');
      results.push(`${job.id} done`);
      return 'ok';
    };
    const first = new Worker(name, processor, { connection });
    const firstCancels = await listenForCancels(first);
    const store = createBullMQJobStore({ queue, owner: (job) => job.data.owner, cancelActive: 'workers' });
    let second: { worker: Worker; cancels: { close(): Promise<void> } | null } | null = null;
    suite.cleanup(async () => {
      await firstCancels.close();
      await second?.cancels?.close();
      await store.close();
      await first.close(true);
      await second?.worker.close(true);
      await queue.obliterate({ force: true });
      await queue.close();
      await admin.quit();
    });
    await queue.add('render', { owner: 'alice' }, { jobId: 'render-1' });
    await until(() => queue.getJobState('render-1'), (state) => state === 'active', 'the first job to run');
    expect((await store.cancel('render-1', ALICE)).status).toBe('cancelled');
    await first.close();

    // Within the replay window, a new job under the same id runs on a worker that only now
    // starts listening: the replayed cancel names this id, but not this job.
    await admin.hdel(queue.toKey('jobwatch:cancelled'), 'render-1');
    await queue.add('render', { owner: 'alice' }, { jobId: 'render-1' });
    const worker = new Worker(name, processor, { connection });
    second = { worker, cancels: null };
    await until(() => queue.getJobState('render-1'), (state) => state === 'active', 'the new job to run');
    second.cancels = await listenForCancels(worker);
    await sleep(300); // the replay has been read
    expect(await queue.getJobState('render-1')).toBe('active');
    release = true;
    await until(() => results, (r) => r.includes('render-1 done'), 'the new job to complete');
    // The processor has returned; BullMQ moves the job to completed right after.
    await until(() => queue.getJobState('render-1'), (state) => state === 'completed', 'the new job to be completed');
  });
});

describe('a lost Redis', () => {
  it('is reported to subscribers (disconnected) and ends event streams; push resumes once Redis is back', async () => {
    const f = await fixture();
    const id = await f.create();
    await f.start(id);
    const seen: Job[] = [];
    const disconnects: unknown[] = [];
    const errors: unknown[] = [];
    f.store.subscribe(id, { next: (job) => seen.push(job), disconnected: (e) => disconnects.push(e), error: (e) => errors.push(e) }, ALICE);
    await until(() => seen.length, (n) => n === 1, 'the first read');
    const reported: unknown[] = [];
    const stream = readEvents(await handlerFor(f.store, (error) => reported.push(error))(eventsRequest([id])));
    await until(() => stream.jobs().length, (n) => n === 1, 'the snapshot');

    // Keep the data across the restart, as a real Redis with persistence would.
    const admin = new IORedis({ path: suite.redis.socket, maxRetriesPerRequest: null });
    await admin.save();
    admin.disconnect();
    await suite.redis.kill();
    await until(() => disconnects.length, (n) => n > 0, 'disconnected to be reported');
    await until(() => stream.ended, (ended) => ended, 'the event stream to end');
    expect(errors).toEqual([]);

    await suite.redis.restart();
    await until(() => f.store.getStatus(id, ALICE).catch(() => null), (job) => job?.status === 'processing', 'Redis to answer again', 20_000);
    await f.progress(id, 70, 'After the outage');
    await until(() => seen.at(-1)?.progressMessage, (m) => m === 'After the outage', 'push to resume', 20_000);
    expect(errors).toEqual([]);
  }, 40_000);

  it('an unknown job still ends its subscription with JobNotFoundError', async () => {
    const f = await fixture();
    const errors: unknown[] = [];
    f.store.subscribe('no-such-job', { next: () => undefined, error: (e) => errors.push(e) }, ALICE);
    await until(() => errors.length, (n) => n === 1, 'the error');
    expect(errors[0]).toBeInstanceOf(JobNotFoundError);
  });
});
