import { JobNotFoundError, JobProtocolError, JobRequestError } from '../../src/contract/errors';
import { parseJob } from '../../src/contract/parseJob';
import type { Job } from '../../src/contract/types';
import { createMemoryJobBackend } from '../../src/testing';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
/** ISO time `ms` after T0. */
const at = (ms: number): string => new Date(T0 + ms).toISOString();

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
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

function recorder() {
  const seen: Job[] = [];
  const errors: unknown[] = [];
  return { seen, errors, listener: { next: (job: Job) => seen.push(job), error: (e: unknown) => errors.push(e) } };
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('scripted lifecycle', () => {
  it('goes pending → processing → completed at the scripted times, through its progress steps', () => {
    const backend = createMemoryJobBackend();
    const created = backend.create({ queuedMs: 1000, runningMs: 4000, steps: ['A', 'B', 'C', 'D'], result: { n: 1 } });
    expect(created).toMatchObject({ id: 'job_1', status: 'pending', version: 1, createdAt: at(0), updatedAt: at(0), retryCount: 0, maxRetries: 3 });

    backend.advance(999);
    expect(backend.get(created.id)?.status).toBe('pending');

    backend.advance(1);
    expect(backend.get(created.id)).toMatchObject({
      status: 'processing',
      startedAt: at(1000),
      updatedAt: at(1000),
      progress: 0,
      progressMessage: 'A',
      version: 2,
    });

    const timeline: Array<[number | null | undefined, string | null | undefined, string]> = [];
    for (let i = 0; i < 4; i++) {
      backend.advance(1000);
      const job = backend.get(created.id)!;
      timeline.push([job.progress, job.progressMessage, job.updatedAt]);
    }
    expect(timeline).toEqual([
      [0.25, 'B', at(2000)],
      [0.5, 'C', at(3000)],
      [0.75, 'D', at(4000)],
      [1, null, at(5000)],
    ]);
    expect(backend.get(created.id)).toMatchObject({
      status: 'completed',
      finishedAt: at(5000),
      result: { n: 1 },
      error: null,
      estimatedCompletionAt: null,
      version: 6,
    });
  });

  it('stamps each change with its own due time, not the time of the read', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ queuedMs: 1000, runningMs: 4000, steps: 2 });
    backend.advance(60_000);
    expect(backend.get(id)).toMatchObject({ status: 'completed', startedAt: at(1000), updatedAt: at(5000), finishedAt: at(5000), version: 4 });
  });

  it('applies due changes in time order across jobs', async () => {
    const backend = createMemoryJobBackend();
    const slow = backend.create({ queuedMs: 300, runningMs: 1000 });
    const fast = backend.create({ queuedMs: 100, runningMs: 100 });
    const order: string[] = [];
    for (const { id } of [slow, fast]) {
      backend.subscribe(id, { next: (job) => order.push(`${job.id} ${job.status} ${job.updatedAt}`) });
    }
    await flushMicrotasks();
    order.length = 0;

    backend.advance(5000);
    expect(order).toEqual([
      `${fast.id} processing ${at(100)}`,
      `${fast.id} completed ${at(200)}`,
      `${slow.id} processing ${at(300)}`,
      `${slow.id} completed ${at(1300)}`,
    ]);
  });

  it('gives a number of steps even fractions, and object steps their own progress and message', () => {
    const backend = createMemoryJobBackend();
    const counted = backend.create({ runningMs: 300, steps: 3 });
    const described = backend.create({ runningMs: 200, steps: [{ progress: 0.1, message: 'Warming up' }, { message: 'Rendering' }] });

    const sample = (id: string) => {
      const job = backend.get(id)!;
      return [job.progress, job.progressMessage];
    };
    expect(sample(counted.id)).toEqual([0, null]);
    expect(sample(described.id)).toEqual([0.1, 'Warming up']);
    backend.advance(100);
    expect(sample(counted.id)).toEqual([1 / 3, null]);
    expect(sample(described.id)).toEqual([0.5, 'Rendering']);
    backend.advance(100);
    expect(sample(counted.id)).toEqual([2 / 3, null]);
  });

  it('keeps progress indeterminate while running without steps', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ runningMs: 1000 });
    expect(backend.get(id)).toMatchObject({ status: 'processing', progress: null, startedAt: at(0) });
  });

  it('stays pending until a control moves it when the spec has no script', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ result: 'x' });
    backend.advance(24 * 3600_000);
    expect(backend.get(id)).toMatchObject({ status: 'pending', version: 1 });
  });

  it('starts after queuedMs and stays processing when runningMs is not given', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ queuedMs: 500, steps: ['ignored without a running time'] });
    backend.advance(500);
    expect(backend.get(id)).toMatchObject({ status: 'processing', startedAt: at(500), progress: null, progressMessage: null });
    backend.advance(24 * 3600_000);
    expect(backend.get(id)).toMatchObject({ status: 'processing', version: 2 });
  });

  it('reports an estimated completion time while processing when reportEta is set', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ queuedMs: 1000, runningMs: 4000, reportEta: true });
    expect(backend.get(id)?.estimatedCompletionAt).toBeNull();
    backend.advance(1000);
    expect(backend.get(id)?.estimatedCompletionAt).toBe(at(5000));
    backend.advance(4000);
    expect(backend.get(id)?.estimatedCompletionAt).toBeNull();
  });

  it('fails the first `failures` attempts, retrying after retryDelayMs, then completes', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ queuedMs: 100, runningMs: 1000, failures: 2, retryDelayMs: 500, errorMessage: 'GPU out of memory', result: 'ok' });

    backend.advance(1100);
    expect(backend.get(id)).toMatchObject({
      status: 'pending',
      retryCount: 1,
      error: { message: 'GPU out of memory' },
      startedAt: null,
      finishedAt: null,
      updatedAt: at(1100),
    });
    backend.advance(500);
    expect(backend.get(id)).toMatchObject({ status: 'processing', retryCount: 1, startedAt: at(1600), error: { message: 'GPU out of memory' } });
    backend.advance(1000);
    expect(backend.get(id)).toMatchObject({ status: 'pending', retryCount: 2, updatedAt: at(2600) });
    backend.advance(1500);
    expect(backend.get(id)).toMatchObject({ status: 'completed', retryCount: 2, maxRetries: 3, result: 'ok', error: null, finishedAt: at(4100) });
  });

  it('ends failed when the failures outlast maxRetries', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ runningMs: 1000, failures: Infinity, maxRetries: 1 });
    backend.advance(1000);
    expect(backend.get(id)).toMatchObject({ status: 'processing', retryCount: 1, startedAt: at(1000) });
    backend.advance(1000);
    expect(backend.get(id)).toMatchObject({
      status: 'failed',
      retryCount: 1,
      maxRetries: 1,
      error: { message: 'Generation failed' },
      finishedAt: at(2000),
      progress: null,
    });
    backend.advance(60_000);
    expect(backend.get(id)?.version).toBe(5);
  });

  it('waits queuedMs before a retry when retryDelayMs is not given', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ queuedMs: 300, runningMs: 100, failures: 1 });
    backend.advance(400);
    expect(backend.get(id)).toMatchObject({ status: 'pending', retryCount: 1 });
    backend.advance(299);
    expect(backend.get(id)?.status).toBe('pending');
    backend.advance(1);
    expect(backend.get(id)).toMatchObject({ status: 'processing', startedAt: at(700) });
  });

  it('plays a back-dated job from its createdAt', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ createdAt: at(-3_600_000), queuedMs: 1000, runningMs: 2000 });
    expect(backend.get(id)).toMatchObject({ status: 'completed', createdAt: at(-3_600_000), finishedAt: at(-3_597_000) });
  });

  it('rejects an invalid script with a RangeError', () => {
    const backend = createMemoryJobBackend();
    expect(() => backend.create({ runningMs: -1 })).toThrow(RangeError);
    expect(() => backend.create({ runningMs: 10, maxRetries: 1.5 })).toThrow(RangeError);
    expect(() => backend.create({ runningMs: 10, steps: [{ progress: 2 }] })).toThrow(RangeError);
    expect(backend.jobs()).toHaveLength(0);
  });
});

