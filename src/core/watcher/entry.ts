import { isNewerJob } from '../../contract/ordering';
import type { Job } from '../../contract/types';
import type { Failing } from './backoff';
import type { Pushable } from './push';
import type { Readable } from './reads';
import type { Planned } from './schedule';
import type { Published } from './snapshots';
import type { JobCache, JobSnapshot, WatchOptions } from './types';

/** How many offered-but-unwatched jobs the watcher remembers as fresh. */
const MAX_OFFERED = 1000;

/**
 * One `watch` call: the getter of its current options, read again at every
 * scheduling decision (so inline options never restart watching). A new
 * function per call, so each call is its own registration.
 */
export type Registration = () => WatchOptions;

/**
 * Everything the watcher keeps about one job id: each unit's part of it
 * (planned reads, the read in flight, push, failures, the snapshot), and what
 * the facade itself keeps below.
 */
export interface Entry extends Planned, Readable, Pushable, Failing, Published {
  /** The job id. */
  readonly id: string;
  /** The `watch` calls not yet released: the job is watched while there is one. */
  registrations: Set<Registration>;
  /** A read came due while paused: read as soon as the pause ends. */
  missedPoll: boolean;
  /** When the job was last known fresh (read, pushed or offered), or `-Infinity` (never). */
  freshAt: number;
  /** An answer (a read or a push) arrived since the job started being watched. */
  answered: boolean;
  /** An explicit refresh held back by `Retry-After`: read when due, watched or not, paused or not. */
  forced: boolean;
  /** A start is queued for the next microtask (lets StrictMode's unmount/remount cost one request). */
  starting: boolean;
  /** Releases the cache entry `JobCache.retain` kept alive while watched. */
  releaseCache: (() => void) | null;
}

/** The entries of one watcher, created on demand and dropped once nothing uses them. */
export interface Entries {
  /** The entry of `id`, created (from the cache) when there is none. */
  get(id: string): Entry;
  /** Every entry by id, oldest first. */
  readonly all: ReadonlyMap<string, Entry>;
  /** Forgets the entry when nothing watches, listens to, reads or waits for it. */
  drop(entry: Entry): void;
  /** Keeps a job nobody watches in the cache (if newer), remembered as fresh for a watch right after. */
  offer(job: Job): void;
}

/** Creates the entries of one watcher over `cache`; `idle` gives a new entry its first snapshot. */
export function createEntries(cache: JobCache, idle: (job: Job | undefined) => JobSnapshot): Entries {
  const entries = new Map<string, Entry>();
  /** Jobs offered before anyone watched them: when, for freshness. Bounded. */
  const offeredAt = new Map<string, number>();
  return {
    get(id) {
      let entry = entries.get(id);
      if (!entry) {
        const job = cache.get(id);
        entry = newEntry(id, job, offeredAt.get(id) ?? -Infinity, idle(job));
        entries.set(id, entry);
        offeredAt.delete(id);
      }
      return entry;
    },
    all: entries,
    drop(entry) {
      if (!entry.registrations.size && !entry.listeners.size && !entry.read && !entry.waiters.length) entries.delete(entry.id);
    },
    offer(job) {
      if (isNewerJob(cache.get(job.id), job)) cache.set(job.id, job);
      offeredAt.delete(job.id);
      offeredAt.set(job.id, Date.now());
      if (offeredAt.size > MAX_OFFERED) offeredAt.delete(offeredAt.keys().next().value as string);
    },
  };
}

/** A new, unwatched entry showing `job` (from the cache), known fresh since `freshAt`. */
export function newEntry(id: string, job: Job | undefined, freshAt: number, snapshot: JobSnapshot): Entry {
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

/** The default {@link JobCache}: a Map owned by one watcher. */
export function mapCache(): JobCache {
  const jobs = new Map<string, Job>();
  return { get: (id) => jobs.get(id), set: (id, job) => void jobs.set(id, job) };
}
