// @vitest-environment node
import { Queue, Worker, type Job as BullJob } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { createBullMQJobStore, createJobOutputWriter, type BullMQJobStore } from '../../src/bullmq';
import { JobTransportError } from '../../src/contract/errors';
import type { JobOutputListener, JobOutputPart } from '../../src/contract/types';
import { createJobHandler } from '../../src/server';
import { useTestRedis } from '../support/redis';
import { readEvents } from '../support/sse';
import { until } from '../support/until';

/**
 * Output subscriptions of the BullMQ store against a real redis-server: catch-up then live,
 * across two store instances on one Redis, `job.log()` lines live, the end (`done`), and Redis
 * going away (transport errors within `timeoutMs`, subscriptions told and resumed).
 */
const ALICE = { owner: 'alice' };
const FAR_FUTURE_MS = 1_000_000_000;
const TIMEOUT_MS = 800;
/** Room for a busy 2-core machine beyond the store's own deadline. */
const SLACK_MS = 1500;

// A test that pauses Redis and fails midway leaves it paused: useTestRedis resumes it before the clean-ups.
const suite = useTestRedis();

async function fixture() {
  const connection = { path: suite.redis.socket, maxRetriesPerRequest: null };
  const name = suite.uniqueName('output-sub');
  const queue = new Queue(name, { connection });
  const worker = new Worker(name, null, { connection });
  queue.on('error', () => undefined);
  worker.on('error', () => undefined);
  const make = () => createBullMQJobStore({ queue, owner: (job) => job.data.owner ?? null, timeoutMs: TIMEOUT_MS });
  const stores: BullMQJobStore[] = [make(), make()];
  const writer = createJobOutputWriter(worker);
  suite.cleanup(async () => {
    for (const store of stores) await store.close();
    await worker.close(true);
    await queue.obliterate({ force: true });
    await queue.close();
  });
  await queue.waitUntilReady();
  await Promise.all(stores.map((store) => store.ready()));
  const added = await queue.add('job', { owner: 'alice' }, { delay: FAR_FUTURE_MS });
  await added.promote();
  const token = 'token';
  const job = (await worker.getNextJob(token)) as BullJob;
  return { queue, stores, writer, job, token, id: String(job.id) };
}

/** A listener that records what it is given. */
function recorder() {
  const parts: JobOutputPart[] = [];
  const calls: { seqs: number[]; done?: boolean; trimmed?: boolean }[] = [];
  const errors: unknown[] = [];
  const disconnects: unknown[] = [];
  const listener: JobOutputListener = {
    next: (given, info) => {
      parts.push(...given);
      calls.push({ seqs: given.map((part) => part.seq), ...info });
    },
    error: (error) => errors.push(error),
    disconnected: (error) => disconnects.push(error),
  };
  const texts = () => parts.map((part) => `${part.seq}:${part.kind}:${part.text ?? ''}`);
  const done = () => calls.some((call) => call.done === true);
  return { listener, parts, calls, errors, disconnects, texts, done };
}

