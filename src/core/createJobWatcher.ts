import { isAbortError, isFatalJobError, JobError, JobProtocolError, JobTransportError } from './errors';
import { isTerminal } from './isTerminal';
import { isNewerJob, jsonEqual } from './mergeJob';
import { parseJob } from './parseJob';
import type { Job, JobClient } from './types';

/** Default poll interval of a watched job, in ms. */
export const DEFAULT_POLL_INTERVAL = 2000;
/** Upper bound of the retry backoff after transient errors, in ms. */
export const MAX_BACKOFF_MS = 30_000;
/** While push is healthy, polling drops to this safety interval, in ms. */
export const DEFAULT_SAFETY_POLL_INTERVAL = 30_000;

/**
 * Where the watcher keeps job data. The React provider backs it with the
 * app's QueryClient (so `getQueryData(jobKeys.status(id))` works); without one
 * the watcher keeps jobs in a plain Map.
 */
export interface JobCache {
  /** The cached job, if any. */
  get(id: string): Job | undefined;
  /** Stores a newer job. */
  set(id: string, job: Job): void;
  /** Keeps the cached entry alive while the job is watched; returns the release function. */
  retain?(id: string): () => void;
}

/**
 * Page visibility and connectivity. The default reads `document` and
 * `navigator` (and is absent where they are, e.g. on a server).
 */
