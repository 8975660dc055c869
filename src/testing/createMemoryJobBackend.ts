import { JobNotFoundError, JobRequestError } from '../core/errors';
import { isTerminal, JOB_STATES } from '../core/isTerminal';
import { parseJob } from '../core/parseJob';
import type {
  Job,
  JobBatch,
  JobClient,
  JobFilter,
  JobMetaValue,
  JobPage,
  JobRequestOptions,
  JobState,
  JobSubscriptionListener,
  PendingCount,
} from '../core/types';

/** Browsers run longer timeouts at once; the backend treats such latencies as "never". */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** One progress step of a scripted job: a fraction, a message, or both. */
export interface JobSpecStep {
  /** Fraction done (0..1) reported while this step runs. Default: the step's even share, `index / steps`. */
  progress?: number;
  /** `progressMessage` shown while this step runs. Default: none. */
  message?: string;
}

/**
 * What {@link MemoryJobBackend.create} makes: a job, and optionally a scripted
 * lifecycle that the backend's clock plays out.
 *
 * Without `queuedMs` and `runningMs` the job has no script: it stays `pending`
 * until a control (`start`, `progress`, `complete`, `fail`, `cancel`) moves it.
 *
 * With a script the job is `pending` for `queuedMs`, then `processing` for
 * `runningMs`, with `steps` spread evenly over the running time. The first
 * `failures` attempts fail at the end of their running time; after a failed
 * attempt the job goes back to `pending` (retryCount + 1) while
 * `retryCount < maxRetries`, otherwise it ends `failed`. An attempt that does
 * not fail completes with `result`. Any manual control except `retry` stops
 * what is left of the script.
 */
export interface JobSpec {
  /** The job's id. Default: the next free `job_<n>` of this backend. At most 200 characters, no control characters, not `counts` or `events` (reserved by the REST contract). */
  id?: string;
  /** Owner the job belongs to; a client call given another `owner` cannot see it. Default: none (only owner-less calls see it). */
  owner?: string;
  /** Application data such as `projectId`, filterable in `list` and `getPendingCount`. Default: none. */
  meta?: Record<string, JobMetaValue>;
  /**
   * What the job produces when it completes (scripted, or `complete(id)` without a result).
   * A function is called with the job at completion time, so the result can depend on the id. Default: none.
   */
  result?: unknown;
  /** Scripted: ms the first attempt waits in `pending`. Default 0 when `runningMs` is given. */
  queuedMs?: number;
  /**
   * Scripted: ms each attempt spends `processing` before it completes or fails.
   * When only `queuedMs` is given the job starts after it and stays `processing` until a control moves it.
   */
  runningMs?: number;
  /**
   * Scripted (needs `runningMs`): progress steps, spread evenly over `runningMs`. Step `i` of `n` begins at
   * `startedAt + i * runningMs / n` (step 0 with the start itself). A number `n` gives fractions
   * `0, 1/n, …, (n-1)/n`; strings are `progressMessage` texts (fractions as for a number);
   * objects give both. Completion reports 1. Default: no steps (progress stays indeterminate, `null`).
   */
  steps?: number | Array<string | JobSpecStep>;
  /** Scripted: how many attempts fail before one succeeds. `Infinity` never succeeds. Default 0. */
  failures?: number;
  /** How many retries the job may make; reported as `job.maxRetries`. Default 3. */
  maxRetries?: number;
  /** Scripted: the `error.message` of a failed attempt. Default `'Generation failed'`. */
  errorMessage?: string;
  /** Scripted: ms a retried attempt waits in `pending`. Default: `queuedMs` (or 0). */
  retryDelayMs?: number;
  /** Scripted: while `processing`, report `estimatedCompletionAt` = attempt start + `runningMs`. Default false. */
  reportEta?: boolean;
  /**
   * When the job was created: ISO 8601 string or epoch ms on the backend clock. Default: now.
   * The script starts at this time, so a back-dated job may already have finished at the first read
   * (handy to seed a history), each change stamped with its own time.
   */
  createdAt?: string | number;
}

/** A ready-made job to seed a backend with, optionally with its owner. Validated with `parseJob`. */
export type MemoryJobSeed = Job & {
  /** Owner the job belongs to (not part of the stored job). Default: none. */
  owner?: string;
};

