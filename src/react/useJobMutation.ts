import { useMutation, type QueryClient, type QueryKey, type UseMutationResult } from '@tanstack/react-query';
import { useState } from 'react';
import type { JobWatcher } from '../core/createJobWatcher';
import { JobRequestError } from '../contract/errors';
import { isTerminal } from '../contract/states';
import { isNewerJob, jsonEqual } from '../contract/ordering';
import { parseJobFor } from '../contract/parseJob';
import type { Job, PendingCount } from '../contract/types';
import { useJobContext } from './JobClientProvider';
import type { JobKeys } from './jobKeys';

/**
 * What {@link useCancelJob} and {@link useRetryJob} return: React Query's
 * mutation result (`mutate(jobId)`, `mutateAsync(jobId)`, `isPending`,
 * `error`, `data`, `variables`, `reset`, ...) plus `supported`.
 */
export type UseJobMutationResult<TResult = unknown> = UseMutationResult<Job<TResult>, Error, string, unknown> & {
  /**
   * Whether the provider's client has the method (`cancel` or `retry`). When
   * it does not, `mutate` changes nothing and fails with
   * `JobRequestError(405, 'not_supported')`: hide the control instead.
   */
  supported: boolean;
};

/** @internal The action a job mutation performs. */
export interface JobAction {
  /** The client method, also the last part of the mutation key. */
  method: 'cancel' | 'retry';
  /** The job shown at once, before the server answers; `null` when the action does not apply to `job`. */
  optimistic(job: Job, now: string): Job | null;
  /** How the action changes the active counts of a job in `job`'s state. */
  countDelta(job: Job): PendingCount;
}

/** What `onMutate` did, so it can be undone. */
interface Optimism {
  /** The job shown before, when it was known and changed. */
  previous: Job | undefined;
  /** The job shown in its place. */
  optimistic: Job | undefined;
  /** The count queries changed, with their data before. */
  counts: Array<[QueryKey, PendingCount | undefined]>;
}

/** The status code of "the job moved on": already finished (cancel) or not failed any more (retry). */
const CONFLICT = 409;

/**
 * @internal Shared body of {@link useCancelJob} and {@link useRetryJob}:
 * a React Query mutation on the provider's QueryClient that
 * 1. shows the expected job at once (`watcher.replace`) and adjusts the
 *    matching pending counts (after cancelling their requests in flight);
 * 2. calls the client method and validates the answer;
 * 3. on success sets the server's job; on a 409 (the job moved on) reads the
 *    job and sets that instead, without an error; on any other error puts the
 *    job and the counts back and fails with the error;
 * 4. always refreshes the counts afterwards.
 */
