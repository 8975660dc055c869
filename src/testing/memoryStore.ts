/**
 * The store of the memory backend: its jobs with their owners, the log of
 * client calls, and the JobStore methods (reads, paging, cancel, retry).
 */
import { abortError, JobNotFoundError, JobRequestError } from '../contract/errors';
import { badRequest, checkListFilter, checkMetaFilter } from '../contract/listFilter';
import { isJobState, isTerminal } from '../contract/states';
import { MAX_IDS_PER_REQUEST } from '../contract/limits';
import { decodeCursorToken, encodeCursorToken } from '../contract/cursors';
import { isValidJobId, jobIdRule } from '../contract/ids';
import { matchesMetaFilter } from '../contract/meta';
import type { Job, JobBatch, JobFilter, JobPage, JobState, PendingCount } from '../contract/types';
import { iso, later, type BackendClock } from './memoryClock';
import { copy, type Entry, type Script } from './memoryEntry';
import { finishedPatch, nextAttemptPatch } from './memoryScripts';
import type { MemoryBackendCall, MemoryBackendMethod, MemoryJobBackend, MemoryRequestOptions } from './memoryTypes';

export { copy, type Entry } from './memoryEntry';

/** An id as it appears in an error message: quoted, shortened, anything but printable ASCII escaped. */
export function showId(id: unknown): string {
  if (typeof id !== 'string') return String(id);
  const escaped = id.slice(0, 40).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return id.length > 40 ? `"${escaped}…" (${id.length} characters)` : `"${escaped}"`;
}

/**
 * The error for an id the REST contract refuses, as `createJobHandler` answers it:
 * `JobRequestError(400, 'bad_request')`.
 */
export function invalidIdError(id: unknown): JobRequestError {
  return badRequest(`Invalid job id ${showId(id)}: ${jobIdRule()}`);
}

/** Throws {@link invalidIdError} unless `isValidJobId(id)`. */
export function checkId(id: unknown): void {
  if (!isValidJobId(id)) throw invalidIdError(id);
}

/** The jobs of one memory backend, in creation order. */
export interface JobTable {
  /** Every entry by id, in creation order. */
  readonly entries: ReadonlyMap<string, Entry>;
  /** Stores a new job (its id must be free). */
  add(job: Job, owner: string | undefined, createdMs: number, result: unknown, script: Script | null): Entry;
  /** The next free `job_<n>`. */
  nextId(): string;
  /** The entry of `id` when `owner` may see it (`undefined` owner: every job). */
  find(id: string, owner?: string): Entry | undefined;
  /** As {@link find}; throws `JobNotFoundError` when there is none. */
  mustFind(id: string, owner?: string): Entry;
  /** The entries `owner` may see that match `meta`, in creation order. */
  visible(owner: string | undefined, meta: Record<string, string> | undefined): Entry[];
  /** Replaces the entry's job with `patch` applied (version + 1, `updatedAt` = `at`) and reports the change. */
  update(entry: Entry, at: number, patch: Partial<Job>): void;
}

/** Creates an empty job table; `onChange` hears of every job change (for push). */
export function createJobTable(onChange: (entry: Entry, job: Job) => void): JobTable {
  const entries = new Map<string, Entry>();
  let seq = 0;
  let idCounter = 0;

  function find(id: string, owner?: string): Entry | undefined {
    const entry = entries.get(id);
    return entry && (owner === undefined || entry.owner === owner) ? entry : undefined;
  }

  return {
    entries,
    add(job, owner, createdMs, result, script) {
      const entry: Entry = {
        job,
        owner,
        seq: ++seq,
        createdMs,
        result,
        script,
        scripted: script !== null,
        phaseAt: createdMs,
        waitMs: 0,
        nextStep: 0,
        nextOutput: 0,
        output: { parts: [], lastSeq: 0, subscribers: new Set() },
        subscribers: new Set(),
      };
      entries.set(job.id, entry);
      return entry;
    },
    nextId() {
      let id: string;
      do id = `job_${++idCounter}`;
      while (entries.has(id));
      return id;
    },
    find,
    mustFind(id, owner) {
      const entry = find(id, owner);
      if (!entry) throw new JobNotFoundError(id);
      return entry;
    },
    visible(owner, meta) {
      const result: Entry[] = [];
      for (const entry of entries.values()) {
        if (owner !== undefined && entry.owner !== owner) continue;
        if (!matchesMetaFilter(entry.job.meta, meta)) continue;
        result.push(entry);
      }
      return result;
    },
    update(entry, at, patch) {
      entry.job = { ...entry.job, ...patch, version: (entry.job.version ?? 0) + 1, updatedAt: iso(at) };
      onChange(entry, entry.job);
    },
  };
}

