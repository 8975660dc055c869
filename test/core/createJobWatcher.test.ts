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
