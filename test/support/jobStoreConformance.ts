import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobNotFoundError, JobRequestError } from '../../src/contract/errors';
import { parseJob } from '../../src/contract/parseJob';
import { isValidJobId, MAX_JOB_ID_LENGTH } from '../../src/contract/ids';
import type { Job, JobFilter, JobStore } from '../../src/contract/types';
import { describeOutputConformance, type JobStoreConformanceOutputControls } from './jobStoreOutputConformance';

export type { JobStoreConformanceOutputControls } from './jobStoreOutputConformance';

/**
 * Moves jobs of the store under test. Asynchronous, so a store backed by a
 * real queue (e.g. BullMQ/Redis) can implement it with its own producer/worker.
 */
export interface JobStoreConformanceControls {
  /**
   * Creates a pending job of `owner`; resolves with its id. When `spec.id` is given the job
   * must get exactly that id (any id `isValidJobId` allows: see "every id the contract allows").
   */
  create(spec: { owner: string; meta?: Record<string, string>; id?: string }): Promise<string>;
  start(id: string): Promise<void>;
  progress(id: string, fraction: number, message?: string): Promise<void>;
  complete(id: string, result?: unknown): Promise<void>;
  fail(id: string, message: string): Promise<void>;
}

export interface JobStoreConformanceFixture {
  store: JobStore;
  controls: JobStoreConformanceControls;
  /** Output controls: give them (with `store.readOutput`/`subscribeOutput`) to run the output section. */
  output?: JobStoreConformanceOutputControls;
  teardown(): Promise<void>;
}

const ALICE = { owner: 'alice' };
const BOB = { owner: 'bob' };
/** How long "nothing more arrives" is watched for. */
const QUIET_MS = 100;

/** Every job a store returns must be a valid Job payload. */
function valid(job: Job): Job {
  expect(() => parseJob(job)).not.toThrow();
  return job;
}

function validAll(jobs: Job[]): Job[] {
  for (const job of jobs) valid(job);
  return jobs;
}

/** Resolves with the rejection of `promise` (fails the test when it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

function expectNotFound(error: unknown): void {
  expect(error).toBeInstanceOf(JobNotFoundError);
}

function expectRequestError(error: unknown, status: number, code?: string): void {
  expect(error).toBeInstanceOf(JobRequestError);
  expect((error as JobRequestError).status).toBe(status);
  if (code !== undefined) expect((error as JobRequestError).code).toBe(code);
}

function recorder() {
  const seen: Job[] = [];
  const errors: unknown[] = [];
  return {
    seen,
    errors,
    listener: {
      next: (job: Job) => {
        seen.push(job);
      },
      error: (e: unknown) => {
        errors.push(e);
      },
    },
  };
}

/**
 * Ids the REST contract allows that are easy to get wrong on the way through a URL, a
 * query string, a Redis key or a cursor (semantic 14): dot segments, slashes, percent
 * signs, query and fragment characters, commas, spaces, non-ASCII and the longest id.
 */
export const ROUND_TRIP_IDS: readonly string[] = [
  '.',
  '..',
  '...',
  'a/b',
  '/',
  '%2e',
  '%2F',
  '%',
  '?x#y',
  'a,b',
  'a+b',
  'a b',
  ' leading and trailing ',
  'é',
  '日本語',
  '😀',
  'a😀b',
  'x'.repeat(MAX_JOB_ID_LENGTH),
];

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const ids = (jobs: Job[]) => jobs.map((job) => job.id);
const sorted = (values: string[]) => [...values].sort();

/**
 * The JobStore contract as `createJobHandler` relies on it. Run it against every
 * store implementation: `describeJobStoreConformance('memory', async () => ({ store, controls, teardown }))`.
 * Each test gets a fresh, empty store from `setup`. Real timers throughout.
 */