/** Newest first: later `createdAt` first, then later creation first. */
function newestFirst(a: Entry, b: Entry): number {
  return b.createdMs - a.createdMs || b.seq - a.seq;
}

interface Position {
  createdMs: number;
  seq: number;
}

function comesAfter(entry: Entry, position: Position): boolean {
  return entry.createdMs < position.createdMs || (entry.createdMs === position.createdMs && entry.seq < position.seq);
}

/**
 * A cursor is the position of the page's last job (its createdAt and creation
 * order), not an offset, so jobs created meanwhile don't shift later pages.
 */
function encodeCursor(entry: Entry): string {
  return encodeCursorToken(`${entry.createdMs}:${entry.seq}`);
}

function decodeCursor(cursor: string): Position {
  const match = /^(-?\d+):(\d+)$/.exec(decodeCursorToken(cursor) ?? '');
  if (!match) throw badRequest('Malformed cursor');
  return { createdMs: Number(match[1]), seq: Number(match[2]) };
}

/**
 * The arguments as passed, trailing `undefined`s dropped. Arrays (ids) are
 * copied because batching callers may reuse theirs; everything else is kept
 * by reference so tests can compare it with what they passed.
 */
function logArgs(args: unknown[]): unknown[] {
  const trimmed = [...args];
  while (trimmed.length > 0 && trimmed[trimmed.length - 1] === undefined) trimmed.pop();
  return trimmed.map((arg) => (Array.isArray(arg) ? [...arg] : arg));
}

/** What the store methods need from the backend. */
export interface StoreContext {
  /** The backend's jobs. */
  table: JobTable;
  /** The backend's clock. */
  clock: BackendClock;
  /** Runs a read or change with due scripted changes applied first and push after. */
  transact<T>(run: () => T): T;
  /** The live call log. */
  calls: MemoryBackendCall[];
  /** Simulated response time of `method`, in ms. */
  latencyOf(method: MemoryBackendMethod): number;
}

/** Appends a client call to the log, stamped with backend time. */
export function logCall(context: Pick<StoreContext, 'calls' | 'clock'>, method: MemoryBackendMethod, args: unknown[]): void {
  context.calls.push({ method, args: logArgs(args), at: context.clock.now() });
}

/**
 * Logs a client call and answers it: rejects at once if already aborted,
 * otherwise computes the outcome now (due scripted changes first, push after)
 * and delivers it after the method's latency.
 */
