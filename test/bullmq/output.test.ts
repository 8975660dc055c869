// @vitest-environment node
import { Queue, Worker, type Job as BullJob } from 'bullmq';
import IORedis from 'ioredis';
import { describe, expect, it } from 'vitest';
import { createBullMQJobStore, createJobOutputWriter, type BullMQJobStore, type BullMQJobStoreOptions } from '../../src/bullmq';
import { JobNotFoundError, JobRequestError } from '../../src/contract/errors';
import { MAX_OUTPUT_PART_LENGTH, parseOutputPage } from '../../src/contract/output';
import type { JobOutputPart } from '../../src/contract/types';
import { useTestRedis } from '../support/redis';
import { until } from '../support/until';

/**
 * Streamed output of the BullMQ store against a real redis-server: parts appended by a worker
 * (createJobOutputWriter) and `job.log()` lines, read and subscribed through the store.
 */
const ALICE = { owner: 'alice' };
const FAR_FUTURE_MS = 1_000_000_000;

const suite = useTestRedis();

async function fixture(storeOptions: Partial<BullMQJobStoreOptions> = {}) {
  const connection = { path: suite.redis.socket, maxRetriesPerRequest: null };
  const name = suite.uniqueName('output');
  const queue = new Queue(name, { connection });
  const worker = new Worker(name, null, { connection });
  const raw = new IORedis({ path: suite.redis.socket });
  const stores: BullMQJobStore[] = [];
  const newStore = (extra: Partial<BullMQJobStoreOptions> = {}) => {
    const store = createBullMQJobStore({ queue, owner: (job) => job.data.owner ?? null, timeoutMs: 1000, ...storeOptions, ...extra });
    stores.push(store);
    return store;
  };
  const store = newStore();
  const writer = createJobOutputWriter(worker, { maxOutputParts: storeOptions.maxOutputParts });
  suite.cleanup(async () => {
    for (const one of stores) await one.close();
    await worker.close(true);
    await queue.obliterate({ force: true });
    await queue.close();
    raw.disconnect();
  });
  await queue.waitUntilReady();

  /** Adds a job of alice and takes it (active), as a worker would. */
  async function running(): Promise<{ job: BullJob; token: string; id: string }> {
    const added = await queue.add('job', { owner: 'alice' }, { delay: FAR_FUTURE_MS });
    await added.promote();
    const token = `token-${added.id}`;
    const job = (await worker.getNextJob(token)) as BullJob;
    expect(String(job.id)).toBe(String(added.id));
    return { job, token, id: String(job.id) };
  }
  return { queue, worker, raw, store, newStore, writer, running };
}

const texts = (parts: JobOutputPart[]) => parts.map((part) => `${part.seq}:${part.kind}:${part.text ?? JSON.stringify(part.data)}`);