/** The name of a logged client method. */
export type MemoryBackendMethod =
  | 'getStatus'
  | 'getStatuses'
  | 'list'
  | 'getPendingCount'
  | 'cancel'
  | 'retry'
  | 'subscribe';

/** One entry of {@link MemoryJobBackend.calls}. */
export interface MemoryBackendCall {
  /** The client method that was called. */
  method: MemoryBackendMethod;
  /** Its arguments as passed (trailing `undefined`s dropped; arrays copied, so later edits don't rewrite the log). */
  args: unknown[];
  /** Backend time of the call, in ms. */
  at: number;
}

/** Options every client method of the memory backend accepts. */
export interface MemoryRequestOptions extends JobRequestOptions {
  /**
   * Only jobs created with this owner are visible; others behave as unknown
   * (`JobNotFoundError`, `missing`, left out of lists and counts). Default: every job is visible.
   */
  owner?: string;
}

/** Options of {@link createMemoryJobBackend}. */
export interface MemoryJobBackendOptions {
  /**
   * The base clock in epoch ms. Default: `Date.now`, read at every call so fake timers
   * (`vi.useFakeTimers`, `vi.setSystemTime`) move it. `advance(ms)` adds to it.
   * Subscriptions schedule real (or fake) timers, so a clock that does not follow
   * timers should be moved with `advance` instead.
   */
  now?: () => number;
  /** Jobs to start with: specs (as for `create`) or ready jobs. Default: none. */
  jobs?: Array<JobSpec | MemoryJobSeed>;
  /**
   * Simulated response time of client methods in ms, or a function of the method name.
   * Default 0: answers resolve in a microtask, without a timer. State changes (`cancel`, `retry`)
   * apply at call time either way; reads are taken at call time too, so a slow answer can be stale,
   * as over a network. For `subscribe` it delays the first delivery. `Infinity` (or anything
   * beyond a timer's range, 2^31 - 1 ms) never answers: the request stays in flight until aborted.
   */
  latencyMs?: number | ((method: MemoryBackendMethod) => number);
}

/**
 * An in-memory job backend: a complete {@link JobClient}, a `JobStore` (every
 * method takes an `owner`), and controls that move jobs and the clock.
 * Methods use no `this`, so they can be destructured or spread.
 */
export interface MemoryJobBackend extends JobClient {
  /** Reads one job. Rejects with `JobNotFoundError` when unknown (or another owner's). */
  getStatus(id: string, options?: MemoryRequestOptions): Promise<Job>;
  /**
   * Reads many jobs: `jobs` in request order, unknown ids in `missing` (duplicates answered once).
   * Rejects with `JobRequestError(400, 'bad_request')` for more than 100 ids, as the REST contract does.
   */
  getStatuses(ids: string[], options?: MemoryRequestOptions): Promise<JobBatch>;
  /**
   * Lists jobs newest first (by `createdAt`, then creation order). `status` takes one state or
   * several (an empty array means every state); `meta` matches `String(job.meta[key]) === value`.
   * Rejects with `JobRequestError(400, 'bad_request')` for a `limit` outside 1..100 (default 20),
   * an unknown status or a malformed cursor. Cursors mark a position, so paging neither repeats
   * nor skips jobs when new ones are created meanwhile.
   */
  list(filter?: JobFilter, options?: MemoryRequestOptions): Promise<JobPage>;
  /** Counts pending and processing jobs, optionally matching `filter.meta`. */
  getPendingCount(filter?: Pick<JobFilter, 'meta'>, options?: MemoryRequestOptions): Promise<PendingCount>;
  /**
   * Cancels a pending or processing job (also a control). The change applies synchronously, before
   * the promise is returned. Rejects with `JobRequestError(409, 'not_cancellable')` when the job is
   * terminal and `JobNotFoundError` when unknown (never throws synchronously).
   */
  cancel(id: string, options?: MemoryRequestOptions): Promise<Job>;
  /**
   * Retries a failed job: back to `pending` with `retryCount + 1`, the error kept as the last error.
   * A scripted job plays its script for one more attempt (after `retryDelayMs`). Applies synchronously.
   * Manual retries are not bounded by `maxRetries`. Rejects with `JobRequestError(409, 'not_retryable')`
   * unless the job is `failed`, and `JobNotFoundError` when unknown.
   */
  retry(id: string, options?: MemoryRequestOptions): Promise<Job>;
  /**
   * Pushes the job's current state (in a microtask, never synchronously) and then every change,
   * synchronously as it is applied (by a control, a read, `advance` or the timer), until a terminal
   * state has been delivered. Changes made before the first delivery arrive folded into it.
   * Unknown ids get `listener.error(JobNotFoundError)`, also in a microtask.
   * While anyone is subscribed the backend sets a timer for the next scripted change; the last
   * unsubscribe clears it. `latencyMs` delays the first delivery (`Infinity`: none ever comes).
   */
  subscribe(id: string, listener: JobSubscriptionListener, options?: Pick<MemoryRequestOptions, 'owner'>): () => void;