describe('controls', () => {
  it('moves a job with start, progress and complete, bumping version and updatedAt each time', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ meta: { projectId: 'p1' } });

    backend.advance(10);
    expect(backend.start(id)).toMatchObject({ status: 'processing', startedAt: at(10), updatedAt: at(10), version: 2 });
    backend.advance(10);
    expect(backend.progress(id, 0.4, 'Upscaling')).toMatchObject({ progress: 0.4, progressMessage: 'Upscaling', updatedAt: at(20), version: 3 });
    expect(backend.progress(id, 0.6)).toMatchObject({ progress: 0.6, progressMessage: 'Upscaling', version: 4 });
    expect(backend.progress(id, null, null)).toMatchObject({ progress: null, progressMessage: null, version: 5 });
    backend.advance(10);
    expect(backend.complete(id, { url: 'a.png' })).toMatchObject({
      status: 'completed',
      progress: 1,
      result: { url: 'a.png' },
      finishedAt: at(30),
      updatedAt: at(30),
      version: 6,
      meta: { projectId: 'p1' },
    });
  });

  it('fails a job with the given message and no automatic retry', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ runningMs: 1000, failures: 0 });
    expect(backend.fail(id, 'Quota exceeded')).toMatchObject({ status: 'failed', error: { message: 'Quota exceeded' }, finishedAt: at(0), retryCount: 0 });
    backend.advance(60_000);
    expect(backend.get(id)?.status).toBe('failed');
  });

  it('completes with the spec result when complete() is given none', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ result: { images: 2 } });
    expect(backend.complete(id).result).toEqual({ images: 2 });
  });

  it('computes a function result from the job when it completes', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ runningMs: 10, result: (job: Job) => ({ of: job.id }) });
    backend.advance(10);
    expect(backend.get(id)?.result).toEqual({ of: id });
  });

  it('stops the rest of the script after a manual control', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ queuedMs: 100, runningMs: 1000, reportEta: true });
    backend.advance(100);
    expect(backend.progress(id, 0.9)).toMatchObject({ status: 'processing', progress: 0.9, estimatedCompletionAt: null });
    backend.advance(60_000);
    expect(backend.get(id)).toMatchObject({ status: 'processing', progress: 0.9 });

    const other = backend.create({ queuedMs: 100, runningMs: 1000 });
    backend.start(other.id);
    backend.advance(60_000);
    expect(backend.get(other.id)?.status).toBe('processing');
  });

  it('throws JobNotFoundError synchronously for an unknown id', () => {
    const backend = createMemoryJobBackend();
    expect(() => backend.start('nope')).toThrow(JobNotFoundError);
    expect(() => backend.progress('nope', 0.5)).toThrow(JobNotFoundError);
    expect(() => backend.complete('nope')).toThrow(JobNotFoundError);
    expect(() => backend.fail('nope', 'x')).toThrow(JobNotFoundError);
    expect(backend.get('nope')).toBeUndefined();
  });

  it('throws JobRequestError 409 invalid_state when a control does not fit the state', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    backend.start(id);
    const startTwice = (() => {
      try {
        backend.start(id);
      } catch (error) {
        return error;
      }
    })();
    expect(startTwice).toBeInstanceOf(JobRequestError);
    expect(startTwice).toMatchObject({ status: 409, code: 'invalid_state' });

    backend.complete(id);
    for (const control of [() => backend.complete(id), () => backend.fail(id, 'x'), () => backend.progress(id, 0.5), () => backend.start(id)]) {
      expect(control).toThrow(expect.objectContaining({ name: 'JobRequestError', status: 409, code: 'invalid_state' }));
    }
    expect(backend.get(id)?.version).toBe(3);
  });

  it('rejects a progress fraction outside 0..1', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    expect(() => backend.progress(id, 1.5)).toThrow(RangeError);
    expect(() => backend.progress(id, Number.NaN)).toThrow(RangeError);
    expect(backend.get(id)?.version).toBe(1);
  });

  it('numbers ids job_1, job_2, … skipping taken ones, and refuses duplicate or invalid ids', () => {
    const backend = createMemoryJobBackend();
    expect(backend.create().id).toBe('job_1');
    expect(backend.create({ id: 'job_2' }).id).toBe('job_2');
    expect(backend.create().id).toBe('job_3');
    expect(() => backend.create({ id: 'job_1' })).toThrow(expect.objectContaining({ status: 409, code: 'conflict' }));
    for (const id of ['', 'counts', 'events', 'a\nb', 'a\u0085b', 'x'.repeat(201)]) {
      expect(() => backend.create({ id })).toThrow(RangeError);
    }
  });

  it('seeds specs and ready jobs from the jobs option, validating ready jobs with parseJob', async () => {
    const ready: Job = { id: 'old', status: 'completed', createdAt: at(-5000), updatedAt: at(-4000), result: 1 };
    const backend = createMemoryJobBackend({ jobs: [{ ...ready, owner: 'u1' }, { id: 'next', runningMs: 100 }] });
    expect(backend.get('old')).toEqual({ ...ready, version: 1 });
    expect(backend.get('next')?.status).toBe('processing');
    await expect(backend.getStatus('old', { owner: 'u2' })).rejects.toBeInstanceOf(JobNotFoundError);
    expect(await backend.getStatus('old', { owner: 'u1' })).not.toHaveProperty('owner');

    expect(() => createMemoryJobBackend({ jobs: [{ ...ready, status: 'done' as never }] })).toThrow(JobProtocolError);
  });

  it('lists every job in creation order with jobs()', () => {
    const backend = createMemoryJobBackend();
    backend.create({ id: 'b' });
    backend.create({ id: 'a', owner: 'someone' });
    expect(backend.jobs().map((job) => job.id)).toEqual(['b', 'a']);
  });
});