describe('BullMQ store output: append and read', () => {
  it('numbers parts 1, 2, 3…, pages them, and says done once the job finished and its last part was read', async () => {
    const { store, writer, running } = await fixture();
    const { job, token, id } = await running();
    expect(await writer.append(job, { kind: 'text', text: 'Hel' })).toBe(1);
    expect(await writer.append(id, [{ kind: 'text', text: 'lo' }, { kind: 'data', data: { tokens: 2 } }])).toBe(3);
    const page = await store.readOutput(id, { ...ALICE });
    // What the route serves is a valid page of the wire protocol.
    expect(parseOutputPage(JSON.parse(JSON.stringify(page)))).toEqual(page);
    expect(texts(page.parts)).toEqual(['1:text:Hel', '2:text:lo', '3:data:{"tokens":2}']);
    expect(page.done).toBe(false);
    expect(page.trimmed).toBeUndefined();
    expect(texts((await store.readOutput(id, { ...ALICE, limit: 2 })).parts)).toEqual(['1:text:Hel', '2:text:lo']);
    expect(texts((await store.readOutput(id, { ...ALICE, after: 2 })).parts)).toEqual(['3:data:{"tokens":2}']);

    await job.moveToCompleted('ok', token, false);
    expect(await store.readOutput(id, { ...ALICE })).toMatchObject({ done: true });
    expect((await store.readOutput(id, { ...ALICE, after: 3 })).done).toBe(true);
    // A page without the last part is not the end.
    expect((await store.readOutput(id, { ...ALICE, limit: 1 })).done).toBe(false);
  });

  it('refuses bad parts and positions with 400, unknown jobs and other owners with JobNotFoundError', async () => {
    const { store, writer, running } = await fixture();
    const { job, id } = await running();
    await expect(writer.append(job, { kind: 'image', url: 'javascript:alert(1)' })).rejects.toMatchObject({ status: 400 });
    await expect(writer.append(job, { kind: 'text' } as never)).rejects.toBeInstanceOf(JobRequestError);
    await expect(writer.append('no-such-job', { kind: 'text', text: 'x' })).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(store.readOutput(id, { ...ALICE, after: -1 })).rejects.toMatchObject({ status: 400 });
    await expect(store.readOutput(id, { ...ALICE, limit: 501 })).rejects.toMatchObject({ status: 400 });
    await writer.append(job, { kind: 'text', text: 'secret' });
    await expect(store.readOutput(id, { owner: 'bob' })).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(store.readOutput('no-such-job', { ...ALICE })).rejects.toBeInstanceOf(JobNotFoundError);
    const errors: unknown[] = [];
    const stop = store.subscribeOutput(id, { owner: 'bob' }, { next: () => errors.push('delivered'), error: (e) => errors.push(e) });
    await until(() => errors.length, (n) => n > 0, 'the subscription error', 5000);
    stop();
    expect(errors[0]).toBeInstanceOf(JobNotFoundError);
  });

  it('keeps at most maxOutputParts per job and says trimmed when asked for parts it no longer has', async () => {
    const { store, writer, running } = await fixture({ maxOutputParts: 3 });
    const { job, id } = await running();
    await writer.append(job, [1, 2, 3, 4, 5].map((n) => ({ kind: 'text' as const, text: `t${n}` })));
    const page = await store.readOutput(id, { ...ALICE });
    expect(texts(page.parts)).toEqual(['3:text:t3', '4:text:t4', '5:text:t5']);
    expect(page.trimmed).toBe(true);
    expect((await store.readOutput(id, { ...ALICE, after: 2 })).trimmed).toBeUndefined();
    // seq goes on from the parts ever added, not from the parts kept.
    expect(await writer.append(job, { kind: 'text', text: 't6' })).toBe(6);
  });
});

describe('BullMQ store output: several writers', () => {
  it('assigns seqs without gaps or repeats when writers in several connections append at once', async () => {
    const { store, writer, running, queue } = await fixture();
    const other = createJobOutputWriter(queue);
    const { job, id } = await running();
    await Promise.all(
      Array.from({ length: 40 }, (_, n) => (n % 2 === 0 ? writer : other).append(n % 3 === 0 ? id : job, { kind: 'data', data: n })),
    );
    const { parts } = await store.readOutput(id, { ...ALICE });
    expect(parts.map((part) => part.seq)).toEqual(Array.from({ length: 40 }, (_, n) => n + 1));
    expect(new Set(parts.map((part) => part.data)).size).toBe(40);
  });

  it('refuses a part that would not fit once it has its seq and time, and cuts an over-long log line to fit', async () => {
    const { store, writer, running } = await fixture();
    const { job, id } = await running();
    const almost = 'x'.repeat(MAX_OUTPUT_PART_LENGTH - 30);
    await expect(writer.append(job, { kind: 'text', text: almost })).rejects.toMatchObject({ status: 400 });
    await job.log('y'.repeat(MAX_OUTPUT_PART_LENGTH + 10));
    const { parts } = await store.readOutput(id, { ...ALICE });
    expect(parts).toHaveLength(1);
    expect(JSON.stringify(parts[0]).length).toBeLessThanOrEqual(MAX_OUTPUT_PART_LENGTH);
    expect(parts[0]!.text!.endsWith('[…]')).toBe(true);
    expect(parseOutputPage(JSON.parse(JSON.stringify({ parts, done: false }))).parts).toHaveLength(1);
  });
});

describe('BullMQ store output: job.log() lines', () => {
  it('are log parts, in order with the appended parts', async () => {
    const { store, writer, running } = await fixture();
    const { job, id } = await running();
    await job.log('starting');
    await writer.append(job, { kind: 'text', text: 'A' });
    await job.log('half way');
    await job.log('almost');
    await writer.append(job, { kind: 'text', text: 'B' });
    await job.log('end');
    expect(texts((await store.readOutput(id, { ...ALICE })).parts)).toEqual([
      '1:log:starting',
      '2:text:A',
      '3:log:half way',
      '4:log:almost',
      '5:text:B',
      '6:log:end',
    ]);
  });

  it('are copied exactly once when two store instances read at the same time', async () => {
    const { store, newStore, running } = await fixture();
    const other = newStore();
    const { job, id } = await running();
    for (let round = 0; round < 5; round++) {
      for (let n = 0; n < 10; n++) await job.log(`line ${round * 10 + n}`);
      await Promise.all([store.readOutput(id, { ...ALICE }), other.readOutput(id, { ...ALICE }), store.readOutput(id, { ...ALICE })]);
    }
    const { parts } = await other.readOutput(id, { ...ALICE });
    expect(parts.map((part) => part.text)).toEqual(Array.from({ length: 50 }, (_, n) => `line ${n}`));
    expect(parts.map((part) => part.seq)).toEqual(Array.from({ length: 50 }, (_, n) => n + 1));
  });
});

