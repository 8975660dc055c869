import { isFatalJobError } from '../contract/errors';
import { isTerminal } from '../contract/states';
import { jsonEqual } from '../contract/ordering';
import { MAX_IDS_PER_REQUEST } from '../contract/limits';
import type { Job } from '../contract/types';
import { createBackoff } from './watcher/backoff';
import { createEntries, mapCache, type Entry, type Registration } from './watcher/entry';
import { createActivity } from './watcher/environment';
import { createMerge } from './watcher/merge';
import { connectionOf, effectiveInterval, intervalOf, isIdle, isWatched, mayRead, pollsWhenHidden, wantsPush } from './watcher/policy';
import { createPush, stopPush } from './watcher/push';
import { abandonRead, createReader, nextRead, settleWaiters } from './watcher/reads';
import { createScheduler } from './watcher/schedule';
import { createSnapshots } from './watcher/snapshots';
import {
  DEFAULT_SAFETY_POLL_INTERVAL,
  type JobWatcher,
  type JobWatcherOptions,
  type WatchHandle,
  type WatchOptions,
} from './watcher/types';

export { MAX_BACKOFF_MS } from './watcher/backoff';
export { EMPTY_SNAPSHOT } from './watcher/snapshots';
export * from './watcher/types';

/**
 * Creates the job watcher: one per provider, shared by every hook under it.
 *
 * It owns scheduling and merging so that watching N jobs costs about what
 * watching one costs:
 * - one read in flight per job, however many components watch it;
 * - reads due together go out as one `getStatuses` call when the client has
 *   it (split above `maxBatchSize`), with results and errors kept per job;
 * - a newly watched job is read within one 50 ms batching window, together
 *   with every job that started in it (never at the next tick of a clock);
 * - later polls follow one shared clock per interval, so N jobs cost one
 *   batch per interval, not N requests;
 * - push first: with the client's `subscribe`, polling drops to a slow safety
 *   poll while push is healthy and comes back when it fails;
 * - backoff with jitter after transient errors, pause while hidden or offline;
 * - a `Retry-After` (clamped to `MAX_RETRY_AFTER_MS`) holds back every read
 *   and new subscription until it has passed, whatever asks for one;
 * - state never goes backwards.
 *
 * Creating it touches no global and starts nothing, so it is safe during
 * server rendering.
 *
 * This is the facade that wires the units of `./watcher/`: the scheduler
 * (due times, shared clocks, first reads, the timer), the reader (batches,
 * reads in flight, answers per job), push (subscriptions, resubscribe
 * backoff), the backoff (failures, jitter, the `Retry-After` hold), the page's
 * activity (visibility, connectivity), the snapshots (listeners, settling),
 * merging (newer jobs only) and the entries; `./watcher/policy` says what a
 * job's watchers ask for. The facade decides what follows each event.
 */
