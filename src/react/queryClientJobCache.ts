import { QueryObserver, type QueryCacheNotifyEvent, type QueryClient } from '@tanstack/react-query';
import type { JobCache, JobWatcher } from '../core/createJobWatcher';
import { parseJob } from '../contract/parseJob';
import type { Job } from '../contract/types';
import { jobKeys as defaultKeys, type JobKeys } from './jobKeys';

/**
 * @internal A {@link JobCache} in a QueryClient, with the link that offers the
 * app's own writes of job data to the watcher.
 */
export interface QueryClientJobCache extends JobCache {
  /**
   * Lets the app drive jobs with its usual QueryClient calls: a job written with
   * `setQueryData`, fetched through `jobStatusQueryOptions` or hydrated from
   * server data (`HydrationBoundary`, `hydrate`) is offered to the watcher, so a
   * job already finished there is never read again; `invalidateQueries` on a
   * watched job refreshes it. The watcher's own writes (through `set`) are never
   * offered back to it: data flows one way. Returns the unsubscribe function.
   */
  connect(watcher: JobWatcher): () => void;
}

function statusId(event: QueryCacheNotifyEvent, jobKeys: JobKeys): string | null {
  const key = event.query.queryKey;
  return key.length === 3 && key[0] === jobKeys.all[0] && key[1] === 'status' && typeof key[2] === 'string' ? key[2] : null;
}

/** A {@link JobCache} that keeps jobs in the app's QueryClient under `jobKeys.status(id)` (or a scope's keys). */
export function queryClientJobCache(queryClient: QueryClient, jobKeys: JobKeys = defaultKeys): QueryClientJobCache {
  /** The id the watcher is writing right now: QueryCache events are synchronous, so those of this id are its own. */
  let writing: string | null = null;
  return {
    get: (id) => queryClient.getQueryData<Job>(jobKeys.status(id)),
    set(id, job) {
      const outer = writing;
      writing = id;
      try {
        queryClient.setQueryData(jobKeys.status(id), job);
      } finally {
        writing = outer;
      }
    },
    retain(id) {
      // A disabled observer marks the query as in use, so the cache keeps it
      // (and devtools show it) while the job is watched.
      const observer = new QueryObserver(queryClient, { queryKey: jobKeys.status(id), enabled: false });
      return observer.subscribe(() => {});
    },
    connect(watcher) {
      return queryClient.getQueryCache().subscribe((event) => {
        if (event.type !== 'updated' && event.type !== 'added') return;
        const id = statusId(event, jobKeys);
        if (id === null || id === writing) return;
        let data: unknown;
        if (event.type === 'added') {
          // Hydration builds a new query with its data already in place.
          data = event.query.state.data;
        } else if (event.action.type === 'invalidate') {
          // Only jobs someone observes are refetched, as React Query does for active queries.
          if (event.query.getObserversCount() > 0) void watcher.refresh(id);
          return;
        } else if (event.action.type === 'success') {
          data = event.action.data;
        } else if (event.action.type === 'setState') {
          // Hydration of newer server data into a query that already exists.
          data = event.action.state.data;
        }
        if (data === undefined) return;
        try {
          watcher.ingest(parseJob(data));
        } catch {
          // Not a job: leave the watcher's state alone.
        }
      });
    },
  };
}
