import { isFatalJobError } from './errors';
import { isTerminal } from './isTerminal';
import { isNewerJob, jsonEqual } from './mergeJob';
import { parseJob } from './parseJob';
import { isValidJobId, MAX_IDS_PER_REQUEST } from './restContract';
import type { Job } from './types';
import { jittered, retryAfterOf, retryDelay, timerDelay } from './watcher/backoff';
import { COALESCE_MS, createFirstReadPlanner, createSharedClocks, FIRST_READ_WINDOW_MS } from './watcher/clock';
import { EMPTY_SNAPSHOT, mapCache, newEntry, type Entry, type Read, type Registration } from './watcher/entry';
import { browserEnvironment } from './watcher/environment';
import { answersOf, requestStatuses } from './watcher/reads';
import {
  DEFAULT_POLL_INTERVAL,
  DEFAULT_SAFETY_POLL_INTERVAL,
  type JobSnapshot,
  type JobWatcher,
  type JobWatcherEnvironment,
  type JobWatcherOptions,
  type WatchConnection,
  type WatchHandle,
  type WatchOptions,
} from './watcher/types';

export { MAX_BACKOFF_MS } from './watcher/backoff';
export { EMPTY_SNAPSHOT } from './watcher/entry';
export * from './watcher/types';

/** How many offered-but-unwatched jobs the watcher remembers as fresh. */
const MAX_OFFERED = 1000;

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
 */