export function useJobMutation<TResult>(action: JobAction): UseJobMutationResult<TResult> {
  const { client, watcher, queryClient, keys } = useJobContext();
  // Answers that came from a refresh after a 409, so `onSuccess` can tell them apart.
  const [refreshed] = useState(() => new WeakSet<Job>());
  const supported = typeof client[action.method] === 'function';

  const mutation = useMutation<Job<TResult>, Error, string, Optimism | undefined>(
    {
      mutationKey: [...keys.all, action.method],
      async onMutate(id) {
        if (!supported) return undefined;
        const previous = watcher.getSnapshot(id).job;
        const optimistic = previous ? action.optimistic(previous, new Date().toISOString()) : null;
        if (!previous || !optimistic) return { previous: undefined, optimistic: undefined, counts: [] };
        // Shown at once, announced only once the server confirms it.
        watcher.replace(optimistic, { silent: true });
        const counts = await adjustCounts(queryClient, keys, previous, action.countDelta(previous));
        return { previous, optimistic, counts };
      },
      async mutationFn(id) {
        const method = client[action.method]?.bind(client);
        if (!method) {
          throw new JobRequestError(405, 'not_supported', `This JobClient has no ${action.method} method`);
        }
        try {
          return parseJobFor<TResult>(await method(id), id);
        } catch (error) {
          if (!(error instanceof JobRequestError && error.status === CONFLICT)) throw error;
          // The job already finished (or is no longer failed): show what it is now; not an error.
          const job = parseJobFor<TResult>(await client.getStatus(id), id);
          refreshed.add(job);
          return job;
        }
      },
      onSuccess(job, id, optimism) {
        if (refreshed.has(job)) {
          // The server did nothing. A guess that ended the job (a cancel) is undone
          // first, so the job can settle, and notify, as what it really is.
          restoreCounts(queryClient, optimism);
          if (isTerminal(optimism?.optimistic)) restoreJob(watcher, optimism);
          watcher.replace(job);
          return;
        }
        // The answer replaces the guess, but not a newer job that arrived meanwhile (e.g. pushed after a retry).
        const current = watcher.getSnapshot(id).job;
        if (isStill(current, optimism?.optimistic) || isNewerJob(current, job)) watcher.replace(job);
      },
      onError(_error, _id, optimism) {
        restoreJob(watcher, optimism);
        restoreCounts(queryClient, optimism);
      },
      onSettled(_job, _error, _id, optimism) {
        if (optimism) void queryClient.invalidateQueries({ queryKey: keys.counts() });
      },
    },
    queryClient,
  );
  return { ...(mutation as UseMutationResult<Job<TResult>, Error, string, unknown>), supported };
}


/** Whether `current` is still the optimistic job (the cache may hold an equal copy rather than the same object). */
function isStill(current: Job | undefined, optimistic: Job | undefined): boolean {
  return current === optimistic || (current !== undefined && optimistic !== undefined && jsonEqual(current, optimistic));
}

/** Puts back the job shown before, unless something newer arrived since. */
function restoreJob(watcher: JobWatcher, optimism: Optimism | undefined): void {
  const previous = optimism?.previous;
  if (previous && isStill(watcher.getSnapshot(previous.id).job, optimism.optimistic)) {
    watcher.replace(previous, { silent: true });
  }
}

/** Puts back the counts as they were before the guess. */
function restoreCounts(queryClient: QueryClient, optimism: Optimism | undefined): void {
  for (const [key, data] of optimism?.counts ?? []) queryClient.setQueryData(key, data);
}

/** Whether a count query (`jobKeys.counts(meta)`) counts `job`: its meta filter matches the job's meta as the backend compares it. */
function counts(queryKey: QueryKey, job: Job): boolean {
  const filter = queryKey[2];
  if (filter === undefined) return true;
  if (typeof filter !== 'object' || filter === null) return false;
  return Object.entries(filter as Record<string, unknown>).every(
    ([key, value]) => job.meta != null && Object.hasOwn(job.meta, key) && String(job.meta[key]) === String(value),
  );
}

function isPendingCount(value: unknown): value is PendingCount {
  const v = value as Partial<PendingCount> | null | undefined;
  return typeof v?.pending === 'number' && typeof v.processing === 'number';
}

/**
 * Cancels the requests in flight of the count queries that count `job`, then
 * adds `delta` to them (never below 0). Returns their data from before.
 */
async function adjustCounts(
  queryClient: QueryClient,
  keys: JobKeys,
  job: Job,
  delta: PendingCount,
): Promise<Array<[QueryKey, PendingCount | undefined]>> {
  if (delta.pending === 0 && delta.processing === 0) return [];
  const filters = { queryKey: keys.counts(), predicate: ({ queryKey }: { queryKey: QueryKey }) => counts(queryKey, job) };
  await queryClient.cancelQueries(filters);
  const before = queryClient.getQueriesData<PendingCount>(filters);
  queryClient.setQueriesData<PendingCount>(filters, (data) =>
    isPendingCount(data)
      ? {
          ...data,
          pending: Math.max(0, data.pending + delta.pending),
          processing: Math.max(0, data.processing + delta.processing),
        }
      : data,
  );
  return before;
}