describe('clock', () => {
  it('follows Date.now under fake timers and adds what advance() added', () => {
    const backend = createMemoryJobBackend();
    expect(backend.now()).toBe(T0);
    vi.advanceTimersByTime(250);
    expect(backend.now()).toBe(T0 + 250);
    backend.advance(1000);
    expect(backend.now()).toBe(T0 + 1250);
    vi.setSystemTime(T0 + 10_000);
    expect(backend.now()).toBe(T0 + 11_000);
  });

  it('moves scripted jobs as fake time passes, without advance()', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ queuedMs: 1000, runningMs: 2000 });
    vi.advanceTimersByTime(1500);
    expect(backend.get(id)).toMatchObject({ status: 'processing', startedAt: at(1000) });
    vi.setSystemTime(T0 + 3000);
    expect(backend.get(id)).toMatchObject({ status: 'completed', finishedAt: at(3000) });
  });

  it('reads a custom now() instead of Date.now', () => {
    let base = 1_000_000;
    const backend = createMemoryJobBackend({ now: () => base });
    const job = backend.create({ queuedMs: 10 });
    expect(job.createdAt).toBe(new Date(1_000_000).toISOString());
    base += 5;
    backend.advance(5);
    expect(backend.now()).toBe(1_000_010);
    expect(backend.get(job.id)?.status).toBe('processing');
  });

  it('rejects a negative or non-finite advance', () => {
    const backend = createMemoryJobBackend();
    expect(() => backend.advance(-1)).toThrow(RangeError);
    expect(() => backend.advance(Infinity)).toThrow(RangeError);
    expect(backend.now()).toBe(T0);
  });
});

