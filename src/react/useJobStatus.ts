import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import type { JobSnapshot, WatchOptions } from '../core/createJobWatcher';
import { JobFailedError } from '../core/errors';
import { isTerminal } from '../core/isTerminal';
import type { Job, JobState } from '../core/types';
import { useJobContext } from './JobClientProvider';
import type { UseJobStatusOptions, UseJobStatusResult } from './types';
import { useIsomorphicLayoutEffect } from './useIsomorphicLayoutEffect';

const IDLE: JobSnapshot = Object.freeze({ job: undefined, error: null, fatal: false, connection: 'idle' });
const noop = () => {};

/** Which callbacks already ran for one job id, per hook instance. */
interface Fired {
  status: JobState | undefined;
  settled: boolean;
  failedWatching: boolean;
}

/**
 * Watches one job: polls it (every 2 s by default) until it is completed,
 * failed or cancelled, and calls your callbacks once when it ends.
 *
 * Every component watching the same id shares one request; a late or older
 * answer never moves the state backwards; a transient error keeps the last
 * job and sets `error` while retries back off; a hidden tab pauses polling.
 * Options may be passed inline: new objects or callbacks every render never
 * restart watching, and the latest callback is always the one called.
 *
 * @param jobId the job to watch; `null`, `undefined` or `''` idles without a request.
 * @example
 * const { status, job, error } = useJobStatus(jobId, {
 *   onComplete: () => refetchImages(),
 *   onError: (error) => toast(error.message),
 * });
 */
export function useJobStatus<TResult = unknown>(
  jobId: string | null | undefined,
  options: UseJobStatusOptions<TResult> = {},
): UseJobStatusResult<TResult> {
  const { watcher } = useJobContext();
  const id = typeof jobId === 'string' && jobId !== '' ? jobId : null;
  const enabled = options.enabled !== false;

  const optionsRef = useRef(options);
  useIsomorphicLayoutEffect(() => {
    optionsRef.current = options;
  });

  const subscribe = useCallback((listener: () => void) => (id === null ? noop : watcher.subscribe(id, listener)), [watcher, id]);
  const getSnapshot = () => (id === null ? IDLE : watcher.getSnapshot(id));
  const snapshot = useSyncExternalStore(subscribe, getSnapshot, getSnapshot);

  const handleRef = useRef<{ update(): void } | null>(null);
  useEffect(() => {
    if (id === null || !enabled) return;
    const handle = watcher.watch(id, (): WatchOptions => {
      const o = optionsRef.current;
      return { pollInterval: o.pollInterval as WatchOptions['pollInterval'], pollWhenHidden: o.pollWhenHidden, live: o.live };
    });
    handleRef.current = handle;
    return () => {
      handleRef.current = null;
      handle.release();
    };
  }, [watcher, id, enabled]);

  // A changed number or flag takes effect at once; a changed function is read at the next poll.
  const interval = typeof options.pollInterval === 'function' ? 'fn' : options.pollInterval;
  const firstRun = useRef(true);
  useEffect(() => {
    if (firstRun.current) {
      firstRun.current = false;
      return;
    }
    handleRef.current?.update();
  }, [interval, options.pollWhenHidden, options.live]);

  const firedRef = useRef(new Map<string, Fired>());
  const job = snapshot.job as Job<TResult> | undefined;
  useEffect(() => {
    if (id === null || !enabled) return;
    let fired = firedRef.current.get(id);
    if (!fired) {
      fired = { status: undefined, settled: false, failedWatching: false };
      firedRef.current.set(id, fired);
    }
    const o = optionsRef.current;
    if (job && job.status !== fired.status) {
      const previous = fired.status;
      fired.status = job.status;
      o.onStatusChange?.(job, previous);
    }
    if (job && isTerminal(job) && !fired.settled) {
      fired.settled = true;
      if (job.status === 'completed') o.onComplete?.(job);
      if (job.status === 'failed') o.onError?.(new JobFailedError(job), job);
      o.onSettled?.(job);
    }
    if (snapshot.fatal && snapshot.error && !fired.failedWatching) {
      fired.failedWatching = true;
      o.onError?.(snapshot.error, job);
    }
  }, [id, enabled, job, snapshot.fatal, snapshot.error]);

  const refetch = useCallback(() => (id === null ? Promise.resolve() : watcher.refresh(id)), [watcher, id]);
  const etaIso = job?.estimatedCompletionAt ?? null;
  const eta = useMemo(() => (etaIso ? new Date(etaIso) : null), [etaIso]);

  return {
    job,
    status: job?.status,
    isTerminal: isTerminal(job),
    isLoading: id !== null && enabled && !job && !snapshot.fatal,
    progress: typeof job?.progress === 'number' ? job.progress : null,
    eta,
    error: snapshot.error,
    connection: enabled ? snapshot.connection : 'idle',
    refetch,
  };
}
