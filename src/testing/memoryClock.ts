/**
 * The memory backend's clock: a base clock (default `Date.now`) plus whatever
 * `advance` added, and the timer helpers the backend schedules with.
 */

/** Browsers run longer timeouts at once; the backend treats such latencies as "never". */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** The clock of one memory backend. */
export interface BackendClock {
  /** The backend's current time in epoch ms: the base clock plus everything advanced. */
  now(): number;
  /** The ms advanced so far. Timers wait on the base clock, so due times are taken back by it. */
  offset(): number;
  /** Moves the clock forward by `ms`. Throws `RangeError` unless `ms` is a finite number ≥ 0. */
  advance(ms: number): void;
}

/**
 * Creates a backend clock over `baseNow` (default `Date.now`, looked up on every
 * call rather than captured, so fake timers installed later still move it).
 */
export function createBackendClock(baseNow: () => number = () => Date.now()): BackendClock {
  let offset = 0;
  return {
    now: () => baseNow() + offset,
    offset: () => offset,
    advance(ms: number): void {
      if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`advance() takes a finite number of ms ≥ 0, got ${ms}`);
      offset += ms;
    },
  };
}

/** An epoch-ms time as ISO 8601. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** A `createdAt` given as ISO 8601 or epoch ms, in epoch ms. Throws `RangeError` for anything else. */
export function toMs(value: string | number): number {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new RangeError(`createdAt must be an ISO 8601 string or epoch ms, got ${String(value)}`);
  return ms;
}

/** Runs `fn` in a microtask; a promise job, so it runs even when a test fakes `queueMicrotask`. */
export function microtask(fn: () => void): void {
  void Promise.resolve().then(fn);
}

/**
 * Runs `fn` after `ms` (in a microtask for 0); never for delays beyond a timer's range,
 * which browsers would otherwise treat as 0. Returns the cancel function.
 * The timer functions are read at call time, so fake timers installed later are used.
 */
export function later(ms: number, fn: () => void): () => void {
  if (!(ms > 0)) {
    let cancelled = false;
    microtask(() => {
      if (!cancelled) fn();
    });
    return () => {
      cancelled = true;
    };
  }
  if (ms > MAX_TIMER_MS) return () => {};
  const handle = globalThis.setTimeout(fn, ms);
  const clear = globalThis.clearTimeout;
  return () => clear(handle);
}
