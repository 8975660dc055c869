import { afterEach, describe, expect, it, vi } from 'vitest';
import { createJobOutputWatcher, JobProtocolError } from '../../src/core';
import { manualFrames, outputServer, part, parts, seqs, settle } from './output.fakes';

afterEach(() => {
  vi.useRealTimers();
});

function setup(options: { maxParts?: number; after?: number } = {}) {
  const server = outputServer();
  const frames = manualFrames();
  const watcher = createJobOutputWatcher({ client: server.pushClient(), scheduleFrame: frames.schedule, graceMs: 0 });
  const handle = watcher.watch('job-1', options);
  const snap = () => {
    frames.flush();
    return watcher.getSnapshot('job-1');
  };
  return { server, frames, watcher, handle, snap };
}

describe('output watcher: delivery', () => {
  it('delivers pushed parts in order exactly once, dropping replays', () => {
    const { server, snap } = setup();
    server.grow(5);
    server.push([1, 2]);
    server.push([1, 2, 3]); // replay after a reconnect
    server.push([2]);
    server.push([4, 5]);
    server.push([3, 4, 5]);
    const s = snap();
    expect(seqs(s.parts)).toEqual([1, 2, 3, 4, 5]);
    expect(s.text).toBe('t1 t2 t3 t4 t5 ');
    expect(s.lastSeq).toBe(5);
    expect(s.trimmed).toBe(false);
    expect(s.connection).toBe('live');
  });

  it('holds a batch after a gap and fills the gap with readOutput before delivering', async () => {
    const { server, snap } = setup();
    server.grow(1101);
    server.push([1, 2]);
    server.push([1100, 1101]); // 3..1099 were lost
    expect(seqs(snap().parts)).toEqual([1, 2]);
    await settle(30);
    const s = snap();
    expect(seqs(s.parts)).toEqual(parts(1, 1101).map((p) => p.seq));
    // Paged through: after 2, after 502, after 1002.
    expect(server.reads.map((r) => r.after)).toEqual([2, 502, 1002]);
    // Later pushes go on from there.
    server.grow(1102);
    server.push([1101, 1102]);
    expect(snap().lastSeq).toBe(1102);
  });

  it('a gap that cannot be filled holds at most maxParts: the newest maxParts are shown as trimmed, the rest is never kept', async () => {
    const { server, snap } = setup({ maxParts: 3 });
    server.grow(5);
    server.failNextReads(Infinity); // the gap before 2 can never be read
    server.push([2, 3, 4]);
    await settle(5);
    // Held behind the gap, waiting for part 1: nothing shown yet.
    expect(seqs(snap().parts)).toEqual([]);
    server.push([5]);
    // Four held with three kept: parts 1 and 2 would be dropped once delivered, so they are skipped now.
    const s = snap();
    expect(seqs(s.parts)).toEqual([3, 4, 5]);
    expect(s).toMatchObject({ lastSeq: 5, trimmed: true });
    server.grow(6);
    server.push([6]);
    expect(seqs(snap().parts)).toEqual([4, 5, 6]);
  });

  it('accepts a trimmed jump and marks the history trimmed', () => {
    const { server, snap } = setup();
    server.grow(50);
    server.push([1, 2]);
    server.push([40, 41], { trimmed: true });
    const s = snap();
    expect(seqs(s.parts)).toEqual([1, 2, 40, 41]);
    expect(s.trimmed).toBe(true);
    expect(server.reads).toEqual([]);
  });

  it('a read answered trimmed by the store jumps too', async () => {
    const { server, snap } = setup();
    server.grow(100);
    server.keepOnly(10); // the store has 91..100
    server.push([95]);
    await settle();
    const s = snap();
    expect(seqs(s.parts)).toEqual([91, 92, 93, 94, 95, 96, 97, 98, 99, 100]);
    expect(s.trimmed).toBe(true);
  });

  it('keeps only the newest maxParts in memory, their text too, and says trimmed', () => {
    const { server, snap } = setup({ maxParts: 3 });
    server.grow(10);
    for (let seq = 1; seq <= 10; seq++) server.push([seq]);
    const s = snap();
    expect(seqs(s.parts)).toEqual([8, 9, 10]);
    expect(s.text).toBe('t8 t9 t10 ');
    expect(s.trimmed).toBe(true);
    expect(s.lastSeq).toBe(10);
  });

  it('two watches with different maxParts keep the larger', () => {
    const { server, watcher, snap } = setup({ maxParts: 2 });
    const other = watcher.watch('job-1', { maxParts: 5 });
    server.grow(10);
    server.push(seqs(parts(1, 10)));
    expect(seqs(snap().parts)).toEqual([6, 7, 8, 9, 10]);
    other.release();
    expect(seqs(snap().parts)).toEqual([9, 10]);
  });

  it('says done after the last part, and stops the subscription', () => {
    const { server, snap } = setup();
    server.grow(3);
    server.push([1, 2, 3]);
    expect(snap().done).toBe(false);
    server.finish();
    server.push([], { done: true });
    const s = snap();
    expect(s.done).toBe(true);
    expect(s.connection).toBe('idle');
    expect(server.open()).toHaveLength(0);
  });

  it('done with a gap pending waits for the gap to be filled', async () => {
    const { server, snap } = setup();
    server.grow(6);
    server.finish();
    server.push([1]);
    server.push([5, 6], { done: true });
    expect(snap().done).toBe(false);
    await settle();
    const s = snap();
    expect(seqs(s.parts)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(s.done).toBe(true);
  });

  it('a part that breaks the contract sets a JobProtocolError, keeps the parts shown, and watching goes on', async () => {
    const { server, snap } = setup();
    server.grow(4);
    server.push([1, 2]);
    server.open()[0]!.listener.next([{ ...part(3), url: 'javascript:alert(1)' } as never]);
    let s = snap();
    expect(s.error).toBeInstanceOf(JobProtocolError);
    expect(seqs(s.parts)).toEqual([1, 2]);
    expect(s.connection).toBe('live');
    server.push([4]); // 3 is missing now: filled by a read
    await settle();
    s = snap();
    expect(seqs(s.parts)).toEqual([1, 2, 3, 4]);
    expect(s.error).toBeNull();
  });

  it('starts after the given position and never reads or shows earlier parts', async () => {
    const server = outputServer();
    const frames = manualFrames();
    const watcher = createJobOutputWatcher({ client: server.pollClient(), scheduleFrame: frames.schedule });
    server.grow(30);
    watcher.watch('job-1', { after: 20 });
    await settle();
    frames.flush();
    const s = watcher.getSnapshot('job-1');
    expect(server.reads[0]).toEqual({ after: 20 });
    expect(seqs(s.parts)).toEqual(seqs(parts(21, 30)));
    expect(s.trimmed).toBe(true);
    watcher.dispose();
  });

  it('snapshots are immutable and kept when nothing changed', () => {
    const { server, snap } = setup();
    server.grow(2);
    server.push([1]);
    const first = snap();
    server.push([1]); // replay only
    expect(snap()).toBe(first);
    server.push([2]);
    const second = snap();
    expect(second).not.toBe(first);
    expect(seqs(first.parts)).toEqual([1]);
    expect(Object.isFrozen(second)).toBe(true);
    expect(Object.isFrozen(second.parts)).toBe(true);
  });
});
