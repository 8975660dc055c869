import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import type { JobWatcher, WatchHandle, WatchOptions } from '../core/createJobWatcher';
import { JobFailedError } from '../contract/errors';
import { isTerminal } from '../contract/states';
import type { Job } from '../contract/types';
import { useJobContext } from './JobClientProvider';
import { outputResume } from './outputResume';
import { fillOutputResume, trackedJobsStores, type JobIdStorage } from './trackedJobsStore';
import type { PollInterval } from './types';
import { useIsomorphicLayoutEffect } from './useIsomorphicLayoutEffect';

export { MAX_TRACKED_JOBS, type JobIdStorage } from './trackedJobsStore';

/** Options of {@link useTrackedJobs}. Inline callbacks never restart watching; the latest one is called. */
export interface UseTrackedJobsOptions {
  /**
   * Where the ids are kept, under `jobwatch:tracked:<key>`. Default:
   * `localStorage` when the browser has one, else memory (lost on reload).
   * Pass a stable object (not a new one every render). Another tab's changes
   * are followed through the `storage` event of `localStorage`/`sessionStorage`.
   */
  storage?: JobIdStorage;
  /** How often each tracked job is polled, as in `useJobStatus`. Default 2000. */
  pollInterval?: PollInterval;
  /**
   * Remove an id once its job is settled (completed, failed, cancelled) or
   * watching it ended (not found, unauthorized) and this hook's callbacks ran.
   * Set `false` to keep it until you call `untrack`. Default `true`.
   */
  removeOnSettled?: boolean;
  /** Called once per tracked id when its job is first seen `completed` — also after a reload, for a job that finished while the page was closed. */
  onComplete?: (job: Job) => void;
  /** Called once per tracked id when watching ends badly: `JobFailedError` (the job failed), `JobNotFoundError` or `JobUnauthorizedError`. */
  onError?: (error: Error, job?: Job) => void;
  /** Called once per tracked id when its job is first seen terminal (completed, failed or cancelled). */
  onSettled?: (job: Job) => void;
}

/** What {@link useTrackedJobs} returns. */
export interface UseTrackedJobsResult {
  /** The tracked job ids, oldest first. `[]` on the server and during hydration. */
  ids: readonly string[];
  /** Starts tracking `id` (no-op if tracked already). Past {@link MAX_TRACKED_JOBS} ids, the oldest is forgotten. */
  track(id: string): void;
  /** Stops tracking `id`. */
  untrack(id: string): void;
  /** Stops tracking every id of this key. */
  clear(): void;
}

const EMPTY: readonly string[] = Object.freeze([]);
const getServerIds = () => EMPTY;
const getServerDone = () => '[]';

/** Ids whose watching is over (terminal job or fatal error), as a string so the snapshot compares by value. */
function doneIds(watcher: JobWatcher, ids: readonly string[]): string {
  const done = ids.filter((id) => {
    const snapshot = watcher.getSnapshot(id);
    // An optimistic guess (a cancel the server has not confirmed) is not an ending yet.
    return (isTerminal(snapshot.job) && !snapshot.optimistic) || snapshot.fatal;
  });
  return JSON.stringify(done);
}

/**
 * The job ids the app is waiting for, kept across reloads: start a job, call
 * `track(id)`, and after a reload the id is still there and still watched.
 *
 * Every tracked id is watched (through the provider's shared watcher, so a
 * `<JobStatus>` for the same id costs no extra request). When a job settles —
 * also one that settled while the page was closed — the callbacks run once,
 * then the id is removed. Removal happens after the effects of the same
 * render, so components showing the id (e.g. `<JobStatus onComplete>`) see
 * the final state and run their callbacks before they go.
 *
 * The list lives in `storage` under `jobwatch:tracked:<key>` as a JSON array;
 * hooks with the same storage and key share it, in this tab (whichever
 * provider) and in other tabs (the `storage` event). Malformed content reads
 * as empty. At most {@link MAX_TRACKED_JOBS} ids are kept. On the server the
 * list is `[]` and storage is not touched.
 *
 * @param key names the list, e.g. `'exports'` or `` `project:${projectId}` ``.
 * @example
 * const { ids, track } = useTrackedJobs('exports', { onComplete: () => refetchFiles() });
 * const start = async () => track((await api.startExport()).jobId);
 * return ids.map((id) => <JobStatus key={id} jobId={id} />);
 */
