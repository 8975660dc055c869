/**
 * Model-based test of the output watcher: random interleavings of pushed batches (the
 * stream's own, replays, and batches that jump ahead into gaps), read answers in any
 * order, dropped connections, subscription errors with resubscribes, frames, and reloads
 * (a new watcher starting at the tracked resume point), against a model server holding
 * parts 1..k of each job. After every step the parts shown are a run of the server's parts
 * with no duplicate and no gap, ending at `lastSeq`, and at the end they are exactly the
 * server's parts (the newest `maxParts` of them); no job is notified twice in one frame.
 *
 * Replay a failure with `FC_SEED=<seed> FC_PATH=<path> npx vitest run --project unit test/properties`.
 */
import fc from 'fast-check';
import {
  createJobOutputWatcher,
  JobTransportError,
  type JobClient,
  type JobOutputListener,
  type JobOutputPage,
  type JobOutputPart,
  type JobOutputWatcher,
} from '../../src/core';
import { fcParams } from './support';

const IDS = ['a', 'b'] as const;
type Id = (typeof IDS)[number];
const AT = '2026-01-01T00:00:00.000Z';

const partOf = (id: Id, seq: number): JobOutputPart => ({ seq, kind: seq % 5 === 0 ? 'log' : 'text', text: `${id}${seq} `, at: AT });

interface Sub {
  id: Id;
  /** The last part this stream sent (it goes on from there). */
  cursor: number;
  listener: JobOutputListener;
  closed: boolean;
}

interface Read {
  id: Id;
  after: number;
  limit: number;
  resolve(page: JobOutputPage): void;
  done: boolean;
}

function world() {
  const stored: Record<Id, number> = { a: 0, b: 0 };
  const terminal: Record<Id, boolean> = { a: false, b: false };
  const subs: Sub[] = [];
  const reads: Read[] = [];
  const page = (id: Id, after: number, limit: number): JobOutputPage => {
    const parts: JobOutputPart[] = [];
    for (let seq = after + 1; seq <= Math.min(stored[id], after + limit); seq++) parts.push(partOf(id, seq));
    const last = parts.at(-1)?.seq ?? after;
    return { parts, done: terminal[id] && last >= stored[id] };
  };
  const client: JobClient = {
    getStatus: async () => {
      throw new Error('not used');
    },
    list: async () => ({ jobs: [], nextCursor: null }),
    getPendingCount: async () => ({ pending: 0, processing: 0 }),
    readOutput: (id, o = {}) =>
      new Promise((resolve, reject) => {
        const read: Read = { id: id as Id, after: o.after ?? 0, limit: o.limit ?? 500, resolve, done: false };
        reads.push(read);
        o.signal?.addEventListener('abort', () => {
          read.done = true;
          reject(new DOMException('Aborted', 'AbortError'));
        });
      }),
    subscribeOutput: (id, o, listener) => {
      const sub: Sub = { id: id as Id, cursor: o.after ?? 0, listener, closed: false };
      subs.push(sub);
      return () => void (sub.closed = true);
    },
  };
  return {
    client,
    stored,
    terminal,
    page,
    open: () => subs.filter((s) => !s.closed),
    pending: () => reads.filter((r) => !r.done),
    /** Answers a pending read (the server as it is now). */
    answer(read: Read) {
      read.done = true;
      read.resolve(page(read.id, read.after, read.limit));
    },
    /** The stream's next batch after its cursor. */
    next(sub: Sub, max: number) {
      const batch = page(sub.id, sub.cursor, max);
      sub.cursor = batch.parts.at(-1)?.seq ?? sub.cursor;
      if (batch.parts.length > 0 || batch.done) sub.listener.next(batch.parts, batch.done ? { done: true } : undefined);
    },
  };
}

