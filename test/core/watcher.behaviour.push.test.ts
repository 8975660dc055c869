/**
 * Watcher-level equivalents of the push and "terminal never read again" tests
 * that run through React (test/react/useJobStatus.test.tsx semantic 8,
 * test/react/precedence.test.tsx semantic 13).
 */
import { JobNotFoundError, JobTransportError } from '../../src/core';
import { createMemoryJobBackend } from '../../src/testing';
import { pollingClient, pushClient, reads, watcherOf } from './watcher.fakes';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('watcher: push first, polling as a safety net (semantic 8)', () => {
  it('takes updates by push and drops polling to the 30 s safety poll', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const push = pushClient(backend);
    const w = watcherOf(push.client);
    w.watch(job.id);
    await vi.advanceTimersByTimeAsync(0);
    expect(w.getSnapshot(job.id).connection).toBe('live');
    expect(push.active()).toBe(1);
    const polls = reads(backend);
    backend.start(job.id);
    backend.progress(job.id, 0.4, 'Generating image');
    expect(w.getSnapshot(job.id).job?.progress).toBe(0.4);
    await vi.advanceTimersByTimeAsync(29_000);
    expect(reads(backend)).toBe(polls);
    await vi.advanceTimersByTimeAsync(1000);
    expect(reads(backend)).toBe(polls + 1);
  });

  it('falls back to polling when the subscription fails, and resubscribes after 2 s, 4 s, 8 s', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const push = pushClient(backend);
    const w = watcherOf(push.client, { random: () => 1 });
    w.watch(job.id);
    await vi.advanceTimersByTimeAsync(0);
    const polls = reads(backend);
    push.refuse(true);
    push.breakAll(new JobTransportError('stream dropped'));
    await vi.advanceTimersByTimeAsync(0);
    expect(w.getSnapshot(job.id).connection).toBe('polling');
    expect(reads(backend)).toBe(polls + 1);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reads(backend)).toBe(polls + 6);
    expect(push.subscribes()).toBe(3);
    await vi.advanceTimersByTimeAsync(4000);
    expect(push.subscribes()).toBe(4);
    push.refuse(false);
    await vi.advanceTimersByTimeAsync(16_000);
    expect(push.subscribes()).toBe(5);
    expect(w.getSnapshot(job.id).connection).toBe('live');
    const live = reads(backend);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(reads(backend)).toBe(live);
  });

  it('polls at the normal interval while a dropped stream reconnects, and goes live with the next push', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const push = pushClient(backend);
    const w = watcherOf(push.client);
    w.watch(job.id);
    await vi.advanceTimersByTimeAsync(0);
    const polls = reads(backend);
    push.dropAll(new JobTransportError('stream dropped'));
    await vi.advanceTimersByTimeAsync(0);
    expect(w.getSnapshot(job.id).connection).toBe('polling');
    expect(reads(backend)).toBe(polls + 1);
    await vi.advanceTimersByTimeAsync(4000);
    expect(reads(backend)).toBe(polls + 3);
    expect(push.subscribes()).toBe(1);
    backend.start(job.id);
    expect(w.getSnapshot(job.id).connection).toBe('live');
    await vi.advanceTimersByTimeAsync(20_000);
    expect(reads(backend)).toBe(polls + 3);
  });

  it('stops on a JobNotFoundError from the subscription, never subscribes with live: false, and shares one subscription', async () => {
    const backend = createMemoryJobBackend();
    const [a, b, c] = [backend.create(), backend.create(), backend.create()];
    const push = pushClient(backend);
    const w = watcherOf(push.client);
    w.watch(a.id);
    w.watch(b.id, { live: false });
    w.watch(c.id);
    w.watch(c.id);
    await vi.advanceTimersByTimeAsync(0);
    expect(push.subscribes()).toBe(2);
    expect(w.getSnapshot(b.id).connection).toBe('polling');
    push.breakAll(new JobNotFoundError(a.id));
    await vi.advanceTimersByTimeAsync(0);
    expect(w.getSnapshot(a.id)).toMatchObject({ fatal: true, connection: 'error' });
    expect(w.getSnapshot(c.id).fatal).toBe(true);
    expect(push.active()).toBe(0);
  });

  it('settles by push once, then unsubscribes and makes no further request', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create({ queuedMs: 500, runningMs: 1500 });
    const push = pushClient(backend);
    const settled = vi.fn();
    const w = watcherOf(push.client, { onJobSettled: settled });
    w.watch(job.id);
    await vi.advanceTimersByTimeAsync(0);
    const polls = reads(backend);
    await vi.advanceTimersByTimeAsync(2000);
    expect(w.getSnapshot(job.id).job?.status).toBe('completed');
    expect(settled).toHaveBeenCalledTimes(1);
    expect(push.active()).toBe(0);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(reads(backend)).toBe(polls);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('watcher: a job already terminal is never read again (semantic 13)', () => {
  it('makes no read for a job offered terminal (a list row, SSR data) before it is watched, and settles it at once', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    backend.complete(job.id);
    const settled = vi.fn();
    const w = watcherOf(pollingClient(backend), { onJobSettled: settled });
    w.ingest(await backend.getStatus(job.id));
    backend.clearCalls();
    w.watch(job.id);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reads(backend)).toBe(0);
    expect(w.getSnapshot(job.id).job?.status).toBe('completed');
    expect(settled).toHaveBeenCalledTimes(1);
  });

  it('makes no read for a second watch of a job that finished by push', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const push = pushClient(backend);
    const w = watcherOf(push.client);
    const first = w.watch(job.id);
    await vi.advanceTimersByTimeAsync(0);
    backend.complete(job.id);
    const before = reads(backend);
    first.release();
    w.watch(job.id);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reads(backend)).toBe(before);
    expect(push.subscribes()).toBe(1);
  });
});

