import { JobTransportError } from '../errors';
import { clampRetryAfter } from '../retryAfter';

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