type Step =
  | { t: 'grow'; id: number; n: number }
  | { t: 'next'; sub: number; max: number }
  | { t: 'replay'; sub: number; from: number; len: number }
  | { t: 'jump'; sub: number; ahead: number; len: number }
  | { t: 'answer'; read: number }
  | { t: 'drop'; sub: number }
  | { t: 'error'; sub: number }
  | { t: 'frame' }
  | { t: 'time'; ms: number }
  | { t: 'reload' }
  | { t: 'finish'; id: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ t: fc.constant('grow' as const), id: fc.nat(1), n: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('next' as const), sub: fc.nat(3), max: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('replay' as const), sub: fc.nat(3), from: fc.integer({ min: 1, max: 40 }), len: fc.integer({ min: 1, max: 6 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('jump' as const), sub: fc.nat(3), ahead: fc.integer({ min: 1, max: 5 }), len: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('answer' as const), read: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('drop' as const), sub: fc.nat(3) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('error' as const), sub: fc.nat(3) }) },
  { weight: 3, arbitrary: fc.constant({ t: 'frame' as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('time' as const), ms: fc.integer({ min: 10, max: 3000 }) }) },
  { weight: 1, arbitrary: fc.constant({ t: 'reload' as const }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('finish' as const), id: fc.nat(1) }) },
);

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('output watcher (model-based)', () => {
  it('shows the server’s parts in order, once each, whatever the interleaving; one notification per frame per job', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 60 }), fc.integer({ min: 3, max: 30 }), async (steps, maxParts) => {
        const w = world();
        let queue: Array<() => void> = [];
        const scheduleFrame = (callback: () => void) => {
          queue.push(callback);
          return () => void (queue = queue.filter((c) => c !== callback));
        };
        const calls: Record<Id, number> = { a: 0, b: 0 };
        let stops: Array<() => void> = [];
        /** The tracked resume point of each id: the last seq shown before a reload. */
        const shownBefore: Record<Id, number> = { a: 0, b: 0 };
        const load = (): JobOutputWatcher => {
          const next = createJobOutputWatcher({ client: w.client, scheduleFrame, graceMs: 0, random: () => 0.5 });
          stops = IDS.map((id) => next.subscribe(id, () => calls[id]++));
          for (const id of IDS) next.watch(id, { maxParts, after: Math.max(0, shownBefore[id] - maxParts) });
          return next;
        };
        let watcher = load();
        const flush = () => {
          const run = queue;
          queue = [];
          calls.a = calls.b = 0;
          for (const callback of run) callback();
          for (const id of IDS) expect(calls[id], `notifications of ${id} in one frame`).toBeLessThanOrEqual(1);
          calls.a = calls.b = 0;
        };
        const check = (final: boolean) => {
          for (const id of IDS) {
            const s = watcher.getSnapshot(id);
            const seqs = s.parts.map((p) => p.seq);
            expect(seqs.length).toBeLessThanOrEqual(maxParts);
            seqs.forEach((seq, i) => {
              if (i > 0) expect(seq, `no gap or duplicate in ${id}: ${seqs.join(',')}`).toBe(seqs[i - 1]! + 1);
              expect(s.parts[i]).toEqual(partOf(id, seq));
            });
            if (seqs.length > 0) expect(s.lastSeq).toBe(seqs.at(-1));
            if (!s.trimmed && seqs.length > 0) expect(seqs[0]).toBe(1);
            expect(s.lastSeq).toBeLessThanOrEqual(w.stored[id]);
            expect(s.text).toBe(s.parts.filter((p) => p.kind === 'text').map((p) => p.text).join(''));
            if (final) {
              const from = Math.max(1, w.stored[id] - maxParts + 1);
              const want = Array.from({ length: w.stored[id] - from + 1 }, (_, i) => from + i);
              expect(seqs, `final parts of ${id}`).toEqual(want);
              expect(s.done).toBe(true);
              expect(s.trimmed).toBe(want[0] !== undefined && want[0] > 1);
            }
          }
        };
        for (const step of steps) {
          const subs = w.open();
          const sub = 'sub' in step ? subs[step.sub % Math.max(1, subs.length)] : undefined;
          switch (step.t) {
            case 'grow': {
              const id = IDS[step.id]!;
              if (!w.terminal[id]) w.stored[id] += step.n;
              break;
            }
            case 'next':
              if (sub) w.next(sub, step.max);
              break;
            case 'replay':
              if (sub && w.stored[sub.id] > 0) {
                const from = 1 + ((step.from - 1) % w.stored[sub.id]);
                const to = Math.min(w.stored[sub.id], from + step.len - 1);
                sub.listener.next(Array.from({ length: to - from + 1 }, (_, i) => partOf(sub.id, from + i)));
              }
              break;
            case 'jump':
              if (sub) {
                const from = sub.cursor + 1 + step.ahead;
                const to = Math.min(w.stored[sub.id], from + step.len - 1);
                if (to >= from) sub.listener.next(Array.from({ length: to - from + 1 }, (_, i) => partOf(sub.id, from + i)));
              }
              break;
            case 'answer': {
              const pending = w.pending();
              if (pending.length > 0) w.answer(pending[step.read % pending.length]!);
              await Promise.resolve();
              await Promise.resolve();
              break;
            }
            case 'drop':
              sub?.listener.disconnected?.(new JobTransportError('dropped'));
              break;
            case 'error':
              if (sub) {
                sub.closed = true;
                sub.listener.error?.(new JobTransportError('stream broke'));
              }
              break;
            case 'frame':
              flush();
              break;
            case 'time':
              await vi.advanceTimersByTimeAsync(step.ms);
              break;
            case 'reload':
              flush();
              for (const id of IDS) shownBefore[id] = watcher.getSnapshot(id).lastSeq;
              stops.forEach((stop) => stop());
              watcher.dispose();
              watcher = load();
              break;
            case 'finish':
              w.terminal[IDS[step.id]!] = true;
              break;
          }
          flush();
          check(false);
        }
        // The end: every job finishes; streams send what they have, reads are answered, resubscribes happen.
        w.terminal.a = w.terminal.b = true;
        for (let round = 0; round < 20; round++) {
          for (const sub of w.open()) w.next(sub, 500);
          for (const read of w.pending()) w.answer(read);
          await vi.advanceTimersByTimeAsync(31_000);
          flush();
          if (IDS.every((id) => watcher.getSnapshot(id).done)) break;
        }
        check(true);
        watcher.dispose();
      }),
      fcParams(300),
    );
  }, 120_000);
});
