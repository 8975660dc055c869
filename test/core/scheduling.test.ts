import { createJobWatcher, JobNotFoundError, JobProtocolError, JobTransportError, type JobClient } from '../../src/core';
import { createMemoryJobBackend, type MemoryJobBackend } from '../../src/testing';

/** The backend as a polling client (no push), optionally without batch reads. */
function pollingClient(backend: MemoryJobBackend, { batch = true } = {}): JobClient {
  const { subscribe: _push, getStatuses, ...rest } = backend;
  return batch ? { ...rest, getStatuses } : rest;
}

const callsOf = (backend: MemoryJobBackend, method: string) => backend.calls.filter((c) => c.method === method);

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('batching (semantic 7)', () => {
  it('reads jobs due together in one getStatuses call', async () => {
    const backend = createMemoryJobBackend();
    const watcher = createJobWatcher({ client: pollingClient(backend), environment: null });
    const ids = Array.from({ length: 10 }, () => backend.create().id);
    ids.forEach((id) => watcher.watch(id));
    await vi.advanceTimersByTimeAsync(0);
    expect(callsOf(backend, 'getStatuses')).toHaveLength(1);
    expect(callsOf(backend, 'getStatuses')[0]!.args[0]).toEqual(ids);
    expect(callsOf(backend, 'getStatus')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(2000 * 5);
    expect(callsOf(backend, 'getStatuses')).toHaveLength(6);
    expect(ids.map((id) => watcher.getSnapshot(id).job?.status)).toEqual(ids.map(() => 'pending'));
  });

  it('splits a round above the maximum batch size', async () => {
    const backend = createMemoryJobBackend();
    const watcher = createJobWatcher({ client: pollingClient(backend), environment: null });
    const ids = Array.from({ length: 250 }, () => backend.create().id);
    ids.forEach((id) => watcher.watch(id));
    await vi.advanceTimersByTimeAsync(0);
    expect(callsOf(backend, 'getStatuses').map((c) => (c.args[0] as string[]).length)).toEqual([100, 100, 50]);

    const small = createMemoryJobBackend();
    const smallWatcher = createJobWatcher({ client: pollingClient(small), environment: null, maxBatchSize: 4 });
    Array.from({ length: 10 }, () => small.create().id).forEach((id) => smallWatcher.watch(id));
    await vi.advanceTimersByTimeAsync(0);
    expect(callsOf(small, 'getStatuses').map((c) => (c.args[0] as string[]).length)).toEqual([4, 4, 2]);
  });

  it('reads one job at a time with a client without getStatuses', async () => {
    const backend = createMemoryJobBackend();
    const watcher = createJobWatcher({ client: pollingClient(backend, { batch: false }), environment: null });
    Array.from({ length: 3 }, () => backend.create().id).forEach((id) => watcher.watch(id));
    await vi.advanceTimersByTimeAsync(0);
    expect(callsOf(backend, 'getStatus')).toHaveLength(3);
    expect(callsOf(backend, 'getStatuses')).toHaveLength(0);
  });

  it('fails only the missing job with JobNotFoundError and keeps polling the others', async () => {
    const backend = createMemoryJobBackend();
    const watcher = createJobWatcher({ client: pollingClient(backend), environment: null });
    const a = backend.create().id;
    const b = backend.create().id;
    watcher.watch(a);
    watcher.watch('gone');
    watcher.watch(b);
    await vi.advanceTimersByTimeAsync(0);
    expect(watcher.getSnapshot('gone').error).toBeInstanceOf(JobNotFoundError);
    expect(watcher.getSnapshot('gone').fatal).toBe(true);
    expect(watcher.getSnapshot(a).job?.status).toBe('pending');
    backend.start(b);
    await vi.advanceTimersByTimeAsync(2000);
    expect(watcher.getSnapshot(b).job?.status).toBe('processing');
    expect(callsOf(backend, 'getStatuses')[1]!.args[0]).toEqual([a, b]);
  });

  it('fails only a malformed job of a batch, as a transient JobProtocolError', async () => {
    const backend = createMemoryJobBackend();
    const a = backend.create().id;
    const b = backend.create().id;
    const client: JobClient = {
      ...pollingClient(backend),
      getStatuses: async (ids, o) => {
        const batch = await backend.getStatuses(ids, o);
        return { ...batch, jobs: batch.jobs.map((j) => (j.id === b ? { ...j, status: 'exploded' as never } : j)) };
      },
    };
    const watcher = createJobWatcher({ client, environment: null });
    watcher.watch(a);
    watcher.watch(b);
    await vi.advanceTimersByTimeAsync(0);
    expect(watcher.getSnapshot(a)).toMatchObject({ error: null, job: { status: 'pending' } });
    expect(watcher.getSnapshot(b).error).toBeInstanceOf(JobProtocolError);
    expect((watcher.getSnapshot(b).error as JobProtocolError).field).toBe('status');
    expect(watcher.getSnapshot(b).fatal).toBe(false);
  });

  it('retries a failed round together after one backoff', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const backend = createMemoryJobBackend();
    let down = true;
    const client: JobClient = {
      ...pollingClient(backend),
      getStatuses: (ids, o) => (down ? Promise.reject(new JobTransportError('503', { status: 503 })) : backend.getStatuses(ids, o)),
    };
    const watcher = createJobWatcher({ client, environment: null });
    const ids = Array.from({ length: 5 }, () => backend.create().id);
    ids.forEach((id) => watcher.watch(id));
    await vi.advanceTimersByTimeAsync(0);
    expect(ids.every((id) => watcher.getSnapshot(id).error instanceof JobTransportError)).toBe(true);
    down = false;
    await vi.advanceTimersByTimeAsync(4000);
    expect(callsOf(backend, 'getStatuses')).toHaveLength(1);
    expect(ids.every((id) => watcher.getSnapshot(id).error === null)).toBe(true);
  });
});