  /**
   * Creates a job (not logged). Throws `JobRequestError(409, 'conflict')` when the id exists,
   * `JobRequestError(400, 'bad_request')` for an invalid id, `RangeError` for an invalid script.
   */
  create(spec?: JobSpec): Job;
  /** Moves the backend clock forward by `ms` (≥ 0) and applies every scripted change now due. Throws `RangeError` otherwise. */
  advance(ms: number): void;
  /**
   * Moves a pending job to `processing`, stopping its script.
   * Throws `JobNotFoundError` when unknown, `JobRequestError(409, 'invalid_state')` unless pending.
   */
  start(id: string): Job;
  /**
   * Reports progress (`fraction` 0..1, or `null` for indeterminate) and optionally a message
   * (`undefined` keeps the current one, `null` clears it) on a pending or processing job, stopping its script.
   * Throws `JobNotFoundError`, `JobRequestError(409, 'invalid_state')` when terminal, `RangeError` for a bad fraction.
   */
  progress(id: string, fraction: number | null, message?: string | null): Job;
  /**
   * Completes a pending or processing job with `result` (default: the spec's result).
   * Throws `JobNotFoundError`, or `JobRequestError(409, 'invalid_state')` when terminal.
   */
  complete(id: string, result?: unknown): Job;
  /**
   * Fails a pending or processing job with `message`, without automatic retry.
   * Throws `JobNotFoundError`, or `JobRequestError(409, 'invalid_state')` when terminal.
   */
  fail(id: string, message: string): Job;
  /** A copy of the job, or `undefined` (not logged, sees every owner). */
  get(id: string): Job | undefined;
  /** Copies of every job in creation order (not logged, sees every owner). */
  jobs(): Job[];
  /** The live log of client calls (controls other than `cancel` are not logged). */
  readonly calls: readonly MemoryBackendCall[];
  /** Empties {@link calls} in place. */
  clearCalls(): void;
  /** The backend's current time in epoch ms: the base clock plus everything `advance`d. */
  now(): number;
}

/** The script of a job, with its defaults resolved. */
interface Script {
  queuedMs: number;
  runningMs: number | undefined;
  steps: Array<{ progress: number; message: string | null }>;
  failures: number;
  maxRetries: number;
  errorMessage: string;
  retryDelayMs: number;
  reportEta: boolean;
}

interface Subscriber {
  listener: JobSubscriptionListener;
  /** False until the first delivery (always in a microtask), so nothing reaches the listener during `subscribe`. */
  primed: boolean;
  closed: boolean;
  lastVersion: number;
}

interface Entry {
  /** The stored job. Replaced, never mutated, on every change, so queued snapshots stay as they were. */
  job: Job;
  owner: string | undefined;
  /** Creation order: breaks ties between equal `createdAt`s and positions cursors. */
  seq: number;
  createdMs: number;
  /** The spec's result, used by a script's success and by `complete(id)`. */
  result: unknown;
  /** The job's script, kept after manual controls so `retry` can play it again. */
  script: Script | null;
  /** Whether the script drives the job now; manual controls turn it off. */
  scripted: boolean;
  /** When the current phase began: the pending wait or the running attempt. */
  phaseAt: number;
  /** How long the current pending phase lasts. */
  waitMs: number;
  /** Index of the next progress step of the running attempt. */
  nextStep: number;
  subscribers: Set<Subscriber>;
}

const RESERVED_IDS = new Set(['counts', 'events']);
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;
const MAX_BATCH = 100;
const MAX_ID_LENGTH = 200;