describe('list', () => {
  it('lists newest first, breaking equal createdAt by creation order', async () => {
    const backend = createMemoryJobBackend();
    backend.create({ id: 'a' });
    backend.advance(10);
    backend.create({ id: 'b' });
    backend.create({ id: 'c' });
    backend.create({ id: 'old', createdAt: at(-1000) });
    const page = await backend.list();
    expect(page.jobs.map((job) => job.id)).toEqual(['c', 'b', 'a', 'old']);
    expect(page.nextCursor).toBeNull();
  });

  it('pages with a cursor that neither repeats nor skips jobs when new ones are created meanwhile', async () => {
    const backend = createMemoryJobBackend();
    // Same createdAt for all (the fake clock stands still), so order rests on the tie-break too.
    for (const id of ['a', 'b', 'c', 'd', 'e']) backend.create({ id });

    const first = await backend.list({ limit: 2 });
    expect(first.jobs.map((job) => job.id)).toEqual(['e', 'd']);
    backend.create({ id: 'f' });
    backend.advance(1000);
    backend.create({ id: 'g' });

    const second = await backend.list({ limit: 2, cursor: first.nextCursor! });
    expect(second.jobs.map((job) => job.id)).toEqual(['c', 'b']);
    const third = await backend.list({ limit: 2, cursor: second.nextCursor! });
    expect(third.jobs.map((job) => job.id)).toEqual(['a']);
    expect(third.nextCursor).toBeNull();
  });

  it('returns 20 jobs by default with a cursor to the rest', async () => {
    const backend = createMemoryJobBackend();
    for (let i = 0; i < 25; i++) backend.create();
    const first = await backend.list();
    expect(first.jobs).toHaveLength(20);
    const rest = await backend.list({ cursor: first.nextCursor! });
    expect(rest.jobs.map((job) => job.id)).toEqual(['job_5', 'job_4', 'job_3', 'job_2', 'job_1']);
  });

  it('filters by one status or several, and by meta values compared as strings', async () => {
    const backend = createMemoryJobBackend();
    const a = backend.create({ meta: { projectId: 'p1', priority: 2, urgent: true } });
    const b = backend.create({ meta: { projectId: 'p1' } });
    const c = backend.create({ meta: { projectId: 'p2' } });
    backend.create();
    backend.start(b.id);
    backend.complete(c.id);

    const ids = async (filter: Parameters<typeof backend.list>[0]) => (await backend.list(filter)).jobs.map((job) => job.id);
    expect(await ids({ status: 'processing' })).toEqual([b.id]);
    expect(await ids({ status: ['processing', 'completed'] })).toEqual([c.id, b.id]);
    expect(await ids({ meta: { projectId: 'p1' } })).toEqual([b.id, a.id]);
    expect(await ids({ meta: { projectId: 'p1', priority: '2', urgent: 'true' } })).toEqual([a.id]);
    expect(await ids({ meta: { projectId: 'p1' }, status: 'pending' })).toEqual([a.id]);
    expect(await ids({ meta: { missingKey: 'undefined' } })).toEqual([]);
  });

  it('rejects a limit outside 1..100, an unknown status and a malformed cursor with 400 bad_request', async () => {
    const backend = createMemoryJobBackend();
    backend.create();
    const badFilters = [
      { limit: 0 },
      { limit: 101 },
      { limit: 1.5 },
      { status: 'done' as never },
      { cursor: 'not a cursor!' },
      { cursor: btoa('garbage') },
      { cursor: '' },
    ];
    for (const filter of badFilters) {
      const error = await rejectionOf(backend.list(filter));
      expect(error, JSON.stringify(filter)).toBeInstanceOf(JobRequestError);
      expect(error).toMatchObject({ status: 400, code: 'bad_request' });
    }
    await expect(backend.list({ limit: 100 })).resolves.toMatchObject({ jobs: [{ id: 'job_1' }] });
  });
});

