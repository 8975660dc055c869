import { Queue, Worker } from 'bullmq';
import IORedis from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createBullMQJobStore, type BullMQJobStore } from '../src/bullmq';
import { startRedis, type TestRedis } from '../test/support/redis';

/**
 * What one owner's requests cost the BullMQ store as the queue grows: 1k, 10k and 50k jobs
 * over 100 owners. Each owner has a few active jobs (5 pending, 1 processing) and the rest of
 * its share is history (completed jobs): the queue grows, one owner's active work does not.
 * Per operation: the median time of ROUNDS calls and the Redis commands per call (deltas of
 * `INFO commandstats`, which counts the commands scripts run too), next to BullMQ's own
 * `getJobCounts()` (every state's size, no owner) as the floor.
 * Target: one owner's counts and first page cost less than 2× as much at 50k as at 1k jobs
 * (pages of 10: at 1k jobs an owner has 10 jobs, so a page of 20 would compare 10 jobs with 20).
 */
const SIZES = [1_000, 10_000, 50_000];
const OWNERS = 100;
const PENDING_PER_OWNER = 5;
const ROUNDS = 40;
const FAR_FUTURE_MS = 1_000_000_000;
const OWNER = { owner: 'user-42' };

interface Row {
  size: number;
  operation: string;
  medianMs: number;
  commands: number;
}

let redis: TestRedis;
let admin: IORedis;
const rows: Row[] = [];

beforeAll(async () => {
  redis = await startRedis();
  admin = new IORedis({ path: redis.socket });
});

afterAll(async () => {
  admin?.disconnect();
  await redis?.stop();
  printTable();
});