export interface JobWatcherEnvironment {
  /** Whether the page is visible. */
  isVisible(): boolean;
  /** Whether the browser believes it is online. */
  isOnline(): boolean;
  /** Calls `listener` whenever visibility or connectivity may have changed; returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
}

/** Options of {@link createJobWatcher}. */
export interface JobWatcherOptions {
  /** The client that reads jobs. Replace it later with {@link JobWatcher.setClient}. */
  client: JobClient;
  /** Where job data lives. Default: an in-memory Map owned by this watcher. */
  cache?: JobCache;
  /** Called once per job id for the watcher's whole life, when the job is first seen terminal. */
  onJobSettled?: (job: Job) => void;
  /** Called when a watched job is seen in a new status (not on progress alone); `previous` is undefined the first time. */
  onJobStatusChange?: (job: Job, previous: Job | undefined) => void;
  /** Visibility and connectivity source. Default: the browser's `document`/`navigator`; `null` disables pausing. */
  environment?: JobWatcherEnvironment | null;
  /** Source of jitter in [0, 1). Default `Math.random`. */
  random?: () => number;
  /** Poll interval while a push subscription is healthy, in ms. Default {@link DEFAULT_SAFETY_POLL_INTERVAL}. */
  safetyPollInterval?: number;
}

/** How one watcher (one hook or component) wants a job watched. Read again at every scheduling decision. */
export interface WatchOptions {
  /** Poll interval in ms, or `(job) => ms | false`. Default {@link DEFAULT_POLL_INTERVAL}. */
  pollInterval?: number | ((job: Job | undefined) => number | false);
  /** Keep polling while the page is hidden. Default `false`. */
  pollWhenHidden?: boolean;
  /** Prefer push (the client's `subscribe`) when available. Default `true`. */
  live?: boolean;
}

/** How a watched job is being kept fresh. See `JobConnection` in the React API. */
export type WatchConnection = 'idle' | 'polling' | 'live' | 'paused' | 'error';

/** What the watcher knows about one job. Immutable: a new object on every change. */
export interface JobSnapshot {
  /** The latest accepted job, kept through transient errors. */
  readonly job: Job | undefined;
  /** The last error, or `null` after a success. */
  readonly error: Error | null;
  /** Whether `error` ended watching (`JobNotFoundError`, `JobUnauthorizedError`). */
  readonly fatal: boolean;
  /** How the job is being kept fresh. */
  readonly connection: WatchConnection;
}

/** A registration made by {@link JobWatcher.watch}. */
export interface WatchHandle {
  /** Stops this registration; the job stops being watched when its last registration goes. */
  release(): void;
  /** Re-reads the options (e.g. after the poll interval changed) and reschedules. */
  update(): void;
}

/** The per-provider engine that schedules, fetches, merges and notifies. */
export interface JobWatcher {
  /** Starts watching `id` until the returned handle is released. Same id watched twice costs one poll. */
  watch(id: string, options?: WatchOptions | (() => WatchOptions)): WatchHandle;
  /** Calls `listener` whenever the snapshot of `id` changes; returns the unsubscribe function. */
  subscribe(id: string, listener: () => void): () => void;
  /** The current snapshot of `id` (stable while nothing changes). */
  getSnapshot(id: string): JobSnapshot;
  /** Fetches `id` now, deduplicated with a request in flight. A terminal job is not fetched again. */
  refresh(id: string): Promise<void>;
  /** Offers a job from elsewhere (push, cache write); kept only if newer than what is shown. */
  ingest(job: Job): void;
  /** Swaps the client; requests in flight finish on the old one. */
  setClient(client: JobClient): void;
}

interface Registration {
  options: () => WatchOptions;
}

interface Entry {
  readonly id: string;
  job: Job | undefined;
  error: Error | null;
  fatal: boolean;
  failures: number;
  retryAfterMs: number;
  registrations: Set<Registration>;
  listeners: Set<() => void>;
  request: AbortController | null;
  inFlight: Promise<void> | null;
  timer: ReturnType<typeof setTimeout> | null;
  /** A poll came due while paused: refresh as soon as the pause ends. */
  missedPoll: boolean;
  /** The push subscription's unsubscribe function, while subscribed. */
  unsubscribe: (() => void) | null;
  /** Push delivered since (re)subscribing: polling may drop to the safety interval. */
  live: boolean;
  /** Failed subscriptions in a row, for the resubscribe backoff. */
  pushFailures: number;
  pushTimer: ReturnType<typeof setTimeout> | null;
  /** A start is queued for the next microtask (lets StrictMode's unmount/remount cost one request). */
  starting: boolean;
  releaseCache: (() => void) | null;
  snapshot: JobSnapshot;
}

const EMPTY_SNAPSHOT: JobSnapshot = Object.freeze({ job: undefined, error: null, fatal: false, connection: 'idle' });

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function mapCache(): JobCache {
  const jobs = new Map<string, Job>();
  return { get: (id) => jobs.get(id), set: (id, job) => void jobs.set(id, job) };
}

function browserEnvironment(): JobWatcherEnvironment | null {
  if (typeof document === 'undefined' || typeof window === 'undefined') return null;
  return {
    isVisible: () => document.visibilityState !== 'hidden',
    isOnline: () => typeof navigator === 'undefined' || navigator.onLine !== false,
    subscribe(listener) {
      document.addEventListener('visibilitychange', listener);
      window.addEventListener('online', listener);
      window.addEventListener('offline', listener);
      return () => {
        document.removeEventListener('visibilitychange', listener);
        window.removeEventListener('online', listener);
        window.removeEventListener('offline', listener);
      };
    },
  };
}

/**
 * Creates the job watcher: one per provider, shared by every hook under it.
 * It owns scheduling (one request in flight per job, polls on an interval,
 * backoff after transient errors, pause while hidden), merging (state never
 * goes backwards) and subscribers. Creating it touches no global and starts
 * nothing, so it is safe during server rendering.
 */
export function createJobWatcher(options: JobWatcherOptions): JobWatcher {
  let client = options.client;
  const cache = options.cache ?? mapCache();
  const random = options.random ?? Math.random;
  const safetyPollInterval = options.safetyPollInterval ?? DEFAULT_SAFETY_POLL_INTERVAL;
  const entries = new Map<string, Entry>();
  const settled = new Set<string>();
  // Snapshots of jobs nobody watches, keyed by the job so they stay stable without an entry.
  const idleSnapshots = new WeakMap<Job, JobSnapshot>();
  let environment: JobWatcherEnvironment | null | undefined = options.environment;
  let stopEnvironment: (() => void) | null = null;
  let watchedCount = 0;
  let wasActive = true;

  function env(): JobWatcherEnvironment | null {
    if (environment === undefined) environment = browserEnvironment();
    return environment;
  }

  function isPaused(entry: Entry): boolean {
    const e = env();
    if (!e) return false;
    if (!e.isOnline()) return true;
    if (e.isVisible()) return false;
    for (const r of entry.registrations) if (r.options().pollWhenHidden) return false;
    return true;
  }

  function intervalOf(entry: Entry): number | false {
    let best: number | false = false;
    for (const r of entry.registrations) {
      const p = r.options().pollInterval ?? DEFAULT_POLL_INTERVAL;
      const ms = typeof p === 'function' ? p(entry.job) : p;
      if (typeof ms === 'number' && Number.isFinite(ms) && ms >= 0 && (best === false || ms < best)) best = ms;
    }
    return best;
  }

  function connectionOf(entry: Entry): WatchConnection {
    if (entry.registrations.size === 0 || isTerminal(entry.job)) return entry.fatal ? 'error' : 'idle';
    if (entry.fatal || entry.error) return 'error';
    if (entry.live) return 'live';
    if (isPaused(entry)) return 'paused';
    return intervalOf(entry) === false && !entry.inFlight ? 'idle' : 'polling';
  }

  /** Rebuilds the snapshot and tells listeners when anything visible changed. */
  function publish(entry: Entry): void {
    const prev = entry.snapshot;
    const connection = connectionOf(entry);
    if (prev.job === entry.job && prev.error === entry.error && prev.fatal === entry.fatal && prev.connection === connection) {
      return;
    }
    entry.snapshot = Object.freeze({ job: entry.job, error: entry.error, fatal: entry.fatal, connection });
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

  function getEntry(id: string): Entry {
    let entry = entries.get(id);
    if (!entry) {
      const job = cache.get(id);
      entry = {
        id,
        job,
        error: null,
        fatal: false,
        failures: 0,
        retryAfterMs: 0,
        registrations: new Set(),
        listeners: new Set(),
        request: null,
        inFlight: null,
        timer: null,
        missedPoll: false,
        unsubscribe: null,
        live: false,
        pushFailures: 0,
        pushTimer: null,
        starting: false,
        releaseCache: null,
        snapshot: idleSnapshot(job),
      };
      entries.set(id, entry);
    }
    return entry;
  }

  function dropIfUnused(entry: Entry): void {
    if (entry.registrations.size === 0 && entry.listeners.size === 0 && !entry.inFlight) entries.delete(entry.id);
  }

  function clearTimer(entry: Entry): void {
    if (entry.timer !== null) {
      clearTimeout(entry.timer);
      entry.timer = null;
    }
  }

  function stop(entry: Entry): void {
    clearTimer(entry);
    entry.request?.abort();
    entry.request = null;
    entry.inFlight = null;
    entry.missedPoll = false;
    stopPush(entry);
  }

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

  /** Follows a change of the registrations' `live` options. */
  function syncPush(entry: Entry): void {
    if (wantsPush(entry)) startPush(entry);
    else if (entry.unsubscribe || entry.pushTimer !== null) stopPush(entry);
  }

  function wantsPush(entry: Entry): boolean {
    if (!client.subscribe || entry.fatal || isTerminal(entry.job)) return false;
    for (const r of entry.registrations) if (r.options().live !== false) return true;
    return false;
  }

  /** Subscribes when push is wanted and possible; a failed subscription falls back to polling and retries with backoff. */
  function startPush(entry: Entry): void {
    if (entry.unsubscribe || entry.pushTimer !== null || !wantsPush(entry)) return;
    const subscribe = client.subscribe!.bind(client);
    let closed = false;
    const fail = (error: unknown) => {
      if (closed) return;
      closed = true;
      if (entry.unsubscribe === unsubscribeOnce) entry.unsubscribe = null;
      unsubscribe?.();
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
      const ceiling = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** entry.pushFailures);
      entry.pushTimer = setTimeout(() => {
        entry.pushTimer = null;
        if (entry.registrations.size > 0) startPush(entry);
      }, ceiling / 2 + (ceiling / 2) * random());
      // Back to the normal interval until push recovers; refresh now if we were relying on push.
      if (wasLive && !entry.inFlight) void fetchJob(entry);
      else if (!entry.inFlight && entry.timer === null) schedule(entry);
      publish(entry);
    };
    let unsubscribe: (() => void) | undefined;
    const unsubscribeOnce = () => {
      if (closed) return;
      closed = true;
      unsubscribe?.();
    };
    entry.unsubscribe = unsubscribeOnce;
    try {
      unsubscribe = subscribe(entry.id, {
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
          if (isTerminal(entry.job)) stop(entry);
          else if (becameLive || changed) schedule(entry);
          publish(entry);
        },
        error: fail,
        disconnected() {
          // The client reconnects by itself; poll at the normal interval until push is back.
          if (closed || !entry.live) return;
          entry.live = false;
          if (!entry.inFlight) void fetchJob(entry);
          publish(entry);
        },
      });
    } catch (error) {
      fail(error);
    }
    if (closed) unsubscribe?.();
  }

