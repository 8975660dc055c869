import type { Job, JobState } from './types';

/** Every job state, in lifecycle order. */
export const JOB_STATES: readonly JobState[] = Object.freeze(['pending', 'processing', 'completed', 'failed', 'cancelled']);

/** Whether `value` is one of the {@link JOB_STATES}. */
export function isJobState(value: unknown): value is JobState {
  return JOB_STATES.includes(value as JobState);
}

/**
 * Whether a job (or a state) is final: `completed`, `failed` or `cancelled`.
 * A terminal job never changes again, so nothing polls it.
 */
export function isTerminal(jobOrState: Job | JobState | null | undefined): boolean {
  const state = typeof jobOrState === 'string' ? jobOrState : jobOrState?.status;
  return state === 'completed' || state === 'failed' || state === 'cancelled';
}
