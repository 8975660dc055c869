/**
 * The watcher-level equivalents of the behaviour tests that run through React
 * (test/react/useJobStatus.test.tsx, test/react/precedence.test.tsx): the same
 * assertions on `createJobWatcher` alone, with fake timers and fake clients.
 * The React tests stay as integration tests.
 */
import { JobNotFoundError, JobProtocolError, JobTransportError, JobUnauthorizedError } from '../../src/core';
import { createMemoryJobBackend } from '../../src/testing';
import { controlledClient, makeJob } from '../helpers';
import { page, pollingClient, reads, watcherOf } from './watcher.fakes';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('watcher: polling while active, never after terminal (semantic 1)', () => {
  it('polls every 2 s by default, at a custom interval, and at what an interval function returns', async () => {
    const backend = createMemoryJobBackend();
    const [a, b, c] = [backend.create(), backend.create(), backend.create()];
    const w = watcherOf(pollingClient(backend), { maxBatchSize: 1 });
    w.watch(a.id);
    w.watch(b.id, { pollInterval: 500 });
    w.watch(c.id, { pollInterval: (job) => (job?.status === 'processing' ? false : 1000) });
    await vi.advanceTimersByTimeAsync(0);
    const per = (id: string) => backend.calls.filter((x) => x.args[0] === id).length;
    await vi.advanceTimersByTimeAsync(4000);
    expect(per(a.id)).toBe(3);
    expect(per(b.id)).toBe(9);
    expect(per(c.id)).toBe(5);
    backend.start(c.id);
    await vi.advanceTimersByTimeAsync(1000);
    const afterStart = per(c.id);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(per(c.id)).toBe(afterStart);
    expect(w.getSnapshot(c.id).connection).toBe('idle');
  });

  it('makes no further request once terminal: not on interval, refresh, visible again, back online or a new watch', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const p = page();
    const w = watcherOf(pollingClient(backend), { environment: p.environment });
    const first = w.watch(job.id);
    await vi.advanceTimersByTimeAsync(0);
    backend.complete(job.id, { url: 'x' });
    await vi.advanceTimersByTimeAsync(2000);
    expect(w.getSnapshot(job.id).job?.status).toBe('completed');
    expect(w.getSnapshot(job.id).connection).toBe('idle');
    const atTerminal = reads(backend);
    await vi.advanceTimersByTimeAsync(20_000);
    p.setVisible(false);
    p.setVisible(true);
    p.setOnline(false);
    p.setOnline(true);
    await w.refresh(job.id);
    first.release();
    w.watch(job.id);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(reads(backend)).toBe(atTerminal);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('watcher: transient failures are not failed jobs (semantic 3)', () => {
  it('keeps the last job, sets error, backs off 4 s then 8 s, and recovers to the normal interval', async () => {
    const c = controlledClient();
    const w = watcherOf(c.client, { random: () => 1 });
    w.watch('a');
    await vi.advanceTimersByTimeAsync(0);
    c.answer(0, makeJob({ id: 'a', status: 'processing', version: 1 }));
    await vi.advanceTimersByTimeAsync(2000);
    c.fail(1, new JobTransportError('Service unavailable', { status: 503 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(w.getSnapshot('a').job?.status).toBe('processing');
    expect(w.getSnapshot('a').error).toBeInstanceOf(JobTransportError);
    expect(w.getSnapshot('a').fatal).toBe(false);
    expect(w.getSnapshot('a').connection).toBe('error');
    await vi.advanceTimersByTimeAsync(3999);
    expect(c.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(c.calls).toHaveLength(3);
    c.fail(2, new TypeError('Failed to fetch'));
    await vi.advanceTimersByTimeAsync(7999);
    expect(c.calls).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(c.calls).toHaveLength(4);
    c.answer(3, makeJob({ id: 'a', status: 'processing', progress: 0.5, version: 2 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(w.getSnapshot('a').error).toBeNull();
    expect(w.getSnapshot('a').connection).toBe('polling');
    await vi.advanceTimersByTimeAsync(2000);
    expect(c.calls).toHaveLength(5);
  });

  it('caps the backoff at 30 s and honours a longer Retry-After', async () => {
    const c = controlledClient();
    const w = watcherOf(c.client, { random: () => 1 });
    w.watch('a');
    await vi.advanceTimersByTimeAsync(0);
    for (let i = 0; i < 6; i++) {
      c.fail(i, new JobTransportError('down', { status: 500 }));
      await vi.advanceTimersByTimeAsync(30_000);
    }
    const before = c.calls.length;
    expect(before).toBe(7);
    c.fail(before - 1, new JobTransportError('slow down', { status: 429, retryAfterMs: 60_000 }));
    await vi.advanceTimersByTimeAsync(59_999);
    expect(c.calls).toHaveLength(before);
    await vi.advanceTimersByTimeAsync(1);
    expect(c.calls).toHaveLength(before + 1);
  });

  it('jitters retries: the lowest jitter halves the delay', async () => {
    const c = controlledClient();
    const w = watcherOf(c.client, { random: () => 0 });
    w.watch('a');
    await vi.advanceTimersByTimeAsync(0);
    c.fail(0, new JobTransportError('down', { status: 500 }));
    await vi.advanceTimersByTimeAsync(1999);
    expect(c.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(c.calls).toHaveLength(2);
  });

  it('shows a malformed answer as a transient JobProtocolError naming the field, and keeps polling', async () => {
    const c = controlledClient();
    const w = watcherOf(c.client);
    w.watch('a');
    await vi.advanceTimersByTimeAsync(0);
    c.answer(0, makeJob({ id: 'a', status: 'processing', version: 1 }));
    await vi.advanceTimersByTimeAsync(2000);
    c.answer(1, { ...makeJob({ id: 'a', version: 2 }), status: 'exploded' });
    await vi.advanceTimersByTimeAsync(0);
    const snap = w.getSnapshot('a');
    expect(snap.job?.status).toBe('processing');
    expect((snap.error as JobProtocolError).field).toBe('status');
    expect(snap.fatal).toBe(false);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(c.calls.length).toBeGreaterThan(2);
  });

  it('stops for good on 404 and on 401, leaving no timer', async () => {
    const backend = createMemoryJobBackend();
    const w = watcherOf(pollingClient(backend));
    w.watch('no-such-job');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(reads(backend)).toBe(1);
    expect(w.getSnapshot('no-such-job')).toMatchObject({ fatal: true, connection: 'error' });
    expect(w.getSnapshot('no-such-job').error).toBeInstanceOf(JobNotFoundError);
    expect(vi.getTimerCount()).toBe(0);

    const c = controlledClient();
    const w2 = watcherOf(c.client);
    w2.watch('a');
    await vi.advanceTimersByTimeAsync(0);
    c.fail(0, new JobUnauthorizedError('Session expired', { status: 401 }));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(c.calls).toHaveLength(1);
    expect(w2.getSnapshot('a').fatal).toBe(true);
  });
});

describe('watcher: hidden tab and offline (semantic 5)', () => {
  it('pauses while hidden and reads once at once when visible again', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const p = page();
    const w = watcherOf(pollingClient(backend), { environment: p.environment });
    w.watch(job.id);
    await vi.advanceTimersByTimeAsync(0);
    expect(reads(backend)).toBe(1);
    p.setVisible(false);
    await vi.advanceTimersByTimeAsync(62_000);
    expect(reads(backend)).toBe(1);
    expect(w.getSnapshot(job.id).connection).toBe('paused');
    backend.start(job.id);
    p.setVisible(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(reads(backend)).toBe(2);
    expect(w.getSnapshot(job.id).job?.status).toBe('processing');
    await vi.advanceTimersByTimeAsync(1999);
    expect(reads(backend)).toBe(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(reads(backend)).toBe(3);
  });

  it('keeps polling while hidden with pollWhenHidden', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const p = page();
    const w = watcherOf(pollingClient(backend), { environment: p.environment });
    w.watch(job.id, { pollWhenHidden: true });
    await vi.advanceTimersByTimeAsync(0);
    p.setVisible(false);
    await vi.advanceTimersByTimeAsync(6000);
    expect(reads(backend)).toBe(4);
  });

  it('pauses while offline, from the start, and reads once back online', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const p = page();
    p.setOnline(false);
    const w = watcherOf(pollingClient(backend), { environment: p.environment });
    w.watch(job.id);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reads(backend)).toBe(0);
    expect(w.getSnapshot(job.id).connection).toBe('paused');
    p.setOnline(true);
    await vi.advanceTimersByTimeAsync(0);
    expect(reads(backend)).toBe(1);
    expect(w.getSnapshot(job.id).job?.status).toBe('pending');
  });
});

describe('watcher: release and in-flight limits (semantics 6 and 10)', () => {
  it('aborts the read in flight on the last release, applies nothing of it, and leaves no timer', async () => {
    const c = controlledClient();
    const statusChange = vi.fn();
    const w = watcherOf(c.client, { onJobStatusChange: statusChange });
    const handle = w.watch('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(c.inFlight()).toBe(1);
    handle.release();
    expect(c.calls[0]!.signal?.aborted).toBe(true);
    c.answer(0, makeJob({ id: 'a', status: 'completed' }));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(c.calls).toHaveLength(1);
    expect(statusChange).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never sends a second read for a job while one is in flight; a refresh joins it', async () => {
    const c = controlledClient();
    const w = watcherOf(c.client);
    w.watch('a', { pollInterval: 100 });
    w.watch('a', { pollInterval: 100 });
    await vi.advanceTimersByTimeAsync(60_000);
    const refreshed = w.refresh('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(c.calls).toHaveLength(1);
    c.answer(0, makeJob({ id: 'a', status: 'processing' }));
    await refreshed;
    await vi.advanceTimersByTimeAsync(100);
    expect(c.calls).toHaveLength(2);
    expect(c.inFlight()).toBe(1);
  });
});

describe('watcher: batching and rounds (semantics 7 and 12)', () => {
  it('reads a job watched beside a polling one within 50 ms, then polls both in one round', async () => {
    const backend = createMemoryJobBackend();
    const [a, b] = [backend.create(), backend.create()];
    const w = watcherOf(pollingClient(backend));
    w.watch(a.id);
    await vi.advanceTimersByTimeAsync(700);
    w.watch(b.id);
    await vi.advanceTimersByTimeAsync(50);
    expect(w.getSnapshot(b.id).job).toBeDefined();
    backend.clearCalls();
    await vi.advanceTimersByTimeAsync(4000);
    const batches = backend.calls.filter((c) => c.method === 'getStatuses');
    expect(batches.length).toBeGreaterThan(0);
    expect(batches.every((c) => (c.args[0] as string[]).length === 2)).toBe(true);
    expect(backend.calls.filter((c) => c.method === 'getStatus')).toHaveLength(0);
  });
});
