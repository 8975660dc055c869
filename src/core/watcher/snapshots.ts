import type { Job } from '../../contract/types';
import type { JobSnapshot, WatchConnection } from './types';

/** The snapshot of a job nobody watches and nothing holds (and of a hook given no job id). */
export const EMPTY_SNAPSHOT: JobSnapshot = /* @__PURE__ */ Object.freeze({ job: undefined, error: null, fatal: false, connection: 'idle' });

/** What the snapshots unit reads and keeps on each job it publishes. */
export interface Published {
  /** The latest accepted job. */
  job: Job | undefined;
  /** The last error, `null` after a success. */
  error: Error | null;
  /** Whether `error` ended watching. */
  fatal: boolean;
  /** The job shown is an unconfirmed guess (a silent replace). */
  optimistic: boolean;
  /** The last snapshot published. */
  snapshot: JobSnapshot;
  /** Told whenever `snapshot` changes. */
  listeners: Set<() => void>;
}

/** Snapshots of one watcher's jobs, their listeners, and settling (once per job id). */
export interface Snapshots<E extends Published> {
  /** Rebuilds the job's snapshot and tells its listeners when anything visible changed. */
  publish(entry: E): void;
  /** The stable snapshot of a job nobody watches (keyed by the job object). */
  idle(job: Job | undefined): JobSnapshot;
  /** A job was first seen terminal: tells `onJobSettled` and the `onSettled` listeners, once per id. */
  settle(job: Job): void;
  /** The job is active again (a retry): it may settle again. */
  unsettle(id: string): void;
  /** Calls `listener` at every settle; returns the unsubscribe function. */
  onSettled(listener: (job: Job) => void): () => void;
}

/** Creates the snapshots unit: `connection` says how a job is being kept fresh right now. */
export function createSnapshots<E extends Published>(
  connection: (entry: E) => WatchConnection,
  onJobSettled?: (job: Job) => void,
): Snapshots<E> {
  const settled = new Set<string>();
  const listeners = new Set<(job: Job) => void>();
  // Snapshots of jobs nobody watches, keyed by the job so they stay stable without an entry.
  const idleSnapshots = new WeakMap<Job, JobSnapshot>();
  return {
    publish(entry) {
      const prev = entry.snapshot;
      const c = connection(entry);
      if (
        prev.job === entry.job &&
        prev.error === entry.error &&
        prev.fatal === entry.fatal &&
        prev.connection === c &&
        !prev.optimistic === !entry.optimistic
      ) {
        return;
      }
      entry.snapshot = Object.freeze({
        job: entry.job,
        error: entry.error,
        fatal: entry.fatal,
        connection: c,
        ...(entry.optimistic && { optimistic: true as const }),
      });
      for (const listener of [...entry.listeners]) listener();
    },
    idle(job) {
      if (!job) return EMPTY_SNAPSHOT;
      let snapshot = idleSnapshots.get(job);
      if (!snapshot) {
        snapshot = Object.freeze({ job, error: null, fatal: false, connection: 'idle' as const });
        idleSnapshots.set(job, snapshot);
      }
      return snapshot;
    },
    settle(job) {
      if (settled.has(job.id)) return;
      settled.add(job.id);
      onJobSettled?.(job);
      for (const listener of [...listeners]) listener(job);
    },
    unsettle: (id) => void settled.delete(id),
    onSettled(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
}
