import { createJobWatcher, JobProtocolError } from '../../src/core';
import { controlledClient, makeJob } from '../helpers';

describe('createJobWatcher', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('works without React: watches, polls and stops at a terminal state', async () => {
    const c = controlledClient();
    const settled = vi.fn();
    const watcher = createJobWatcher({ client: c.client, environment: null, onJobSettled: settled });
    const seen: string[] = [];
    const off = watcher.subscribe('a', () => seen.push(watcher.getSnapshot('a').job?.status ?? 'none'));
    const handle = watcher.watch('a', { pollInterval: 1000 });
    await vi.advanceTimersByTimeAsync(0);
    expect(c.calls).toHaveLength(1);
    c.answer(0, makeJob({ id: 'a', status: 'processing', version: 1 }));
    await vi.advanceTimersByTimeAsync(1000);
    expect(c.calls).toHaveLength(2);
    c.answer(1, makeJob({ id: 'a', status: 'completed', version: 2 }));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(c.calls).toHaveLength(2);
    expect(seen).toContain('completed');
    expect(settled).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);
    handle.release();
    off();
  });

  it('rejects an answer for another id as a protocol error', async () => {
    const c = controlledClient();
    const watcher = createJobWatcher({ client: c.client, environment: null });
    const handle = watcher.watch('a');
    await vi.advanceTimersByTimeAsync(0);
    c.answer(0, makeJob({ id: 'b' }));
    await vi.advanceTimersByTimeAsync(0);
    const snap = watcher.getSnapshot('a');
    expect(snap.error).toBeInstanceOf(JobProtocolError);
    expect((snap.error as JobProtocolError).field).toBe('id');
    expect(snap.job).toBeUndefined();
    handle.release();
  });
});

describe('createJobWatcher: replace, onSettled, hidden polling', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** A page whose visibility the test controls. */
  function page() {
    let visible = true;
    const listeners = new Set<() => void>();
    return {
      environment: {
        isVisible: () => visible,
        isOnline: () => true,
        subscribe(listener: () => void) {
          listeners.add(listener);
          return () => void listeners.delete(listener);
        },
      },
      setVisible(value: boolean) {
        visible = value;
        listeners.forEach((l) => l());
      },
    };
  }

  it('replace sets a job over a newer one and returns the previous one, for optimistic updates and rollback', async () => {
    const c = controlledClient();
    const watcher = createJobWatcher({ client: c.client, environment: null });
    watcher.watch('a');
    await vi.advanceTimersByTimeAsync(0);
    const server = makeJob({ id: 'a', status: 'processing', version: 5 });
    c.answer(0, server);
    await vi.advanceTimersByTimeAsync(0);
    const optimistic = { ...server, status: 'cancelled' as const, version: 5 };
    const previous = watcher.replace(optimistic);
    expect(previous).toEqual(server);
    expect(watcher.getSnapshot('a').job?.status).toBe('cancelled');
    // Rolled back: active again and polled again.
    watcher.replace(previous!);
    expect(watcher.getSnapshot('a').job?.status).toBe('processing');
    await vi.advanceTimersByTimeAsync(2000);
    expect(c.calls).toHaveLength(2);
  });

  it('lets a retried job settle again', async () => {
    const c = controlledClient();
    const settled = vi.fn();
    const watcher = createJobWatcher({ client: c.client, environment: null });
    const off = watcher.onSettled(settled);
    watcher.watch('a');
    await vi.advanceTimersByTimeAsync(0);
    c.answer(0, makeJob({ id: 'a', status: 'failed', version: 2 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled).toHaveBeenCalledTimes(1);
    watcher.replace(makeJob({ id: 'a', status: 'pending', version: 3 }));
    await vi.advanceTimersByTimeAsync(2000);
    c.answer(1, makeJob({ id: 'a', status: 'completed', version: 4 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(settled.mock.calls.map(([job]) => job.status)).toEqual(['failed', 'completed']);
    off();
  });

  it('keeps polling a hidden page at the slower hidden interval while one is set', async () => {
    const c = controlledClient();
    const p = page();
    const watcher = createJobWatcher({ client: c.client, environment: p.environment });
    watcher.watch('a');
    await vi.advanceTimersByTimeAsync(0);
    c.answer(0, makeJob({ id: 'a', status: 'processing' }));
    await vi.advanceTimersByTimeAsync(0);
    p.setVisible(false);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(c.calls).toHaveLength(1);
    watcher.setHiddenPollInterval(10_000);
    await vi.advanceTimersByTimeAsync(0);
    // The missed poll at once, then every 10 s.
    expect(c.calls).toHaveLength(2);
    c.answer(1, makeJob({ id: 'a', status: 'processing' }));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(c.calls).toHaveLength(3);
    watcher.setHiddenPollInterval(false);
    c.answer(2, makeJob({ id: 'a', status: 'processing' }));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(c.calls).toHaveLength(3);
  });
});

describe('createJobWatcher: jobs offered by lists', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('does not read a job offered just before it is watched until its interval is up', async () => {
    const c = controlledClient();
    const watcher = createJobWatcher({ client: c.client, environment: null });
    watcher.ingest(makeJob({ id: 'a', status: 'processing' }));
    watcher.watch('a');
    await vi.advanceTimersByTimeAsync(1999);
    expect(c.calls).toHaveLength(0);
    expect(watcher.getSnapshot('a').job?.status).toBe('processing');
    await vi.advanceTimersByTimeAsync(1);
    expect(c.calls).toHaveLength(1);
  });

  it('settles only watched jobs: a finished job offered by a list does not count as settled until watched', async () => {
    const c = controlledClient();
    const onJobSettled = vi.fn();
    const watcher = createJobWatcher({ client: c.client, environment: null, onJobSettled });
    const off = watcher.subscribe('a', () => {});
    watcher.ingest(makeJob({ id: 'a', status: 'completed' }));
    expect(watcher.getSnapshot('a').job?.status).toBe('completed');
    expect(onJobSettled).not.toHaveBeenCalled();
    watcher.watch('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(onJobSettled).toHaveBeenCalledTimes(1);
    expect(c.calls).toHaveLength(0);
    off();
  });
});

it('does not delay the first read of a job watched in the same tick as setHiddenPollInterval', async () => {
  vi.useFakeTimers();
  try {
    const c = controlledClient();
    const watcher = createJobWatcher({ client: c.client, environment: null });
    watcher.watch('a');
    watcher.setHiddenPollInterval(30_000);
    await vi.advanceTimersByTimeAsync(0);
    expect(c.calls).toHaveLength(1);
  } finally {
    vi.useRealTimers();
  }
});
