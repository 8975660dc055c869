/**
 * Controls of the memory backend: what a test or story does to the jobs
 * (create, seed, start, progress, complete, fail) and to the clock (advance),
 * plus the unlogged reads `get` and `jobs`.
 */
import { JobRequestError } from '../contract/errors';
import { isTerminal } from '../contract/states';
import { parseJob } from '../contract/parseJob';
import { isValidJobId } from '../contract/ids';
import type { Job } from '../contract/types';
import { iso, toMs, type BackendClock } from './memoryClock';
import { completedPatch, finishedPatch, toScript } from './memoryScripts';
import {  jobIdRule } from '../contract/ids';
import { copy, showId, type Entry, type JobTable } from './memoryStore';
import type { JobSpec, MemoryJobBackend, MemoryJobSeed } from './memoryTypes';

/** What the controls need from the backend. */
export interface ControlContext {
  /** The backend's jobs. */
  table: JobTable;
  /** The backend's clock. */
  clock: BackendClock;
  /** Runs a change with due scripted changes applied first and push after. */
  transact<T>(run: () => T): T;
}

/** The controls of the memory backend, and `seed` for `options.jobs`. */
export type MemoryControls = Pick<MemoryJobBackend, 'create' | 'advance' | 'start' | 'progress' | 'complete' | 'fail' | 'get' | 'jobs'> & {
  /** Stores a ready-made job (validated with `parseJob`). */
  seed(value: MemoryJobSeed): void;
};

/** Creates the controls over a backend's table and clock. */
export function createControls({ table, clock, transact }: ControlContext): MemoryControls {
  const { now } = clock;

  function create(spec: JobSpec = {}): Job {
    return transact(() => {
      const t = now();
      const createdMs = spec.createdAt === undefined ? t : toMs(spec.createdAt);
      // Validated before an id is drawn, so a rejected spec doesn't use up `job_<n>`.
      const script = toScript(spec);
      const id = spec.id ?? table.nextId();
      checkNewId(id, 'JobSpec.id');
      const job = parseJob({
        id,
        status: 'pending',
        progress: null,
        progressMessage: null,
        retryCount: 0,
        maxRetries: spec.maxRetries ?? 3,
        error: null,
        createdAt: iso(createdMs),
        updatedAt: iso(createdMs),
        startedAt: null,
        finishedAt: null,
        estimatedCompletionAt: null,
        version: 1,
        ...(spec.meta === undefined ? {} : { meta: copy(spec.meta) }),
      } satisfies Job);
      // A result function may hold closures; plain data is copied so later edits of the spec don't leak in.
      const result = typeof spec.result === 'function' ? spec.result : copy(spec.result);
      const entry = table.add(job, spec.owner, createdMs, result, script);
      entry.waitMs = script?.queuedMs ?? 0;
      return copy(entry.job);
    });
  }

  function seed(value: MemoryJobSeed): void {
    const { owner, ...rest } = copy(value);
    const job = parseJob({ ...rest, version: rest.version ?? 1 });
    checkNewId(job.id, 'MemoryJobSeed.id');
    table.add(job, owner, Date.parse(job.createdAt), undefined, null);
  }

  /**
   * Refuses an id the REST contract does not allow (`isValidJobId`): `TypeError` when it is
   * not a string, `RangeError` otherwise, as for other bad specs; `JobRequestError(409, 'conflict')` when taken.
   */
  function checkNewId(id: unknown, what: string): void {
    if (typeof id !== 'string') throw new TypeError(`${what} must be a string, got ${typeof id}`);
    if (!isValidJobId(id)) {
      throw new RangeError(`${what} ${showId(id)} is not a job id the REST contract allows (isValidJobId): ${jobIdRule()}`);
    }
    if (table.entries.has(id)) throw new JobRequestError(409, 'conflict', `Job "${id}" already exists`);
  }

  /** Shared by the manual controls: due changes first, then `change` on a job whose script stops. */
  function control(id: string, change: (entry: Entry, t: number) => void): Job {
    return transact(() => {
      const entry = table.mustFind(id);
      change(entry, now());
      entry.scripted = false;
      return copy(entry.job);
    });
  }

  function mustBeActive(entry: Entry, action: string): void {
    if (isTerminal(entry.job)) {
      throw new JobRequestError(409, 'invalid_state', `Cannot ${action} job "${entry.job.id}": it is already ${entry.job.status}`);
    }
  }

  function start(id: string): Job {
    return control(id, (entry, t) => {
      if (entry.job.status !== 'pending') {
        throw new JobRequestError(409, 'invalid_state', `Cannot start job "${id}": it is ${entry.job.status}, not pending`);
      }
      table.update(entry, t, { status: 'processing', startedAt: iso(t), progress: null, progressMessage: null, estimatedCompletionAt: null });
    });
  }

  function progress(id: string, fraction: number | null, message?: string | null): Job {
    if (fraction !== null && !(fraction >= 0 && fraction <= 1)) {
      throw new RangeError(`progress must be a fraction from 0 to 1 or null, got ${fraction}`);
    }
    return control(id, (entry, t) => {
      mustBeActive(entry, 'report progress of');
      // The script's ETA no longer holds once a test drives the job by hand.
      table.update(entry, t, {
        progress: fraction,
        ...(message === undefined ? {} : { progressMessage: message }),
        estimatedCompletionAt: null,
      });
    });
  }

  function complete(id: string, result?: unknown): Job {
    return control(id, (entry, t) => {
      mustBeActive(entry, 'complete');
      table.update(entry, t, completedPatch(entry, t, result === undefined ? entry.result : result));
    });
  }

  function fail(id: string, message: string): Job {
    return control(id, (entry, t) => {
      mustBeActive(entry, 'fail');
      table.update(entry, t, { ...finishedPatch(t, 'failed'), error: { message } });
    });
  }

  function advance(ms: number): void {
    clock.advance(ms);
    transact(() => undefined);
  }

  function get(id: string): Job | undefined {
    return transact(() => {
      const entry = table.entries.get(id);
      return entry && copy(entry.job);
    });
  }

  function jobs(): Job[] {
    return transact(() => [...table.entries.values()].map((entry) => copy(entry.job)));
  }

  return { create, seed, advance, start, progress, complete, fail, get, jobs };
}