describe('getStatuses and getPendingCount', () => {
  it('answers a batch with the known jobs and the missing ids', async () => {
    const backend = createMemoryJobBackend();
    const a = backend.create();
    const b = backend.create();
    const batch = await backend.getStatuses([b.id, 'nope', a.id, b.id]);
    expect(batch.jobs.map((job) => job.id)).toEqual([b.id, a.id]);
    expect(batch.missing).toEqual(['nope']);
  });

  it('rejects a batch of more than 100 ids with 400 bad_request', async () => {
    const backend = createMemoryJobBackend();
    const ids = Array.from({ length: 101 }, (_, i) => `id${i}`);
    await expect(backend.getStatuses(ids)).rejects.toMatchObject({ name: 'JobRequestError', status: 400, code: 'bad_request' });
  });

  it('counts pending and processing jobs, optionally scoped by meta', async () => {
    const backend = createMemoryJobBackend();
    backend.create({ meta: { projectId: 'p1' } });
    backend.start(backend.create({ meta: { projectId: 'p1' } }).id);
    backend.create({ meta: { projectId: 'p2' } });
    backend.complete(backend.create({ meta: { projectId: 'p1' } }).id);
    expect(await backend.getPendingCount()).toEqual({ pending: 2, processing: 1 });
    expect(await backend.getPendingCount({ meta: { projectId: 'p1' } })).toEqual({ pending: 1, processing: 1 });
    expect(await backend.getPendingCount({ meta: { projectId: 'p3' } })).toEqual({ pending: 0, processing: 0 });
  });
});

describe('owner scoping', () => {
  it('shows an owner only their own jobs, and everything to a caller without owner', async () => {
    const backend = createMemoryJobBackend();
    const mine = backend.create({ owner: 'alice' });
    const theirs = backend.create({ owner: 'bob' });
    const nobodys = backend.create();
    const alice = { owner: 'alice' };

    await expect(backend.getStatus(theirs.id, alice)).rejects.toBeInstanceOf(JobNotFoundError);
    await expect(backend.getStatus(nobodys.id, alice)).rejects.toBeInstanceOf(JobNotFoundError);
    expect((await backend.getStatus(mine.id, alice)).id).toBe(mine.id);
    expect(await backend.getStatuses([mine.id, theirs.id, nobodys.id], alice)).toMatchObject({ jobs: [{ id: mine.id }], missing: [theirs.id, nobodys.id] });
    expect((await backend.list({}, alice)).jobs.map((job) => job.id)).toEqual([mine.id]);
    expect(await backend.getPendingCount({}, alice)).toEqual({ pending: 1, processing: 0 });
    await expect(backend.cancel(theirs.id, alice)).rejects.toBeInstanceOf(JobNotFoundError);
    expect(backend.get(theirs.id)?.status).toBe('pending');

    const { listener, errors } = recorder();
    backend.subscribe(theirs.id, listener, alice);
    await flushMicrotasks();
    expect(errors[0]).toBeInstanceOf(JobNotFoundError);

    expect((await backend.list()).jobs).toHaveLength(3);
    expect(await backend.getPendingCount()).toEqual({ pending: 3, processing: 0 });
  });
});