  /** Exponential backoff with equal jitter, never sooner than the normal interval nor than Retry-After. */
  function backoff(entry: Entry, interval: number): number {
    const base = Math.max(interval, 1000);
    const ceiling = Math.min(MAX_BACKOFF_MS, base * 2 ** entry.failures);
    const jittered = ceiling / 2 + (ceiling / 2) * random();
    return Math.max(jittered, entry.retryAfterMs);
  }

  function schedule(entry: Entry): void {
    clearTimer(entry);
    if (entry.registrations.size === 0 || entry.fatal || isTerminal(entry.job) || entry.inFlight) return;
    let interval = intervalOf(entry);
    if (interval === false) return;
    // Push carries the updates; a slow poll stays as a safety net.
    if (entry.live) interval = Math.max(interval, safetyPollInterval);
    const delay = entry.failures > 0 ? backoff(entry, interval) : interval;
    entry.timer = setTimeout(() => {
      entry.timer = null;
      if (isPaused(entry)) {
        entry.missedPoll = true;
        publish(entry);
        return;
      }
      void fetchJob(entry);
    }, delay);
  }

  function settle(job: Job): void {
    if (settled.has(job.id)) return;
    settled.add(job.id);
    options.onJobSettled?.(job);
  }

  /** Applies a job if it is newer; returns whether it was. */
  function accept(entry: Entry, job: Job): boolean {
    if (!isNewerJob(entry.job, job)) return false;
    // Keep the old object when nothing changed, so nothing re-renders.
    if (entry.job && jsonEqual(entry.job, job)) return false;
    const previous = entry.job;
    entry.job = job;
    cache.set(entry.id, job);
    if (previous?.status !== job.status) options.onJobStatusChange?.(job, previous);
    if (isTerminal(job)) settle(job);
    return true;
  }

