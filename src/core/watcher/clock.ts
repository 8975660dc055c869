/** Reads due within this many ms of each other go out together. */
export const COALESCE_MS = 10;

/**
 * The batching window of first reads, in ms: a job that starts being watched
 * is read at most this long after, together with every job that started in
 * the same window (semantic 12).
 */
export const FIRST_READ_WINDOW_MS = 50;

/** One shared poll clock: when it started and how many jobs follow it. */
export interface SharedClock {
  anchor: number;
  members: number;
}

/**
 * The shared poll clocks of one watcher, by interval: one per interval,
 * followed by every job polled at it. Made with `new Map()` by its owner (no
 * module-level state) and changed only through the functions below.
 */
export type SharedClocks = Map<number, SharedClock>;

/** Follows the clock of `interval`, starting it at `anchor` when nobody follows it yet. */
export function joinClock(clocks: SharedClocks, interval: number, anchor: number): void {
  const clock = clocks.get(interval);
  if (clock) clock.members += 1;
  else clocks.set(interval, { anchor, members: 1 });
}

/** Stops following the clock of `interval`; the last member to leave stops the clock. */
export function leaveClock(clocks: SharedClocks, interval: number): void {
  const clock = clocks.get(interval);
  if (clock && --clock.members <= 0) clocks.delete(interval);
}

/**
 * When a job polled every `interval`, read at `t`, is due next: one interval
 * from `t` for the first job of the interval (its clock starts then); for the
 * others, the clock's next tick at least half an interval away, so jobs
 * mounted at different moments converge on one round per interval.
 */
export function nextTick(clocks: SharedClocks, interval: number, t: number): number {
  const clock = clocks.get(interval);
  if (!clock || interval === 0) return t + interval;
  return clock.anchor + Math.ceil((t + interval / 2 - clock.anchor) / interval) * interval;
}

/**
 * Plans first reads: a job first watched at `t` is read at once when no first
 * read went out in the last {@link FIRST_READ_WINDOW_MS}, else with the next
 * first-read round, one window after the last. So a lone mount is read at
 * once, and N mounts spread over D ms cost at most D / window + 1 rounds,
 * each waiting at most one window.
 */
export function createFirstReadPlanner(): (t: number) => number {
  let roundAt = -Infinity;
  return (t) => {
    // A first-read round still to come: join it.
    if (roundAt >= t) return roundAt;
    roundAt = t - roundAt < FIRST_READ_WINDOW_MS ? roundAt + FIRST_READ_WINDOW_MS : t;
    return roundAt;
  };
}