export function answerCall<T>(
  context: Pick<StoreContext, 'calls' | 'clock' | 'transact' | 'latencyOf'>,
  method: MemoryBackendMethod,
  args: unknown[],
  signal: AbortSignal | undefined,
  run: () => T,
): Promise<T> {
  logCall(context, method, args);
  if (signal?.aborted) return Promise.reject(abortError());
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    outcome = { ok: true, value: context.transact(run) };
  } catch (error) {
    outcome = { ok: false, error };
  }
  const settleWith = (resolve: (value: T) => void, reject: (error: unknown) => void): void =>
    outcome.ok ? resolve(outcome.value) : reject(outcome.error);

  const ms = context.latencyOf(method);
  if (!(ms > 0)) return new Promise<T>(settleWith);
  return new Promise<T>((resolve, reject) => {
    const cancel = later(ms, () => {
      signal?.removeEventListener('abort', onAbort);
      settleWith(resolve, reject);
    });
    const onAbort = (): void => {
      cancel();
      reject(abortError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The JobStore methods of the memory backend (every one logged, answered after the latency). */
export type MemoryStoreMethods = Pick<MemoryJobBackend, 'getStatus' | 'getStatuses' | 'list' | 'getPendingCount' | 'cancel' | 'retry'>;

/** Creates the JobStore methods over a backend's table. */
export function createStoreMethods(context: StoreContext): MemoryStoreMethods {
  const { table, clock } = context;

  const answer = <T>(method: MemoryBackendMethod, args: unknown[], signal: AbortSignal | undefined, run: () => T): Promise<T> =>
    answerCall(context, method, args, signal, run);

  function getStatus(id: string, o?: MemoryRequestOptions): Promise<Job> {
    return answer('getStatus', [id, o], o?.signal, () => {
      checkId(id);
      return copy(table.mustFind(id, o?.owner).job);
    });
  }

  function getStatuses(ids: string[], o?: MemoryRequestOptions): Promise<JobBatch> {
    return answer('getStatuses', [ids, o], o?.signal, () => {
      if (ids.length > MAX_IDS_PER_REQUEST) throw badRequest(`At most ${MAX_IDS_PER_REQUEST} ids per batch`);
      ids.forEach(checkId);
      const jobs: Job[] = [];
      const missing: string[] = [];
      for (const id of new Set(ids)) {
        const entry = table.find(id, o?.owner);
        if (entry) jobs.push(copy(entry.job));
        else missing.push(id);
      }
      return { jobs, missing };
    });
  }

  function list(filter?: JobFilter, o?: MemoryRequestOptions): Promise<JobPage> {
    return answer('list', [filter, o], o?.signal, () => {
      const { statuses, meta, cursor, limit } = checkListFilter(filter);
      const after = cursor === undefined ? null : decodeCursor(cursor);
      const matching = table
        .visible(o?.owner, meta)
        .filter((entry) => statuses.length === 0 || statuses.includes(entry.job.status))
        .filter((entry) => !after || comesAfter(entry, after))
        .sort(newestFirst);
      const page = matching.slice(0, limit);
      const last = page[page.length - 1];
      return {
        jobs: page.map((entry) => copy(entry.job)),
        nextCursor: matching.length > limit && last ? encodeCursor(last) : null,
      };
    });
  }

  function getPendingCount(filter?: Pick<JobFilter, 'meta'>, o?: MemoryRequestOptions): Promise<PendingCount> {
    return answer('getPendingCount', [filter, o], o?.signal, () => {
      checkMetaFilter(filter?.meta);
      const count: PendingCount = { pending: 0, processing: 0 };
      for (const { job } of table.visible(o?.owner, filter?.meta)) {
        if (job.status === 'pending' || job.status === 'processing') count[job.status] += 1;
      }
      return count;
    });
  }

  function cancel(id: string, o?: MemoryRequestOptions): Promise<Job> {
    return answer('cancel', [id, o], o?.signal, () => {
      checkId(id);
      const entry = table.mustFind(id, o?.owner);
      if (isTerminal(entry.job)) {
        throw new JobRequestError(409, 'not_cancellable', `Job "${id}" is already ${entry.job.status}`);
      }
      entry.scripted = false;
      table.update(entry, clock.now(), finishedPatch(clock.now(), 'cancelled'));
      return copy(entry.job);
    });
  }

  function retry(id: string, o?: MemoryRequestOptions): Promise<Job> {
    return answer('retry', [id, o], o?.signal, () => {
      checkId(id);
      const entry = table.mustFind(id, o?.owner);
      if (entry.job.status !== 'failed') {
        throw new JobRequestError(409, 'not_retryable', `Job "${id}" is ${entry.job.status}; only failed jobs can be retried`);
      }
      const t = clock.now();
      entry.scripted = entry.script !== null;
      entry.phaseAt = t;
      entry.waitMs = entry.script?.retryDelayMs ?? 0;
      table.update(entry, t, { ...nextAttemptPatch(entry.job.retryCount ?? 0), finishedAt: null });
      return copy(entry.job);
    });
  }

  return { getStatus, getStatuses, list, getPendingCount, cancel, retry };
}
