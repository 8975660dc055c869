/** Fakes shared by the output tests: a model output server, clients over it, a hand-run frame scheduler. */
import { JobNotFoundError, type JobClient, type JobOutputListener, type JobOutputPage, type JobOutputPart } from '../../src/core';

const AT = '2026-01-01T00:00:00.000Z';

/** Part `seq` of the model: text `t<seq> ` (so joined text is checkable). */
export function part(seq: number, kind: JobOutputPart['kind'] = 'text'): JobOutputPart {
  if (kind === 'data') return { seq, kind, data: { seq }, at: AT };
  if (kind === 'image') return { seq, kind, url: `https://example.test/${seq}.png`, at: AT };
  return { seq, kind, text: `t${seq} `, at: AT };
}

/** Parts `from..to`. */
export function parts(from: number, to: number): JobOutputPart[] {
  const list: JobOutputPart[] = [];
  for (let seq = from; seq <= to; seq++) list.push(part(seq));
  return list;
}

/** A frame scheduler the test runs by hand: `flush()` runs the pending frame. */
export function manualFrames() {
  let queue: Array<() => void> = [];
  let frames = 0;
  return {
    schedule(callback: () => void) {
      queue.push(callback);
      return () => void (queue = queue.filter((c) => c !== callback));
    },
    flush() {
      const run = queue;
      queue = [];
      if (run.length > 0) frames++;
      for (const callback of run) callback();
    },
    pending: () => queue.length,
    frames: () => frames,
  };
}

interface Subscription {
  after: number;
  listener: JobOutputListener;
  closed: boolean;
}

/** A model server holding parts 1..k of one job; the test pushes, drops and finishes by hand. */
export function outputServer(id = 'job-1') {
  const stored: JobOutputPart[] = [];
  let terminal = false;
  let keep = Infinity;
  let missing = false;
  const subscriptions: Subscription[] = [];
  const reads: Array<{ after: number }> = [];
  let failReads = 0;

  const kept = () => stored.slice(Math.max(0, stored.length - keep));
  function read(after: number, limit = 500): JobOutputPage {
    const have = kept();
    const first = have[0]?.seq ?? stored.length + 1;
    const page = have.filter((p) => p.seq > after).slice(0, limit);
    const last = stored.length;
    const done = terminal && (page.length === 0 ? after >= last : page[page.length - 1]!.seq === last);
    return after + 1 < first && page.length > 0 ? { parts: page, done, trimmed: true } : { parts: page, done };
  }

  const base: JobClient = {
    getStatus: async () => {
      throw new Error('not used');
    },
    list: async () => ({ jobs: [], nextCursor: null }),
    getPendingCount: async () => ({ pending: 0, processing: 0 }),
  };
  const readOutput: NonNullable<JobClient['readOutput']> = async (jobId, options = {}) => {
    reads.push({ after: options.after ?? 0 });
    await Promise.resolve();
    if (missing || jobId !== id) throw new JobNotFoundError(jobId);
    if (failReads > 0) {
      failReads--;
      throw new Error('read failed');
    }
    return read(options.after ?? 0, options.limit);
  };
  const subscribeOutput: NonNullable<JobClient['subscribeOutput']> = (jobId, options, listener) => {
    const sub: Subscription = { after: options.after ?? 0, listener, closed: false };
    subscriptions.push(sub);
    return () => void (sub.closed = true);
  };

  const open = () => subscriptions.filter((s) => !s.closed);
  return {
    stored,
    reads,
    subscriptions,
    /** Appends parts up to `k` (not pushed). */
    grow(k: number) {
      for (let seq = stored.length + 1; seq <= k; seq++) stored.push(part(seq));
    },
    finish() {
      terminal = true;
    },
    keepOnly(n: number) {
      keep = n;
    },
    vanish() {
      missing = true;
    },
    failNextReads(n: number) {
      failReads = n;
    },
    open,
    /** Pushes the given seqs (taken from the stored parts) to every open subscription. */
    push(seqs: number[], info?: { done?: boolean; trimmed?: boolean }) {
      const batch = seqs.map((seq) => stored[seq - 1]!);
      for (const sub of open()) sub.listener.next(batch, info);
    },
    /** Pushes everything stored after each subscription's `after` (what a real stream does first). */
    catchUp() {
      for (const sub of open()) {
        const batch = stored.filter((p) => p.seq > sub.after);
        sub.after = stored.length;
        if (batch.length > 0 || terminal) sub.listener.next(batch, terminal ? { done: true } : undefined);
      }
    },
    pushClient: (): JobClient => ({ ...base, readOutput, subscribeOutput }),
    pollClient: (): JobClient => ({ ...base, readOutput }),
    pushOnlyClient: (): JobClient => ({ ...base, subscribeOutput }),
    bareClient: (): JobClient => base,
  };
}

/** Lets pending promise callbacks (fake reads) run. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** The seqs of a part list. */
export const seqs = (list: readonly JobOutputPart[]) => list.map((p) => p.seq);
