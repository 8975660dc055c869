import { useCallback, useEffect, useReducer, useRef, useSyncExternalStore } from 'react';
import { EMPTY_SNAPSHOT, type WatchOptions } from '../core/createJobWatcher';
import { JobFailedError } from '../contract/errors';
import { createEtaEstimator } from '../core/estimateEta';
import type { EtaEstimate, EtaEstimator } from '../core/estimateEta';
import { isTerminal } from '../contract/states';
import type { Job, JobState } from '../contract/types';
import { useJobContext } from './JobClientProvider';
import type { UseJobStatusOptions, UseJobStatusResult } from './types';
import { useIsomorphicLayoutEffect } from './useIsomorphicLayoutEffect';

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
  const getSnapshot = () => (id === null ? EMPTY_SNAPSHOT : watcher.getSnapshot(id));
  const snapshot = useSyncExternalStore(subscribe, getSnapshot, getSnapshot);

  const handleRef = useRef<{ update(): void } | null>(null);
  useEffect(() => {
    if (id === null || !enabled) return;
    // The hook's options name `pollInterval`, `pollWhenHidden` and `live` as the watcher does,
    // and it reads nothing else: the latest options serve as they are.
    const handle = watcher.watch(id, () => optionsRef.current as WatchOptions);
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
    // An optimistic guess is not news yet: callbacks wait for the server.
    if (id === null || !enabled || snapshot.optimistic) return;
    let fired = firedRef.current.get(id);
    if (!fired) {
      fired = { status: undefined, settled: false, failedWatching: false };
      firedRef.current.set(id, fired);
    }
    const o = optionsRef.current;
    if (job) {
      if (job.status !== fired.status) {
        const previous = fired.status;
        fired.status = job.status;
        o.onStatusChange?.(job, previous);
      }
      // A retried job is active again: its next ending is news again.
      if (!isTerminal(job)) fired.settled = false;
      else if (!fired.settled) {
        fired.settled = true;
        if (job.status === 'completed') o.onComplete?.(job);
        if (job.status === 'failed') o.onError?.(new JobFailedError(job), job);
        o.onSettled?.(job);
      }
    }
    if (snapshot.fatal && snapshot.error && !fired.failedWatching) {
      fired.failedWatching = true;
      o.onError?.(snapshot.error, job);
    }
  }, [id, enabled, job, snapshot.fatal, snapshot.error, snapshot.optimistic]);

  const refetch = useCallback(() => (id === null ? Promise.resolve() : watcher.refresh(id)), [watcher, id]);
  const eta = useEta(id, job);

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

/** The ETA estimator of one hook instance and job id, and what it last answered. */
interface EtaState {
  id: string | null;
  estimator: EtaEstimator;
  job: Job<unknown> | undefined;
  recheck: number;
  eta: Date | null;
  staleAt: number | null;
}

/**
 * `eta` of {@link useJobStatus}: feeds every new job snapshot to an estimator
 * (a new one for a new job id) and keeps the same `Date` while the estimate
 * hardly moves, so effects and memos that depend on it do not re-run.
 */
function useEta(id: string | null, job: Job<unknown> | undefined): Date | null {
  const ref = useRef<EtaState | null>(null);
  const [recheck, requestRecheck] = useReducer((n: number) => n + 1, 0);
  let state = ref.current;
  if (state === null || state.id !== id) {
    state = { id, estimator: createEtaEstimator(), job: undefined, recheck, eta: null, staleAt: null };
    ref.current = state;
  }
  // Fed during render so `eta` belongs to the same render as `job`. Feeding the
  // same snapshot again (StrictMode, a discarded render) changes nothing.
  if (job !== state.job || recheck !== state.recheck) {
    const now = Date.now();
    const estimate = job ? state.estimator.update(job, now) : null;
    state.job = job;
    state.recheck = recheck;
    state.eta = stableEta(state.eta, estimate, now);
    state.staleAt = estimate?.staleAt ?? null;
  }

  // An unchanged job brings no new snapshot: ask again when the estimate would go stale, so a stall hides it.
  const { staleAt } = state;
  useEffect(() => {
    if (staleAt === null) return;
    const timer = setTimeout(requestRecheck, Math.max(0, staleAt - Date.now()));
    return () => clearTimeout(timer);
    // `recheck`: a timer that fired a moment early leaves `staleAt` as it was; wait again.
  }, [staleAt, recheck]);

  return state.eta;
}

/** The previous `Date` while the new estimate is within 5% of the time left (at least 1 s) of it, else a new one. */
function stableEta(previous: Date | null, estimate: EtaEstimate | null, now: number): Date | null {
  if (estimate === null) return null;
  if (previous !== null) {
    const before = previous.getTime();
    // Both "any moment now": nothing to tell apart.
    if (estimate.at <= now && before <= now) return previous;
    const tolerance = Math.max(1000, 0.05 * (Math.max(before, estimate.at) - now));
    if (Math.abs(estimate.at - before) < tolerance) return previous;
  }
  return new Date(estimate.at);
}