describe('cancel and retry', () => {
  it('cancels a pending or processing job at once, before the promise settles', async () => {
    const backend = createMemoryJobBackend();
    const pending = backend.create({ queuedMs: 1000, runningMs: 1000 });
    const processing = backend.create({ runningMs: 1000 });
    backend.advance(10);

    const promise = backend.cancel(pending.id);
    expect(backend.get(pending.id)).toMatchObject({ status: 'cancelled', finishedAt: at(10), version: 2 });
    expect(await promise).toMatchObject({ status: 'cancelled', finishedAt: at(10) });

    expect(await backend.cancel(processing.id)).toMatchObject({ status: 'cancelled', progress: null });
    backend.advance(60_000);
    expect(backend.get(processing.id)?.status).toBe('cancelled');
  });

  it('refuses to cancel a terminal job with 409 not_cancellable, and rejects (not throws) for an unknown id', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    backend.complete(id);
    await expect(backend.cancel(id)).rejects.toMatchObject({ name: 'JobRequestError', status: 409, code: 'not_cancellable' });
    expect(backend.get(id)?.status).toBe('completed');

    let promise: Promise<unknown> | undefined;
    expect(() => {
      promise = backend.cancel('nope');
    }).not.toThrow();
    await expect(promise).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('retries a failed job: pending again with retryCount + 1, the error kept, the version bumped', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    backend.fail(id, 'Timed out');
    backend.advance(5);
    expect(await backend.retry(id)).toMatchObject({
      status: 'pending',
      retryCount: 1,
      error: { message: 'Timed out' },
      finishedAt: null,
      updatedAt: at(5),
      version: 3,
    });
  });

  it('plays the script again for one more attempt after a retry', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ queuedMs: 100, runningMs: 1000, failures: 1, maxRetries: 0, retryDelayMs: 200, result: 'second time lucky' });
    backend.advance(1100);
    expect(backend.get(id)).toMatchObject({ status: 'failed', retryCount: 0 });

    await backend.retry(id);
    backend.advance(200);
    expect(backend.get(id)).toMatchObject({ status: 'processing', retryCount: 1, startedAt: at(1300) });
    backend.advance(1000);
    expect(backend.get(id)).toMatchObject({ status: 'completed', result: 'second time lucky', finishedAt: at(2300) });
  });

  it('refuses to retry a job that has not failed with 409 not_retryable', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    await expect(backend.retry(id)).rejects.toMatchObject({ name: 'JobRequestError', status: 409, code: 'not_retryable' });
    await backend.cancel(id);
    await expect(backend.retry(id)).rejects.toMatchObject({ status: 409, code: 'not_retryable' });
    await expect(backend.retry('nope')).rejects.toBeInstanceOf(JobNotFoundError);
  });
});

