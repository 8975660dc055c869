import { JobError, JobTransportError } from '../errors';
import type { Job } from '../types';
import type { JobCache, JobSnapshot, WatchOptions } from './types';

/** One `watch` call: its options are read again at every scheduling decision. */
export interface Registration {
  options: () => WatchOptions;
}

/** One read in flight: a `getStatuses` call for several jobs, or a `getStatus` call for one. */
export interface Read {
  readonly controller: AbortController;
  /** The jobs still waiting for this read; when it empties, the read is aborted. */
  readonly entries: Set<Entry>;
  promise: Promise<void>;
}

/** Everything the watcher keeps about one job id. */
export interface Entry {
  readonly id: string;
  job: Job | undefined;
  error: Error | null;
  fatal: boolean;
  failures: number;
  retryAfterMs: number;
  registrations: Set<Registration>;
  listeners: Set<() => void>;
  /** The read in flight for this job, if any: never more than one. */
  read: Read | null;
  /** When the next read is due (ms, `Date.now()` clock), or `null` when none is planned. */
  dueAt: number | null;
  /** The interval whose shared clock `dueAt` follows, or `null` (first read, backoff). */
  group: number | null;
  /** Callers of `refresh` waiting for the next read to finish. */
  waiters: Array<() => void>;
  /** A read came due while paused: read as soon as the pause ends. */
  missedPoll: boolean;
  /** When the job was last known fresh (read, pushed or offered), or `null`. */
  freshAt: number | null;
  /** The job shown is an unconfirmed guess (a silent replace). */
  optimistic: boolean;
  /** An answer (a read or a push) arrived since the job started being watched. */
  answered: boolean;
  /** An explicit refresh held back by `Retry-After`: read when due, watched or not, paused or not. */
  forced: boolean;
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

/** The snapshot of a job nobody watches and nothing holds (and of a hook given no job id). */
export const EMPTY_SNAPSHOT: JobSnapshot = /* @__PURE__ */ Object.freeze({ job: undefined, error: null, fatal: false, connection: 'idle' });

/** A new, unwatched entry showing `job` (from the cache), known fresh since `freshAt`. */
export function newEntry(id: string, job: Job | undefined, freshAt: number | null, snapshot: JobSnapshot): Entry {
  return {
    id,
    job,
    error: null,
    fatal: false,
    failures: 0,
    retryAfterMs: 0,
    registrations: new Set(),
    listeners: new Set(),
    read: null,
    dueAt: null,
    group: null,
    waiters: [],
    missedPoll: false,
    freshAt,
    optimistic: false,
    forced: false,
    answered: false,
    unsubscribe: null,
    live: false,
    pushFailures: 0,
    pushTimer: null,
    starting: false,
    releaseCache: null,
    snapshot,
  };
}

/** Anything untyped (a fetch TypeError, a thrown string) is a transport problem. */
export function toJobError(error: unknown): Error {
  if (error instanceof JobError) return error;
  return new JobTransportError(error instanceof Error ? error.message : String(error), { cause: error });
}

/** The default {@link JobCache}: a Map owned by one watcher. */
export function mapCache(): JobCache {
  const jobs = new Map<string, Job>();
  return { get: (id) => jobs.get(id), set: (id, job) => void jobs.set(id, job) };
}