export function useTrackedJobs(key: string, options: UseTrackedJobsOptions = {}): UseTrackedJobsResult {
  const { watcher, local } = useJobContext();
  const storageOption = options.storage;
  // Where there is no localStorage, the ids live in memory, one storage per provider.
  // Also where `useJobOutput` keeps the last output part shown of a tracked id; filled during
  // render, so an output hook's first effect (children's run first) already resumes.
  const store = useMemo(() => {
    const stores = local(trackedJobsStores);
    fillOutputResume(local(outputResume), stores);
    return stores(storageOption, key);
  }, [local, storageOption, key]);
  const ids = useSyncExternalStore(store.subscribe, store.getSnapshot, getServerIds);

  const optionsRef = useRef(options);
  useIsomorphicLayoutEffect(() => {
    optionsRef.current = options;
  });

  // Watch every tracked id; added and removed ids only, so the others keep their schedule.
  const handles = useRef(new Map<string, WatchHandle>());
  useEffect(() => {
    const watched = handles.current;
    return () => {
      for (const handle of watched.values()) handle.release();
      watched.clear();
    };
  }, [watcher]);
  useEffect(() => {
    const watched = handles.current;
    const wanted = new Set(ids);
    for (const [id, handle] of watched) {
      if (wanted.has(id)) continue;
      handle.release();
      watched.delete(id);
    }
    for (const id of wanted) {
      if (watched.has(id)) continue;
      watched.set(
        id,
        watcher.watch(id, (): WatchOptions => ({ pollInterval: optionsRef.current.pollInterval as WatchOptions['pollInterval'] })),
      );
    }
  }, [watcher, ids]);

  const interval = typeof options.pollInterval === 'function' ? 'fn' : options.pollInterval;
  const firstRun = useRef(true);
  useEffect(() => {
    if (firstRun.current) {
      firstRun.current = false;
      return;
    }
    for (const handle of handles.current.values()) handle.update();
  }, [interval]);

  const subscribeJobs = useCallback(
    (listener: () => void) => {
      const stops = ids.map((id) => watcher.subscribe(id, listener));
      return () => stops.forEach((stop) => stop());
    },
    [watcher, ids],
  );
  const done = useSyncExternalStore(subscribeJobs, () => doneIds(watcher, ids), getServerDone);

  // Ids whose callbacks ran, per hook instance; forgotten once the id is active again or untracked.
  const handled = useRef(new Set<string>());
  useEffect(() => {
    const finished: string[] = JSON.parse(done);
    for (const id of handled.current) if (!finished.includes(id)) handled.current.delete(id);
    if (finished.length === 0) return;
    const o = optionsRef.current;
    for (const id of finished) {
      if (handled.current.has(id)) continue;
      handled.current.add(id);
      const { job, error, fatal } = watcher.getSnapshot(id);
      if (job && isTerminal(job)) {
        if (job.status === 'completed') o.onComplete?.(job);
        if (job.status === 'failed') o.onError?.(new JobFailedError(job), job);
        o.onSettled?.(job);
      } else if (fatal && error) {
        o.onError?.(error, job);
      }
    }
    if (o.removeOnSettled !== false) store.untrack(finished);
  }, [done, watcher, store]);

  const actions = useMemo(
    () => ({
      track: (id: string) => store.track(id),
      untrack: (id: string) => store.untrack(id),
      clear: () => store.clear(),
    }),
    [store],
  );
  return useMemo(() => ({ ids, ...actions }), [ids, actions]);
}