/**
 * Creates an in-memory job backend with a controllable clock: the reference
 * implementation of the client contract, for tests, stories and demos.
 *
 * Time is `options.now()` (default `Date.now`) plus whatever `advance` added.
 * Scripted changes are applied when something reads (or `advance`s), in time
 * order across jobs, each stamped with its own time; while anyone subscribes,
 * a timer applies them on time. Every backend is independent.
 *
 * @example
 * const backend = createMemoryJobBackend();
 * const job = backend.create({ queuedMs: 1000, runningMs: 5000, steps: ['Rendering', 'Saving'] });
 * backend.advance(3500); // processing, "Rendering" → "Saving"
 */
export function createMemoryJobBackend(options: MemoryJobBackendOptions = {}): MemoryJobBackend {
  const entries = new Map<string, Entry>();
  const calls: MemoryBackendCall[] = [];
  /** Changes not yet delivered to subscribers, oldest first. Shared so re-entrant flushes keep the order. */
  const outbox: Array<[Entry, Job]> = [];
  let offset = 0;
  let seq = 0;
  let idCounter = 0;
  /** The subscription timer; `fireAt` is on the base clock, so an `advance` makes it stale. */
  let timer: { fireAt: number; handle: ReturnType<typeof setTimeout>; clear: typeof clearTimeout } | null = null;

  // Date.now is looked up on every call (not captured) so fake timers installed later still move the clock.
  const baseNow = options.now ?? (() => Date.now());
  const now = (): number => baseNow() + offset;

  function latencyOf(method: MemoryBackendMethod): number {
    const { latencyMs = 0 } = options;
    return typeof latencyMs === 'function' ? latencyMs(method) : latencyMs;
  }

  // ---- state changes -------------------------------------------------------

  function update(entry: Entry, at: number, patch: Partial<Job>): void {
    entry.job = { ...entry.job, ...patch, version: (entry.job.version ?? 0) + 1, updatedAt: iso(at) };
    outbox.push([entry, entry.job]);
  }

  /** When the script's next change is due, or null when nothing is scheduled. */
  function dueAt(entry: Entry): number | null {
    const { script } = entry;
    if (!script || !entry.scripted) return null;
    if (entry.job.status === 'pending') return entry.phaseAt + entry.waitMs;
    if (entry.job.status !== 'processing' || script.runningMs === undefined) return null;
    return entry.nextStep < script.steps.length
      ? entry.phaseAt + stepOffset(script.runningMs, entry.nextStep, script.steps.length)
      : entry.phaseAt + script.runningMs;
  }

  /** Plays the script's next change, stamped with its due time `at`. */
  function playScript(entry: Entry, script: Script, at: number): void {
    if (entry.job.status === 'pending') {
      entry.phaseAt = at;
      entry.nextStep = 1;
      const first = script.steps[0];
      update(entry, at, {
        status: 'processing',
        startedAt: iso(at),
        progress: first ? first.progress : null,
        progressMessage: first ? first.message : null,
        estimatedCompletionAt: script.reportEta && script.runningMs !== undefined ? iso(at + script.runningMs) : null,
      });
      return;
    }
    const step = script.steps[entry.nextStep];
    if (step) {
      entry.nextStep += 1;
      update(entry, at, { progress: step.progress, progressMessage: step.message });
      return;
    }
    const attempt = entry.job.retryCount ?? 0;
    if (attempt >= script.failures) {
      update(entry, at, completedPatch(entry, at, entry.result));
    } else if (attempt < script.maxRetries) {
      entry.phaseAt = at;
      entry.waitMs = script.retryDelayMs;
      update(entry, at, { ...nextAttemptPatch(attempt), error: { message: script.errorMessage } });
    } else {
      update(entry, at, { ...finishedPatch(at, 'failed'), error: { message: script.errorMessage } });
    }
  }

  function completedPatch(entry: Entry, at: number, result: unknown): Partial<Job> {
    const value = typeof result === 'function' ? (result as (job: Job) => unknown)(copy(entry.job)) : result;
    // A completed job carries no error: UIs show `error` as what went wrong, and nothing did in the end.
    return { ...finishedPatch(at, 'completed'), progress: 1, error: null, ...(value === undefined ? {} : { result: copy(value) }) };
  }

  /**
   * Applies, in time order across all jobs, every scripted change due by now.
   * Ties go to the job created first (Map iteration order).
   */
  function settle(): void {
    const t = now();
    for (;;) {
      let next: Entry | undefined;
      let nextAt = Infinity;
      for (const entry of entries.values()) {
        const at = dueAt(entry);
        if (at !== null && at <= t && at < nextAt) {
          next = entry;
          nextAt = at;
        }
      }
      if (!next || !next.script) return;
      playScript(next, next.script, nextAt);
    }
  }

  /** Delivers queued changes to subscribers, then re-arms the timer for the next scripted change. */
  function flush(): void {
    for (let item = outbox.shift(); item; item = outbox.shift()) {
      const [entry, job] = item;
      for (const subscriber of [...entry.subscribers]) deliver(entry, subscriber, job);
    }
    schedule();
  }

  function deliver(entry: Entry, subscriber: Subscriber, job: Job): void {
    if (subscriber.closed || !subscriber.primed || (job.version ?? 0) <= subscriber.lastVersion) return;
    subscriber.lastVersion = job.version ?? 0;
    if (isTerminal(job)) close(entry, subscriber);
    invoke(() => subscriber.listener.next(copy(job)));
  }

  function close(entry: Entry, subscriber: Subscriber): void {
    subscriber.closed = true;
    entry.subscribers.delete(subscriber);
  }

  /**
   * Keeps one timer, for the earliest scripted change of a subscribed job.
   * Timers wait on the base clock, so the due time is taken back by `offset`;
   * after an `advance` the fire time differs and the timer is re-armed.
   * The timer functions are read at call time (fake timers) and the matching
   * clear is kept with the handle, in case fake timers are swapped meanwhile.
   */
  function schedule(): void {
    let at = Infinity;
    for (const entry of entries.values()) {
      if (entry.subscribers.size === 0) continue;
      const due = dueAt(entry);
      if (due !== null && due < at) at = due;
    }
    const fireAt = at - offset;
    if (timer && timer.fireAt === fireAt) return;
    if (timer) {
      // Called unbound: browsers reject clearTimeout invoked as a method of another object.
      const { clear, handle } = timer;
      clear(handle);
    }
    timer = null;
    if (at === Infinity) return;
    const handle = globalThis.setTimeout(() => {
      timer = null;
      settle();
      flush();
    }, Math.max(0, at - now()));
    timer = { fireAt, handle, clear: globalThis.clearTimeout };
  }

  /** Runs a control or a read: due changes first, then `run`, then subscribers hear of every change. */
  function transact<T>(run: () => T): T {
    try {
      settle();
      return run();
    } finally {
      flush();
    }
  }

  // ---- lookups -------------------------------------------------------------

  function find(id: string, owner?: string): Entry | undefined {
    const entry = entries.get(id);
    return entry && (owner === undefined || entry.owner === owner) ? entry : undefined;
  }

  function mustFind(id: string, owner?: string): Entry {
    const entry = find(id, owner);
    if (!entry) throw new JobNotFoundError(id);
    return entry;
  }

  function visible(owner: string | undefined, meta: Record<string, string> | undefined): Entry[] {
    const result: Entry[] = [];
    for (const entry of entries.values()) {
      if (owner !== undefined && entry.owner !== owner) continue;
      if (meta && !matchesMeta(entry.job, meta)) continue;
      result.push(entry);
    }
    return result;
  }

  function mustBeActive(entry: Entry, action: string): void {
    if (isTerminal(entry.job)) {
      throw new JobRequestError(409, 'invalid_state', `Cannot ${action} job "${entry.job.id}": it is already ${entry.job.status}`);
    }
  }

  // ---- client methods ------------------------------------------------------

  /**
   * Logs a client call and answers it: rejects at once if already aborted,
   * otherwise computes the outcome now and delivers it after the latency.
   */
  function answer<T>(method: MemoryBackendMethod, args: unknown[], signal: AbortSignal | undefined, run: () => T): Promise<T> {
    calls.push({ method, args: logArgs(args), at: now() });
    if (signal?.aborted) return Promise.reject(abortError());
    let outcome: { ok: true; value: T } | { ok: false; error: unknown };
    try {
      outcome = { ok: true, value: transact(run) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    const settleWith = (resolve: (value: T) => void, reject: (error: unknown) => void): void =>
      outcome.ok ? resolve(outcome.value) : reject(outcome.error);

    const ms = latencyOf(method);
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

  /**
   * Runs `fn` after `ms` (in a microtask for 0); never for delays beyond a timer's range,
   * which browsers would otherwise treat as 0. Returns the cancel function.
   */
  function later(ms: number, fn: () => void): () => void {
    if (!(ms > 0)) {
      let cancelled = false;
      microtask(() => {
        if (!cancelled) fn();
      });
      return () => {
        cancelled = true;
      };
    }
    if (ms > MAX_TIMER_MS) return () => {};
    const handle = globalThis.setTimeout(fn, ms);
    const clear = globalThis.clearTimeout;
    return () => clear(handle);
  }

  function getStatus(id: string, o?: MemoryRequestOptions): Promise<Job> {
    return answer('getStatus', [id, o], o?.signal, () => copy(mustFind(id, o?.owner).job));
  }

  function getStatuses(ids: string[], o?: MemoryRequestOptions): Promise<JobBatch> {
    return answer('getStatuses', [ids, o], o?.signal, () => {
      if (ids.length > MAX_BATCH) throw badRequest(`At most ${MAX_BATCH} ids per batch`);
      const jobs: Job[] = [];
      const missing: string[] = [];
      for (const id of new Set(ids)) {
        const entry = find(id, o?.owner);
        if (entry) jobs.push(copy(entry.job));
        else missing.push(id);
      }
      return { jobs, missing };
    });
  }

  function list(filter?: JobFilter, o?: MemoryRequestOptions): Promise<JobPage> {
    return answer('list', [filter, o], o?.signal, () => {
      const { status, meta, cursor, limit = DEFAULT_LIMIT } = filter ?? {};
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
        throw badRequest(`limit must be an integer from 1 to ${MAX_LIMIT}`);
      }
      const statuses = status === undefined ? [] : ([] as JobState[]).concat(status);
      for (const state of statuses) {
        if (!JOB_STATES.includes(state)) throw badRequest(`Unknown status "${String(state)}"`);
      }
      const after = cursor === undefined ? null : decodeCursor(cursor);
      const matching = visible(o?.owner, meta)
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
      const count: PendingCount = { pending: 0, processing: 0 };
      for (const { job } of visible(o?.owner, filter?.meta)) {
        if (job.status === 'pending' || job.status === 'processing') count[job.status] += 1;
      }
      return count;
    });
  }

  function cancel(id: string, o?: MemoryRequestOptions): Promise<Job> {
    return answer('cancel', [id, o], o?.signal, () => {
      const entry = mustFind(id, o?.owner);
      if (isTerminal(entry.job)) {
        throw new JobRequestError(409, 'not_cancellable', `Job "${id}" is already ${entry.job.status}`);
      }
      entry.scripted = false;
      update(entry, now(), finishedPatch(now(), 'cancelled'));
      return copy(entry.job);
    });
  }

  function retry(id: string, o?: MemoryRequestOptions): Promise<Job> {
    return answer('retry', [id, o], o?.signal, () => {
      const entry = mustFind(id, o?.owner);
      if (entry.job.status !== 'failed') {
        throw new JobRequestError(409, 'not_retryable', `Job "${id}" is ${entry.job.status}; only failed jobs can be retried`);
      }
      const t = now();
      entry.scripted = entry.script !== null;
      entry.phaseAt = t;
      entry.waitMs = entry.script?.retryDelayMs ?? 0;
      update(entry, t, { ...nextAttemptPatch(entry.job.retryCount ?? 0), finishedAt: null });
      return copy(entry.job);
    });
  }

  function subscribe(id: string, listener: JobSubscriptionListener, o?: Pick<MemoryRequestOptions, 'owner'>): () => void {
    calls.push({ method: 'subscribe', args: logArgs([id, listener, o]), at: now() });
    const subscriber: Subscriber = { listener, primed: false, closed: false, lastVersion: -Infinity };
    const entry = transact(() => find(id, o?.owner));
    if (!entry) {
      microtask(() => {
        if (subscriber.closed) return;
        subscriber.closed = true;
        invoke(() => listener.error?.(new JobNotFoundError(id)));
      });
      return () => {
        subscriber.closed = true;
      };
    }
    entry.subscribers.add(subscriber);
    // The first delivery's flush also arms the timer for the job's next scripted change.
    const cancelFirst = later(latencyOf('subscribe'), () => {
      if (subscriber.closed) return;
      transact(() => {
        subscriber.primed = true;
        deliver(entry, subscriber, entry.job);
      });
    });
    return () => {
      if (subscriber.closed) return;
      cancelFirst();
      close(entry, subscriber);
      schedule();
    };
  }

  // ---- controls ------------------------------------------------------------

  function create(spec: JobSpec = {}): Job {
    return transact(() => {
      const t = now();
      const createdMs = spec.createdAt === undefined ? t : toMs(spec.createdAt);
      // Validated before an id is drawn, so a rejected spec doesn't use up `job_<n>`.
      const script = toScript(spec);
      const id = spec.id ?? nextId();
      checkNewId(id);
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
      const entry = addEntry(job, spec.owner, createdMs, result, script);
      entry.waitMs = script?.queuedMs ?? 0;
      return copy(entry.job);
    });
  }

  function seed(value: MemoryJobSeed): void {
    const { owner, ...rest } = copy(value);
    const job = parseJob({ ...rest, version: rest.version ?? 1 });
    checkNewId(job.id);
    addEntry(job, owner, Date.parse(job.createdAt), undefined, null);
  }

  function addEntry(job: Job, owner: string | undefined, createdMs: number, result: unknown, script: Script | null): Entry {
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
      subscribers: new Set(),
    };
    entries.set(job.id, entry);
    return entry;
  }

  function nextId(): string {
    let id: string;
    do id = `job_${++idCounter}`;
    while (entries.has(id));
    return id;
  }

  function checkNewId(id: string): void {
    if (typeof id !== 'string' || id === '' || id.length > MAX_ID_LENGTH || /[\u0000-\u001f\u007f]/.test(id) || RESERVED_IDS.has(id)) {
      throw badRequest(`Invalid job id "${String(id)}": 1 to ${MAX_ID_LENGTH} characters, no control characters, not "counts" or "events"`);
    }
    if (entries.has(id)) throw new JobRequestError(409, 'conflict', `Job "${id}" already exists`);
  }

  /** Shared by the manual controls: due changes first, then `change` on a job whose script stops. */
  function control(id: string, change: (entry: Entry, t: number) => void): Job {
    return transact(() => {
      const entry = mustFind(id);
      change(entry, now());
      entry.scripted = false;
      return copy(entry.job);
    });
  }

  function start(id: string): Job {
    return control(id, (entry, t) => {
      if (entry.job.status !== 'pending') {
        throw new JobRequestError(409, 'invalid_state', `Cannot start job "${id}": it is ${entry.job.status}, not pending`);
      }
      update(entry, t, { status: 'processing', startedAt: iso(t), progress: null, progressMessage: null, estimatedCompletionAt: null });
    });
  }

  function progress(id: string, fraction: number | null, message?: string | null): Job {
    if (fraction !== null && !(fraction >= 0 && fraction <= 1)) {
      throw new RangeError(`progress must be a fraction from 0 to 1 or null, got ${fraction}`);
    }
    return control(id, (entry, t) => {
      mustBeActive(entry, 'report progress of');
      // The script's ETA no longer holds once a test drives the job by hand.
      update(entry, t, {
        progress: fraction,
        ...(message === undefined ? {} : { progressMessage: message }),
        estimatedCompletionAt: null,
      });
    });
  }

  function complete(id: string, result?: unknown): Job {
    return control(id, (entry, t) => {
      mustBeActive(entry, 'complete');
      update(entry, t, completedPatch(entry, t, result === undefined ? entry.result : result));
    });
  }

  function fail(id: string, message: string): Job {
    return control(id, (entry, t) => {
      mustBeActive(entry, 'fail');
      update(entry, t, { ...finishedPatch(t, 'failed'), error: { message } });
    });
  }

  function advance(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`advance() takes a finite number of ms ≥ 0, got ${ms}`);
    offset += ms;
    transact(() => undefined);
  }

  function get(id: string): Job | undefined {
    return transact(() => {
      const entry = entries.get(id);
      return entry && copy(entry.job);
    });
  }

  function jobs(): Job[] {
    return transact(() => [...entries.values()].map((entry) => copy(entry.job)));
  }

  function clearCalls(): void {
    calls.length = 0;
  }

  for (const item of options.jobs ?? []) {
    if ('status' in item) seed(item);
    else create(item);
  }

  return {
    getStatus,
    getStatuses,
    list,
    getPendingCount,
    cancel,
    retry,
    subscribe,
    create,
    advance,
    start,
    progress,
    complete,
    fail,
    get,
    jobs,
    calls,
    clearCalls,
    now,
  };
}

