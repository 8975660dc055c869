import { isTerminal } from '../../contract/states';
import type { Entry } from './entry';
import type { Activity } from './environment';
import { DEFAULT_POLL_INTERVAL, type WatchConnection, type WatchOptions } from './types';

/**
 * What a job's watchers ask for, read from their current options at every
 * decision, and what follows for the job (pure functions of the entry and the
 * page's activity).
 */

/** Whether anything watches the job. */
export const isWatched = (entry: Pick<Entry, 'registrations'>): boolean => entry.registrations.size > 0;

/** Whether any watcher of the entry asks for this (read from its current options). */
export function anyWatcher(entry: Pick<Entry, 'registrations'>, asks: (options: WatchOptions) => unknown): boolean {
  for (const options of entry.registrations) if (asks(options())) return true;
  return false;
}

/** The shortest interval any watcher of the entry asks for, or `false` for none. */
export function intervalOf(entry: Pick<Entry, 'registrations' | 'job'>): number | false {
  let best = Infinity;
  for (const options of entry.registrations) {
    const p = options().pollInterval ?? DEFAULT_POLL_INTERVAL;
    const ms = typeof p === 'function' ? p(entry.job) : p;
    // Not a number, negative, NaN or Infinity: not an interval.
    if (typeof ms === 'number' && ms >= 0 && ms < best) best = ms;
  }
  return best === Infinity ? false : best;
}

/** No read in flight nor planned. */
export const isIdle = (entry: Entry): boolean => !entry.read && entry.dueAt === null;

/** Whether a poll may read the job now: watched, not ended, nothing in flight. */
export const mayRead = (entry: Entry): boolean => isWatched(entry) && !entry.fatal && !isTerminal(entry.job) && !entry.read;

/** Whether the job should be pushed: watched with `live`, neither terminal nor failed for good. */
export const wantsPush = (entry: Entry): boolean =>
  !entry.fatal && !isTerminal(entry.job) && anyWatcher(entry, (o) => o.live !== false);

/** Whether any watcher of the job asks to keep polling while the page is hidden. */
export const pollsWhenHidden = (entry: Entry): boolean => anyWatcher(entry, (o) => o.pollWhenHidden);

/** The interval actually polled at: the safety poll while push is healthy, slower while hidden if asked. */
export function effectiveInterval(entry: Entry, activity: Activity<Entry>, safetyPollInterval: number): number | false {
  const interval = intervalOf(entry);
  if (interval === false) return false;
  const ms = entry.live ? Math.max(interval, safetyPollInterval) : interval;
  return activity.slowed(ms, entry);
}

/** How the job is being kept fresh right now. */
export function connectionOf(entry: Entry, activity: Activity<Entry>): WatchConnection {
  if (!isWatched(entry) || isTerminal(entry.job)) return entry.fatal ? 'error' : 'idle';
  if (entry.fatal || entry.error) return 'error';
  if (entry.live) return 'live';
  if (activity.paused(entry)) return 'paused';
  return intervalOf(entry) === false && !entry.read ? 'idle' : 'polling';
}
