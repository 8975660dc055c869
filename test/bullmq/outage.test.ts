// @vitest-environment node
import { Queue, Worker, type Job as BullJob } from 'bullmq';
import IORedis from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createBullMQJobStore, type BullMQJobStore } from '../../src/bullmq';
import { JobTransportError } from '../../src/contract/errors';
import type { Job } from '../../src/contract/types';
import { createJobHandler } from '../../src/server';
import { useTestRedis } from '../support/redis';
import { until as untilValue } from '../support/until';

/**
 * Semantic 15 against a real redis-server that is killed (SIGKILL) or frozen (SIGSTOP) mid-run:
 * the BullMQ store answers within its `timeoutMs` with a `JobTransportError`, the handler
 * answers 503 `unavailable` with `Retry-After`, and everything works again once Redis is
 * back on the same socket, without a restart. Each test has its own Redis: they kill it.
 */
const TIMEOUT_MS = 1000;
/** Room for a busy 2-core machine beyond the store's own deadline. */
const SLACK_MS = 1500;
const ALICE = { owner: 'alice' };
const FAR_FUTURE_MS = 1_000_000_000;

// A server of its own for every test (each one kills or freezes it); a test that fails while it is
// frozen leaves it paused: useTestRedis resumes it before the clean-ups, then stops it.
const suite = useTestRedis({ each: true });

const until = <T>(read: () => T | Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 15_000) =>
  untilValue(read, ok, what, timeoutMs);

async function fixture() {
  // As the README sets it up: one connection option with maxRetriesPerRequest: null for all.
  const connection = { path: suite.redis.socket, maxRetriesPerRequest: null };
  const queue = new Queue('outage', { connection });
  const worker = new Worker('outage', null, { connection });
  queue.on('error', () => undefined);
  worker.on('error', () => undefined);
  const store = createBullMQJobStore({
    queue,
    owner: (job) => job.data.owner,
    timeoutMs: TIMEOUT_MS,
    cancelActive: () => undefined,
    cancelTimeoutMs: 300,
  });
  suite.cleanup(async () => {
    await store.close();
    await worker.close(true);
    await queue.close();
  });
  const handler = createJobHandler({ store, basePath: '/api/jobs', authorize: () => ALICE });
  const a = String((await queue.add('job', { owner: 'alice' }, { delay: FAR_FUTURE_MS })).id);
  const b = String((await queue.add('job', { owner: 'alice' }, { delay: FAR_FUTURE_MS })).id);
  return { queue, worker, store, handler, a, b };
}

/** Every route of the handler that reads or writes the store. */
function routes(a: string, b: string): { name: string; request: () => Request }[] {
  const base = 'http://localhost/api/jobs';
  return [
    { name: 'status', request: () => new Request(`${base}/${a}`) },
    { name: 'batch', request: () => new Request(`${base}?ids=${a},${b}`) },
    { name: 'list', request: () => new Request(`${base}?status=pending`) },
    { name: 'counts', request: () => new Request(`${base}/counts`) },
    { name: 'cancel', request: () => new Request(`${base}/${a}/cancel`, { method: 'POST' }) },
  ];
}

/** Every store call, as the routes make them. */
function storeCalls(store: BullMQJobStore, a: string, b: string): { name: string; call: () => Promise<unknown> }[] {
  return [
    { name: 'getStatus', call: () => store.getStatus(a, ALICE) },
    { name: 'getStatuses', call: () => store.getStatuses([a, b], ALICE) },
    { name: 'list', call: () => store.list({ status: 'pending' }, ALICE) },
    { name: 'getPendingCount', call: () => store.getPendingCount({}, ALICE) },
    { name: 'cancel', call: () => store.cancel(a, ALICE) },
    { name: 'logPosition', call: () => store.logPosition({}) },
  ];
}

async function timed<T>(run: () => Promise<T>): Promise<{ ms: number; value?: T; error?: unknown }> {
  const started = Date.now();
  try {
    const value = await run();
    return { ms: Date.now() - started, value };
  } catch (error) {
    return { ms: Date.now() - started, error };
  }
}