describe('subscribe', () => {
  it('delivers the current job in a microtask, never synchronously', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    const { listener, seen } = recorder();
    backend.subscribe(id, listener);
    expect(seen).toHaveLength(0);
    await flushMicrotasks();
    expect(seen).toMatchObject([{ id, status: 'pending', version: 1 }]);
  });

  it('delivers scripted changes on time from its own timer under fake timers', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ queuedMs: 1000, runningMs: 2000, steps: 2 });
    const { listener, seen } = recorder();
    backend.subscribe(id, listener);
    await flushMicrotasks();

    vi.advanceTimersByTime(999);
    expect(seen.map((job) => job.status)).toEqual(['pending']);
    vi.advanceTimersByTime(1);
    expect(seen.at(-1)).toMatchObject({ status: 'processing', progress: 0, updatedAt: at(1000) });
    vi.advanceTimersByTime(1000);
    expect(seen.at(-1)).toMatchObject({ progress: 0.5, updatedAt: at(2000) });
    vi.advanceTimersByTime(1000);
    expect(seen.at(-1)).toMatchObject({ status: 'completed', updatedAt: at(3000) });
    expect(seen.map((job) => job.version)).toEqual([1, 2, 3, 4]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('re-arms its timer when advance() brings the next change closer', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ queuedMs: 1000 });
    const { listener, seen } = recorder();
    backend.subscribe(id, listener);
    await flushMicrotasks();
    backend.advance(600);
    vi.advanceTimersByTime(400);
    expect(seen.at(-1)).toMatchObject({ status: 'processing', startedAt: at(1000) });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('delivers control changes, and nothing after a terminal job', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    const { listener, seen } = recorder();
    backend.subscribe(id, listener);
    await flushMicrotasks();
    backend.start(id);
    backend.fail(id, 'Broken');
    await backend.retry(id);
    backend.start(id);
    expect(seen.map((job) => job.status)).toEqual(['pending', 'processing', 'failed']);
  });

  it('sends changes made before the first delivery as the one current state', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    const { listener, seen } = recorder();
    backend.subscribe(id, listener);
    backend.start(id);
    backend.complete(id);
    await flushMicrotasks();
    expect(seen).toMatchObject([{ status: 'completed', version: 3 }]);
  });

  it('keeps one timer while anyone is subscribed and leaves none after the last unsubscribe', async () => {
    const backend = createMemoryJobBackend();
    const a = backend.create({ queuedMs: 1000, runningMs: 1000 });
    const b = backend.create({ queuedMs: 500, runningMs: 1000 });
    expect(vi.getTimerCount()).toBe(0);

    const offA = backend.subscribe(a.id, recorder().listener);
    const offB = backend.subscribe(b.id, recorder().listener);
    await flushMicrotasks();
    expect(vi.getTimerCount()).toBe(1);
    offA();
    expect(vi.getTimerCount()).toBe(1);
    offB();
    expect(vi.getTimerCount()).toBe(0);
    offB();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sends nothing after unsubscribe, not even the first delivery', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ runningMs: 1000 });
    const early = recorder();
    backend.subscribe(id, early.listener)();
    const late = recorder();
    const off = backend.subscribe(id, late.listener);
    await flushMicrotasks();
    off();
    vi.advanceTimersByTime(5000);
    expect(early.seen).toHaveLength(0);
    expect(late.seen.map((job) => job.status)).toEqual(['processing']);
  });

  it('calls listener.error with JobNotFoundError for an unknown id, asynchronously', async () => {
    const backend = createMemoryJobBackend();
    const { listener, errors, seen } = recorder();
    backend.subscribe('nope', listener);
    expect(errors).toHaveLength(0);
    await flushMicrotasks();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(JobNotFoundError);
    expect(seen).toHaveLength(0);
  });

  it('delivers a terminal job once and needs no timer for it', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    backend.complete(id, 'done');
    const { listener, seen } = recorder();
    backend.subscribe(id, listener);
    await flushMicrotasks();
    expect(seen).toMatchObject([{ status: 'completed', result: 'done' }]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('latency and abort', () => {
  it('answers in a microtask without a timer by default', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    const promise = backend.getStatus(id);
    expect(vi.getTimerCount()).toBe(0);
    await expect(promise).resolves.toMatchObject({ id });
  });

  it('answers after latencyMs, per method when given a function', async () => {
    const backend = createMemoryJobBackend({ latencyMs: (method) => (method === 'list' ? 500 : 100) });
    const { id } = backend.create();
    let status: Job | undefined;
    let page: unknown;
    void backend.getStatus(id).then((job) => (status = job));
    void backend.list().then((value) => (page = value));
    await vi.advanceTimersByTimeAsync(99);
    expect(status).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(status).toMatchObject({ id });
    await vi.advanceTimersByTimeAsync(399);
    expect(page).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(page).toMatchObject({ jobs: [{ id }] });
  });

  it('rejects with an AbortError when the signal is already aborted, without changing anything', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    const signal = AbortSignal.abort();
    for (const call of [
      backend.getStatus(id, { signal }),
      backend.getStatuses([id], { signal }),
      backend.list({}, { signal }),
      backend.getPendingCount({}, { signal }),
      backend.cancel(id, { signal }),
      backend.retry(id, { signal }),
    ]) {
      const error = await rejectionOf(call);
      expect(error).toBeInstanceOf(DOMException);
      expect(error).toMatchObject({ name: 'AbortError' });
    }
    expect(backend.get(id)?.status).toBe('pending');
  });

  it('rejects with an AbortError when aborted during the latency, and clears its timer', async () => {
    const backend = createMemoryJobBackend({ latencyMs: 1000 });
    const { id } = backend.create();
    const controller = new AbortController();
    const promise = backend.getStatus(id, { signal: controller.signal });
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(500);
    controller.abort();
    await expect(promise).rejects.toMatchObject({ name: 'AbortError' });
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('calls log', () => {
  it('logs client calls with their arguments and time, but not controls other than cancel', async () => {
    const backend = createMemoryJobBackend();
    const { calls } = backend;
    const { id } = backend.create();
    backend.advance(100);
    backend.start(id);
    backend.progress(id, 0.5);
    backend.get(id);
    backend.jobs();
    const ids = [id, 'x'];
    await backend.getStatuses(ids, { owner: 'o' });
    ids.push('y');
    await backend.getStatus(id);
    await backend.list({ limit: 5 });
    await backend.getPendingCount();
    await backend.cancel(id);
    await backend.retry(id).catch(() => undefined);
    const off = backend.subscribe(id, recorder().listener);
    off();

    expect(calls.map((call) => call.method)).toEqual(['getStatuses', 'getStatus', 'list', 'getPendingCount', 'cancel', 'retry', 'subscribe']);
    expect(calls[0]).toEqual({ method: 'getStatuses', args: [[id, 'x'], { owner: 'o' }], at: T0 + 100 });
    expect(calls[1]!.args).toEqual([id]);
    expect(calls[2]!.args).toEqual([{ limit: 5 }]);

    backend.clearCalls();
    expect(backend.calls).toBe(calls);
    expect(calls).toHaveLength(0);
  });
});

describe('isolation', () => {
  it('returns copies that callers cannot use to change the store', async () => {
    const backend = createMemoryJobBackend();
    const created = backend.create({ meta: { projectId: 'p1' }, result: { list: [1] } });
    created.status = 'failed';
    created.meta!.projectId = 'hacked';

    const read = await backend.getStatus(created.id);
    read.meta!.projectId = 'hacked';
    (await backend.list()).jobs[0]!.meta!.projectId = 'hacked';
    backend.get(created.id)!.meta!.projectId = 'hacked';
    backend.jobs()[0]!.meta!.projectId = 'hacked';
    const { listener, seen } = recorder();
    backend.subscribe(created.id, listener);
    await flushMicrotasks();
    seen[0]!.meta!.projectId = 'hacked';

    const completed = backend.complete(created.id);
    (completed.result as { list: number[] }).list.push(2);
    expect(backend.get(created.id)).toMatchObject({ status: 'completed', meta: { projectId: 'p1' }, result: { list: [1] } });
  });

  it('returns jobs that pass parseJob in every state', async () => {
    const backend = createMemoryJobBackend();
    backend.create({ meta: { a: 1, b: null, c: true } });
    backend.create({ runningMs: 100, steps: ['x'], reportEta: true });
    backend.create({ runningMs: 100, failures: 1 });
    backend.cancel(backend.create().id);
    backend.fail(backend.create().id, 'nope');
    backend.advance(50);
    const snapshots = [...(await backend.list()).jobs];
    backend.advance(1000);
    snapshots.push(...(await backend.list()).jobs);
    for (const job of snapshots) expect(() => parseJob(job)).not.toThrow();
    expect(new Set(snapshots.map((job) => job.status))).toEqual(new Set(['pending', 'processing', 'completed', 'failed', 'cancelled']));
  });

  it('keeps several backends independent', () => {
    const one = createMemoryJobBackend();
    const two = createMemoryJobBackend();
    const a = one.create({ queuedMs: 100 });
    const b = two.create({ queuedMs: 100 });
    expect(a.id).toBe('job_1');
    expect(b.id).toBe('job_1');
    one.advance(100);
    one.complete(a.id);
    expect(two.get(b.id)?.status).toBe('pending');
    expect(two.now()).toBe(T0);
    void one.getStatus(a.id);
    expect(two.calls).toHaveLength(0);
  });

  it('works with destructured and spread methods (no `this`)', async () => {
    const backend = createMemoryJobBackend();
    const { create, complete, getStatus } = backend;
    const { id } = create();
    complete(id, 'ok');
    expect(await getStatus(id)).toMatchObject({ status: 'completed', result: 'ok' });

    let wrapped = 0;
    const client = {
      ...backend,
      getStatus: (jobId: string) => {
        wrapped += 1;
        return backend.getStatus(jobId);
      },
    };
    expect(await client.getStatus(id)).toMatchObject({ id });
    expect(wrapped).toBe(1);
    expect(await client.list()).toMatchObject({ jobs: [{ id }] });
    expect(client.calls).toHaveLength(3);
  });
});

describe('real time', () => {
  it('plays a script in real time for a subscriber, as in Storybook', async () => {
    vi.useRealTimers();
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ queuedMs: 10, runningMs: 20 });
    const { listener, seen } = recorder();
    const off = backend.subscribe(id, listener);
    await vi.waitFor(() => expect(seen.at(-1)?.status).toBe('completed'), { timeout: 2000 });
    expect(seen.map((job) => job.status)).toEqual(['pending', 'processing', 'completed']);
    off();
  });
});

describe('latency limits', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it.each([Infinity, 2 ** 31])('never answers with a latency of %d, until aborted', async (latencyMs) => {
    const backend = createMemoryJobBackend({ latencyMs });
    const job = backend.create();
    const controller = new AbortController();
    const settled = vi.fn();
    const answer = backend.getStatus(job.id, { signal: controller.signal }).then(settled, (e: unknown) => e);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(settled).not.toHaveBeenCalled();
    controller.abort();
    expect(await answer).toMatchObject({ name: 'AbortError' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('delays the first push delivery by the subscribe latency, and cancels it on unsubscribe', async () => {
    const backend = createMemoryJobBackend({ latencyMs: (method) => (method === 'subscribe' ? 500 : 0) });
    const job = backend.create();
    const next = vi.fn();
    const off = backend.subscribe(job.id, { next });
    await vi.advanceTimersByTimeAsync(499);
    expect(next).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(1);
    expect(next).toHaveBeenCalledTimes(1);
    off();
    const late = vi.fn();
    const offLate = backend.subscribe(job.id, { next: late });
    offLate();
    await vi.advanceTimersByTimeAsync(1000);
    expect(late).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('browser timer functions', () => {
  it('calls clearTimeout unbound, as browsers require', async () => {
    const realClear = globalThis.clearTimeout;
    // Like a browser: "Illegal invocation" unless called on nothing or on the global object.
    vi.stubGlobal('clearTimeout', function (this: unknown, handle: ReturnType<typeof setTimeout>) {
      if (this !== undefined && this !== globalThis) throw new TypeError('Illegal invocation');
      return realClear(handle);
    });
    try {
      const backend = createMemoryJobBackend();
      const job = backend.create({ queuedMs: 1000, runningMs: 5000 });
      const next = vi.fn();
      const off = backend.subscribe(job.id, { next });
      // The first delivery (a microtask) arms the timer for the next scripted change.
      await vi.waitFor(() => expect(next).toHaveBeenCalledTimes(1));
      expect(() => off()).not.toThrow();
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