  function fetchJob(entry: Entry): Promise<void> {
    if (entry.inFlight) return entry.inFlight;
    clearTimer(entry);
    entry.missedPoll = false;
    const controller = new AbortController();
    entry.request = controller;
    const current = () => entry.request === controller;
    const promise = Promise.resolve()
      .then(() => client.getStatus(entry.id, { signal: controller.signal }))
      .then(
        (raw) => {
          if (!current()) return;
          const job = parseJob(raw);
          if (job.id !== entry.id) throw new JobProtocolError('id', `must be "${entry.id}", the id that was asked for`);
          entry.failures = 0;
          entry.retryAfterMs = 0;
          entry.error = null;
          entry.fatal = false;
          accept(entry, job);
        },
      )
      .catch((error: unknown) => {
        if (!current() || isAbortError(error)) return;
        // Anything untyped (a fetch TypeError, a thrown string) is a transport problem.
        const err = error instanceof JobError ? error : new JobTransportError(errorMessage(error), { cause: error });
        entry.error = err;
        if (isFatalJobError(err)) {
          entry.fatal = true;
        } else {
          entry.failures += 1;
          entry.retryAfterMs = err instanceof JobTransportError ? (err.retryAfterMs ?? 0) : 0;
        }
      })
      .finally(() => {
        if (!current()) return;
        entry.request = null;
        entry.inFlight = null;
        schedule(entry);
        publish(entry);
        dropIfUnused(entry);
      });
    entry.inFlight = promise;
    publish(entry);
    return promise;
  }

