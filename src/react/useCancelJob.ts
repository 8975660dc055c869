import { useJobMutation, type JobAction, type UseJobMutationResult } from './useJobMutation';

/** What {@link useCancelJob} returns. */
export type UseCancelJobResult<TResult = unknown> = UseJobMutationResult<TResult>;

const cancel: JobAction = {
  method: 'cancel',
  optimistic: (job, now) =>
    job.status === 'pending' || job.status === 'processing'
      ? { ...job, status: 'cancelled', updatedAt: now, finishedAt: now, progress: null, progressMessage: null, estimatedCompletionAt: null }
      : null,
  countDelta: (job) => ({ pending: job.status === 'pending' ? -1 : 0, processing: job.status === 'processing' ? -1 : 0 }),
};

/**
 * Cancels jobs with the client's `cancel` method: `mutate(jobId)`.
 *
 * Optimistic: a pending or processing job shows as `cancelled` at once,
 * everywhere it is shown, and the pending counts that include it drop by one.
 * Then the server's answer replaces the guess. If the server refuses with a
 * 409 (the job finished first), the job is read again and shown as it is:
 * the mutation succeeds with that job (`data.status` says what happened), no
 * error (should that read fail, the mutation fails with its error). Any
 * other error puts the job and the counts back and ends in `error`
 * (`mutateAsync` rejects). Counts are refreshed afterwards either way.
 *
 * The guess is shown like any other state, so the provider's `onJobSettled`
 * and `useJobStatus` callbacks see the job `cancelled` as soon as you call
 * `mutate`, before the server confirms.
 *
 * `supported` is `false` when the client has no `cancel`: `mutate` then
 * changes nothing and fails with `JobRequestError(405, 'not_supported')`.
 *
 * The mutation key is `[...jobKeys.all, 'cancel']` (for `useIsMutating`).
 *
 * @example
 * const cancelJob = useCancelJob();
 * {cancelJob.supported && (
 *   <button type="button" onClick={() => cancelJob.mutate(jobId)} disabled={cancelJob.isPending}>Cancel</button>
 * )}
 */
export function useCancelJob<TResult = unknown>(): UseCancelJobResult<TResult> {
  return useJobMutation<TResult>(cancel);
}

