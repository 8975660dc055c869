import { isAbortError, JobNotFoundError, JobRequestError, JobTransportError, JobUnauthorizedError } from '../contract/errors';
import type { JobErrorBody } from '../contract/routes';
import { clampRetryAfter } from '../contract/retryAfter';

/**
 * The `Retry-After` of a 503 `unavailable` when the store's `JobTransportError`
 * names no `retryAfterMs` (or the handler's `storeTimeoutMs` ran out), in ms.
 */
export const DEFAULT_UNAVAILABLE_RETRY_AFTER_MS = 1000;

// `no-store`: job states change by the second and belong to one owner, so no
// shared or browser cache may keep them. `nosniff`: error messages may echo
// request input, which must never be rendered as anything but JSON.
const JSON_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

/** A JSON answer. `body` is serialized here, so a value JSON cannot encode throws (and becomes a 500 upstream). */
export function jsonResponse(status: number, body: unknown, headers?: Record<string, string>): Response {
  return new Response(JSON.stringify(body), { status, headers: { ...JSON_HEADERS, ...headers } });
}

/** An error answer with the contract's body `{ error: { code, message } }`. */
export function errorResponse(status: number, code: string, message: string, headers?: Record<string, string>): Response {
  const body: JobErrorBody = { error: { code, message } };
  return jsonResponse(status, body, headers);
}

/** What an expected error answers; `null` for an unexpected one (a bug or an outage). */
export interface ErrorAnswer {
  status: number;
  code: string;
  message: string;
  /** Extra headers of the answer (`retry-after` of a 503). */
  headers?: Record<string, string>;
}

/** `Retry-After` in whole seconds (at least 1) for a wait in ms; the default when none is given. */
export function retryAfterSeconds(ms: number | undefined): string {
  const wait = clampRetryAfter(ms) ?? DEFAULT_UNAVAILABLE_RETRY_AFTER_MS;
  return String(Math.max(1, Math.ceil(wait / 1000)));
}

/**
 * Maps the errors a store (or `authorize`, or validation) may throw on purpose
 * to their answer. Anything else is unexpected: `null`, so the caller reports
 * it and answers a generic 500 that leaks nothing.
 */
export function expectedErrorAnswer(error: unknown, request: Request): ErrorAnswer | null {
  if (error instanceof JobNotFoundError) {
    return { status: 404, code: 'not_found', message: `Job "${error.jobId}" was not found` };
  }
  if (error instanceof JobUnauthorizedError) {
    // Always 401, whatever status the error carries: a 403 would tell the
    // caller that something exists behind it.
    return { status: 401, code: 'unauthorized', message: 'Not authorized' };
  }
  if (
    error instanceof JobRequestError &&
    Number.isInteger(error.status) &&
    error.status >= 400 &&
    error.status <= 499 &&
    typeof error.code === 'string' &&
    error.code !== ''
  ) {
    // A JobRequestError is written for the caller (a bad cursor, a job that is
    // no longer cancellable), so its message is passed on.
    return { status: error.status, code: error.code, message: String(error.message) };
  }
  if (error instanceof JobTransportError) {
    // The store's backing service is down or too slow (semantic 15): a transient 503 the client
    // retries after `Retry-After`, never a 500 (a bug) and never a hang. The store's own message
    // may name hosts or ports, so it is not passed on.
    return {
      status: 503,
      code: 'unavailable',
      message: 'The job store is unavailable; try again later',
      headers: { 'retry-after': retryAfterSeconds(error.retryAfterMs) },
    };
  }
  if (isAbortError(error) && request.signal.aborted) {
    // The client went away; nobody reads this answer. 499 is the de-facto
    // "client closed request" status (nginx), so logs don't count it as a server error.
    return { status: 499, code: 'client_closed_request', message: 'The client closed the request' };
  }
  return null;
}

/** Answers any error: expected ones with their status, everything else with a generic 500 after `report`ing it. */
export function toErrorResponse(error: unknown, request: Request, report: (error: unknown) => void): Response {
  const answer = expectedErrorAnswer(error, request);
  if (answer) return errorResponse(answer.status, answer.code, answer.message, answer.headers);
  report(error);
  return errorResponse(500, 'internal_error', 'Internal server error');
}

/** An AbortController that also aborts when `parent` does; `unlink` drops the listener on `parent` once done. */
export function linkedAbortController(parent: AbortSignal | undefined): {
  signal: AbortSignal;
  abort(): void;
  unlink(): void;
} {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(parent?.reason);
  if (parent?.aborted) controller.abort(parent.reason);
  else parent?.addEventListener('abort', onAbort, { once: true });
  return {
    signal: controller.signal,
    abort: () => controller.abort(),
    unlink: () => parent?.removeEventListener('abort', onAbort),
  };
}
