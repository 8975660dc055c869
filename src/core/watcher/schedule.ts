import { timerDelay } from './backoff';
import { COALESCE_MS, createFirstReadPlanner, FIRST_READ_WINDOW_MS, joinClock, leaveClock, nextTick, type SharedClocks } from './clock';

/** What the scheduler keeps on each job it plans. */
export interface Planned {
  /** When the next read is due (ms, `Date.now()` clock), or `null` when none is planned. */
  dueAt: number | null;
  /** The interval whose shared clock `dueAt` follows, or `null` (first read, backoff). */
  group: number | null;
}

/** Due times of one watcher's jobs, its shared poll clocks and its single timer. */
export interface Scheduler<E extends Planned> {
  /**
   * Plans the job's next read at `dueAt` (`null`: none), following the shared
   * clock of `group` when given. A time before the `Retry-After` hold moves to
   * its end. When nothing is planned any more, no timer stays behind.
   */
  plan(entry: E, dueAt: number | null, group?: number | null): void;
  /** When a job polled every `interval` and read now is due next, on that interval's shared clock. */
  next(interval: number): number;
  /**
   * When a newly watched job is read first: with a round already planned
   * within one batching window, else at once, or with the next first-read
   * round when one went out less than a window ago (semantic 12).
   */
  first(): number;
}

/**
 * Creates the scheduler of one watcher (it starts no timer until a read is
 * planned). Times are on the `Date.now()` clock.
 *
 * @param entries Every job that may be planned (e.g. a Map of them), in the order due reads are handed to `onDue`.
 * @param heldUntil No read is planned before this time: the `Retry-After` hold (see `Backoff.heldUntil`).
 * @param onDue The timer fired: these jobs are due now (within {@link COALESCE_MS}), in `entries` order.
 */
export function createScheduler<E extends Planned>(
  entries: { values(): Iterable<E> },
  heldUntil: () => number,
  onDue: (due: E[]) => void,
): Scheduler<E> {
  const clocks: SharedClocks = new Map();
  const firstReads = createFirstReadPlanner();
  let timer: ReturnType<typeof setTimeout> | null = null;
  let timerAt = Infinity;
  let queued = false;
  /** How many jobs have a read planned. */
  let planned = 0;

  /** The earliest planned read at or after `from`. */
  function soonest(from: number): number {
    let earliest = Infinity;
    for (const e of entries.values()) if (e.dueAt !== null && e.dueAt >= from && e.dueAt < earliest) earliest = e.dueAt;
    return earliest;
  }

  function disarm(): void {
    clearTimeout(timer ?? undefined);
    timer = null;
    timerAt = Infinity;
  }

  /** Re-arms the timer for the earliest due read, once per tick however many plans changed. */
  function queue(): void {
    if (queued) return;
    queued = true;
    queueMicrotask(() => {
      queued = false;
      const earliest = soonest(-Infinity);
      // Already armed for it (`timerAt` is Infinity while no timer is armed).
      if (earliest === timerAt) return;
      disarm();
      if (earliest === Infinity) return;
      timerAt = earliest;
      timer = setTimeout(() => {
        disarm();
        const t = Date.now() + COALESCE_MS;
        const due: E[] = [];
        for (const e of entries.values()) if (e.dueAt !== null && e.dueAt <= t) due.push(e);
        onDue(due);
        queue();
      }, timerDelay(earliest - Date.now()));
    });
  }

  return {
    plan(entry, dueAt, group = null) {
      // Retry-After outranks every trigger (a refresh, visible again, back online, a remount).
      if (dueAt !== null && dueAt < heldUntil()) dueAt = heldUntil();
      if (entry.group !== group) {
        if (entry.group !== null) leaveClock(clocks, entry.group);
        // A job joins a clock only with a due time on it (`onDue` keeps the group while nothing is planned).
        if (group !== null) joinClock(clocks, group, dueAt!);
        entry.group = group;
      }
      if ((entry.dueAt === null) !== (dueAt === null)) planned += dueAt === null ? -1 : 1;
      entry.dueAt = dueAt;
      if (planned === 0) disarm();
      else queue();
    },
    next: (interval) => nextTick(clocks, interval, Date.now()),
    first() {
      const t = Date.now();
      const s = soonest(t);
      return s <= t + FIRST_READ_WINDOW_MS ? s : firstReads(t);
    },
  };
}
