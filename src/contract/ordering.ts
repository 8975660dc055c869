import { isTerminal } from './states';
import type { Job } from './types';

/**
 * Decides whether `incoming` may replace `current` (DESIGN semantic 4: state
 * never goes backwards). Ordered by `version` when both have one (equal
 * versions, e.g. progress within one attempt of a store that counts attempts,
 * compare as if there were none), else by `updatedAt`. A terminal job never
 * changes again; answers that say nothing new are dropped so nothing re-renders.
 */
export function isNewerJob(current: Job | undefined, incoming: Job): boolean {
  if (!current) return true;
  if (current === incoming || isTerminal(current)) return false;
  if (typeof current.version === 'number' && typeof incoming.version === 'number' && incoming.version !== current.version) {
    return incoming.version > current.version;
  }
  const before = Date.parse(current.updatedAt);
  const after = Date.parse(incoming.updatedAt);
  if (after !== before) return after > before;
  // Same timestamp and no version (coarse clocks, hand-written clients): take
  // any change that does not move the status backwards.
  return rank(incoming) >= rank(current) && !jsonEqual(current, incoming);
}

function rank(job: Job): number {
  return isTerminal(job) ? 2 : job.status === 'processing' ? 1 : 0;
}

/** Structural equality for JSON-like values (jobs, results, meta). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && jsonEqual((a as never)[k], (b as never)[k]));
}