describe('BullMQ store output: lifetime of the stream', () => {
  it('expires keepFinishedMs after the job finished (also once BullMQ removed it), and is deleted with a job removed unfinished', async () => {
    const { store, writer, running, raw, queue } = await fixture({ keepFinishedMs: 60_000 });
    await store.ready();
    const keyOf = (id: string) => `${queue.toKey(id)}:jw:out`;
    const finished = await running();
    await writer.append(finished.job, { kind: 'text', text: 'done soon' });
    expect(await raw.pttl(keyOf(finished.id))).toBe(-1);
    await finished.job.moveToCompleted('ok', finished.token, false);
    const ttl = await until(() => raw.pttl(keyOf(finished.id)), (ms) => ms > 0, 'the expiry of the output', 5000);
    expect(ttl).toBeLessThanOrEqual(60_000);
    // Removed after it finished: it still reads (its terminal record), and so does its output, until both expire.
    await queue.remove(finished.id);
    await until(() => store.getStatus(finished.id, ALICE).catch(() => null), (job) => job === null || job.status === 'completed', 'the record', 5000);
    expect(texts((await store.readOutput(finished.id, { ...ALICE })).parts)).toEqual(['1:text:done soon']);
    expect(await raw.pttl(keyOf(finished.id))).toBeGreaterThan(0);

    const pending = String((await queue.add('job', { owner: 'alice' }, { delay: FAR_FUTURE_MS })).id);
    await writer.append(pending, { kind: 'text', text: 'removed soon' });
    expect(await raw.exists(keyOf(pending))).toBe(1);
    await queue.remove(pending);
    await until(() => raw.exists(keyOf(pending)), (n) => n === 0, 'the removal of the output', 5000);
    await expect(store.readOutput(pending, { ...ALICE })).rejects.toBeInstanceOf(JobNotFoundError);
  }, 15_000);

  it('of a cancelled job stays readable, with done, until it expires', async () => {
    const { store, writer, raw, queue } = await fixture({ keepFinishedMs: 60_000 });
    await store.ready();
    const id = String((await queue.add('job', { owner: 'alice' }, { delay: FAR_FUTURE_MS })).id);
    await writer.append(id, { kind: 'text', text: 'partial' });
    await store.cancel(id, ALICE);
    await until(() => raw.pttl(`${queue.toKey(id)}:jw:out`), (ms) => ms > 0, 'the expiry of the output', 5000);
    expect(await store.readOutput(id, { ...ALICE })).toEqual({ parts: [expect.objectContaining({ seq: 1, text: 'partial' })], done: true });
  });

  it('of an earlier job under the same id is never read as the new job\'s', async () => {
    const { store, writer, queue, raw } = await fixture({ keepFinishedMs: 0 });
    const first = await queue.add('job', { owner: 'alice' }, { jobId: 'reused', delay: FAR_FUTURE_MS });
    await writer.append('reused', [{ kind: 'text', text: 'old 1' }, { kind: 'text', text: 'old 2' }]);
    // Removed by BullMQ with no store watching: the stream stays behind.
    await first.remove();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await queue.add('job', { owner: 'alice' }, { jobId: 'reused', delay: FAR_FUTURE_MS });
    expect(await raw.exists(`${queue.toKey('reused')}:jw:out`)).toBe(1);
    expect((await store.readOutput('reused', { ...ALICE })).parts).toEqual([]);
    expect(await writer.append('reused', { kind: 'text', text: 'new' })).toBe(1);
    expect(texts((await store.readOutput('reused', { ...ALICE })).parts)).toEqual(['1:text:new']);
  });

  it('of a job removed while no store was watching goes with the first read that finds the job gone', async () => {
    const { store, writer, raw, queue } = await fixture({ keepFinishedMs: 0 });
    const id = String((await queue.add('job', { owner: 'alice' }, { delay: FAR_FUTURE_MS })).id);
    await writer.append(id, { kind: 'text', text: 'orphan' });
    await queue.remove(id);
    expect(await raw.exists(`${queue.toKey(id)}:jw:out`)).toBe(1);
    await expect(store.readOutput(id, { ...ALICE })).rejects.toBeInstanceOf(JobNotFoundError);
    expect(await raw.exists(`${queue.toKey(id)}:jw:out`)).toBe(0);
  });
});
