import { createJobWatcher, JobTransportError, type JobClient } from '../../src/core';
import { MAX_RETRY_AFTER_MS } from '../../src/contract/retryAfter';
import { createMemoryJobBackend, type MemoryJobBackend } from '../../src/testing';
import { page, pollingClient } from './watcher.fakes';

/** Every status read of the backend, as [time, ids]. */
function reads(backend: MemoryJobBackend): Array<{ at: number; ids: string[] }> {
  return backend.calls
    .filter((c) => c.method === 'getStatus' || c.method === 'getStatuses')
    .map((c) => ({ at: c.at, ids: [c.args[0] as string | string[]].flat() }));
}

/** A polling client whose status reads fail with a 429 asking to wait `retryAfterMs`, `times` times. */
function throttledClient(backend: MemoryJobBackend, retryAfterMs: number, times = 1) {
  const client = pollingClient(backend);
  let left = times;
  const gate = <T>(read: () => Promise<T>): Promise<T> => {
    if (left <= 0) return read();
    left -= 1;
    return read().then(() => Promise.reject(new JobTransportError('slow down', { status: 429, retryAfterMs })));
  };
  return {
    ...client,
    getStatus: (id, o) => gate(() => backend.getStatus(id, o)),
    getStatuses: (ids, o) => gate(() => backend.getStatuses(ids, o)),
  } satisfies JobClient;
}