export function createJobWatcher(options: JobWatcherOptions): JobWatcher {
  let client = options.client;
  const getClient = () => client;
  const cache = options.cache ?? mapCache();
  const safetyPollInterval = options.safetyPollInterval ?? DEFAULT_SAFETY_POLL_INTERVAL;
  const activity = createActivity(options.environment, onEnvironmentChange, pollsWhenHidden);
  const { paused } = activity;
  const backoff = createBackoff(options.random ?? Math.random);
  const { heldUntil } = backoff;
  const snapshots = createSnapshots<Entry>((entry) => connectionOf(entry, activity), options.onJobSettled);
  const { publish, settle } = snapshots;
  const { accept, show, answered } = createMerge(cache, settle, options);
  const entries = createEntries(cache, snapshots.idle);
  const { plan, ...clock } = createScheduler(entries.all, heldUntil, onDue);
  const readNow = createReader<Entry>(getClient, Math.max(1, options.maxBatchSize ?? MAX_IDS_PER_REQUEST), onRound);
  const push = createPush<Entry>(
    getClient,
    backoff,
    wantsPush,
    pushed,
    (entry, wasLive) => {
      // Push lost: read now if we were relying on it.
      if (wasLive) readSoon(entry);
      else if (isIdle(entry)) schedule(entry);
      publish(entry);
    },
    (entry, error, fatal) => {
      entry.error = error;
      if (fatal) {
        entry.fatal = true;
        stop(entry);
      }
      publish(entry);
    },
    (entry) => ({ pollInterval: intervalOf(entry) }),
  );

  const intervalFor = (entry: Entry) => effectiveInterval(entry, activity, safetyPollInterval);

  /** Forgets the last error and failures: the next read is on time again. */
  function clearError(entry: Entry): void {
    entry.error = null;
    entry.fatal = false;
    backoff.clear(entry);
  }

  /**
   * After a read (or a change of options), plans the next one; after failures,
   * `retryIn` says how long to wait when polled every `interval`.
   */
  function schedule(entry: Entry, retryIn = (interval: number) => backoff.delay(entry, interval)): void {
    const interval = mayRead(entry) && intervalFor(entry);
    if (interval === false) return plan(entry, null);
    if (entry.failures > 0) return plan(entry, Date.now() + retryIn(interval));
    plan(entry, clock.next(interval), interval);
  }

  /** The first read of a newly watched job: within one batching window (see `Scheduler.first`). */
  function scheduleFirst(entry: Entry): void {
    const interval = entry.live ? false : intervalOf(entry);
    // Just read (a list row, a push): no need to read it again before its interval is up.
    if (interval !== false && entry.job && Date.now() - entry.freshAt < interval) return schedule(entry);
    plan(entry, clock.first());
  }

  /** The timer fired: sends every read that is due now, together. */
  function onDue(due: Entry[]): void {
    const list: Entry[] = [];
    for (const entry of due) {
      const forced = entry.forced;
      entry.forced = false;
      // A forced read (a refresh held back by Retry-After) goes out watched or not, paused or not.
      const readable = forced ? !entry.read && !isTerminal(entry.job) : mayRead(entry);
      const missed = readable && !forced && paused(entry);
      if (readable && !missed) {
        plan(entry, null, entry.group);
        list.push(entry);
        continue;
      }
      plan(entry, null);
      settleWaiters(entry);
      if (missed) {
        // Paused: read as soon as the pause ends.
        entry.missedPoll = true;
        publish(entry);
      }
    }
    read(list);
  }

  function read(list: Entry[]): void {
    readNow(list);
    for (const entry of list) {
      entry.missedPoll = false;
      publish(entry);
    }
  }

  /** Applies one read's answers; a failed round retries together, after one jittered delay. */
  function onRound(failed: boolean) {
    let roundDelay: number | null = null;
    return (entry: Entry, answer: Job | Error) => {
      if (!(answer instanceof Error)) {
        clearError(entry);
        accept(entry, answer);
        answered(entry);
      } else {
        entry.error = answer;
        if (isFatalJobError(answer)) entry.fatal = true;
        else backoff.fail(entry, answer);
      }
      // Failed for good, or done: all work stops.
      if (entry.fatal || isTerminal(entry.job)) stop(entry);
      // The first job of a failed round to retry sets the delay for all of them.
      else schedule(entry, failed ? (interval) => (roundDelay ??= backoff.delay(entry, interval)) : undefined);
      settleWaiters(entry);
      publish(entry);
      entries.drop(entry);
    };
  }

  /** Reads the entry as soon as possible (with whatever else is due), unless a read is in flight. */
  function readSoon(entry: Entry): void {
    if (!entry.read) plan(entry, Date.now());
  }

  /** Stops all work for an entry: planned and in-flight reads, push. */
  function stop(entry: Entry): void {
    plan(entry, null);
    abandonRead(entry);
    entry.missedPoll = false;
    entry.forced = false;
    stopPush(entry);
    settleWaiters(entry);
  }

  /** The entry's job changed: a terminal job stops all work, else the next read is planned (unless one is in flight). */
  function follow(entry: Entry): void {
    if (isTerminal(entry.job)) stop(entry);
    else if (!entry.read) schedule(entry);
  }

  function pushed(entry: Entry, job: Job, becameLive: boolean): void {
    if (!entry.fatal) entry.error = null;
    const changed = accept(entry, job);
    answered(entry);
    // A terminal push is always a change (push stops with the first one).
    if (changed || becameLive) follow(entry);
    publish(entry);
  }

  /** Starts work for a newly watched entry: nothing for a job known terminal. */
  function start(entry: Entry): void {
    if (isTerminal(entry.job)) settle(entry.job!);
    else if (!entry.fatal) {
      push.start(entry);
      if (paused(entry)) entry.missedPoll = true;
      else scheduleFirst(entry);
    }
    publish(entry);
  }

  function onEnvironmentChange(): void {
    const resumed = activity.resumed();
    for (const entry of entries.all.values()) {
      if (!isWatched(entry) || entry.fatal || isTerminal(entry.job)) continue;
      if (!paused(entry) && (resumed || entry.missedPoll)) {
        // Back to visible or online: one immediate refresh, all jobs in one round.
        entry.failures = 0;
        readSoon(entry);
      }
      publish(entry);
    }
  }

  /** After a change of the registrations: push and the next read follow what they ask now. */
  function resync(entry: Entry, missed: boolean): void {
    push.sync(entry);
    if (!entry.read) {
      if (missed && entry.missedPoll && !paused(entry)) readSoon(entry);
      else schedule(entry);
    }
    publish(entry);
  }

  function watch(id: string, watchOptions: WatchOptions | (() => WatchOptions) = {}): WatchHandle {
    const entry = entries.get(id);
    const registration: Registration = () => (typeof watchOptions === 'function' ? watchOptions() : watchOptions);
    const first = !isWatched(entry);
    entry.registrations.add(registration);
    activity.retain();
    if (first) {
      entry.answered = false;
      entry.releaseCache = cache.retain?.(id) ?? null;
      if (!entry.starting) {
        entry.starting = true;
        queueMicrotask(() => {
          entry.starting = false;
          if (isWatched(entry) && isIdle(entry)) start(entry);
        });
      }
    } else if (!entry.starting) {
      push.start(entry);
      if (isIdle(entry)) schedule(entry);
    }
    publish(entry);
    return {
      // A released registration has left the set (and never returns to it).
      release() {
        if (!entry.registrations.delete(registration)) return;
        activity.release();
        if (isWatched(entry)) return resync(entry, false);
        stop(entry);
        entry.releaseCache?.();
        entry.releaseCache = null;
        publish(entry);
        entries.drop(entry);
      },
      update() {
        if (entry.registrations.has(registration) && !entry.starting) resync(entry, true);
      },
    };
  }

  return {
    watch,
    subscribe(id, listener) {
      const entry = entries.get(id);
      entry.listeners.add(listener);
      return () => {
        entry.listeners.delete(listener);
        entries.drop(entry);
      };
    },
    getSnapshot: (id) => entries.all.get(id)?.snapshot ?? snapshots.idle(cache.get(id)),
    refresh(id) {
      const entry = entries.get(id);
      if (isTerminal(entry.job)) return Promise.resolve();
      entry.fatal = false;
      entry.failures = 0;
      // An explicit refresh reads even a job nobody watches (e.g. a disabled hook's refetch).
      if (entry.read) return entry.read.promise;
      const done = nextRead(entry);
      if (Date.now() < heldUntil()) {
        // Held back by Retry-After like every other read; then read as asked.
        entry.forced = true;
        plan(entry, heldUntil(), entry.group);
      } else {
        plan(entry, null);
        read([entry]);
      }
      return done;
    },
    ingest(job) {
      const entry = entries.all.get(job.id);
      // Nobody watches it yet: kept for whoever asks later, fresh for a watch right after.
      if (!entry) return entries.offer(job);
      if (!accept(entry, job)) {
        if (entry.job && jsonEqual(entry.job, job)) entry.freshAt = Date.now();
        return;
      }
      follow(entry);
      publish(entry);
    },
    setClient(next) {
      client = next;
    },
    replace(job, replaceOptions) {
      const silent = replaceOptions?.silent === true;
      const entry = entries.get(job.id);
      const previous = entry.job;
      if (previous === job) return previous;
      show(entry, job, !silent);
      if (isTerminal(job)) stop(entry);
      else {
        // Active again (a retry, or a rolled-back cancel): it may settle again.
        if (!silent) snapshots.unsettle(job.id);
        clearError(entry);
        if (isWatched(entry)) {
          abandonRead(entry);
          push.start(entry);
          schedule(entry);
        }
      }
      publish(entry);
      entries.drop(entry);
      return previous;
    },
    onSettled: snapshots.onSettled,
    setHiddenPollInterval(interval) {
      activity.setHiddenPollInterval(interval);
      // Re-plan every watched job under the new rule, then read at once what a pause held back.
      // (An entry still starting is left alone: its start plans its first read and push.)
      for (const entry of entries.all.values()) {
        if (!entry.read && !entry.starting && isWatched(entry)) schedule(entry);
      }
      onEnvironmentChange();
    },
  };
}
