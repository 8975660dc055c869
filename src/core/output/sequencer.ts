import type { JobOutputPart } from '../../contract/types';

/** Where a batch came from: a push is held at a gap until a read fills it; a read is the server's own answer for `after`. */
export type BatchSource = 'push' | 'read';

/**
 * The exactly-once, in-order delivery of one job's parts. Batches come in any order and may
 * repeat (replays after a reconnect) or skip (a lost event): parts at or before the last one
 * delivered are dropped, parts after a gap are held until the gap is filled, then delivered in
 * order. A batch the store marks `trimmed` (or a read answer, which is what the store has
 * after `after`) may jump over a gap: the history is then `trimmed`.
 */
export interface OutputSequencer {
  /** The `seq` of the last part delivered (the start position before any). */
  readonly lastSeq: number;
  /** Whether parts after a gap are held (a read after {@link OutputSequencer.lastSeq} should fill it). */
  readonly gap: boolean;
  /** Whether the last part of a terminal job has been delivered. */
  readonly done: boolean;
  /** Whether a jump over missing parts was accepted (trimmed by the store, or a start position after 0). */
  readonly trimmed: boolean;
  /** Takes one batch of valid parts (in order, without gaps inside) and delivers what it can. */
  accept(parts: readonly JobOutputPart[], info: { done?: boolean; trimmed?: boolean }, source: BatchSource): void;
  /** Gives up on the gap (nothing can fill it): delivers the held parts from the first, marking the history trimmed. */
  skipGap(): void;
}

/** Creates the sequencer of one job starting after `after`; `deliver` receives each run of new parts, in order. */
export function createOutputSequencer(after: number, deliver: (parts: JobOutputPart[]) => void): OutputSequencer {
  let lastSeq = after;
  let trimmed = after > 0;
  let done = false;
  /** The last `seq` of a terminal job, once a batch said `done`. */
  let doneSeq: number | null = null;
  const held = new Map<number, JobOutputPart>();
  let maxHeld = 0;

  function take(run: JobOutputPart[]): void {
    if (run.length === 0) return;
    lastSeq = run[run.length - 1]!.seq;
    deliver(run);
  }

  /** Delivers held parts that follow on, and forgets those already delivered. */
  function drain(): void {
    if (held.size === 0) return;
    const run: JobOutputPart[] = [];
    let next = lastSeq + 1;
    while (held.has(next)) {
      run.push(held.get(next)!);
      next++;
    }
    take(run);
    for (const seq of held.keys()) if (seq <= lastSeq) held.delete(seq);
    if (held.size === 0) maxHeld = 0;
  }

  function settle(): void {
    if (!done && doneSeq !== null && held.size === 0 && lastSeq >= doneSeq) done = true;
  }

  return {
    get lastSeq() {
      return lastSeq;
    },
    get gap() {
      return held.size > 0;
    },
    get done() {
      return done;
    },
    get trimmed() {
      return trimmed;
    },
    accept(parts, info, source) {
      if (done) return;
      const fresh = parts.filter((part) => part.seq > lastSeq);
      if (fresh.length > 0) {
        const first = fresh[0]!.seq;
        if (first === lastSeq + 1) {
          take(fresh);
        } else if (info.trimmed || source === 'read') {
          // The store no longer has the parts in between: accept the jump.
          trimmed = true;
          for (const seq of held.keys()) if (seq < first) held.delete(seq);
          take(fresh);
        } else {
          for (const part of fresh) held.set(part.seq, part);
          maxHeld = Math.max(maxHeld, fresh[fresh.length - 1]!.seq);
        }
        drain();
      }
      if (info.done) {
        const end = Math.max(lastSeq, maxHeld, parts.length > 0 ? parts[parts.length - 1]!.seq : 0);
        doneSeq = Math.max(doneSeq ?? 0, end);
      }
      settle();
    },
    skipGap() {
      while (held.size > 0) {
        trimmed = true;
        lastSeq = Math.min(...held.keys()) - 1;
        drain();
      }
      settle();
    },
  };
}
