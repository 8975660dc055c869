import { useJobMutation, type JobAction, type UseJobMutationResult } from './useJobMutation';

/** What {@link useRetryJob} returns. */
export type UseRetryJobResult<TResult = unknown> = UseJobMutationResult<TResult>;

const retry: JobAction = {
  method: 'retry',
  optimistic: (job, now) =>
    job.status === 'failed'
      ? {
          ...job,
          status: 'pending',
          // The last error stays, so a detailed view can say why it is being retried.
          retryCount: (job.retryCount ?? 0) + 1,
          updatedAt: now,
          startedAt: null,
          finishedAt: null,
          progress: null,
          progressMessage: null,
          estimatedCompletionAt: null,
        }
      : null,
  countDelta: (job) => ({ pending: job.status === 'failed' ? 1 : 0, processing: 0 }),
};

/**
 * Retries failed jobs with the client's `retry` method: `mutate(jobId)`.
 *
 * Optimistic: a failed job shows as `pending` at once (retry count + 1, its
 * last error kept), is watched again and may settle again; the pending counts
 * that include it grow by one. Then the server's answer replaces the guess.
 * If the server refuses with a 409 (the job is not failed any more, e.g.
 * retried elsewhere), the job is read again and shown as it is: the mutation
 * succeeds with that job, no error (should that read fail, the mutation
 * fails with its error). Any other error puts the job and the counts back and
 * ends in `error` (`mutateAsync` rejects). Counts are
 * refreshed afterwards either way.
 *
 * `supported` is `false` when the client has no `retry`: `mutate` then
 * changes nothing and fails with `JobRequestError(405, 'not_supported')`.
 *
 * The mutation key is `[...jobKeys.all, 'retry']` (for `useIsMutating`).
 *
 * @example
 * const retryJob = useRetryJob();
 * {retryJob.supported && status === 'failed' && (
 *   <button type="button" onClick={() => retryJob.mutate(jobId)}>Try again</button>
 * )}
 */
export function useRetryJob<TResult = unknown>(): UseRetryJobResult<TResult> {
  return useJobMutation<TResult>(retry);
}