beforeEach(() => {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('Retry-After outranks every trigger (semantic 11)', () => {
  const RETRY_AFTER = 60_000;

  /** Watches a processing job whose first read answers 429 with Retry-After 60 s; resolves once that answer is in. */
  async function throttled() {
    const backend = createMemoryJobBackend();
    const p = page();
    const watcher = createJobWatcher({ client: throttledClient(backend, RETRY_AFTER), environment: p.environment });
    const id = backend.create().id;
    backend.start(id);
    const handle = watcher.watch(id);
    await vi.advanceTimersByTimeAsync(0);
    expect(reads(backend)).toHaveLength(1);
    expect(watcher.getSnapshot(id).error).toBeInstanceOf(JobTransportError);
    const t0 = Date.now();
    /** Advances to `ms` after the 429. */
    const at = (ms: number) => vi.advanceTimersByTimeAsync(t0 + ms - Date.now());
    return { backend, p, watcher, id, handle, at };
  }

  it('waits out Retry-After when the tab is hidden and shown again', async () => {
    const { backend, p, at } = await throttled();
    await at(1000);
    p.setVisible(false);
    await at(5000);
    p.setVisible(true);
    await at(RETRY_AFTER - 1);
    expect(reads(backend)).toHaveLength(1);
    await at(RETRY_AFTER);
    expect(reads(backend)).toHaveLength(2);
  });

  it('waits out Retry-After when the browser goes offline and back online', async () => {
    const { backend, p, at } = await throttled();
    await at(1000);
    p.setOnline(false);
    await at(5000);
    p.setOnline(true);
    await at(RETRY_AFTER - 1);
    expect(reads(backend)).toHaveLength(1);
    await at(RETRY_AFTER);
    expect(reads(backend)).toHaveLength(2);
  });

  it('waits out Retry-After when the job is released and watched again (a remount)', async () => {
    const { backend, watcher, id, handle, at } = await throttled();
    await at(3000);
    handle.release();
    watcher.watch(id);
    await at(RETRY_AFTER - 1);
    expect(reads(backend)).toHaveLength(1);
    await at(RETRY_AFTER);
    expect(reads(backend)).toHaveLength(2);
  });

  it('waits out Retry-After for an explicit refresh, and for another job watched meanwhile', async () => {
    const { backend, watcher, id, at } = await throttled();
    await at(2000);
    const refreshed = watcher.refresh(id);
    const other = backend.create().id;
    watcher.watch(other);
    await at(RETRY_AFTER - 1);
    expect(reads(backend)).toHaveLength(1);
    await at(RETRY_AFTER);
    await refreshed;
    // Both jobs in the one read that goes out once the wait is over.
    expect(reads(backend).slice(1).map((r) => r.ids.sort())).toEqual([[id, other].sort()]);
    expect(watcher.getSnapshot(id).error).toBeNull();
  });
});

describe('the Retry-After clamp and timer range (watcher side)', () => {
  it('makes one request and no timer spin for a 25-day Retry-After, and resumes after MAX_RETRY_AFTER_MS', async () => {
    const backend = createMemoryJobBackend();
    const watcher = createJobWatcher({ client: throttledClient(backend, 25 * 86_400_000), environment: null });
    const id = backend.create().id;
    watcher.watch(id);
    await vi.advanceTimersByTimeAsync(0);
    const t0 = Date.now();
    const timeouts = vi.spyOn(globalThis, 'setTimeout');
    await vi.advanceTimersByTimeAsync(5000);
    expect(reads(backend)).toHaveLength(1);
    // A wrapped-around delay would fire every millisecond: thousands of timers.
    expect(timeouts.mock.calls.length).toBeLessThan(5);
    await vi.advanceTimersByTimeAsync(t0 + MAX_RETRY_AFTER_MS - 1 - Date.now());
    expect(reads(backend)).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(reads(backend)).toHaveLength(2);
    expect(watcher.getSnapshot(id).error).toBeNull();
  });

  it('never arms a timer beyond 2^31 - 1 ms, whatever the poll interval', async () => {
    const backend = createMemoryJobBackend();
    const watcher = createJobWatcher({ client: pollingClient(backend), environment: null });
    watcher.watch(backend.create().id, { pollInterval: 2 ** 31 + 5000 });
    await vi.advanceTimersByTimeAsync(0);
    const timeouts = vi.spyOn(globalThis, 'setTimeout');
    await vi.advanceTimersByTimeAsync(5000);
    expect(reads(backend)).toHaveLength(1);
    expect(timeouts.mock.calls.length).toBeLessThan(5);
    expect(timeouts.mock.calls.every(([, delay]) => (delay ?? 0) <= 2 ** 31 - 1)).toBe(true);
  });
});

describe('the first answer does not wait for the shared clock (semantic 12)', () => {
  it('reads a job joining a running interval within 50 ms, then polls it with the rounds of that interval', async () => {
    const backend = createMemoryJobBackend();
    const watcher = createJobWatcher({ client: pollingClient(backend), environment: null });
    const first = backend.create().id;
    watcher.watch(first);
    await vi.advanceTimersByTimeAsync(0);
    const start = Date.now();
    await vi.advanceTimersByTimeAsync(500);
    const second = backend.create().id;
    watcher.watch(second);
    await vi.advanceTimersByTimeAsync(50);
    expect(watcher.getSnapshot(second).job?.status).toBe('pending');
    expect(reads(backend).map((r) => [r.at - start, r.ids])).toEqual([
      [0, [first]],
      [500, [second]],
    ]);
    // Later polls follow the first job's clock: one round for both.
    backend.clearCalls();
    await vi.advanceTimersByTimeAsync(2000 * 5 - 550);
    expect(reads(backend).map((r) => [r.at - start, r.ids])).toEqual(
      [2000, 4000, 6000, 8000, 10_000].map((t) => [t, [first, second]]),
    );
  });

  it('coalesces mounts within one batching window into one or two reads', async () => {
    const backend = createMemoryJobBackend();
    const watcher = createJobWatcher({ client: pollingClient(backend), environment: null });
    const ids = Array.from({ length: 10 }, () => backend.create().id);
    for (const id of ids) {
      watcher.watch(id);
      await vi.advanceTimersByTimeAsync(4);
    }
    await vi.advanceTimersByTimeAsync(50);
    expect(reads(backend).length).toBeLessThanOrEqual(2);
    expect(reads(backend).flatMap((r) => r.ids).sort()).toEqual([...ids].sort());
  });

  it('reads 100 jobs mounted over 2 s each within 50 ms, in a bounded number of reads, then one round per interval', async () => {
    const backend = createMemoryJobBackend();
    const watcher = createJobWatcher({ client: pollingClient(backend), environment: null });
    const ids = Array.from({ length: 100 }, () => backend.create().id);
    // Seeded spread: mount moments in 0..2000 ms, in order.
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    const moments = ids.map(() => Math.floor(random() * 2000)).sort((a, b) => a - b);
    const t0 = Date.now();
    const watchedAt = new Map<string, number>();
    for (let i = 0; i < ids.length; i++) {
      await vi.advanceTimersByTimeAsync(t0 + moments[i]! - Date.now());
      watcher.watch(ids[i]!);
      watchedAt.set(ids[i]!, Date.now());
    }
    await vi.advanceTimersByTimeAsync(t0 + 2050 - Date.now());
    const spread = reads(backend);
    // Every job's first read within one batching window of its watch.
    for (const id of ids) {
      const first = spread.find((r) => r.ids.includes(id));
      expect(first, id).toBeDefined();
      expect(first!.at - watchedAt.get(id)!).toBeLessThanOrEqual(50);
    }
    // First-read rounds are at least 50 ms apart: at most 2000 / 50 + 1 = 41 of them over the
    // 2 s spread, plus the clock's rounds in it (one per 2 s interval, at most 2 in 2050 ms).
    // Naively it would be 100 reads (one per mount).
    expect(spread.length).toBeLessThanOrEqual(2000 / 50 + 1 + 2);
    // Once everyone has been read: one round per interval, every job in it.
    backend.clearCalls();
    await vi.advanceTimersByTimeAsync(20_000);
    const steady = reads(backend);
    expect(steady.length).toBeLessThanOrEqual(11);
    expect(steady.slice(1).every((r) => r.ids.length === 100)).toBe(true);
  }, 60_000);
});
