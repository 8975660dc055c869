import { newEntry, createEntries, mapCache, type Entry } from '../../src/core/watcher/entry';
import { createMerge } from '../../src/core/watcher/merge';
import { createSnapshots, EMPTY_SNAPSHOT } from '../../src/core/watcher/snapshots';
import type { WatchConnection } from '../../src/core';
import { makeJob } from '../helpers';

const watched = (e: Entry) => void e.registrations.add(() => ({}));

describe('watcher snapshots: publish', () => {
  it('publishes a new frozen snapshot and tells listeners only when something visible changed', () => {
    let connection: WatchConnection = 'polling';
    const snapshots = createSnapshots<Entry>(() => connection);
    const e = newEntry('a', undefined, -Infinity, EMPTY_SNAPSHOT);
    const listener = vi.fn();
    e.listeners.add(listener);
    snapshots.publish(e);
    expect(listener).toHaveBeenCalledTimes(1);
    const first = e.snapshot;
    expect(Object.isFrozen(first)).toBe(true);
    expect(first).toEqual({ job: undefined, error: null, fatal: false, connection: 'polling' });
    snapshots.publish(e);
    expect(e.snapshot).toBe(first);
    expect(listener).toHaveBeenCalledTimes(1);
    connection = 'live';
    snapshots.publish(e);
    expect(listener).toHaveBeenCalledTimes(2);
    e.optimistic = true;
    snapshots.publish(e);
    expect(e.snapshot.optimistic).toBe(true);
    expect(listener).toHaveBeenCalledTimes(3);
  });

  it('gives a job nobody watches one stable idle snapshot, and EMPTY_SNAPSHOT for none', () => {
    const snapshots = createSnapshots<Entry>(() => 'idle');
    const job = makeJob();
    expect(snapshots.idle(job)).toBe(snapshots.idle(job));
    expect(snapshots.idle(job)).toEqual({ job, error: null, fatal: false, connection: 'idle' });
    expect(snapshots.idle({ ...job })).not.toBe(snapshots.idle(job));
    expect(snapshots.idle(undefined)).toBe(EMPTY_SNAPSHOT);
  });
});

describe('watcher snapshots: settle', () => {
  it('settles once per job id (onJobSettled first, then listeners) until unsettled', () => {
    const order: string[] = [];
    const snapshots = createSnapshots<Entry>(() => 'idle', (job) => order.push(`option ${job.id}`));
    const off = snapshots.onSettled((job) => order.push(`listener ${job.id}`));
    const job = makeJob({ id: 'a', status: 'completed' });
    snapshots.settle(job);
    snapshots.settle(job);
    expect(order).toEqual(['option a', 'listener a']);
    snapshots.unsettle('a');
    off();
    snapshots.settle(job);
    expect(order).toEqual(['option a', 'listener a', 'option a']);
  });
});

describe('watcher merge', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1000 }));
  afterEach(() => vi.useRealTimers());

  it('accepts only a newer, different job; stores it; tells a status change and settles a watched terminal job', () => {
    const cache = mapCache();
    const settle = vi.fn();
    const onJobStatusChange = vi.fn();
    const merge = createMerge(cache, settle, { onJobStatusChange });
    const e = newEntry('a', undefined, -Infinity, EMPTY_SNAPSHOT);
    watched(e);
    const v1 = makeJob({ id: 'a', status: 'processing', version: 1 });
    expect(merge.accept(e, v1)).toBe(true);
    expect(cache.get('a')).toBe(v1);
    expect(e.freshAt).toBe(1000);
    expect(onJobStatusChange).toHaveBeenLastCalledWith(v1, undefined);
    expect(merge.accept(e, { ...v1 })).toBe(false);
    expect(merge.accept(e, makeJob({ id: 'a', status: 'pending', version: 0 }))).toBe(false);
    expect(e.job).toBe(v1);
    const done = makeJob({ id: 'a', status: 'completed', version: 2 });
    expect(merge.accept(e, done)).toBe(true);
    expect(settle).toHaveBeenCalledWith(done);
    expect(onJobStatusChange).toHaveBeenCalledTimes(2);
  });

  it('does not settle a finished job nobody watches', () => {
    const settle = vi.fn();
    const merge = createMerge(mapCache(), settle, {});
    merge.accept(newEntry('a', undefined, -Infinity, EMPTY_SNAPSHOT), makeJob({ id: 'a', status: 'completed' }));
    expect(settle).not.toHaveBeenCalled();
  });

  it('shows a job as it is, silently (optimistic) or announced', () => {
    const onJobStatusChange = vi.fn();
    const merge = createMerge(mapCache(), vi.fn(), { onJobStatusChange });
    const e = newEntry('a', makeJob({ id: 'a', version: 5 }), -Infinity, EMPTY_SNAPSHOT);
    merge.show(e, makeJob({ id: 'a', status: 'cancelled', version: 1 }), false);
    expect(e.job?.status).toBe('cancelled');
    expect(e.optimistic).toBe(true);
    expect(onJobStatusChange).not.toHaveBeenCalled();
    merge.show(e, makeJob({ id: 'a', status: 'pending', version: 1 }), true);
    expect(e.optimistic).toBe(false);
    expect(onJobStatusChange).toHaveBeenCalledTimes(1);
  });

  it('calls onJobFirstSeen once per watch with the first confirmed job', () => {
    const onJobFirstSeen = vi.fn();
    const merge = createMerge(mapCache(), vi.fn(), { onJobFirstSeen });
    const e = newEntry('a', makeJob({ id: 'a' }), -Infinity, EMPTY_SNAPSHOT);
    merge.answered(e);
    expect(onJobFirstSeen).not.toHaveBeenCalled();
    watched(e);
    merge.answered(e);
    merge.answered(e);
    expect(onJobFirstSeen).toHaveBeenCalledTimes(1);
  });
});

describe('watcher entries', () => {
  it('creates an entry from the cache, remembers an offered job as fresh, and drops an unused entry', () => {
    vi.useFakeTimers({ now: 5000 });
    const cache = mapCache();
    const entries = createEntries(cache, () => EMPTY_SNAPSHOT);
    const job = makeJob({ id: 'a' });
    entries.offer(job);
    expect(cache.get('a')).toBe(job);
    entries.offer(makeJob({ id: 'a', version: 0 }));
    expect(cache.get('a')).toBe(job);
    const e = entries.get('a');
    expect(e.job).toBe(job);
    expect(e.freshAt).toBe(5000);
    expect(entries.get('a')).toBe(e);
    e.listeners.add(() => {});
    entries.drop(e);
    expect(entries.all.get('a')).toBe(e);
    e.listeners.clear();
    entries.drop(e);
    expect(entries.all.get('a')).toBeUndefined();
    expect(entries.get('a').freshAt).toBe(-Infinity);
    vi.useRealTimers();
  });
});