describe('aligned scheduling (semantic 7)', () => {
  it('brings jobs mounted at different moments onto one round per interval', async () => {
    const backend = createMemoryJobBackend();
    const watcher = createJobWatcher({ client: pollingClient(backend), environment: null });
    const ids = Array.from({ length: 50 }, () => backend.create().id);
    // Mounted over 2 s, one every 40 ms.
    for (const id of ids) {
      watcher.watch(id);
      await vi.advanceTimersByTimeAsync(40);
    }
    backend.clearCalls();
    await vi.advanceTimersByTimeAsync(60_000);
    const reads = [...callsOf(backend, 'getStatuses'), ...callsOf(backend, 'getStatus')];
    expect(reads.length).toBeLessThanOrEqual(31);
    // Every job is read in every round.
    expect(reads.every((c) => (c.args[0] as string[]).length === 50)).toBe(true);
  });

  // A job joining a running interval is read within one batching window, then follows its clock:
  // see 'reads a job joining a running interval within 50 ms…' in precedence.test.ts (semantic 12).

  it('keeps a per-job interval function: a slower round for pending jobs, a faster one for processing jobs', async () => {
    const backend = createMemoryJobBackend();
    const watcher = createJobWatcher({ client: pollingClient(backend), environment: null });
    const pending = backend.create().id;
    const running = backend.create().id;
    backend.start(running);
    const pollInterval = (job: { status: string } | undefined) => (job?.status === 'processing' ? 1000 : 5000);
    watcher.watch(pending, { pollInterval });
    watcher.watch(running, { pollInterval });
    await vi.advanceTimersByTimeAsync(0);
    backend.clearCalls();
    await vi.advanceTimersByTimeAsync(10_000);
    const reads = [...callsOf(backend, 'getStatuses'), ...callsOf(backend, 'getStatus')].map((c) => [c.args[0]].flat());
    expect(reads.filter((ids) => ids.includes(running))).toHaveLength(10);
    expect(reads.filter((ids) => ids.includes(pending))).toHaveLength(2);
  });

  it('leaves no timer once every job is released', async () => {
    const backend = createMemoryJobBackend();
    const watcher = createJobWatcher({ client: pollingClient(backend), environment: null });
    const handles = Array.from({ length: 5 }, () => watcher.watch(backend.create().id));
    await vi.advanceTimersByTimeAsync(3000);
    handles.forEach((h) => h.release());
    expect(vi.getTimerCount()).toBe(0);
  });
});