export function createJobWatcher(options: JobWatcherOptions): JobWatcher {
  let client = options.client;
  const cache = options.cache ?? mapCache();
  const random = options.random ?? Math.random;
  const safetyPollInterval = options.safetyPollInterval ?? DEFAULT_SAFETY_POLL_INTERVAL;
  const maxBatchSize = Math.max(1, options.maxBatchSize ?? MAX_IDS_PER_REQUEST);
  const entries = new Map<string, Entry>();
  const settled = new Set<string>();
  // Snapshots of jobs nobody watches, keyed by the job so they stay stable without an entry.
  const idleSnapshots = new WeakMap<Job, JobSnapshot>();
  const clocks = createSharedClocks();
  let environment: JobWatcherEnvironment | null | undefined = options.environment;
  let stopEnvironment: (() => void) | null = null;
  let watchedCount = 0;
  let wasActive = true;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let timerAt = Infinity;
  let planQueued = false;
  const settledListeners = new Set<(job: Job) => void>();
  /** Jobs offered by `ingest` before anyone watched them: when, for freshness. Bounded. */
  const offeredAt = new Map<string, number>();
  let hiddenPollInterval: number | false = false;
  /** How many entries have a read planned (`dueAt` set). */
  let planned = 0;
  const firstReads = createFirstReadPlanner();
  /** No read goes out before this time (ms): the latest `Retry-After` asked for it, whatever the trigger. */
  let quietUntil = -Infinity;

  const now = () => Date.now();

  function env(): JobWatcherEnvironment | null {
    if (environment === undefined) environment = browserEnvironment();
    return environment;
  }

  /** Whether the page is visible and online (or there is no environment to say otherwise). */
  function isActive(): boolean {
    const e = env();
    return !e || (e.isOnline() && e.isVisible());
  }

  /** Whether any watcher of the entry asks for this (read from its current options). */
  function anyWatcher(entry: Entry, asks: (options: WatchOptions) => unknown): boolean {
    for (const r of entry.registrations) if (asks(r.options())) return true;
    return false;
  }

  function pollsWhenHidden(entry: Entry): boolean {
    return anyWatcher(entry, (o) => o.pollWhenHidden);
  }

  function isPaused(entry: Entry): boolean {
    const e = env();
    if (!e) return false;
    if (!e.isOnline()) return true;
    return !e.isVisible() && hiddenPollInterval === false && !pollsWhenHidden(entry);
  }

  /** The shortest interval any watcher of the entry asks for, or `false` for none. */
  function intervalOf(entry: Entry): number | false {
    let best: number | false = false;
    for (const r of entry.registrations) {
      const p = r.options().pollInterval ?? DEFAULT_POLL_INTERVAL;
      const ms = typeof p === 'function' ? p(entry.job) : p;
      if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 && (best === false || ms < best)) best = ms;
    }
    return best;
  }

  /** The interval actually polled at: the safety poll while push is healthy. */
  function effectiveInterval(entry: Entry): number | false {
    let interval = intervalOf(entry);
    if (interval === false) return false;
    if (entry.live) interval = Math.max(interval, safetyPollInterval);
    if (hiddenPollInterval !== false) {
      // Slowed down (not paused) while hidden: see `setHiddenPollInterval`.
      const e = env();
      if (e && !e.isVisible() && !pollsWhenHidden(entry)) interval = Math.max(interval, hiddenPollInterval);
    }
    return interval;
  }

  function connectionOf(entry: Entry): WatchConnection {
    if (!isWatched(entry) || isTerminal(entry.job)) return entry.fatal ? 'error' : 'idle';
    if (entry.fatal || entry.error) return 'error';
    if (entry.live) return 'live';
    if (isPaused(entry)) return 'paused';
    return intervalOf(entry) === false && !entry.read ? 'idle' : 'polling';
  }

  /** Rebuilds the snapshot and tells listeners when anything visible changed. */
  function publish(entry: Entry): void {
    const prev = entry.snapshot;
    const connection = connectionOf(entry);
    if (
      prev.job === entry.job &&
      prev.error === entry.error &&
      prev.fatal === entry.fatal &&
      prev.connection === connection &&
      (prev.optimistic ?? false) === entry.optimistic
    ) {
      return;
    }
    entry.snapshot = Object.freeze({
      job: entry.job,
      error: entry.error,
      fatal: entry.fatal,
      connection,
      ...(entry.optimistic ? { optimistic: true } : {}),
    });
    for (const listener of [...entry.listeners]) listener();
  }

  function idleSnapshot(job: Job | undefined): JobSnapshot {
    if (!job) return EMPTY_SNAPSHOT;
    let snapshot = idleSnapshots.get(job);
    if (!snapshot) {
      snapshot = Object.freeze({ job, error: null, fatal: false, connection: 'idle' as const });
      idleSnapshots.set(job, snapshot);
    }
    return snapshot;
  }

  function isWatched(entry: Entry): boolean {
    return entry.registrations.size > 0;
  }

  /** No read in flight nor planned. */
  function isIdle(entry: Entry): boolean {
    return !entry.read && entry.dueAt === null;
  }

  /** Forgets the last error and failures: the next read is on time again. */
  function clearError(entry: Entry): void {
    entry.error = null;
    entry.fatal = false;
    entry.failures = 0;
    // Only read while `failures` > 0, and set with every failure.
    entry.retryAfterMs = 0;
  }

  function getEntry(id: string): Entry {
    let entry = entries.get(id);
    if (!entry) {
      const job = cache.get(id);
      entry = newEntry(id, job, offeredAt.get(id) ?? null, idleSnapshot(job));
      entries.set(id, entry);
      offeredAt.delete(id);
    }
    return entry;
  }

  function dropIfUnused(entry: Entry): void {
    if (!isWatched(entry) && entry.listeners.size === 0 && !entry.read && entry.waiters.length === 0) {
      entries.delete(entry.id);
    }
  }

  // ---- the shared clock ---------------------------------------------------

  /** Plans the entry's next read at `dueAt`, optionally on the shared clock of `group`. */
  function plan(entry: Entry, dueAt: number | null, group: number | null = null): void {
    // Retry-After outranks every trigger (a refresh, visible again, back online, a remount).
    if (dueAt !== null && dueAt < quietUntil) dueAt = quietUntil;
    if (entry.group !== group) {
      if (entry.group !== null) clocks.leave(entry.group);
      if (group !== null) clocks.join(group, dueAt ?? now());
      entry.group = group;
    }
    if ((entry.dueAt === null) !== (dueAt === null)) planned += dueAt === null ? -1 : 1;
    entry.dueAt = dueAt;
    if (planned === 0) disarm();
    else queuePlan();
  }

  /** Nothing planned: no timer may stay behind (e.g. right after the last unmount). */
  function disarm(): void {
    if (timer !== null) clearTimeout(timer);
    timer = null;
    timerAt = Infinity;
  }

  function mayRead(entry: Entry): boolean {
    return isWatched(entry) && !entry.fatal && !isTerminal(entry.job) && !entry.read;
  }

  /** After a read (or a change of options), plans the next one. */
  function schedule(entry: Entry): void {
    if (!mayRead(entry)) return plan(entry, null);
    const interval = effectiveInterval(entry);
    if (interval === false) return plan(entry, null);
    if (entry.failures > 0) return plan(entry, now() + backoff(entry, interval));
    plan(entry, clocks.next(interval, now()), interval);
  }

  /**
   * The first read of a newly watched job: within one batching window, not at
   * the next tick of its interval's clock (later polls follow the clock). A
   * round already planned within the window takes it along; otherwise it goes
   * at once, or with the next first-read round when one went out less than a
   * window ago, so mounts spread over time cost one read per window, not one each.
   */
  function scheduleFirst(entry: Entry): void {
    const interval = entry.live ? false : intervalOf(entry);
    // Just read (a list row, a push): no need to read it again before its interval is up.
    if (interval !== false && entry.job && entry.freshAt !== null && now() - entry.freshAt < interval) return schedule(entry);
    const t = now();
    let soonest = Infinity;
    for (const other of entries.values()) {
      if (other.dueAt !== null && other.dueAt >= t && other.dueAt < soonest) soonest = other.dueAt;
    }
    plan(entry, soonest <= t + FIRST_READ_WINDOW_MS ? soonest : firstReads(t));
  }

  /** Re-arms the single timer for the earliest due read, once per tick however many plans changed. */
  function queuePlan(): void {
    if (planQueued) return;
    planQueued = true;
    queueMicrotask(() => {
      planQueued = false;
      arm();
    });
  }

  function arm(): void {
    let earliest = Infinity;
    for (const entry of entries.values()) {
      if (entry.dueAt !== null && entry.dueAt < earliest) earliest = entry.dueAt;
    }
    if (earliest === timerAt && timer !== null) return;
    disarm();
    if (earliest === Infinity) return;
    timerAt = earliest;
    timer = setTimeout(
      () => {
        timer = null;
        timerAt = Infinity;
        runDue();
      },
      timerDelay(earliest - now()),
    );
  }

  /** Sends every read that is due now, together. */
  function runDue(): void {
    const t = now() + COALESCE_MS;
    const due: Entry[] = [];
    for (const entry of entries.values()) {
      if (entry.dueAt === null || entry.dueAt > t) continue;
      const forced = entry.forced;
      entry.forced = false;
      const readable = forced ? !entry.read && !isTerminal(entry.job) : mayRead(entry);
      if (!readable || (!forced && isPaused(entry))) {
        plan(entry, null);
        settleWaiters(entry);
        if (readable && !forced) {
          // Paused: read as soon as the pause ends.
          entry.missedPoll = true;
          publish(entry);
        }
        continue;
      }
      plan(entry, null, entry.group);
      due.push(entry);
    }
    if (due.length > 0) read(due);
    queuePlan();
  }

  /** Reads these jobs now: one `getStatuses` call per `maxBatchSize` ids when the client has it. */
  function read(list: Entry[]): void {
    const batchable: Entry[] = [];
    const single: Entry[] = [];
    // Ids outside the REST contract's rules are read alone, so one bad id cannot fail a whole batch.
    for (const e of list) (client.getStatuses && isValidJobId(e.id) ? batchable : single).push(e);
    if (batchable.length === 1) single.push(batchable.pop()!);
    for (let i = 0; i < batchable.length; i += maxBatchSize) startRead(batchable.slice(i, i + maxBatchSize));
    for (const entry of single) startRead([entry]);
  }

  function startRead(list: Entry[]): void {
    const r: Read = { controller: new AbortController(), entries: new Set(list), promise: Promise.resolve() };
    const signal = r.controller.signal;
    for (const entry of list) {
      entry.read = r;
      entry.missedPoll = false;
      publish(entry);
    }
    const c = client;
    const ids = list.map((e) => e.id);
    r.promise = Promise.resolve()
      .then(() => requestStatuses(c, ids, signal))
      .then(
        (batch) => finishRead(r, batch, null),
        (error: unknown) => finishRead(r, null, error),
      );
  }

  function finishRead(r: Read, batch: Parameters<typeof answersOf>[1], error: unknown): void {
    const members = [...r.entries];
    r.entries.clear();
    // Nobody waits for this read any more (e.g. it was aborted): nothing to apply.
    if (members.length === 0) return;
    const answers = answersOf(members.map((e) => e.id), batch, error);
    const failure = error !== null;
    // One jittered delay for the whole round, so its jobs retry together.
    let roundDelay: number | null = null;
    for (const entry of members) {
      if (entry.read !== r) continue;
      entry.read = null;
      const answer = answers.get(entry.id)!;
      if (!(answer instanceof Error)) {
        clearError(entry);
        accept(entry, answer);
        answered(entry);
      } else {
        entry.error = answer;
        if (isFatalJobError(answer)) {
          entry.fatal = true;
          stopPush(entry);
        } else {
          entry.failures += 1;
          entry.retryAfterMs = retryAfterOf(answer);
          holdOff(entry.retryAfterMs);
        }
      }
      if (isTerminal(entry.job)) stopPush(entry);
      if (failure && !entry.fatal) {
        const interval = effectiveInterval(entry);
        if (roundDelay === null && interval !== false) roundDelay = backoff(entry, interval);
        if (roundDelay !== null && mayRead(entry)) plan(entry, now() + roundDelay);
        else schedule(entry);
      } else {
        schedule(entry);
      }
      settleWaiters(entry);
      publish(entry);
      dropIfUnused(entry);
    }
  }

  /** Keeps every read (and new push subscription) back for `ms`: the server asked for it with `Retry-After`. */
  function holdOff(ms: number): void {
    if (ms > 0) quietUntil = Math.max(quietUntil, now() + ms);
  }

  function settleWaiters(entry: Entry): void {
    const waiters = entry.waiters;
    entry.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Resolves when the entry's next read is done (or its work stops). */
  function nextRead(entry: Entry): Promise<void> {
    return new Promise<void>((resolve) => entry.waiters.push(resolve));
  }

  /** Reads the entry as soon as possible (with whatever else is due); resolves when that read is done. */
  function readSoon(entry: Entry): Promise<void> {
    if (entry.read) return entry.read.promise;
    const done = nextRead(entry);
    plan(entry, now());
    return done;
  }

  /** Forgets the read in flight for this entry; aborts it when nobody else waits for it. */
  function abandonRead(entry: Entry): void {
    const r = entry.read;
    if (!r) return;
    entry.read = null;
    r.entries.delete(entry);
    if (r.entries.size === 0) r.controller.abort();
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

  /** The retry delay after transient errors, never sooner than the normal interval nor than Retry-After. */
  function backoff(entry: Entry, interval: number): number {
    return retryDelay(interval, entry.failures, entry.retryAfterMs, random);
  }

  // ---- merging ------------------------------------------------------------

  function settle(job: Job): void {
    if (settled.has(job.id)) return;
    settled.add(job.id);
    options.onJobSettled?.(job);
    for (const listener of [...settledListeners]) listener(job);
  }

  /** Applies a job if it is newer; returns whether it was. */
  function accept(entry: Entry, job: Job): boolean {
    if (!isNewerJob(entry.job, job)) return false;
    // Keep the old object when nothing changed, so nothing re-renders.
    if (entry.job && jsonEqual(entry.job, job)) return false;
    const previous = entry.job;
    entry.job = job;
    entry.freshAt = now();
    entry.optimistic = false;
    cache.set(entry.id, job);
    if (previous?.status !== job.status) options.onJobStatusChange?.(job, previous);
    // Settling is about watched jobs: a finished row offered by a list must not toast.
    if (isTerminal(job) && isWatched(entry)) settle(job);
    return true;
  }

  /** The entry's job was just confirmed by the server: the first time since it is watched, say so. */
  function answered(entry: Entry): void {
    if (entry.answered || !isWatched(entry) || !entry.job) return;
    entry.answered = true;
    options.onJobFirstSeen?.(entry.job);
  }

  // ---- push ---------------------------------------------------------------

  function stopPush(entry: Entry): void {
    if (entry.pushTimer !== null) {
      clearTimeout(entry.pushTimer);
      entry.pushTimer = null;
    }
    const unsubscribe = entry.unsubscribe;
    entry.unsubscribe = null;
    entry.live = false;
    unsubscribe?.();
  }

  /** Subscribes again in `ms` if the job is still watched then. */
  function retryPush(entry: Entry, ms: number): void {
    entry.pushTimer = setTimeout(() => {
      entry.pushTimer = null;
      if (isWatched(entry)) startPush(entry);
    }, timerDelay(ms));
  }

  /** Follows a change of the registrations' `live` options. */
  function syncPush(entry: Entry): void {
    if (wantsPush(entry)) startPush(entry);
    // Changes nothing when push is off (`live` is only set while subscribed).
    else stopPush(entry);
  }

  function wantsPush(entry: Entry): boolean {
    return !!client.subscribe && !entry.fatal && !isTerminal(entry.job) && anyWatcher(entry, (o) => o.live !== false);
  }

  /** Subscribes when push is wanted and possible; a failed subscription falls back to polling and retries with backoff. */
  function startPush(entry: Entry): void {
    if (entry.unsubscribe || entry.pushTimer !== null || !wantsPush(entry)) return;
    // A new subscription is a request too: it waits for Retry-After like the reads.
    if (now() < quietUntil) return retryPush(entry, quietUntil - now());
    let closed = false;
    let unsubscribe: (() => void) | undefined;
    const close = () => {
      closed = true;
      unsubscribe?.();
    };
    const unsubscribeOnce = () => {
      if (!closed) close();
    };
    const fail = (error: unknown) => {
      if (closed) return;
      if (entry.unsubscribe === unsubscribeOnce) entry.unsubscribe = null;
      close();
      const wasLive = entry.live;
      entry.live = false;
      if (isFatalJobError(error)) {
        entry.error = error as Error;
        entry.fatal = true;
        stop(entry);
        publish(entry);
        return;
      }
      entry.pushFailures += 1;
      holdOff(retryAfterOf(error));
      retryPush(entry, jittered(1000, entry.pushFailures, random));
      // Back to the normal interval until push recovers; read now if we were relying on push.
      if (wasLive) void readSoon(entry);
      else if (isIdle(entry)) schedule(entry);
      publish(entry);
    };
    entry.unsubscribe = unsubscribeOnce;
    try {
      unsubscribe = client.subscribe!(entry.id, {
        next(raw) {
          if (closed) return;
          let job: Job;
          try {
            job = parseJob(raw);
          } catch (error) {
            // A malformed push is a transient problem, like a malformed poll answer.
            entry.error = error as Error;
            publish(entry);
            return;
          }
          if (job.id !== entry.id) return;
          entry.pushFailures = 0;
          const becameLive = !entry.live;
          entry.live = true;
          if (entry.error && !entry.fatal) entry.error = null;
          const changed = accept(entry, job);
          answered(entry);
          if (isTerminal(entry.job)) stop(entry);
          else if ((becameLive || changed) && !entry.read) schedule(entry);
          publish(entry);
        },
        error: fail,
        disconnected() {
          // The client reconnects by itself; poll at the normal interval until push is back.
          if (closed || !entry.live) return;
          entry.live = false;
          void readSoon(entry);
          publish(entry);
        },
      });
    } catch (error) {
      fail(error);
    }
    if (closed) unsubscribe?.();
  }

  // ---- lifecycle ----------------------------------------------------------

  /** Starts work for a newly watched entry: nothing for a job known terminal. */
  function start(entry: Entry): void {
    if (entry.fatal || isTerminal(entry.job)) {
      if (isTerminal(entry.job)) settle(entry.job!);
    } else {
      startPush(entry);
      if (isPaused(entry)) entry.missedPoll = true;
      else scheduleFirst(entry);
    }
    publish(entry);
  }

  function onEnvironmentChange(): void {
    const active = isActive();
    const resumed = active && !wasActive;
    wasActive = active;
    for (const entry of entries.values()) {
      if (!isWatched(entry) || entry.fatal || isTerminal(entry.job)) continue;
      if (!isPaused(entry) && (resumed || entry.missedPoll)) {
        // Back to visible or online: one immediate refresh, all jobs in one round.
        entry.failures = 0;
        void readSoon(entry);
      }
      publish(entry);
    }
  }

  function watch(id: string, watchOptions: WatchOptions | (() => WatchOptions) = {}): WatchHandle {
    const entry = getEntry(id);
    const registration: Registration = {
      options: typeof watchOptions === 'function' ? watchOptions : () => watchOptions,
    };
    const first = !isWatched(entry);
    entry.registrations.add(registration);
    if (watchedCount++ === 0) {
      wasActive = isActive();
      stopEnvironment = env()?.subscribe(onEnvironmentChange) ?? null;
    }
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
      startPush(entry);
      if (isIdle(entry)) schedule(entry);
    }
    publish(entry);
    return {
      // A released registration has left the set (and never returns to it).
      release() {
        if (!entry.registrations.delete(registration)) return;
        if (--watchedCount === 0) {
          stopEnvironment?.();
          stopEnvironment = null;
        }
        if (!isWatched(entry)) {
          stop(entry);
          entry.releaseCache?.();
          entry.releaseCache = null;
          publish(entry);
          dropIfUnused(entry);
        } else {
          syncPush(entry);
          if (!entry.read) schedule(entry);
          publish(entry);
        }
      },
      update() {
        if (!entry.registrations.has(registration) || entry.starting) return;
        syncPush(entry);
        if (!entry.read) {
          if (entry.missedPoll && !isPaused(entry)) void readSoon(entry);
          else schedule(entry);
        }
        publish(entry);
      },
    };
  }

  return {
    watch,
    subscribe(id, listener) {
      const entry = getEntry(id);
      entry.listeners.add(listener);
      return () => {
        entry.listeners.delete(listener);
        dropIfUnused(entry);
      };
    },
    getSnapshot(id) {
      return entries.get(id)?.snapshot ?? idleSnapshot(cache.get(id));
    },
    refresh(id) {
      const entry = getEntry(id);
      if (isTerminal(entry.job)) return Promise.resolve();
      entry.fatal = false;
      entry.failures = 0;
      // An explicit refresh reads even a job nobody watches (e.g. a disabled hook's refetch).
      if (entry.read) return entry.read.promise;
      const done = nextRead(entry);
      if (now() < quietUntil) {
        // Held back by Retry-After like every other read; then read as asked.
        entry.forced = true;
        plan(entry, quietUntil, entry.group);
      } else {
        plan(entry, null);
        read([entry]);
      }
      return done;
    },
    ingest(job) {
      const entry = entries.get(job.id);
      if (!entry) {
        // Nobody watches it yet: keep it in the cache (if newer) for whoever asks
        // later, and remember it is fresh so a watch right after does not read it again.
        if (isNewerJob(cache.get(job.id), job)) cache.set(job.id, job);
        offeredAt.delete(job.id);
        offeredAt.set(job.id, now());
        if (offeredAt.size > MAX_OFFERED) offeredAt.delete(offeredAt.keys().next().value as string);
        return;
      }
      if (!accept(entry, job)) {
        if (entry.job && jsonEqual(entry.job, job)) entry.freshAt = now();
        return;
      }
      if (isTerminal(job)) stop(entry);
      else if (!entry.read) schedule(entry);
      publish(entry);
    },
    setClient(next) {
      client = next;
    },
    replace(job, replaceOptions) {
      const silent = replaceOptions?.silent === true;
      const entry = getEntry(job.id);
      const previous = entry.job;
      if (previous === job) return previous;
      entry.job = job;
      entry.optimistic = silent;
      cache.set(job.id, job);
      if (!silent && previous?.status !== job.status) options.onJobStatusChange?.(job, previous);
      if (isTerminal(job)) {
        if (!silent && isWatched(entry)) settle(job);
        stop(entry);
      } else {
        // Active again (a retry, or a rolled-back cancel): it may settle again.
        if (!silent) settled.delete(job.id);
        clearError(entry);
        if (isWatched(entry)) {
          abandonRead(entry);
          startPush(entry);
          schedule(entry);
        }
      }
      publish(entry);
      dropIfUnused(entry);
      return previous;
    },
    onSettled(listener) {
      settledListeners.add(listener);
      return () => void settledListeners.delete(listener);
    },
    setHiddenPollInterval(interval) {
      hiddenPollInterval = interval;
      // Re-plan every watched job under the new rule, then read at once what a pause held back.
      // (An entry still starting is left alone: its start plans its first read and push.)
      for (const entry of entries.values()) {
        if (!entry.read && !entry.starting && isWatched(entry)) schedule(entry);
      }
      onEnvironmentChange();
    },
  };
}
