import type { Job as BullJob } from 'bullmq';
import type { Job, JobMetaValue, JobState } from '../contract/types';

/** BullMQ's names for where a job sits. */
export type BullState = 'waiting' | 'prioritized' | 'delayed' | 'waiting-children' | 'paused' | 'active' | 'completed' | 'failed';

/** Every BullMQ state as a {@link JobState}. */
export const STATE_MAP: Record<BullState, JobState> = {
  waiting: 'pending',
  prioritized: 'pending',
  delayed: 'pending',
  'waiting-children': 'pending',
  paused: 'pending',
  active: 'processing',
  completed: 'completed',
  failed: 'failed',
};

/** The BullMQ states each {@link JobState} is read from. */
export const BULL_STATES_OF: Record<JobState, Exclude<BullState, 'paused'>[]> = {
  // BullMQ 5+ keeps paused jobs in the wait list; `paused` is only a state name of older versions.
  pending: ['waiting', 'prioritized', 'delayed', 'waiting-children'],
  processing: ['active'],
  completed: ['completed'],
  failed: ['failed'],
  cancelled: [],
};

/** One job as the store sees it, with what sorting and filtering need. */
export interface Entry {
  job: Job;
  owner: string | null;
  createdAtMs: number;
}

/** What the mapping from a BullMQ job to a {@link Job} is given (the store's options). */
export interface JobMappingOptions {
  owner: (job: BullJob) => string | null;
  toResult?: ((job: BullJob) => unknown) | undefined;
  toMeta?: ((job: BullJob) => Record<string, JobMetaValue> | undefined) | undefined;
  progressScale: 1 | 100;
}

/** An epoch time in ms as ISO 8601; `null` for none. */
export const iso = (ms: number | undefined | null): string | null =>
  typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : null;

/** Orders ids as BullMQ creates them: numeric ids by value, others as strings. */
export function compareIds(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Newest first: by creation time, then by id. */
export function newestFirst(a: { createdAtMs: number; job: Job }, b: { createdAtMs: number; job: Job }): number {
  return b.createdAtMs - a.createdAtMs || compareIds(b.job.id, a.job.id);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Orders a job's states across attempts, which BullMQ's times cannot (a job back in the queue
 * after a stall or a failed attempt keeps its old times): every move to active counts an
 * attempt started; within one, processing < back to pending < finished. Progress within an
 * attempt has no counter: equal versions fall back to `updatedAt` and content.
 */
export function versionOf(attemptsStarted: number | undefined, status: JobState): number {
  const phase = status === 'processing' ? 0 : status === 'pending' ? 1 : 2;
  return Math.max(0, attemptsStarted ?? 0) * 3 + phase;
}

/** Completed, failed or cancelled. */
export const isTerminalState = (state: JobState) => state === 'completed' || state === 'failed' || state === 'cancelled';

/** Maps BullMQ jobs to {@link Entry}s with the store's options. */
export function createJobMapping(options: JobMappingOptions): (bjob: BullJob, bullState: BullState) => Entry {
  const { owner: ownerOf, toResult, toMeta, progressScale } = options;

  function progressOf(raw: unknown): { progress: number | null; message: string | null } {
    const scale = (n: unknown): number | null =>
      typeof n === 'number' && Number.isFinite(n) ? Math.min(1, Math.max(0, n / progressScale)) : null;
    if (isPlainObject(raw)) {
      return { progress: scale(raw.progress), message: typeof raw.message === 'string' ? raw.message : null };
    }
    // BullMQ starts every job at the number 0: until the worker reports, progress is unknown.
    return { progress: raw === 0 ? null : scale(raw), message: null };
  }

  function metaOf(bjob: BullJob): Record<string, JobMetaValue> | undefined {
    if (toMeta) return toMeta(bjob);
    const meta: unknown = isPlainObject(bjob.data) ? bjob.data.meta : undefined;
    if (!isPlainObject(meta)) return undefined;
    const out: Record<string, JobMetaValue> = {};
    for (const [key, value] of Object.entries(meta)) {
      if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) out[key] = value as JobMetaValue;
    }
    return out;
  }

  return function toEntry(bjob: BullJob, bullState: BullState): Entry {
    const status = STATE_MAP[bullState];
    const terminal = status === 'completed' || status === 'failed';
    const { progress, message } = progressOf(bjob.progress);
    const attemptsMade = bjob.attemptsMade ?? 0;
    const attempts = bjob.opts?.attempts;
    const createdAtMs = bjob.timestamp;
    const processedOn = status === 'pending' ? undefined : bjob.processedOn;
    const finishedOn = terminal ? bjob.finishedOn : undefined;
    // The raw times, whatever the state: a job back in the queue (stalled, retrying) must not
    // look older than the attempt it left.
    const updatedMs = Math.max(createdAtMs, bjob.processedOn ?? 0, finishedOn ?? 0);
    const job: Job = {
      id: String(bjob.id),
      status,
      // A job back in the queue still holds its last attempt's progress: not this attempt's.
      progress: status === 'completed' ? 1 : status === 'pending' ? null : progress,
      progressMessage: status === 'pending' ? null : message,
      retryCount: terminal ? Math.max(0, attemptsMade - 1) : attemptsMade,
      maxRetries: typeof attempts === 'number' && attempts > 0 ? attempts - 1 : 0,
      error: status === 'failed' && bjob.failedReason ? { message: bjob.failedReason } : null,
      createdAt: iso(createdAtMs)!,
      updatedAt: iso(updatedMs)!,
      startedAt: iso(processedOn),
      finishedAt: iso(finishedOn),
      version: versionOf(bjob.attemptsStarted, status),
    };
    const meta = metaOf(bjob);
    if (meta) job.meta = meta;
    if (status === 'completed') job.result = toResult ? toResult(bjob) : bjob.returnvalue;
    return { job, owner: ownerOf(bjob), createdAtMs };
  };
}
