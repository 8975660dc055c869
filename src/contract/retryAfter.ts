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

/**
 * Parses `Retry-After` (seconds or an HTTP date) into ms from now; `undefined`
 * when absent or invalid. Clamped to `MAX_RETRY_AFTER_MS` (one hour): a server
 * asking for longer is waited on for an hour, never a `setTimeout` overflow.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return clampRetryAfter(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : clampRetryAfter(date - now);
}
