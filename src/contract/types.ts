/** The lifecycle state of a job. `completed`, `failed` and `cancelled` are terminal. */
export type JobState = 'pending' | 'processing' | 'completed' | 'failed' | 'cancelled';

/** A value allowed in {@link Job.meta}: flat, JSON-safe and filterable. */
export type JobMetaValue = string | number | boolean | null;

/** The last error a job reported. */
export interface JobErrorInfo {
  /** Human-readable message, shown as text (never as HTML). */
  message: string;
  /** Optional machine-readable code. */
  code?: string;
}

/** A background job as the server reports it. */
export interface Job<TResult = unknown> {
  /** Unique id of the job. */
  id: string;
  /** Lifecycle state. */
  status: JobState;
  /** Fraction done, 0..1; `null` or absent when unknown (indeterminate). */
  progress?: number | null;
  /** What the job is doing right now, e.g. "Upscaling". */
  progressMessage?: string | null;
  /** Retries so far: 0 on the first attempt. */
  retryCount?: number;
  /** How many retries the job may make, when bounded. */
  maxRetries?: number | null;
  /** The last error, if any. Kept while a retry runs; set when the job failed. */
  error?: JobErrorInfo | null;
  /** What the job produced, once completed. */
  result?: TResult;
  /** ISO 8601 creation time. */
  createdAt: string;
  /** ISO 8601 time of the last change. */
  updatedAt: string;
  /** ISO 8601 time the current attempt started processing. */
  startedAt?: string | null;
  /** ISO 8601 time the job reached a terminal state. */
  finishedAt?: string | null;
  /** ISO 8601 time the server expects the job to finish. */
  estimatedCompletionAt?: string | null;
  /** Increases with every change of the job; used to order updates. */
  version?: number;
  /** Application data such as `projectId`; filterable in lists and counts. */
  meta?: Record<string, JobMetaValue>;
}

/** Active jobs, split by state. */
export interface PendingCount {
  /** Jobs waiting to start. */
  pending: number;
  /** Jobs running now. */
  processing: number;
}

/** Which jobs a list or count covers. */
export interface JobFilter {
  /** One state or several; absent means every state. */
  status?: JobState | JobState[];
  /** Exact matches on {@link Job.meta} values, e.g. `{ projectId: 'p1' }`. */
  meta?: Record<string, string>;
  /** Opaque cursor from a previous page's `nextCursor`. */
  cursor?: string;
  /** Page size, 1..100 (default 20). */
  limit?: number;
}

/** One page of a job list. */
export interface JobPage<TResult = unknown> {
  /** The jobs of this page, newest first. */
  jobs: Job<TResult>[];
  /** Cursor of the next page, or `null` on the last page. */
  nextCursor: string | null;
}

/** The answer of a batch status read. */
export interface JobBatch<TResult = unknown> {
  /** The jobs that exist, in no particular order. */
  jobs: Job<TResult>[];
  /** The requested ids that do not exist (or that the caller may not see). */
  missing: string[];
}

/** Options every client read accepts. */
export interface JobRequestOptions {
  /** Aborts the request; the promise then rejects with an `AbortError`. */
  signal?: AbortSignal;
}

/** What kind of output a {@link JobOutputPart} carries. */
export type JobOutputKind = 'text' | 'log' | 'data' | 'image';

/**
 * One piece of what a running job has produced so far: tokens of a text, a log
 * line, a JSON value, or a preview image. Parts of a job are numbered 1, 2, 3…
 * with no gaps, and are delivered in that order exactly once.
 */
export interface JobOutputPart {
  /** Position in the job's output: 1, 2, 3… per job, no gaps. */
  seq: number;
  /** What the part carries. */
  kind: JobOutputKind;
  /** Kind `text`: text appended to what came before (e.g. tokens). Kind `log`: one line. */
  text?: string;
  /** Kind `data`: a JSON value. */
  data?: unknown;
  /** Kind `image`: a preview image, an `http(s):` or `data:image/…` URL only. */
  url?: string;
  /** Kind `image`: what the image shows, for people who cannot see it. */
  alt?: string;
  /** ISO 8601 time the part was produced. */
  at: string;
}

