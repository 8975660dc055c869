/** Public types of `createMemoryJobBackend`: job specs, seeds, options, the call log and the backend itself. */
import type {
  Job,
  JobBatch,
  JobClient,
  JobFilter,
  JobMetaValue,
  JobOutputInput,
  JobOutputListener,
  JobOutputPage,
  JobOutputPart,
  JobPage,
  JobRequestOptions,
  JobSubscriptionListener,
  PendingCount,
} from '../contract/types';

/** One progress step of a scripted job: a fraction, a message, or both. */
export interface JobSpecStep {
  /** Fraction done (0..1) reported while this step runs. Default: the step's even share, `index / steps`. */
  progress?: number;
  /** `progressMessage` shown while this step runs. Default: none. */
  message?: string;
}

/**
 * Scripted output as a text streamed in word-ish tokens (each word with the whitespace
 * before it, as a language model streams them), as `text` parts.
 */
export interface JobSpecTextOutput {
  /** The whole text; its tokens join back to it exactly. */
  text: string;
  /**
   * Tokens per second, the first at the attempt's start; tokens that would come after
   * `runningMs` are emitted at its end, before the attempt completes or fails.
   * Default: the tokens spread evenly over `runningMs` (token `i` of `n` at `i * runningMs / n`).
   */
  tokensPerSecond?: number;
}

/** One scripted output part, emitted exactly `atMs` after the attempt started processing. */
export interface JobSpecOutputPart {
  /** ms after the attempt started, from 0 to `runningMs` (a part at `runningMs` comes just before the attempt ends). */
  atMs: number;
  /** The part (`seq` and `at` are filled in as by `appendOutput`); checked with `outputInputProblem`. */
  part: JobOutputInput;
}

/**
 * What a scripted job emits while it runs (needs `runningMs`): a text streamed as tokens, or
 * parts at exact times (log lines, `data` values, a preview image, a final image). Parts at the
 * same time keep their order; at the same time as a progress step they come after it.
 */
export type JobSpecOutput = JobSpecTextOutput | JobSpecOutputPart[];

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
  /**
   * The job's id. Default: the next free `job_<n>` of this backend. Any id the REST contract allows
   * (`isValidJobId`: 1–200 characters, no control characters, not `counts` or `events`); `create`
   * throws `RangeError` for any other string.
   */
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
   * Scripted (needs `runningMs`): output each attempt emits while it runs, played by the backend
   * clock like the steps: `{ text: 'Once upon a time…', tokensPerSecond: 20 }` or
   * `[{ atMs: 0, part: { kind: 'log', text: 'Loading model' } }, …]`. Every attempt plays it from
   * its start again, continuing the job's `seq` (a retried generation produces its text anew; nothing
   * like a "Retry 1" line is added). A manual control other than `retry` stops it with the script.
   * `RangeError` for a bad one (see {@link JobSpecOutput}). Default: no output.
   */
  output?: JobSpecOutput;
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
  | 'subscribe'
  | 'readOutput'
  | 'subscribeOutput';

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
   * as over a network. For `subscribe` and `subscribeOutput` it delays the first delivery. `Infinity` (or anything
   * beyond a timer's range, 2^31 - 1 ms) never answers: the request stays in flight until aborted.
   */
  latencyMs?: number | ((method: MemoryBackendMethod) => number);
  /**
   * Output parts kept per job; older ones are trimmed, and a read asking for them answers the
   * parts kept with `trimmed: true`. An integer ≥ 1 (`RangeError` otherwise). Default
   * `DEFAULT_STORED_OUTPUT_PARTS` (10,000).
   */
  maxOutputParts?: number;
}

/** Options of the memory backend's {@link MemoryJobBackend.readOutput}. */
export interface MemoryOutputReadOptions extends MemoryRequestOptions {
  /** Only parts with a greater `seq` (default 0: from the start); an integer ≥ 0. */
  after?: number;
  /** At most this many parts, 1 to `MAX_OUTPUT_PAGE_PARTS` (default and largest, 500). */
  limit?: number;
}

/** Options of the memory backend's {@link MemoryJobBackend.subscribeOutput}. */
export interface MemoryOutputSubscribeOptions extends Pick<MemoryRequestOptions, 'owner'> {
  /** Deliver parts with a greater `seq` (default 0: every part kept); an integer ≥ 0. */
  after?: number;
}

/**
 * An in-memory job backend: a complete {@link JobClient}, a `JobStore` (every
 * method takes an `owner`), and controls that move jobs and the clock.
 * Methods use no `this`, so they can be destructured or spread.
 */
