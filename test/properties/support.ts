import fc from 'fast-check';
import { isTerminal, type Job, type JobState } from '../../src/core';

/** fast-check parameters: 1,000 runs, replayable with `FC_SEED=<seed> [FC_PATH=<path>]`. */
export function fcParams(numRuns = 1000): fc.Parameters<unknown> {
  const seed = process.env.FC_SEED;
  const path = process.env.FC_PATH;
  return {
    numRuns,
    ...(seed !== undefined && seed !== '' ? { seed: Number(seed) } : {}),
    ...(path !== undefined && path !== '' ? { path } : {}),
  };
}

/** Status rank for property (a): pending = processing < terminal. */
export function rank(job: Job): number {
  return isTerminal(job) ? 1 : 0;
}

/**
 * A server's consistent history of one job: it starts processing at
 * `processingAt`, ends (`terminal`) at `terminalAt`; versions 1..MAX_VERSION.
 * Answers may be served in any order, so the client sees them out of order.
 */
export interface Timeline {
  processingAt: number;
  terminalAt: number;
  terminal: Extract<JobState, 'completed' | 'failed' | 'cancelled'>;
  /** Whether jobs carry `version` (else the watcher orders them by `updatedAt`). */
  versioned: boolean;
}

export const MAX_VERSION = 6;

export const timelineArb: fc.Arbitrary<Timeline> = fc.record({
  processingAt: fc.integer({ min: 1, max: 4 }),
  // MAX_VERSION + 1: the job never ends within the versions served.
  terminalAt: fc.integer({ min: 2, max: MAX_VERSION + 1 }),
  terminal: fc.constantFrom('completed', 'failed', 'cancelled'),
  versioned: fc.boolean(),
});

/** The job as the server reported it at version `v`. `meta.v` keeps the version for checks. */
export function jobAt(id: string, t: Timeline, v: number): Job {
  const status: JobState = v >= t.terminalAt ? t.terminal : v >= t.processingAt ? 'processing' : 'pending';
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, v)).toISOString();
  return {
    id,
    status,
    createdAt: new Date(Date.UTC(2026, 0, 1)).toISOString(),
    updatedAt: at,
    retryCount: 0,
    progress: status === 'processing' ? Math.min(1, v / MAX_VERSION) : null,
    ...(status === 'failed' ? { error: { message: 'boom' } } : {}),
    ...(t.versioned ? { version: v } : {}),
    meta: { v },
  };
}

/** The version a job from {@link jobAt} was made at. */
export function versionOf(job: Job): number {
  return job.meta!.v as number;
}