/** A part as a producer hands it to a store: `seq` and `at` are filled in by the store. */
export type JobOutputInput = Omit<JobOutputPart, 'seq' | 'at'> & {
  /** When the part was produced (ISO 8601); default: when the store received it. */
  at?: string;
};

/** One page of a job's output (`GET {base}/{id}/output`). */
export interface JobOutputPage {
  /** Parts after the `after` asked for, in `seq` order with no gaps. */
  parts: JobOutputPart[];
  /** The job is terminal and this page holds its last part: no more output will come. */
  done: boolean;
  /**
   * The store no longer keeps some parts that were asked for (its history is trimmed):
   * `parts` then starts after a gap. Absent or `false` when nothing was dropped.
   */
  trimmed?: boolean;
}

/** Options of an output read. */
export interface JobOutputReadOptions extends JobRequestOptions {
  /** Only parts with a greater `seq` (default 0: from the start). */
  after?: number;
  /** At most this many parts (default and largest: `MAX_OUTPUT_PAGE_PARTS`). */
  limit?: number;
}

/** What an output subscription delivers. */
export interface JobOutputListener {
  /**
   * Called with new parts in `seq` order. `info.done` says the job is terminal and
   * these are its last parts; `info.trimmed` that parts before these were dropped by the store.
   */
  next(parts: JobOutputPart[], info?: { done?: boolean; trimmed?: boolean }): void;
  /** The subscription ended with an error (e.g. `JobNotFoundError`); nothing more is delivered. */
  error?(error: unknown): void;
  /** The connection dropped and the client is reconnecting by itself (resuming after the last part). */
  disconnected?(error: unknown): void;
}

/** What a store says about a pushed change (see {@link JobStore.changedSince}). */
export interface JobPushInfo {
  /**
   * A position of the store's change log such that every change up to it, of every job this
   * store pushes to the same consumer, has been delivered (e.g. a Redis stream id).
   */
  position?: string;
}

/** What a push subscription delivers. */
export interface JobSubscriptionListener {
  /** Called with every new state of the job (stores may add where it sits in their change log). */
  next(job: Job, info?: JobPushInfo): void;
  /**
   * Called when the subscription has ended with an error (e.g. `JobNotFoundError`,
   * `JobUnauthorizedError`, or a transport failure it will not recover from by itself).
   * Nothing more is delivered; the watcher falls back to polling and subscribes again later.
   */
  error?(error: unknown): void;
  /**
   * Called when the connection behind a subscription dropped and the client is
   * reconnecting by itself: updates may be missed until the next `next`. The
   * subscription stays open; the watcher polls at the normal interval meanwhile.
   */
  disconnected?(error: unknown): void;
}

/**
 * How hooks reach your jobs. Method names follow a typical job router, so an
 * existing tRPC or REST router maps onto it as an object literal.
 */
export interface JobClient {
  /** Reads one job. Rejects with `JobNotFoundError` when the id is unknown. */
  getStatus(id: string, options?: JobRequestOptions): Promise<Job>;
  /** Lists jobs, newest first, a page at a time. */
  list(filter?: JobFilter, options?: JobRequestOptions): Promise<JobPage>;
  /** Counts active jobs, optionally scoped by `meta`. */
  getPendingCount(filter?: Pick<JobFilter, 'meta'>, options?: JobRequestOptions): Promise<PendingCount>;
  /** Optional: reads many jobs in one request. */
  getStatuses?(ids: string[], options?: JobRequestOptions): Promise<JobBatch>;
  /** Optional: cancels a pending or processing job. Rejects with `JobRequestError` (409 `not_cancellable`) when it already finished. */
  cancel?(id: string, options?: JobRequestOptions): Promise<Job>;
  /** Optional: retries a failed job. Rejects with `JobRequestError` (409 `not_retryable`) when it has not failed. */
  retry?(id: string, options?: JobRequestOptions): Promise<Job>;
  /** Optional: pushes every change of a job; returns the unsubscribe function. */
  subscribe?(id: string, listener: JobSubscriptionListener): () => void;
  /** Optional: reads a job's output after `after` (see {@link JobOutputPage}). Rejects with `JobNotFoundError` when the id is unknown. */
  readOutput?(id: string, options?: JobOutputReadOptions): Promise<JobOutputPage>;
  /**
   * Optional: pushes a job's new output parts, starting after `options.after`; returns the
   * unsubscribe function. On the fetch client this rides on the one event stream.
   */
  subscribeOutput?(id: string, options: { after?: number }, listener: JobOutputListener): () => void;
}