  /** Starts work for a newly watched entry: fetch at once unless the job is known terminal. */
  function start(entry: Entry): void {
    if (entry.fatal || isTerminal(entry.job)) {
      if (entry.job && isTerminal(entry.job)) settle(entry.job);
      publish(entry);
      return;
    }
    startPush(entry);
    if (isPaused(entry)) {
      entry.missedPoll = true;
      publish(entry);
      return;
    }
    void fetchJob(entry);
  }

  function onEnvironmentChange(): void {
    const e = env();
    const active = !e || (e.isOnline() && e.isVisible());
    const resumed = active && !wasActive;
    wasActive = active;
    for (const entry of entries.values()) {
      if (entry.registrations.size === 0 || entry.fatal || isTerminal(entry.job)) continue;
      if (isPaused(entry)) {
        // Timers may stay; they notice the pause when they fire.
        publish(entry);
      } else if (resumed || entry.missedPoll) {
        // Back to visible or online: one immediate refresh.
        entry.failures = 0;
        void fetchJob(entry);
      } else {
        publish(entry);
      }
    }
  }

  function watch(id: string, watchOptions: WatchOptions | (() => WatchOptions) = {}): WatchHandle {
    const entry = getEntry(id);
    const registration: Registration = {
      options: typeof watchOptions === 'function' ? watchOptions : () => watchOptions,
    };
    const first = entry.registrations.size === 0;
    entry.registrations.add(registration);
    if (watchedCount++ === 0) {
      const e = env();
      wasActive = !e || (e.isOnline() && e.isVisible());
      stopEnvironment = e ? e.subscribe(onEnvironmentChange) : null;
    }
    if (first) {
      entry.releaseCache = cache.retain?.(id) ?? null;
      if (!entry.starting) {
        entry.starting = true;
        queueMicrotask(() => {
          entry.starting = false;
          if (entry.registrations.size > 0 && !entry.inFlight && entry.timer === null) start(entry);
        });
      }
    } else if (!entry.starting) {
      startPush(entry);
      if (!entry.inFlight && entry.timer === null) schedule(entry);
    }
    publish(entry);
    let released = false;
    return {
      release() {
        if (released) return;
        released = true;
        entry.registrations.delete(registration);
        if (--watchedCount === 0) {
          stopEnvironment?.();
          stopEnvironment = null;
        }
        if (entry.registrations.size === 0) {
          stop(entry);
          entry.releaseCache?.();
          entry.releaseCache = null;
          publish(entry);
          dropIfUnused(entry);
        } else {
          syncPush(entry);
          if (!entry.inFlight) schedule(entry);
          publish(entry);
        }
      },
      update() {
        if (released || entry.starting) return;
        syncPush(entry);
        if (entry.inFlight) return publish(entry);
        if (entry.missedPoll && !isPaused(entry)) void fetchJob(entry);
        else schedule(entry);
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
      return fetchJob(entry);
    },
    ingest(job) {
      const entry = entries.get(job.id);
      if (!entry) return;
      if (!accept(entry, job)) return;
      if (isTerminal(job)) stop(entry);
      else if (!entry.inFlight) schedule(entry);
      publish(entry);
    },
    setClient(next) {
      client = next;
    },
  };
}
