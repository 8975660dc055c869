// @vitest-environment node
import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBullMQJobStore } from '../../src/bullmq';
import { useTestRedis } from '../support/redis';
import { until as untilValue } from '../support/until';

/**
 * Cost per owner: one owner's counts and first page cost about that owner's jobs, whatever
 * the other owners hold (the owner index), and a drifted index never shows a wrong job.
 * Redis commands are counted with `INFO commandstats` (commands run by scripts included).
 */
const suite = useTestRedis();
let admin: IORedis;
const ALICE = { owner: 'alice' };
const FAR_FUTURE_MS = 1_000_000_000;
const OTHERS = 3000;

// After useTestRedis: opened once its server runs, and disconnected before it stops.
beforeAll(() => {
  admin = new IORedis({ path: suite.redis.socket });
});

afterAll(() => {
  admin?.disconnect();
});

/** Every command Redis ran so far (scripts' own calls included). */
async function commandsRun(): Promise<number> {
  const info = await admin.info('commandstats');
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) total += Number(match[1]);
  return total;
}

/** How many commands `run` costs Redis (minus the INFO calls that count them). */
async function cost(run: () => Promise<unknown>): Promise<number> {
  const before = await commandsRun();
  await run();
  return (await commandsRun()) - before - 1;
}

const until = <T>(read: () => T | Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 20_000) =>
  untilValue(read, ok, what, timeoutMs);

async function fixture() {
  const connection = { path: suite.redis.socket, maxRetriesPerRequest: null };
  const name = suite.uniqueName('index');
  const queue = new Queue(name, { connection });
  const worker = new Worker(name, null, { connection });
  const store = createBullMQJobStore({ queue, owner: (job) => job.data.owner });
  suite.cleanup(async () => {
    await store.close();
    await worker.close(true);
    await queue.obliterate({ force: true });
    await queue.close();
  });
  const indexKey = (state: string, owner: string) => queue.toKey(`jobwatch:idx:${state}:${JSON.stringify(owner)}`);
  /** Waits until the index is built (the store's first read starts the build). */
  const indexReady = async () => {
    await store.getPendingCount({}, ALICE);
    await until(() => admin.exists(queue.toKey('jobwatch:idx:position')), (n) => n === 1, 'the index to be built');
  };
  return { queue, worker, store, indexKey, indexReady };
}

