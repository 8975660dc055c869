import { isTerminal } from '../../contract/states';
import { isNewerJob, jsonEqual } from '../../contract/ordering';
import type { Job } from '../../contract/types';
import type { Entry } from './entry';
import { isWatched } from './policy';
import type { JobCache, JobWatcherOptions } from './types';

/** How new job data reaches an entry: kept only if newer (semantic 4), stored in the cache, announced. */
export interface Merge {
  /** Applies a job read or pushed if it is newer and differs; returns whether it was. */
  accept(entry: Entry, job: Job): boolean;
  /** Sets a job as it is (see `JobWatcher.replace`); `announce` tells the status-change and settled callbacks. */
  show(entry: Entry, job: Job, announce: boolean): void;
  /** The entry's job was just confirmed by the server: the first time since it is watched, says so. */
  answered(entry: Entry): void;
}

/**
 * Creates the merging of one watcher over `cache`: `settle` is told of a
 * watched job seen terminal, `options` gives the status-change and first-seen callbacks.
 */
export function createMerge(
  cache: JobCache,
  settle: (job: Job) => void,
  options: Pick<JobWatcherOptions, 'onJobStatusChange' | 'onJobFirstSeen'>,
): Merge {
  function show(entry: Entry, job: Job, announce: boolean): void {
    const previous = entry.job;
    entry.job = job;
    entry.optimistic = !announce;
    cache.set(entry.id, job);
    if (!announce) return;
    if (previous?.status !== job.status) options.onJobStatusChange?.(job, previous);
    // Settling is about watched jobs: a finished row offered by a list must not toast.
    if (isTerminal(job) && isWatched(entry)) settle(job);
  }
  return {
    accept(entry, job) {
      // Keep the old object when nothing changed, so nothing re-renders.
      if (!isNewerJob(entry.job, job) || (entry.job && jsonEqual(entry.job, job))) return false;
      entry.freshAt = Date.now();
      show(entry, job, true);
      return true;
    },
    show,
    answered(entry) {
      if (entry.answered || !isWatched(entry) || !entry.job) return;
      entry.answered = true;
      options.onJobFirstSeen?.(entry.job);
    },
  };
}