describe('BullMQ store subscribeOutput', () => {
  it('catches up, then delivers new parts and log lines live to every store instance, and ends with done', async () => {
    const { stores, writer, job, token, id } = await fixture();
    await writer.append(job, [{ kind: 'text', text: 'a' }, { kind: 'text', text: 'b' }]);
    const [onA, onB, fromTwo] = [recorder(), recorder(), recorder()];
    const stops = [
      stores[0]!.subscribeOutput(id, { owner: 'alice' }, onA.listener),
      stores[1]!.subscribeOutput(id, { owner: 'alice' }, onB.listener),
      stores[1]!.subscribeOutput(id, { owner: 'alice', after: 1 }, fromTwo.listener),
    ];
    suite.cleanup(async () => stops.forEach((stop) => stop()));
    await until(() => onA.parts.length + onB.parts.length, (n) => n === 4, 'the catch-up on both instances', 5000);
    await writer.append(job, { kind: 'text', text: 'c' });
    await job.log('a log line');
    await writer.append(job, { kind: 'text', text: 'd' });
    await job.log('the last line');
    const expected = ['1:text:a', '2:text:b', '3:text:c', '4:log:a log line', '5:text:d', '6:log:the last line'];
    for (const one of [onA, onB]) await until(one.texts, (seen) => seen.length === 6, 'the live parts', 5000);
    expect(onA.texts()).toEqual(expected);
    expect(onB.texts()).toEqual(expected);
    await until(fromTwo.texts, (seen) => seen.length === 5, 'the parts after 1', 5000);
    expect(fromTwo.texts()).toEqual(expected.slice(1));

    await job.moveToCompleted('ok', token, false);
    for (const one of [onA, onB, fromTwo]) await until(one.done, Boolean, 'done', 5000);
    for (const one of [onA, onB, fromTwo]) {
      // done once, at the end, and nothing twice.
      expect(one.calls.filter((call) => call.done)).toHaveLength(1);
      expect(one.calls[one.calls.length - 1]!.done).toBe(true);
      expect(new Set(one.parts.map((part) => part.seq)).size).toBe(one.parts.length);
      expect(one.errors).toEqual([]);
    }
  }, 20_000);

  it('of a finished job delivers everything with done at once', async () => {
    const { stores, writer, job, token, id } = await fixture();
    await writer.append(job, { kind: 'text', text: 'only' });
    await job.moveToFailed(new Error('boom'), token, false);
    const seen = recorder();
    stores[0]!.subscribeOutput(id, { owner: 'alice' }, seen.listener);
    await until(seen.done, Boolean, 'done', 5000);
    expect(seen.calls).toEqual([{ seqs: [1], done: true }]);
  });
});

describe('BullMQ store output on the event stream', () => {
  it('carries the parts a worker writes, through another store instance, then done', async () => {
    const { stores, writer, job, token, id } = await fixture();
    await writer.append(job, { kind: 'text', text: 'one' });
    const handler = createJobHandler({ store: stores[1]!, basePath: '/api/jobs', authorize: () => ALICE });
    const controller = new AbortController();
    const response = await handler(new Request(`http://localhost/api/jobs/events?ids=${id}&output=${id}`, { signal: controller.signal }));
    expect(response.status).toBe(200);
    const stream = readEvents(response);
    suite.cleanup(async () => {
      controller.abort();
      await stream.cancel().catch(() => undefined);
    });
    const outputs = () =>
      stream.blocks.filter((block) => block.event === 'output').map((block) => JSON.parse(block.data!) as { parts: JobOutputPart[]; done?: boolean });
    const sent = () => outputs().flatMap((event) => event.parts.map((part) => `${part.seq}:${part.text}`));
    await until(sent, (texts) => texts.length === 1, 'the first part', 5000);
    await writer.append(job, { kind: 'text', text: 'two' });
    await until(sent, (texts) => texts.length === 2, 'the live part', 5000);
    await job.moveToCompleted('ok', token, false);
    await until(() => outputs().some((event) => event.done), Boolean, 'done', 5000);
    expect(sent()).toEqual(['1:one', '2:two']);
  }, 20_000);
});

describe('BullMQ store output while Redis is away', () => {
  it('rejects reads with JobTransportError within timeoutMs (the route answers 503), tells subscriptions, and resumes them', async () => {
    const { stores, writer, job, id } = await fixture();
    const [store] = stores;
    const seen = recorder();
    const stop = store!.subscribeOutput(id, { owner: 'alice' }, seen.listener);
    suite.cleanup(async () => stop());
    await writer.append(job, { kind: 'text', text: 'before' });
    await until(seen.texts, (texts) => texts.length === 1, 'the first part', 5000);

    suite.redis.pause();
    const started = Date.now();
    const error = await store!.readOutput(id, { ...ALICE }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobTransportError);
    expect(Date.now() - started).toBeLessThan(TIMEOUT_MS + SLACK_MS);
    const handler = createJobHandler({ store: store!, basePath: '/api/jobs', authorize: () => ALICE });
    const response = await handler(new Request(`http://localhost/api/jobs/${id}/output`));
    expect(response.status).toBe(503);
    await until(() => seen.disconnects.length, (n) => n > 0, 'the subscription told', 10_000);

    suite.redis.resume();
    await writer.append(job, { kind: 'text', text: 'after' });
    await until(seen.texts, (texts) => texts.length === 2, 'the part after the outage', 10_000);
    expect(seen.texts()).toEqual(['1:text:before', '2:text:after']);
    expect(seen.errors).toEqual([]);
  }, 30_000);
});