describe('cost per owner (owner index)', () => {
  it('one owner’s counts and first page cost the same few commands however many jobs other owners hold', async () => {
    const f = await fixture();
    const mine = [];
    for (let i = 0; i < 3; i++) mine.push(String((await f.queue.add('job', { owner: 'alice', meta: { i } }, { delay: FAR_FUTURE_MS })).id));
    const running = await (await f.queue.getJob(mine[0]!))!.promote().then(() => f.worker.getNextJob('t'));
    expect(String(running?.id)).toBe(mine[0]);
    await f.indexReady();
    await until(() => f.store.getPendingCount({}, ALICE), (c) => c.processing === 1, 'the move to be seen');
    const small = {
      counts: await cost(() => f.store.getPendingCount({}, ALICE)),
      page: await cost(() => f.store.list({}, ALICE)),
    };

    // Other owners' jobs: waiting and delayed ones.
    const bulk = Array.from({ length: OTHERS }, (_, i) => ({
      name: 'job',
      data: { owner: `user-${i % 50}` },
      opts: i % 3 === 0 ? { delay: FAR_FUTURE_MS } : {},
    }));
    for (let i = 0; i < bulk.length; i += 500) await f.queue.addBulk(bulk.slice(i, i + 500));
    // Let the index follow (the reads would catch up anyway, within their own cost).
    // The first read after them applies the other owners' events; then reads cost what they did.
    await until(() => cost(() => f.store.getPendingCount({}, ALICE)), (n) => n <= small.counts + 5, 'the index to settle', 30_000);

    const big = {
      counts: await cost(() => f.store.getPendingCount({}, ALICE)),
      page: await cost(() => f.store.list({}, ALICE)),
    };
    expect(await f.store.getPendingCount({}, ALICE)).toEqual({ pending: 2, processing: 1 });
    expect((await f.store.list({}, ALICE)).jobs.map((job) => job.id)).toEqual([...mine].reverse());
    // A full scan would read every one of the other owners' jobs.
    expect(big.counts).toBeLessThanOrEqual(small.counts + 5);
    expect(big.page).toBeLessThanOrEqual(small.page + 5);
    expect(big.counts).toBeLessThan(60);
    expect(big.page).toBeLessThan(60);
  }, 60_000);

  it('a drifted index never shows a wrong job and is repaired by the read that meets it', async () => {
    const f = await fixture();
    const mine = String((await f.queue.add('job', { owner: 'alice' }, { delay: FAR_FUTURE_MS })).id);
    const theirs = String((await f.queue.add('job', { owner: 'bob' }, { delay: FAR_FUTURE_MS })).id);
    await f.indexReady();
    // Drift: bob's job in alice's pending set, alice's in her processing set, a job that never existed.
    await admin.zadd(f.indexKey('pending', 'alice'), Date.now(), theirs);
    await admin.zadd(f.indexKey('processing', 'alice'), Date.now(), mine);
    await admin.zadd(f.indexKey('pending', 'alice'), Date.now(), 'no-such-job');
    expect(await f.store.getPendingCount({}, ALICE)).toEqual({ pending: 1, processing: 0 });
    expect((await f.store.list({ status: ['pending', 'processing'] }, ALICE)).jobs.map((job) => [job.id, job.status])).toEqual([[mine, 'pending']]);
    expect(await admin.zrange(f.indexKey('pending', 'alice'), 0, -1)).toEqual([mine]);
    expect(await admin.zcard(f.indexKey('processing', 'alice'))).toBe(0);
  }, 30_000);

  it('jobs BullMQ removes without an event (clean) leave the lists and the index', async () => {
    const f = await fixture();
    const id = String((await f.queue.add('job', { owner: 'alice' })).id);
    await f.indexReady();
    const job = await f.worker.getNextJob('t');
    await job!.moveToCompleted('done', 't', false);
    await until(() => f.store.list({ status: 'completed' }, ALICE), (page) => page.jobs.length === 1, 'the completion');
    await f.queue.clean(0, 100, 'completed');
    expect((await f.store.list({ status: 'completed' }, ALICE)).jobs).toEqual([]);
    expect(await admin.zcard(f.indexKey('completed', 'alice'))).toBe(0);
    expect(id).toBe(String(job!.id));
  }, 30_000);

  it('an index whose events were trimmed away unread is rebuilt, and reads stay right meanwhile', async () => {
    const f = await fixture();
    await f.indexReady();
    await f.store.close(); // no reader follows the events now
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(String((await f.queue.add('job', { owner: 'alice' }, { delay: FAR_FUTURE_MS })).id));
    const filler = Array.from({ length: 2000 }, () => ({ name: 'job', data: { owner: 'bob' } }));
    await f.queue.addBulk(filler);
    await f.queue.trimEvents(10);
    const store = createBullMQJobStore({ queue: f.queue, owner: (job) => job.data.owner });
    suite.cleanup(() => store.close());
    expect(await store.getPendingCount({}, ALICE)).toEqual({ pending: 3, processing: 0 });
    expect((await store.list({}, ALICE)).jobs.map((job) => job.id)).toEqual([...ids].reverse());
    await until(() => store.list({}, ALICE).then(() => cost(() => store.getPendingCount({}, ALICE))), (n) => n < 30, 'the rebuilt index');
    expect(await store.getPendingCount({}, ALICE)).toEqual({ pending: 3, processing: 0 });
  }, 60_000);

  it('an id the contract does not allow reads as unknown without a Redis call, and a meta filter it does not allow is a 400', async () => {
    const f = await fixture();
    const id = String((await f.queue.add('job', { owner: 'alice' }, { delay: FAR_FUTURE_MS })).id);
    await f.store.getStatus(id, ALICE);
    const tooLong = 'x'.repeat(201);
    // A read would cost a script call and its few commands; the events reader may run one XREAD meanwhile.
    expect(await cost(() => f.store.getStatus(tooLong, ALICE).catch((error: unknown) => error))).toBeLessThanOrEqual(1);
    await expect(f.store.getStatus('a\u0000b', ALICE)).rejects.toMatchObject({ name: 'JobNotFoundError' });
    expect(await f.store.getStatuses([id, tooLong, 'counts'], ALICE)).toMatchObject({ jobs: [{ id }], missing: [tooLong, 'counts'] });
    const tooMany = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, 'v']));
    await expect(f.store.getPendingCount({ meta: tooMany }, ALICE)).rejects.toMatchObject({ status: 400, code: 'bad_request' });
    await expect(f.store.list({ meta: { '': 'v' } }, ALICE)).rejects.toMatchObject({ status: 400, code: 'bad_request' });
  });
});