export interface MemoryJobBackend extends JobClient {
  /**
   * Reads one job. Rejects with `JobNotFoundError` when unknown (or another owner's), and with
   * `JobRequestError(400, 'bad_request')` for an id the REST contract refuses (`isValidJobId`), as the server does.
   */
  getStatus(id: string, options?: MemoryRequestOptions): Promise<Job>;
  /**
   * Reads many jobs: `jobs` in request order, unknown ids in `missing` (duplicates answered once).
   * Rejects with `JobRequestError(400, 'bad_request')` for more than 100 ids or any id the contract
   * refuses, as the REST contract does.
   */
  getStatuses(ids: string[], options?: MemoryRequestOptions): Promise<JobBatch>;
  /**
   * Lists jobs newest first (by `createdAt`, then creation order). `status` takes one state or
   * several (an empty array means every state); `meta` matches as `matchesMetaFilter` does
   * (`String(job.meta[key]) === value`). Rejects with `JobRequestError(400, 'bad_request')` for a
   * `limit` outside 1..100 (default 20), an unknown status, a malformed cursor or a `meta` filter
   * beyond the contract's limits (`metaFilterProblem`: at most 20 keys, keys and values up to 200 characters). Cursors mark a position, so paging neither repeats
   * nor skips jobs when new ones are created meanwhile.
   */
  list(filter?: JobFilter, options?: MemoryRequestOptions): Promise<JobPage>;
  /** Counts pending and processing jobs, optionally matching `filter.meta` (limits and 400 as for `list`). */
  getPendingCount(filter?: Pick<JobFilter, 'meta'>, options?: MemoryRequestOptions): Promise<PendingCount>;
  /**
   * Cancels a pending or processing job (also a control). The change applies synchronously, before
   * the promise is returned. Rejects with `JobRequestError(409, 'not_cancellable')` when the job is
   * terminal, `JobNotFoundError` when unknown and `JobRequestError(400, 'bad_request')` for an id the
   * contract refuses (never throws synchronously).
   */
  cancel(id: string, options?: MemoryRequestOptions): Promise<Job>;
  /**
   * Retries a failed job: back to `pending` with `retryCount + 1`, the error kept as the last error.
   * A scripted job plays its script for one more attempt (after `retryDelayMs`). Applies synchronously.
   * Manual retries are not bounded by `maxRetries`. Rejects with `JobRequestError(409, 'not_retryable')`
   * unless the job is `failed`, `JobNotFoundError` when unknown, `JobRequestError(400, 'bad_request')` for an invalid id.
   */
  retry(id: string, options?: MemoryRequestOptions): Promise<Job>;
  /**
   * Pushes the job's current state (in a microtask, never synchronously) and then every change,
   * synchronously as it is applied (by a control, a read, `advance` or the timer), until a terminal
   * state has been delivered. Changes made before the first delivery arrive folded into it.
   * Unknown ids get `listener.error(JobNotFoundError)`, also in a microtask; an id the contract
   * refuses gets `listener.error(JobRequestError(400, 'bad_request'))`.
   * While anyone is subscribed the backend sets a timer for the next scripted change; the last
   * unsubscribe clears it. `latencyMs` delays the first delivery (`Infinity`: none ever comes).
   */
  subscribe(id: string, listener: JobSubscriptionListener, options?: Pick<MemoryRequestOptions, 'owner'>): () => void;
  /**
   * Reads a job's output parts after `after` (at most `limit`), as `GET {base}/{id}/output` answers:
   * `done` when the job is terminal and the page holds its last part, `trimmed` when parts asked for
   * were trimmed (`maxOutputParts`). Rejects with `JobNotFoundError` when unknown (or another owner's)
   * and `JobRequestError(400, 'bad_request')` for an invalid id, `after` or `limit`. Logged; `latencyMs` applies.
   */
  readOutput(id: string, options?: MemoryOutputReadOptions): Promise<JobOutputPage>;
  /**
   * Pushes a job's output, asynchronously (never during the call): first the parts after `after`
   * (in pages of at most `MAX_OUTPUT_PAGE_PARTS`, the first with `trimmed` when parts asked for are
   * gone), then each new part as it is appended, in `seq` order, never a part twice. Once the job
   * is terminal and its last part was delivered, `next(parts, { done: true })` comes once (parts
   * may be `[]`; at once for a job already terminal) and the subscription ends. An unknown (or
   * another owner's) job gets `listener.error(JobNotFoundError)`, an invalid id or `after`
   * `listener.error(JobRequestError(400))`, both asynchronously. Logged; `latencyMs` delays the first delivery.
   */
  subscribeOutput(id: string, options: MemoryOutputSubscribeOptions | undefined, listener: JobOutputListener): () => void;

  /**
   * Creates a job (not logged). Throws `JobRequestError(409, 'conflict')` when the id exists,
   * `RangeError` for an id the REST contract refuses (`isValidJobId`) or an invalid script,
   * `TypeError` for an id that is not a string. Seeds in `options.jobs` are checked the same way.
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
  /**
   * Appends an output part to a pending or processing job (a control: not logged, sees every
   * owner, leaves the script running) and returns it with `seq` (the next of the job) and `at`
   * (the part's own `at` when given, else the backend clock) filled in; output subscribers hear of
   * it. Throws `JobNotFoundError` when unknown, `JobRequestError(400, 'bad_request')` for a part
   * `outputInputProblem` refuses (a wrong kind, an unsafe image URL, more than 256 KiB of JSON…)
   * and `JobRequestError(409, 'job_finished')` when the job is terminal: its output is complete.
   */
  appendOutput(id: string, part: JobOutputInput): JobOutputPart;
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