async function commandsRun(): Promise<number> {
  const info = await admin.info('commandstats');
  let total = 0;
  for (const match of info.matchAll(/^cmdstat_[^:]+:calls=(\d+)/gm)) total += Number(match[1]);
  return total;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

async function measure(size: number, operation: string, call: () => Promise<unknown>): Promise<void> {
  await call(); // warm: scripts loaded, connections open
  const times: number[] = [];
  const before = await commandsRun();
  for (let i = 0; i < ROUNDS; i++) {
    const started = performance.now();
    await call();
    times.push(performance.now() - started);
  }
  const commands = ((await commandsRun()) - before - 1) / ROUNDS;
  rows.push({ size, operation, medianMs: median(times), commands });
}

/**
 * History written straight into BullMQ's keys with one pipeline (a completed job is a hash
 * and an entry of the `completed` sorted set): adding and running 50k jobs through a worker
 * would take most of the time budget. The store learns of them by rebuilding its index.
 */
async function seedHistory(queue: Queue, count: number, now: number): Promise<void> {
  const opts = JSON.stringify({ attempts: 1 });
  for (let start = 0; start < count; start += 5000) {
    const pipeline = admin.pipeline();
    for (let i = start; i < Math.min(count, start + 5000); i++) {
      const id = `h-${i}`;
      const created = now - (count - i) * 10;
      pipeline.hset(queue.toKey(id), {
        name: 'render',
        data: JSON.stringify({ owner: `user-${i % OWNERS}`, meta: { projectId: `p${i % 7}` } }),
        opts,
        timestamp: String(created),
        delay: '0',
        priority: '0',
        processedOn: String(created + 2),
        finishedOn: String(created + 5),
        returnvalue: JSON.stringify({ url: `/images/${id}.png` }),
        atm: '1',
        ats: '1',
      });
      pipeline.zadd(queue.toKey('completed'), created + 5, id);
    }
    await pipeline.exec();
  }
}

async function seed(size: number): Promise<{ queue: Queue; worker: Worker; store: BullMQJobStore; ids: string[] }> {
  const connection = { path: redis.socket, maxRetriesPerRequest: null };
  const queue = new Queue(`bench-${size}`, { connection });
  const worker = new Worker(queue.name, null, { connection });
  const active = OWNERS * (PENDING_PER_OWNER + 1);
  await seedHistory(queue, size - active, Date.now() - 1000);
  const jobs = Array.from({ length: active }, (_, i) => ({
    name: 'render',
    data: { owner: `user-${i % OWNERS}`, meta: { projectId: `p${i % 7}` } },
    opts: { delay: FAR_FUTURE_MS },
  }));
  const added = (await queue.addBulk(jobs)).map((job) => String(job.id));
  // One processing job per owner: the first OWNERS jobs added, promoted and taken.
  for (const id of added.slice(0, OWNERS)) await (await queue.getJob(id))!.promote();
  for (let i = 0; i < OWNERS; i++) await worker.getNextJob(`bench-${i}`);
  const store = createBullMQJobStore({ queue, owner: (job) => job.data.owner });
  // The first read starts the index build; wait for it, then let it apply the events since.
  await store.getPendingCount({}, OWNER);
  const deadline = Date.now() + 60_000;
  while (!(await admin.exists(queue.toKey('jobwatch:idx:position')))) {
    if (Date.now() > deadline) throw new Error('the owner index was not built within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const counts = await store.getPendingCount({}, OWNER);
  expect(counts).toEqual({ pending: PENDING_PER_OWNER, processing: 1 });
  const ids = [...added.slice(0, 50), ...Array.from({ length: 50 }, (_, i) => `h-${i * 7}`)];
  return { queue, worker, store, ids };
}

for (const size of SIZES) {
  it(`${size} jobs over ${OWNERS} owners`, async () => {
    const started = Date.now();
    const { queue, worker, store, ids } = await seed(size);
    const seededMs = Date.now() - started;
    const mine = (await store.list({ status: 'pending' }, OWNER)).jobs[0]!.id;
    await measure(size, 'BullMQ getJobCounts() (floor)', () => queue.getJobCounts());
    await measure(size, 'counts (one owner)', () => store.getPendingCount({}, OWNER));
    await measure(size, 'counts, meta.projectId (one owner)', () => store.getPendingCount({ meta: { projectId: 'p3' } }, OWNER));
    await measure(size, 'first list page, all states (10)', () => store.list({ limit: 10 }, OWNER));
    await measure(size, 'first list page, all states (20)', () => store.list({}, OWNER));
    await measure(size, 'first list page, completed (20)', () => store.list({ status: 'completed' }, OWNER));
    await measure(size, 'getStatus', () => store.getStatus(mine, OWNER));
    await measure(size, 'getStatuses(100)', () => store.getStatuses(ids, OWNER));
    console.log(`${size} jobs: seeded and indexed in ${seededMs} ms`);
    await store.close();
    await worker.close(true);
    await queue.obliterate({ force: true });
    await queue.close();
  });
}

function printTable(): void {
  const header = ['jobs', 'operation', 'median ms', 'commands/call'];
  const cells = rows.map((row) => [String(row.size), row.operation, row.medianMs.toFixed(2), row.commands.toFixed(1)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i]!)).join(' │ ').trimEnd();
  const lines = [line(header), widths.map((w) => '─'.repeat(w)).join('─┼─'), ...cells.map(line), ''];
  const smallest = SIZES[0]!;
  const largest = SIZES[SIZES.length - 1]!;
  // Pages of 10: at 1k jobs an owner has 10, so every size compares pages of the same length.
  for (const operation of ['counts (one owner)', 'first list page, all states (10)']) {
    const at = (size: number) => rows.find((row) => row.size === size && row.operation === operation);
    const small = at(smallest);
    const big = at(largest);
    if (!small || !big) continue;
    const ratio = big.medianMs / small.medianMs;
    lines.push(
      `target: ${operation} at ${largest} jobs < 2× ${smallest}: ${big.medianMs.toFixed(2)} / ${small.medianMs.toFixed(2)} ms = ${ratio.toFixed(2)}× ` +
        `(commands ${big.commands.toFixed(1)} vs ${small.commands.toFixed(1)}) ${ratio < 2 ? 'PASS' : 'FAIL'}`,
    );
  }
  console.log(`\nBullMQ store, one owner of ${OWNERS} (${PENDING_PER_OWNER} pending + 1 processing each, the rest completed)\n${lines.join('\n')}`);
}