async function expectUnavailable(f: Awaited<ReturnType<typeof fixture>>): Promise<void> {
  for (const { name, call } of storeCalls(f.store, f.a, f.b)) {
    const { ms, error } = await timed(call);
    expect(error, name).toBeInstanceOf(JobTransportError);
    expect((error as Error).message, name).toMatch(/Redis is unavailable/);
    expect(ms, name).toBeLessThan(TIMEOUT_MS + SLACK_MS);
  }
  for (const { name, request } of routes(f.a, f.b)) {
    const { ms, value: response } = await timed(() => f.handler(request()));
    expect(ms, name).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    expect(response?.status, name).toBe(503);
    expect(await response!.json(), name).toMatchObject({ error: { code: 'unavailable' } });
    expect(Number(response!.headers.get('retry-after')), name).toBeGreaterThan(0);
  }
}

describe('a Redis outage (semantic 15)', () => {
  it('a killed Redis: every route answers 503 within timeoutMs, then works again after a restart, push included', async () => {
    const f = await fixture();
    const seen: Job[] = [];
    const disconnects: unknown[] = [];
    const errors: unknown[] = [];
    f.store.subscribe(f.a, { next: (job) => seen.push(job), disconnected: (e) => disconnects.push(e), error: (e) => errors.push(e) }, ALICE);
    await until(() => seen.length, (n) => n === 1, 'the first push');
    for (const { name, request } of routes(f.a, f.b).filter((route) => route.name !== 'cancel')) {
      expect((await f.handler(request())).status, name).toBe(200);
    }

    // Keep the data across the restart, as a Redis with persistence would.
    const admin = new IORedis({ path: suite.redis.socket });
    await admin.save();
    admin.disconnect();
    await suite.redis.kill('SIGKILL');
    await expectUnavailable(f);
    await until(() => disconnects.length, (n) => n > 0, 'the subscription to report disconnected');

    await suite.redis.restart();
    await until(() => f.store.getStatus(f.a, ALICE).catch(() => null), (job) => job?.status === 'pending', 'the store to answer again');
    for (const { name, request } of routes(f.a, f.b).filter((route) => route.name !== 'cancel')) {
      expect((await f.handler(request())).status, name).toBe(200);
    }
    // Push resumes on the same subscription.
    const job = (await f.queue.getJob(f.a)) as BullJob;
    await job.promote();
    const taken = await until(() => f.worker.getNextJob('t'), (next) => next !== undefined, 'a job to take');
    await taken!.updateProgress({ progress: 40, message: 'After the outage' });
    await until(() => seen.at(-1)?.progressMessage, (m) => m === 'After the outage', 'push to resume', 20_000);
    expect(errors).toEqual([]);
    expect((await f.handler(routes(f.a, f.b)[0]!.request())).status).toBe(200);
  }, 60_000);

  it('a frozen Redis (open connections, no answers): every store call rejects within timeoutMs, and answers again once it thaws', async () => {
    const f = await fixture();
    expect((await f.store.getStatus(f.a, ALICE)).status).toBe('pending');
    suite.redis.pause();
    await expectUnavailable(f);
    suite.redis.resume();
    await until(() => f.store.getStatus(f.a, ALICE).catch(() => null), (job) => job?.status === 'pending', 'the store to answer again');
    expect(await f.store.getPendingCount({}, ALICE)).toEqual({ pending: 2, processing: 0 });
  }, 60_000);

  it('a store created while Redis is down answers 503 within timeoutMs, and works once Redis starts', async () => {
    await suite.redis.kill('SIGKILL');
    const connection = { path: suite.redis.socket, maxRetriesPerRequest: null };
    const queue = new Queue('late', { connection });
    queue.on('error', () => undefined);
    const store = createBullMQJobStore({ queue, owner: (job) => job.data.owner, timeoutMs: TIMEOUT_MS });
    suite.cleanup(async () => {
      await store.close();
      await queue.close();
    });
    const { ms, error } = await timed(() => store.getPendingCount({}, ALICE));
    expect(error).toBeInstanceOf(JobTransportError);
    expect(ms).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    await suite.redis.restart();
    await until(() => store.getPendingCount({}, ALICE).catch(() => null), (c) => c !== null, 'the store to answer');
    await queue.add('job', { owner: 'alice' });
    await until(() => store.getPendingCount({}, ALICE), (c) => c.pending === 1, 'the new job to be counted');
  }, 60_000);
});
