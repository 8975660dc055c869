import { JobTransportError } from '../../contract/errors';
import { clampRetryAfter } from '../../contract/retryAfter';

/** Upper bound of the retry backoff after transient errors, in ms. */
export const MAX_BACKOFF_MS = 30_000;

/** The longest delay `setTimeout` keeps (2^31 − 1 ms); a longer one fires at once. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/**
 * Exponential backoff with equal jitter: `base` doubled per failure up to
 * {@link MAX_BACKOFF_MS}, then half of that plus a `random()` share of the other half.
 */
export function jittered(base: number, failures: number, random: () => number): number {
  const ceiling = Math.min(MAX_BACKOFF_MS, base * 2 ** failures);
  return ceiling / 2 + (ceiling / 2) * random();
}

/**
 * The retry delay after `failures` transient errors in a row: never sooner
 * than the normal `interval` (at least 1 s) would back off to, nor than the
 * server's `retryAfterMs` (already clamped, see {@link retryAfterOf}).
 */
export function retryDelay(interval: number, failures: number, retryAfterMs: number, random: () => number): number {
  return Math.max(jittered(Math.max(interval, 1000), failures, random), retryAfterMs);
}

/** The wait an error asks for (a `JobTransportError`'s `retryAfterMs`), clamped by `clampRetryAfter`; 0 for none. */
export function retryAfterOf(error: unknown): number {
  return error instanceof JobTransportError ? (clampRetryAfter(error.retryAfterMs) ?? 0) : 0;
}

/** A delay `setTimeout` can hold: 0..{@link MAX_TIMER_DELAY_MS} (a later due time is re-armed when the timer fires). */
export function timerDelay(ms: number): number {
  return Math.min(MAX_TIMER_DELAY_MS, Math.max(0, ms));
}

/** What the backoff keeps on each job: its transient failures in a row and the last `Retry-After` asked. */
export interface Failing {
  /** Transient failures in a row; 0 after a success. */
  failures: number;
  /** The `Retry-After` of the last failure (ms, clamped), 0 for none; only read while `failures` > 0. */
  retryAfterMs: number;
}

/** The failure bookkeeping of one watcher: per-job retry delays and the `Retry-After` hold shared by every request. */
export interface Backoff {
  /** Counts a transient failure of `state` and holds every request back for the `Retry-After` it asks. */
  fail(state: Failing, error: unknown): void;
  /** Forgets the failures of `state`: its next read is on time again. */
  clear(state: Failing): void;
  /** The retry delay of `state` polled every `interval`: see {@link retryDelay}. */
  delay(state: Failing, interval: number): number;
  /** The wait before subscribing again after `failures` failed subscriptions in a row (1 s doubled, jittered). */
  resubscribeDelay(failures: number): number;
  /** Holds every request (reads and new subscriptions) back for `ms` from now: a server's `Retry-After`. */
  hold(ms: number): void;
  /** No request goes out before this time (ms): the latest `Retry-After` asked for it (semantic 11). */
  heldUntil(): number;
}

/** Creates the backoff of one watcher (`Date.now()` clock): `random` is its jitter source in [0, 1). */
export function createBackoff(random: () => number): Backoff {
  let quietUntil = -Infinity;
  const hold = (ms: number) => {
    if (ms > 0) quietUntil = Math.max(quietUntil, Date.now() + ms);
  };
  return {
    fail(state, error) {
      state.failures += 1;
      hold((state.retryAfterMs = retryAfterOf(error)));
    },
    clear(state) {
      state.failures = 0;
      state.retryAfterMs = 0;
    },
    delay: (state, interval) => retryDelay(interval, state.failures, state.retryAfterMs, random),
    resubscribeDelay: (failures) => jittered(1000, failures, random),
    hold,
    heldUntil: () => quietUntil,
  };
}