export function describeJobStoreConformance(name: string, setup: () => Promise<JobStoreConformanceFixture>): void {
  describe(`JobStore conformance: ${name}`, () => {
    let store: JobStore;
    let controls: JobStoreConformanceControls;
    let output: JobStoreConformanceOutputControls | undefined;
    let teardown: (() => Promise<void>) | undefined;

    beforeEach(async () => {
      vi.useRealTimers();
      const fixture = await setup();
      store = fixture.store;
      controls = fixture.controls;
      output = fixture.output;
      teardown = fixture.teardown;
    });

    afterEach(async () => {
      await teardown?.();
      teardown = undefined;
    });

    /** Creates jobs one after another, so creation order is well defined; returns ids oldest first. */
    async function createMany(count: number, spec: { owner: string; meta?: Record<string, string> }): Promise<string[]> {
      const created: string[] = [];
      for (let i = 0; i < count; i++) created.push(await controls.create(spec));
      return created;
    }

    async function listAll(filter: JobFilter, owner = ALICE): Promise<Job[]> {
      const all: Job[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 50; page++) {
        const result = await store.list({ ...filter, ...(cursor === undefined ? {} : { cursor }) }, owner);
        all.push(...validAll(result.jobs));
        if (result.nextCursor === null) return all;
        cursor = result.nextCursor;
      }
      throw new Error('list did not end within 50 pages');
    }

    describe('getStatus', () => {
      it('reads its owner’s job as a valid Job', async () => {
        const id = await controls.create({ owner: 'alice', meta: { projectId: 'p1' } });
        const job = valid(await store.getStatus(id, ALICE));
        expect(job).toMatchObject({ id, status: 'pending', meta: { projectId: 'p1' } });
      });

      it('follows the job through its states', async () => {
        const id = await controls.create(ALICE);
        await controls.start(id);
        expect(valid(await store.getStatus(id, ALICE)).status).toBe('processing');
        await controls.progress(id, 0.5, 'Halfway');
        expect(valid(await store.getStatus(id, ALICE))).toMatchObject({ progress: 0.5, progressMessage: 'Halfway' });
        await controls.complete(id, { url: 'x' });
        expect(valid(await store.getStatus(id, ALICE))).toMatchObject({ status: 'completed', result: { url: 'x' } });
      });

      it('rejects an unknown id with JobNotFoundError', async () => {
        expectNotFound(await rejectionOf(store.getStatus('no-such-job', ALICE)));
      });

      it('rejects another owner’s job with JobNotFoundError', async () => {
        const id = await controls.create(ALICE);
        expectNotFound(await rejectionOf(store.getStatus(id, BOB)));
      });
    });

    describe('getStatuses (optional)', () => {
      it('answers known ids in jobs and unknown ids in missing', async (ctx) => {
        if (!store.getStatuses) return ctx.skip();
        const [a, b] = await createMany(2, ALICE);
        const batch = await store.getStatuses([a!, 'no-such-job', b!], ALICE);
        expect(sorted(ids(validAll(batch.jobs)))).toEqual(sorted([a!, b!]));
        expect(batch.missing).toEqual(['no-such-job']);
      });

      it('puts another owner’s ids in missing', async (ctx) => {
        if (!store.getStatuses) return ctx.skip();
        const mine = await controls.create(ALICE);
        const theirs = await controls.create(BOB);
        const batch = await store.getStatuses([mine, theirs], ALICE);
        expect(ids(validAll(batch.jobs))).toEqual([mine]);
        expect(batch.missing).toEqual([theirs]);
      });
    });

    describe('list', () => {
      it('lists newest first', async () => {
        const created = await createMany(3, ALICE);
        const page = await store.list({}, ALICE);
        expect(ids(validAll(page.jobs))).toEqual([...created].reverse());
        expect(page.nextCursor).toBeNull();
      });

      it('filters by one status', async () => {
        const [a, b, c] = await createMany(3, ALICE);
        await controls.start(b!);
        await controls.start(c!);
        await controls.complete(c!);
        expect(ids(validAll((await store.list({ status: 'processing' }, ALICE)).jobs))).toEqual([b]);
        expect(ids(validAll((await store.list({ status: 'pending' }, ALICE)).jobs))).toEqual([a]);
        expect(ids(validAll((await store.list({ status: 'cancelled' }, ALICE)).jobs))).toEqual([]);
      });

      it('filters by several statuses', async () => {
        const [a, b, c, d] = await createMany(4, ALICE);
        await controls.start(b!);
        await controls.complete(c!);
        await controls.fail(d!, 'Boom');
        const page = await store.list({ status: ['pending', 'failed'] }, ALICE);
        expect(ids(validAll(page.jobs))).toEqual([d, a]);
        expect(ids(validAll((await store.list({ status: ['processing', 'completed'] }, ALICE)).jobs))).toEqual([c, b]);
      });

      it('filters by meta', async () => {
        const p1 = await controls.create({ owner: 'alice', meta: { projectId: 'p1' } });
        await controls.create({ owner: 'alice', meta: { projectId: 'p2' } });
        await controls.create(ALICE);
        const both = await controls.create({ owner: 'alice', meta: { projectId: 'p1', kind: 'export' } });
        expect(ids(validAll((await store.list({ meta: { projectId: 'p1' } }, ALICE)).jobs))).toEqual([both, p1]);
        expect(ids(validAll((await store.list({ meta: { projectId: 'p1', kind: 'export' } }, ALICE)).jobs))).toEqual([both]);
        expect((await store.list({ meta: { projectId: 'p3' } }, ALICE)).jobs).toEqual([]);
      });

      it('returns at most limit jobs, with a cursor when more remain', async () => {
        const created = await createMany(3, ALICE);
        const page = await store.list({ limit: 2 }, ALICE);
        expect(ids(validAll(page.jobs))).toEqual([created[2], created[1]]);
        expect(page.nextCursor).toEqual(expect.any(String));
      });

      it('pages through every job with cursors, without duplicates or gaps', async () => {
        const created = await createMany(7, ALICE);
        const pages: string[][] = [];
        let cursor: string | undefined;
        for (let i = 0; i < 10; i++) {
          const page = await store.list({ limit: 3, ...(cursor === undefined ? {} : { cursor }) }, ALICE);
          pages.push(ids(validAll(page.jobs)));
          if (page.nextCursor === null) break;
          cursor = page.nextCursor;
        }
        expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
        expect(pages.flat()).toEqual([...created].reverse());
      });

      it('keeps paging stable when jobs are created between pages', async () => {
        const created = await createMany(4, ALICE);
        const first = await store.list({ limit: 2 }, ALICE);
        await createMany(2, ALICE);
        const rest = await listAll({ limit: 2, cursor: first.nextCursor! });
        expect([...ids(first.jobs), ...ids(rest)]).toEqual([...created].reverse());
      });

      it('pages through a filtered list', async () => {
        const created: string[] = [];
        for (let i = 0; i < 5; i++) {
          created.push(await controls.create({ owner: 'alice', meta: { projectId: 'p1' } }));
          await controls.create({ owner: 'alice', meta: { projectId: 'p2' } });
        }
        const all = await listAll({ limit: 2, meta: { projectId: 'p1' } });
        expect(ids(all)).toEqual([...created].reverse());
      });

      it('leaves out another owner’s jobs', async () => {
        const mine = await controls.create(ALICE);
        await controls.create(BOB);
        const alsoMine = await controls.create(ALICE);
        expect(ids(await listAll({}))).toEqual([alsoMine, mine]);
        expect(ids(await listAll({ limit: 1 }))).toEqual([alsoMine, mine]);
      });

      it('rejects a malformed cursor with JobRequestError 400', async () => {
        await createMany(2, ALICE);
        expectRequestError(await rejectionOf(store.list({ cursor: 'not a cursor!' }, ALICE)), 400);
      });
    });

    describe('getPendingCount', () => {
      it('counts only its owner’s pending and processing jobs', async () => {
        const [, b, c, d] = await createMany(5, ALICE);
        await controls.start(b!);
        await controls.complete(c!);
        await controls.fail(d!, 'Boom');
        await createMany(2, BOB);
        expect(await store.getPendingCount({}, ALICE)).toEqual({ pending: 2, processing: 1 });
        expect(await store.getPendingCount({}, BOB)).toEqual({ pending: 2, processing: 0 });
        expect(await store.getPendingCount({}, { owner: 'carol' })).toEqual({ pending: 0, processing: 0 });
      });

      it('is scoped by meta', async () => {
        const p1 = await controls.create({ owner: 'alice', meta: { projectId: 'p1' } });
        await controls.create({ owner: 'alice', meta: { projectId: 'p1' } });
        await controls.create({ owner: 'alice', meta: { projectId: 'p2' } });
        await controls.create({ owner: 'bob', meta: { projectId: 'p1' } });
        await controls.start(p1);
        expect(await store.getPendingCount({ meta: { projectId: 'p1' } }, ALICE)).toEqual({ pending: 1, processing: 1 });
        expect(await store.getPendingCount({ meta: { projectId: 'p2' } }, ALICE)).toEqual({ pending: 1, processing: 0 });
        expect(await store.getPendingCount({ meta: { projectId: 'p9' } }, ALICE)).toEqual({ pending: 0, processing: 0 });
      });
    });

    describe('cancel (optional)', () => {
      it('cancels a pending job', async (ctx) => {
        if (!store.cancel) return ctx.skip();
        const id = await controls.create(ALICE);
        expect(valid(await store.cancel(id, ALICE))).toMatchObject({ id, status: 'cancelled' });
        expect(valid(await store.getStatus(id, ALICE)).status).toBe('cancelled');
      });

      it('cancels a processing job', async (ctx) => {
        if (!store.cancel) return ctx.skip();
        const id = await controls.create(ALICE);
        await controls.start(id);
        expect(valid(await store.cancel(id, ALICE))).toMatchObject({ id, status: 'cancelled' });
        expect(await store.getPendingCount({}, ALICE)).toEqual({ pending: 0, processing: 0 });
      });

      it('rejects a finished job with JobRequestError 409 not_cancellable', async (ctx) => {
        if (!store.cancel) return ctx.skip();
        const [done, failed, cancelled] = await createMany(3, ALICE);
        await controls.complete(done!);
        await controls.fail(failed!, 'Boom');
        await store.cancel(cancelled!, ALICE);
        for (const id of [done!, failed!, cancelled!]) {
          expectRequestError(await rejectionOf(store.cancel(id, ALICE)), 409, 'not_cancellable');
        }
        expect(valid(await store.getStatus(done!, ALICE)).status).toBe('completed');
      });

      it('rejects an unknown or another owner’s job with JobNotFoundError, leaving it alone', async (ctx) => {
        if (!store.cancel) return ctx.skip();
        const id = await controls.create(ALICE);
        expectNotFound(await rejectionOf(store.cancel(id, BOB)));
        expectNotFound(await rejectionOf(store.cancel('no-such-job', ALICE)));
        expect(valid(await store.getStatus(id, ALICE)).status).toBe('pending');
      });
    });

    describe('retry (optional)', () => {
      it('moves a failed job back to pending with retryCount + 1', async (ctx) => {
        if (!store.retry) return ctx.skip();
        const id = await controls.create(ALICE);
        await controls.start(id);
        await controls.fail(id, 'Boom');
        const before = valid(await store.getStatus(id, ALICE));
        const retried = valid(await store.retry(id, ALICE));
        expect(retried).toMatchObject({ id, status: 'pending', retryCount: (before.retryCount ?? 0) + 1 });
        expect(valid(await store.getStatus(id, ALICE))).toMatchObject({ status: 'pending', retryCount: retried.retryCount });
        expect(await store.getPendingCount({}, ALICE)).toEqual({ pending: 1, processing: 0 });
      });

      it('rejects a job that has not failed with JobRequestError 409 not_retryable', async (ctx) => {
        if (!store.retry) return ctx.skip();
        const [pending, processing, done] = await createMany(3, ALICE);
        await controls.start(processing!);
        await controls.complete(done!);
        for (const id of [pending!, processing!, done!]) {
          expectRequestError(await rejectionOf(store.retry(id, ALICE)), 409, 'not_retryable');
        }
      });

      it('rejects an unknown or another owner’s job with JobNotFoundError', async (ctx) => {
        if (!store.retry) return ctx.skip();
        const id = await controls.create(ALICE);
        await controls.fail(id, 'Boom');
        expectNotFound(await rejectionOf(store.retry(id, BOB)));
        expectNotFound(await rejectionOf(store.retry('no-such-job', ALICE)));
        expect(valid(await store.getStatus(id, ALICE)).status).toBe('failed');
      });
    });

    describe('every id the contract allows round-trips (semantic 14)', () => {
      it('lists only ids the contract allows', () => {
        for (const id of ROUND_TRIP_IDS) expect(isValidJobId(id), JSON.stringify(id)).toBe(true);
      });

      it.each(ROUND_TRIP_IDS.map((id) => [id.length > 40 ? `${id.slice(0, 12)}… (${id.length} characters)` : JSON.stringify(id), id]))(
        '%s: create, getStatus, getStatuses, list, retry and cancel',
        async (_name, id) => {
          const created = await controls.create({ owner: 'alice', meta: { projectId: 'ids' }, id });
          // A store (or fixture) that ignores spec.id fails here, loudly: ids must not be rewritten.
          expect(created, 'controls.create must give the job exactly spec.id').toBe(id);
          await controls.create({ owner: 'bob', meta: { projectId: 'ids' } });

          expect(valid(await store.getStatus(id, ALICE))).toMatchObject({ id, status: 'pending' });
          expectNotFound(await rejectionOf(store.getStatus(id, BOB)));

          if (store.getStatuses) {
            const batch = await store.getStatuses([id, 'no-such-job'], ALICE);
            expect(ids(validAll(batch.jobs))).toEqual([id]);
            expect(batch.missing).toEqual(['no-such-job']);
          }

          expect(ids(await listAll({ meta: { projectId: 'ids' } }))).toEqual([id]);
          expect(ids(await listAll({ status: 'pending', limit: 1 }))).toEqual([id]);

          await controls.start(id);
          await controls.fail(id, 'Boom');
          expect(valid(await store.getStatus(id, ALICE))).toMatchObject({ id, status: 'failed' });
          if (store.retry) {
            expect(valid(await store.retry(id, ALICE))).toMatchObject({ id, status: 'pending' });
            expect(valid(await store.getStatus(id, ALICE))).toMatchObject({ id, status: 'pending' });
          }
          if (store.cancel) {
            // After a retry the job is pending again; without retry it is failed and not cancellable.
            if (store.retry) {
              expect(valid(await store.cancel(id, ALICE))).toMatchObject({ id, status: 'cancelled' });
              expect(valid(await store.getStatus(id, ALICE))).toMatchObject({ id, status: 'cancelled' });
            } else {
              expectRequestError(await rejectionOf(store.cancel(id, ALICE)), 409, 'not_cancellable');
            }
          }
          expect(await store.getPendingCount({ meta: { projectId: 'ids' } }, ALICE)).toEqual({ pending: 0, processing: 0 });
        },
      );

      it('keeps jobs whose ids differ only in dots, slashes or encoding apart', async () => {
        const family = ['.', '..', '...', '%2e', '%2E', 'a/b', 'a%2Fb'];
        for (const id of family) expect(await controls.create({ owner: 'alice', id })).toBe(id);
        await controls.start('..');
        for (const id of family) {
          expect(valid(await store.getStatus(id, ALICE))).toMatchObject({ id, status: id === '..' ? 'processing' : 'pending' });
        }
        expect(sorted(ids(await listAll({})))).toEqual(sorted(family));
      });
    });

    describe('subscribe (optional)', () => {
      it('delivers the current state first, never synchronously', async (ctx) => {
        if (!store.subscribe) return ctx.skip();
        const id = await controls.create(ALICE);
        await controls.start(id);
        await controls.progress(id, 0.25, 'Rendering');
        const { seen, errors, listener } = recorder();
        const unsubscribe = store.subscribe(id, listener, ALICE);
        expect(seen).toEqual([]);
        await vi.waitFor(() => expect(seen.length).toBeGreaterThan(0));
        expect(valid(seen[0]!)).toMatchObject({ id, status: 'processing', progress: 0.25, progressMessage: 'Rendering' });
        expect(errors).toEqual([]);
        unsubscribe();
      });

      it('delivers changes in order, the terminal state once, then nothing', async (ctx) => {
        if (!store.subscribe) return ctx.skip();
        const id = await controls.create(ALICE);
        const { seen, errors, listener } = recorder();
        const unsubscribe = store.subscribe(id, listener, ALICE);
        await vi.waitFor(() => expect(seen).toHaveLength(1));
        await controls.start(id);
        await vi.waitFor(() => expect(seen).toHaveLength(2));
        await controls.progress(id, 0.5, 'Halfway');
        await vi.waitFor(() => expect(seen).toHaveLength(3));
        await controls.complete(id, 'done');
        await vi.waitFor(() => expect(seen).toHaveLength(4));
        await sleep(QUIET_MS);
        validAll(seen);
        expect(seen.map((job) => job.status)).toEqual(['pending', 'processing', 'processing', 'completed']);
        expect(seen[2]).toMatchObject({ progress: 0.5, progressMessage: 'Halfway' });
        expect(seen[3]).toMatchObject({ result: 'done' });
        const versions = seen.map((job) => job.version);
        if (versions.every((v) => v !== undefined)) {
          // Never down; up with every change of status (progress may share a version, see isNewerJob).
          expect([...versions].sort((a, b) => a! - b!)).toEqual(versions);
          for (let i = 1; i < seen.length; i++) {
            if (seen[i]!.status !== seen[i - 1]!.status) expect(versions[i]!).toBeGreaterThan(versions[i - 1]!);
          }
        }
        expect(errors).toEqual([]);
        unsubscribe();
      });

      it('delivers an already terminal job once and then nothing', async (ctx) => {
        if (!store.subscribe) return ctx.skip();
        const id = await controls.create(ALICE);
        await controls.fail(id, 'Boom');
        const { seen, errors, listener } = recorder();
        const unsubscribe = store.subscribe(id, listener, ALICE);
        await vi.waitFor(() => expect(seen).toHaveLength(1));
        expect(valid(seen[0]!)).toMatchObject({ status: 'failed', error: { message: 'Boom' } });
        if (store.retry) await store.retry(id, ALICE); // a change after the terminal delivery
        await sleep(QUIET_MS);
        expect(seen).toHaveLength(1);
        expect(errors).toEqual([]);
        unsubscribe();
      });

      it('reports an unknown job as JobNotFoundError, asynchronously', async (ctx) => {
        if (!store.subscribe) return ctx.skip();
        const { seen, errors, listener } = recorder();
        const unsubscribe = store.subscribe('no-such-job', listener, ALICE);
        expect(errors).toEqual([]);
        await vi.waitFor(() => expect(errors).toHaveLength(1));
        expectNotFound(errors[0]);
        await sleep(QUIET_MS);
        expect(seen).toEqual([]);
        expect(errors).toHaveLength(1);
        unsubscribe();
      });

      it('reports another owner’s job as JobNotFoundError and delivers none of its changes', async (ctx) => {
        if (!store.subscribe) return ctx.skip();
        const id = await controls.create(ALICE);
        const { seen, errors, listener } = recorder();
        const unsubscribe = store.subscribe(id, listener, BOB);
        expect(errors).toEqual([]);
        await vi.waitFor(() => expect(errors).toHaveLength(1));
        expectNotFound(errors[0]);
        await controls.start(id);
        await controls.complete(id);
        await sleep(QUIET_MS);
        expect(seen).toEqual([]);
        expect(errors).toHaveLength(1);
        unsubscribe();
      });

      it('stops delivering after unsubscribe', async (ctx) => {
        if (!store.subscribe) return ctx.skip();
        const id = await controls.create(ALICE);
        const { seen, errors, listener } = recorder();
        const unsubscribe = store.subscribe(id, listener, ALICE);
        await vi.waitFor(() => expect(seen).toHaveLength(1));
        unsubscribe();
        await controls.start(id);
        await controls.complete(id);
        await sleep(QUIET_MS);
        expect(seen).toHaveLength(1);
        expect(errors).toEqual([]);
        unsubscribe(); // idempotent
      });

      it('delivers nothing when unsubscribed before the first delivery', async (ctx) => {
        if (!store.subscribe) return ctx.skip();
        const id = await controls.create(ALICE);
        const { seen, errors, listener } = recorder();
        store.subscribe(id, listener, ALICE)();
        await controls.start(id);
        await sleep(QUIET_MS);
        expect(seen).toEqual([]);
        expect(errors).toEqual([]);
      });

      it('keeps separate subscribers to one job independent', async (ctx) => {
        if (!store.subscribe) return ctx.skip();
        const id = await controls.create(ALICE);
        const first = recorder();
        const second = recorder();
        const stopFirst = store.subscribe(id, first.listener, ALICE);
        const stopSecond = store.subscribe(id, second.listener, ALICE);
        await vi.waitFor(() => {
          expect(first.seen).toHaveLength(1);
          expect(second.seen).toHaveLength(1);
        });
        stopFirst();
        await controls.start(id);
        await vi.waitFor(() => expect(second.seen).toHaveLength(2));
        await sleep(QUIET_MS);
        expect(first.seen).toHaveLength(1);
        expect(second.seen.map((job) => job.status)).toEqual(['pending', 'processing']);
        stopSecond();
      });
    });

    describeOutputConformance(() => ({ store, controls, output }));
  });
}
