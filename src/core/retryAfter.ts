/**
 * The longest wait jobwatch honours from a `Retry-After` (or a `retryAfterMs`
 * on a `JobTransportError`): one hour. A longer value is clamped to it, so a
 * server asking for 25 days never overflows `setTimeout` (whose delays wrap
 * around past 2^31 − 1 ms and fire at once).
 */
export const MAX_RETRY_AFTER_MS = 3_600_000;

/** Clamps a requested wait to `0..MAX_RETRY_AFTER_MS`; `undefined` and non-numbers stay `undefined`. */
export function clampRetryAfter(ms: number | undefined): number | undefined {
  if (typeof ms !== 'number' || Number.isNaN(ms)) return undefined;
  return Math.min(Math.max(0, ms), MAX_RETRY_AFTER_MS);
}
