import type { Job } from './types';

// Errors carry a global brand instead of relying on prototype identity, so
// `instanceof` holds whichever entry (or ESM/CJS copy) a class comes from.
const BRAND = Symbol.for('jobwatch.error');

// Instance fields are `declare`d: each constructor assigns them, so no class
// field definitions (set to undefined, then assigned) are emitted.

/** Base class of every error jobwatch throws. `instanceof JobError` matches all of them. */
export class JobError extends Error {
  /** The error's name; also what `instanceof` compares, so it holds across copies of the class. */
  static readonly errorName: string = 'JobError';

  static override [Symbol.hasInstance](value: unknown): boolean {
    const brand = (value as { [BRAND]?: unknown } | null)?.[BRAND];
    return typeof brand === 'string' && (this.errorName === 'JobError' || brand === this.errorName);
  }

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    const name = (new.target as typeof JobError).errorName;
    Object.defineProperty(this, BRAND, { value: name });
    this.name = name;
  }
}

/** The job does not exist, or the caller may not see it (404). Watching stops. */
export class JobNotFoundError extends JobError {
  static override readonly errorName: string = 'JobNotFoundError';
  /** The id that was asked for. */
  declare readonly jobId: string;
  constructor(jobId: string, options?: { cause?: unknown }) {
    super(`Job "${jobId}" was not found`, options);
    this.jobId = jobId;
  }
}

/** The server refused the caller (401/403). Watching stops. */
export class JobUnauthorizedError extends JobError {
  static override readonly errorName: string = 'JobUnauthorizedError';
  /** HTTP status, when the error came from HTTP. */
  declare readonly status: number | undefined;
  constructor(message = 'Not authorized to read this job', options?: { status?: number; cause?: unknown }) {
    super(message, options);
    this.status = options?.status;
  }
}

/**
 * The request did not get a usable answer: network failure, timeout, 5xx or
 * 429. Transient: the last good job stays and watching retries with backoff.
 */
export class JobTransportError extends JobError {
  static override readonly errorName: string = 'JobTransportError';
  /** HTTP status, when there was a response. */
  declare readonly status: number | undefined;
  /** How long the server asked to wait (from `Retry-After`), in ms. */
  declare readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { status?: number; retryAfterMs?: number; cause?: unknown }) {
    super(message, options);
    this.status = options?.status;
    this.retryAfterMs = options?.retryAfterMs;
  }
}

/**
 * A payload is not what the contract promises (for example a Job without a
 * valid `status`). Transient: it never counts as a failed job.
 */
export class JobProtocolError extends JobError {
  static override readonly errorName: string = 'JobProtocolError';
  /** The offending field as a path, e.g. `status` or `error.message`; empty for the whole payload. */
  declare readonly field: string;
  constructor(field: string, problem: string, options?: { cause?: unknown }) {
    super(field ? `Invalid job payload: "${field}" ${problem}` : `Invalid job payload: ${problem}`, options);
    this.field = field;
  }
}

/** The server rejected the request itself (400, 409) with a machine-readable `code`. */
export class JobRequestError extends JobError {
  static override readonly errorName: string = 'JobRequestError';
  /** HTTP status (400, 409, ...). */
  declare readonly status: number;
  /** The server's error code, e.g. `bad_request`, `not_cancellable`. */
  declare readonly code: string;
  constructor(status: number, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.status = status;
    this.code = code;
  }
}

/** The job itself ended in `failed`. Carries the job; its message is the job's error message. */
export class JobFailedError<TResult = unknown> extends JobError {
  static override readonly errorName: string = 'JobFailedError';
  /** The failed job. */
  declare readonly job: Job<TResult>;
  constructor(job: Job<TResult>) {
    super(job.error?.message ?? `Job "${job.id}" failed`);
    this.job = job;
  }
}

/** Whether an error ends watching (the job is gone or forbidden) rather than being retried. */
export function isFatalJobError(error: unknown): boolean {
  return error instanceof JobNotFoundError || error instanceof JobUnauthorizedError;
}

/** Whether an error is an abort (from an `AbortSignal`). */
export function isAbortError(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'AbortError';
}

/**
 * The error an aborted operation rejects with, as `fetch` does: the signal's
 * `reason` when that is an `AbortError`, else a new `DOMException('…', 'AbortError')`.
 */
export function abortError(signal?: AbortSignal): unknown {
  return signal?.reason instanceof Error && isAbortError(signal.reason)
    ? signal.reason
    : new DOMException('The operation was aborted.', 'AbortError');
}