/** Options every {@link JobStore} method receives: who is asking. */
export interface JobStoreRequestOptions extends JobRequestOptions {
  /** The caller's owner id (from `authorize`). A store shows each owner only its own jobs. */
  owner: string;
}

/**
 * What `createJobHandler` serves: the {@link JobClient} methods, each given the
 * caller's owner. Another owner's job behaves as unknown (`JobNotFoundError`,
 * listed in `missing`, left out of lists and counts). The in-memory backend
 * from `jobwatch/testing` is one.
 */
export interface JobStore {
  /** Reads one job of `owner`. Rejects with `JobNotFoundError` when unknown or another owner's. */
  getStatus(id: string, options: JobStoreRequestOptions): Promise<Job>;
  /** Lists `owner`'s jobs, newest first, a page at a time. Rejects with `JobRequestError` (400) for a bad cursor. */
  list(filter: JobFilter, options: JobStoreRequestOptions): Promise<JobPage>;
  /** Counts `owner`'s active jobs. */
  getPendingCount(filter: Pick<JobFilter, 'meta'>, options: JobStoreRequestOptions): Promise<PendingCount>;
  /** Optional: reads many jobs at once; without it the handler reads them one by one. */
  getStatuses?(ids: string[], options: JobStoreRequestOptions): Promise<JobBatch>;
  /** Optional: cancels a job (409 `not_cancellable` when finished); without it the route answers 405. */
  cancel?(id: string, options: JobStoreRequestOptions): Promise<Job>;
  /** Optional: retries a failed job (409 `not_retryable` otherwise); without it the route answers 405. */
  retry?(id: string, options: JobStoreRequestOptions): Promise<Job>;
  /** Optional: pushes every change of a job; without it the handler polls the store for the event stream. */
  subscribe?(id: string, listener: JobSubscriptionListener, options: Pick<JobStoreRequestOptions, 'owner'>): () => void;
  /** Optional: reads `owner`'s job output after `after`; without it the output route answers 404. Rejects with `JobNotFoundError` for an unknown or another owner's job. */
  readOutput?(id: string, options: JobStoreRequestOptions & Pick<JobOutputReadOptions, 'after' | 'limit'>): Promise<JobOutputPage>;
  /** Optional: pushes `owner`'s job output after `options.after`; without it the handler polls `readOutput` for the event stream. */
  subscribeOutput?(id: string, options: { after?: number; owner: string }, listener: JobOutputListener): () => void;
  /**
   * Optional, with {@link JobStore.changedSince}: the current position of the store's change
   * log, shared by every server instance (e.g. the id of the newest entry of a Redis stream).
   * A position is one or two non-negative integers joined by `-` (`"1732800000000-3"`),
   * ordered number by number. With both methods, the event stream's `id:` fields are log
   * positions, so a client reconnecting through any instance with `Last-Event-ID` is sent
   * exactly the jobs that changed since. Without them, the ids are `updatedAt` times.
   */
  logPosition?(options: JobRequestOptions): Promise<string>;
  /**
   * Optional, with {@link JobStore.logPosition}: which of `ids` changed after `position`, or
   * `null` when the log cannot tell (it was trimmed past `position`, or `position` is not one
   * of its own); then every job is sent again.
   */
  changedSince?(ids: string[], position: string, options: JobStoreRequestOptions): Promise<string[] | null>;
}
