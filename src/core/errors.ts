import type { Job } from './types';

// Errors carry a global brand instead of relying on prototype identity, so
// `instanceof` holds whichever entry (or ESM/CJS copy) a class comes from.
const BRAND = Symbol.for('jobwatch.error');

type ErrorName =
  | 'JobNotFoundError'
  | 'JobUnauthorizedError'
  | 'JobTransportError'
  | 'JobProtocolError'
  | 'JobRequestError'
  | 'JobFailedError';

/** Base class of every error jobwatch throws. `instanceof JobError` matches all of them. */
export class JobError extends Error {
  /** @internal */
  declare readonly [BRAND]: ErrorName;

  static override [Symbol.hasInstance](value: unknown): boolean {
    const brand = (value as { [BRAND]?: unknown } | null)?.[BRAND];
    if (typeof brand !== 'string') return false;
    return this === JobError || brand === this.prototype.name;
  }

  constructor(name: ErrorName, message: string, options?: { cause?: unknown }) {
    super(message, options);
    Object.defineProperty(this, BRAND, { value: name });
    Object.defineProperty(this, 'name', { value: name, configurable: true, writable: true });
  }
}

function defineName(cls: { prototype: { name: string } }, name: ErrorName): void {
  Object.defineProperty(cls.prototype, 'name', { value: name, configurable: true, writable: true });
}

/** The job does not exist, or the caller may not see it (404). Watching stops. */
export class JobNotFoundError extends JobError {
  /** The id that was asked for. */
  readonly jobId: string;
  constructor(jobId: string, options?: { cause?: unknown }) {
    super('JobNotFoundError', `Job "${jobId}" was not found`, options);
    this.jobId = jobId;
  }
}
defineName(JobNotFoundError, 'JobNotFoundError');

/** The server refused the caller (401/403). Watching stops. */
export class JobUnauthorizedError extends JobError {
  /** HTTP status, when the error came from HTTP. */
  readonly status: number | undefined;
  constructor(message = 'Not authorized to read this job', options?: { status?: number; cause?: unknown }) {
    super('JobUnauthorizedError', message, options);
    this.status = options?.status;
  }
}
defineName(JobUnauthorizedError, 'JobUnauthorizedError');

/**
 * The request did not get a usable answer: network failure, timeout, 5xx or
 * 429. Transient: the last good job stays and watching retries with backoff.
 */
export class JobTransportError extends JobError {
  /** HTTP status, when there was a response. */
  readonly status: number | undefined;
  /** How long the server asked to wait (from `Retry-After`), in ms. */
  readonly retryAfterMs: number | undefined;
  constructor(message: string, options?: { status?: number; retryAfterMs?: number; cause?: unknown }) {
    super('JobTransportError', message, options);
    this.status = options?.status;
    this.retryAfterMs = options?.retryAfterMs;
  }
}
defineName(JobTransportError, 'JobTransportError');

/**
 * A payload is not what the contract promises (for example a Job without a
 * valid `status`). Transient: it never counts as a failed job.
 */
export class JobProtocolError extends JobError {
  /** The offending field as a path, e.g. `status` or `error.message`; empty for the whole payload. */
  readonly field: string;
  constructor(field: string, problem: string, options?: { cause?: unknown }) {
    super('JobProtocolError', field ? `Invalid job payload: "${field}" ${problem}` : `Invalid job payload: ${problem}`, options);
    this.field = field;
  }
}
defineName(JobProtocolError, 'JobProtocolError');

/** The server rejected the request itself (400, 409) with a machine-readable `code`. */
export class JobRequestError extends JobError {
  /** HTTP status (400, 409, ...). */
  readonly status: number;
  /** The server's error code, e.g. `bad_request`, `not_cancellable`. */
  readonly code: string;
  constructor(status: number, code: string, message: string, options?: { cause?: unknown }) {
    super('JobRequestError', message, options);
    this.status = status;
    this.code = code;
  }
}
defineName(JobRequestError, 'JobRequestError');

/** The job itself ended in `failed`. Carries the job; its message is the job's error message. */
export class JobFailedError<TResult = unknown> extends JobError {
  /** The failed job. */
  readonly job: Job<TResult>;
  constructor(job: Job<TResult>) {
    super('JobFailedError', job.error?.message ?? `Job "${job.id}" failed`);
    this.job = job;
  }
}
defineName(JobFailedError, 'JobFailedError');

/** Whether an error ends watching (the job is gone or forbidden) rather than being retried. */
export function isFatalJobError(error: unknown): boolean {
  return error instanceof JobNotFoundError || error instanceof JobUnauthorizedError;
}

/** Whether an error is an abort (from an `AbortSignal`). */
export function isAbortError(error: unknown): boolean {
  return (error as { name?: unknown } | null)?.name === 'AbortError';
}
