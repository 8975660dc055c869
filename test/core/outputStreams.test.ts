import { JobNotFoundError, JobTransportError, type JobOutputListener, type JobOutputPage, type JobOutputPart } from '../../src/core';
import { createOutputPositions } from '../../src/core/streams/outputPositions';

/**
 * The output positions of the event streams, on a fake store and fake time:
 * what each listener is given, in which order, and which reads fill gaps.
 */

const part = (seq: number): JobOutputPart => ({ seq, kind: 'text', text: `t${seq}`, at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString() });
const parts = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => part(from + i));

interface Read {
  id: string;
  after: number;
  resolve(page: JobOutputPage): void;
  reject(error: unknown): void;
}

function setup() {
  const reads: Read[] = [];
  const changed = vi.fn();
  const positions = createOutputPositions({
    readOutput: (id, { after }) => new Promise((resolve, reject) => reads.push({ id, after, resolve, reject })),
    changed,
    random: () => 0,
  });
  return { positions, reads, changed };
}

function recorder() {
  const calls: Array<{ seqs: number[]; info?: { done?: boolean; trimmed?: boolean } }> = [];
  const disconnected: unknown[] = [];
  const errors: unknown[] = [];
  const listener: JobOutputListener = {
    next: (p, info) => calls.push({ seqs: p.map((x) => x.seq), ...(info ? { info } : {}) }),
    disconnected: (e) => disconnected.push(e),
    error: (e) => errors.push(e),
  };
  return { listener, calls, disconnected, errors, seqs: () => calls.flatMap((c) => c.seqs) };
}

