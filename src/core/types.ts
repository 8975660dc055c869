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

/** What a push subscription delivers. */
export interface JobSubscriptionListener {
  /** Called with every new state of the job. */
  next(job: Job): void;
  /** Called when the subscription fails; the watcher then falls back to polling. */
  error?(error: unknown): void;
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
  /** Optional: cancels a pending or processing job. */
  cancel?(id: string): Promise<Job>;
  /** Optional: retries a failed job. */
  retry?(id: string): Promise<Job>;
  /** Optional: pushes every change of a job; returns the unsubscribe function. */
  subscribe?(id: string, listener: JobSubscriptionListener): () => void;
}