// ---- helpers (pure) --------------------------------------------------------

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function toMs(value: string | number): number {
  const ms = typeof value === 'number' ? value : Date.parse(value);
  if (!Number.isFinite(ms)) throw new RangeError(`createdAt must be an ISO 8601 string or epoch ms, got ${String(value)}`);
  return ms;
}

/** structuredClone keeps `undefined` fields and Dates that JSON would drop. */
function copy<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}

/** Runs `fn` in a microtask; a promise job, so it runs even when a test fakes `queueMicrotask`. */
function microtask(fn: () => void): void {
  void Promise.resolve().then(fn);
}

/** Calls a listener without letting its exception break the backend; the error still surfaces (uncaught). */
function invoke(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

function abortError(): DOMException {
  return new DOMException('The operation was aborted.', 'AbortError');
}

function badRequest(message: string): JobRequestError {
  return new JobRequestError(400, 'bad_request', message);
}

function finishedPatch(at: number, status: 'completed' | 'failed' | 'cancelled'): Partial<Job> {
  return { status, finishedAt: iso(at), progress: null, progressMessage: null, estimatedCompletionAt: null };
}

/** Back to pending for attempt `attempt + 1`; the last error stays. */
function nextAttemptPatch(attempt: number): Partial<Job> {
  return {
    status: 'pending',
    retryCount: attempt + 1,
    progress: null,
    progressMessage: null,
    startedAt: null,
    estimatedCompletionAt: null,
  };
}

/** Rounded to whole ms so timestamps are exact and timers land on them. */
function stepOffset(runningMs: number, step: number, steps: number): number {
  return Math.round((step * runningMs) / steps);
}

function checkCount(name: keyof JobSpec, value: number | undefined, kind: 'ms' | 'integer' | 'count'): void {
  if (value === undefined) return;
  const ok =
    kind === 'ms' ? Number.isFinite(value) && value >= 0 : Number.isInteger(value) ? value >= 0 : kind === 'count' && value === Infinity;
  if (!ok) throw new RangeError(`JobSpec.${name} must be ${kind === 'ms' ? 'a finite number' : 'an integer'} ≥ 0, got ${value}`);
}

/** Resolves a spec's script with its defaults; `null` when the spec has none. */
function toScript(spec: JobSpec): Script | null {
  checkCount('queuedMs', spec.queuedMs, 'ms');
  checkCount('runningMs', spec.runningMs, 'ms');
  checkCount('retryDelayMs', spec.retryDelayMs, 'ms');
  checkCount('failures', spec.failures, 'count'); // Infinity: never succeeds
  checkCount('maxRetries', spec.maxRetries, 'integer');
  if (typeof spec.steps === 'number') checkCount('steps', spec.steps, 'integer');
  if (spec.queuedMs === undefined && spec.runningMs === undefined) return null;

  // Steps are spread over the running time, so without one there is nothing to spread them over.
  const raw: Array<string | JobSpecStep> =
    spec.runningMs === undefined ? [] : typeof spec.steps === 'number' ? Array.from({ length: spec.steps }, () => ({})) : (spec.steps ?? []);
  const steps = raw.map((step, i) => {
    const { progress = i / raw.length, message = null } = typeof step === 'string' ? { message: step } : step;
    if (!(progress >= 0 && progress <= 1)) throw new RangeError(`JobSpec.steps[${i}].progress must be from 0 to 1, got ${progress}`);
    return { progress, message };
  });
  const queuedMs = spec.queuedMs ?? 0;
  return {
    queuedMs,
    runningMs: spec.runningMs,
    steps,
    failures: spec.failures ?? 0,
    maxRetries: spec.maxRetries ?? 3,
    errorMessage: spec.errorMessage ?? 'Generation failed',
    retryDelayMs: spec.retryDelayMs ?? queuedMs,
    reportEta: spec.reportEta ?? false,
  };
}

function matchesMeta(job: Job, filter: Record<string, string>): boolean {
  const meta = job.meta ?? {};
  return Object.entries(filter).every(
    ([key, value]) => Object.prototype.hasOwnProperty.call(meta, key) && String(meta[key]) === String(value),
  );
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
  return btoa(`${entry.createdMs}:${entry.seq}`).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function decodeCursor(cursor: string): Position {
  let text = '';
  try {
    if (/^[A-Za-z0-9_-]+$/.test(cursor)) text = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
  } catch {
    // Not base64: reported as a bad cursor below.
  }
  const match = /^(-?\d+):(\d+)$/.exec(text);
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