const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('output positions', () => {
  it('delivers overlapping events (two streams, a resend) once each, in seq order', () => {
    const { positions, reads } = setup();
    const out = recorder();
    positions.add('a', 0, out.listener, false);
    positions.receive({ id: 'a', parts: parts(1, 2) });
    positions.receive({ id: 'a', parts: parts(2, 3) });
    positions.receive({ id: 'a', parts: parts(1, 4) });
    positions.receive({ id: 'a', parts: parts(1, 1) });
    expect(out.seqs()).toEqual([1, 2, 3, 4]);
    expect(out.calls.every((c) => c.info === undefined)).toBe(true);
    expect(positions.position('a')).toBe(4);
    expect(reads).toHaveLength(0);
  });

  it('resumes the stream after the smallest position of its listeners, each given only its own parts', () => {
    const { positions } = setup();
    const from3 = recorder();
    const from7 = recorder();
    const off3 = positions.add('a', 3, from3.listener, false);
    positions.add('a', 7, from7.listener, false);
    expect(positions.position('a')).toBe(3);
    positions.receive({ id: 'a', parts: parts(4, 8) });
    expect(from3.seqs()).toEqual([4, 5, 6, 7, 8]);
    expect(from7.seqs()).toEqual([8]);
    off3();
    positions.receive({ id: 'a', parts: parts(9, 9) });
    expect(positions.position('a')).toBe(9);
  });

  it('fills a gap with a read after the last part, holding back what arrives meanwhile', async () => {
    const { positions, reads } = setup();
    const out = recorder();
    positions.add('a', 0, out.listener, false);
    positions.receive({ id: 'a', parts: parts(1, 1) });
    positions.receive({ id: 'a', parts: parts(4, 4) });
    expect(reads.map((r) => r.after)).toEqual([1]);
    positions.receive({ id: 'a', parts: parts(5, 5) });
    expect(out.seqs()).toEqual([1]);
    reads[0]!.resolve({ parts: parts(2, 4), done: false });
    await flush();
    expect(out.seqs()).toEqual([1, 2, 3, 4, 5]);
    expect(reads).toHaveLength(1);
  });

  it('reads page after page to reach what the stream sent past a long gap', async () => {
    const { positions, reads } = setup();
    const out = recorder();
    positions.add('a', 0, out.listener, false);
    positions.receive({ id: 'a', parts: parts(1200, 1200) });
    reads[0]!.resolve({ parts: parts(1, 500), done: false });
    await flush();
    reads[1]!.resolve({ parts: parts(501, 1000), done: false });
    await flush();
    reads[2]!.resolve({ parts: parts(1001, 1199), done: false });
    await flush();
    expect(reads.map((r) => r.after)).toEqual([0, 500, 1000]);
    expect(out.seqs()).toEqual(parts(1, 1200).map((p) => p.seq));
  });

  it('says trimmed when the store no longer has the gap, and when the stream says so (without a read)', async () => {
    const { positions, reads } = setup();
    const out = recorder();
    positions.add('a', 0, out.listener, false);
    positions.receive({ id: 'a', parts: parts(1, 1) });
    positions.receive({ id: 'a', parts: parts(6, 6) });
    reads[0]!.resolve({ parts: parts(4, 6), done: false, trimmed: true });
    await flush();
    expect(out.calls.at(-1)).toEqual({ seqs: [4, 5, 6], info: { trimmed: true } });
    positions.receive({ id: 'a', parts: parts(9, 10), trimmed: true });
    expect(out.calls.at(-1)).toEqual({ seqs: [9, 10], info: { trimmed: true } });
    expect(reads).toHaveLength(1);
  });

  it('delivers done once, then the entry is gone and the planner is told', () => {
    const { positions, changed } = setup();
    const out = recorder();
    const behind = recorder();
    positions.add('a', 0, out.listener, false);
    positions.add('a', 5, behind.listener, false);
    changed.mockClear();
    positions.receive({ id: 'a', parts: parts(1, 2), done: true });
    positions.receive({ id: 'a', parts: parts(1, 2), done: true });
    expect(out.calls).toEqual([{ seqs: [1, 2], info: { done: true } }]);
    expect(behind.calls).toEqual([{ seqs: [], info: { done: true } }]);
    expect(positions.wants('a')).toBe(false);
    expect(changed).toHaveBeenCalled();
  });

  it('retries a failed fill with backoff, telling listeners once, and delivers nothing out of order meanwhile', async () => {
    const { positions, reads } = setup();
    const out = recorder();
    positions.add('a', 0, out.listener, false);
    positions.receive({ id: 'a', parts: parts(3, 3) });
    reads[0]!.reject(new JobTransportError('down'));
    await flush();
    expect(out.disconnected).toHaveLength(1);
    positions.receive({ id: 'a', parts: parts(4, 4) });
    await vi.advanceTimersByTimeAsync(499);
    expect(reads).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(reads).toHaveLength(2);
    reads[1]!.reject(new JobTransportError('still down', { retryAfterMs: 5000 }));
    await vi.advanceTimersByTimeAsync(4999);
    expect(reads).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    reads[2]!.resolve({ parts: parts(1, 4), done: false });
    await flush();
    expect(out.seqs()).toEqual([1, 2, 3, 4]);
    expect(out.disconnected).toHaveLength(1);
    expect(out.errors).toEqual([]);
  });

  it('ends the subscriptions when a fill finds the job gone', async () => {
    const { positions, reads } = setup();
    const out = recorder();
    positions.add('a', 0, out.listener, false);
    positions.receive({ id: 'a', parts: parts(2, 2) });
    reads[0]!.reject(new JobNotFoundError('a'));
    await flush();
    expect(out.errors[0]).toBeInstanceOf(JobNotFoundError);
    expect(positions.wants('a')).toBe(false);
    positions.receive({ id: 'a', parts: parts(1, 2) });
    expect(out.calls).toEqual([]);
  });

  it('catches a listener up by a read when its stream already carries the id, without a false trimmed when it joins mid-read', async () => {
    const { positions, reads } = setup();
    const first = recorder();
    positions.add('a', 0, first.listener, false);
    positions.receive({ id: 'a', parts: parts(1, 2) });
    positions.receive({ id: 'a', parts: parts(5, 5) });
    expect(reads.map((r) => r.after)).toEqual([2]);
    const late = recorder();
    positions.add('a', 0, late.listener, true);
    await flush();
    // The read in flight started after 2: its answer would leave the late listener a gap, so it reads again from 0.
    reads[0]!.resolve({ parts: parts(3, 5), done: false });
    await flush();
    expect(reads.map((r) => r.after)).toEqual([2, 0]);
    reads[1]!.resolve({ parts: parts(1, 5), done: false });
    await flush();
    expect(late.seqs()).toEqual([1, 2, 3, 4, 5]);
    expect(late.calls.every((c) => c.info === undefined)).toBe(true);
    expect(first.seqs()).toEqual([1, 2, 3, 4, 5]);
  });

  it('stops a fill when the last listener leaves', async () => {
    const { positions, reads } = setup();
    const out = recorder();
    const off = positions.add('a', 0, out.listener, false);
    positions.receive({ id: 'a', parts: parts(3, 3) });
    off();
    reads[0]!.resolve({ parts: parts(1, 3), done: false });
    await flush();
    expect(out.calls).toEqual([]);
    expect(positions.wants('a')).toBe(false);
  });
});
