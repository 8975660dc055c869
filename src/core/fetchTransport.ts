import {
  abortError,
  isAbortError,
  JobError,
  JobNotFoundError,
  JobRequestError,
  JobTransportError,
  JobUnauthorizedError,
} from '../contract/errors';
import { parseRetryAfter } from '../contract/retryAfter';

/** Headers for every request: a value, or a function called before every request and every reconnect (for short-lived tokens). */
export type FetchJobClientHeaders = HeadersInit | (() => HeadersInit | Promise<HeadersInit>);

/** @internal What the transport needs from `createFetchJobClient`'s options. */
export interface HttpTransportOptions {
  /** Base URL, without a trailing slash. */
  base: string;
  fetch?: typeof fetch;
  headers?: FetchJobClientHeaders;
  /** Covers a whole exchange: redirects, headers and body (for a stream: until its headers). */
  timeoutMs: number;
}

/** @internal A whole answer, its body read. */
export interface HttpAnswer {
  status: number;
  ok: boolean;
  headers: Headers;
  /** The body as text. */
  text: string;
}

/** @internal What the client and its event streams need from HTTP. */
export interface HttpTransport {
  url(path: string, query?: string): string;
  /** The caller's headers for one request (the headers function is called each time). */
  headers(): Promise<Headers>;
  /**
   * Sends a request and reads its whole answer, all within `timeoutMs`: a
   * stalled body times out like stalled headers. A failure while the body is
   * read (the connection cut) is a `JobTransportError`, like any network failure.
   */
  send(url: string, init: RequestInit, signal: AbortSignal | undefined): Promise<HttpAnswer>;
  /**
   * Opens a streamed answer: resolves with the response once its headers are
   * in (within `timeoutMs`); the caller reads the body. A non-2xx answer is read
   * (within `timeoutMs` too) and rejected with its typed error.
   */
  open(url: string, init: RequestInit, signal: AbortSignal): Promise<Response>;
  /** The typed error for a non-2xx answer (`id`: the job asked for, so 404 is `JobNotFoundError`). */
  errorFor(answer: HttpAnswer, id?: string): JobError;
}

/** Redirects a request with custom headers follows (same origin only) before failing. */
const MAX_REDIRECTS = 5;
const REDIRECTS: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);

function errorBody(text: string): { code?: string; message?: string } {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    const code = typeof body?.error?.code === 'string' ? body.error.code : undefined;
    const message = typeof body?.error?.message === 'string' ? body.error.message : undefined;
    return { code, message };
  } catch {
    return {};
  }
}

function absolute(url: string): URL {
  const page = (globalThis as { location?: { href?: string } }).location?.href;
  return new URL(url, page);
}

/**
 * @internal HTTP for `createFetchJobClient`: one timer per exchange, typed
 * errors, and redirects that never carry the caller's headers to another origin.
 */
export function createHttpTransport(options: HttpTransportOptions): HttpTransport {
  const { base, timeoutMs } = options;

  /**
   * Fetches, following redirects. Without custom headers fetch follows them
   * itself. With custom headers (e.g. `Authorization`) redirects are followed
   * here, same-origin only, at most {@link MAX_REDIRECTS}: a redirect to
   * another origin fails with `JobTransportError`, so the headers never reach it.
   */
  async function follow(url: string, init: RequestInit, signal: AbortSignal, custom: boolean): Promise<Response> {
    const doFetch = options.fetch ?? globalThis.fetch;
    if (!custom) return doFetch(url, { ...init, signal });
    let current = url;
    let method = init.method ?? 'GET';
    for (let hops = 0; ; hops++) {
      const response = await doFetch(current, { ...init, method, redirect: 'manual', signal });
      if (response.type === 'opaqueredirect') {
        // A browser hides where a manual redirect goes: it cannot be checked, so it is not followed.
        throw new JobTransportError(`Redirect from ${current} not followed: custom headers are set`);
      }
      const location = REDIRECTS.has(response.status) ? response.headers.get('location') : null;
      if (location === null) return response;
      void response.body?.cancel().catch(() => {});
      if (hops >= MAX_REDIRECTS) {
        throw new JobTransportError(`Too many redirects from ${url}`, { status: response.status });
      }
      // An unparsable location throws a TypeError: a network error, as fetch would make it.
      const from = absolute(current);
      const to = new URL(location, from);
      if (to.origin !== from.origin) {
        throw new JobTransportError(`Redirect to another origin (${to.origin}) not followed: custom headers are set`, {
          status: response.status,
        });
      }
      // As fetch does: 303 turns anything but GET/HEAD into GET, 301/302 turn POST into GET.
      if ((response.status === 303 && method !== 'GET' && method !== 'HEAD') || (response.status <= 302 && method === 'POST')) {
        method = 'GET';
      }
      current = to.href;
    }
  }

  /**
   * Runs one exchange under one timer: `consume` gets the response and its
   * result is awaited before the timer stops, so it covers the body it reads.
   */
  async function exchange<T>(
    url: string,
    init: RequestInit,
    signal: AbortSignal | undefined,
    consume: (response: Response) => Promise<T>,
  ): Promise<T> {
    if (signal?.aborted) throw abortError(signal);
    const controller = new AbortController();
    const onAbort = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new DOMException(`Timed out after ${timeoutMs} ms`, 'TimeoutError'));
    }, timeoutMs);
    try {
      const custom = [...new Headers(init.headers).keys()].some((name) => !OWN_HEADERS.has(name));
      // Aborting the fetch's signal also aborts reading its body.
      return await consume(await follow(url, init, controller.signal, custom));
    } catch (error) {
      if (timedOut) throw new JobTransportError(`Request timed out after ${timeoutMs} ms`, { cause: error });
      if (signal?.aborted) throw abortError(signal);
      if (error instanceof JobError || isAbortError(error)) throw error;
      // undici's "terminated" (a connection cut mid-body), DNS, refused connections…
      throw new JobTransportError(`Network error: ${error instanceof Error ? error.message : String(error)}`, {
        cause: error,
      });
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  async function answer(response: Response): Promise<HttpAnswer> {
    return { status: response.status, ok: response.ok, headers: response.headers, text: await response.text() };
  }

  const transport: HttpTransport = {
    url: (path, query) => base + path + (query ? `?${query}` : ''),
    async headers() {
      const value = typeof options.headers === 'function' ? await options.headers() : options.headers;
      return new Headers(value);
    },
    send: (url, init, signal) => exchange(url, init, signal, answer),
    open: (url, init, signal) =>
      exchange(url, init, signal, async (response) => {
        if (response.ok) return response;
        throw transport.errorFor(await answer(response));
      }),
    errorFor({ status, headers, text }, id) {
      const { code, message } = errorBody(text);
      if (status === 404 && id !== undefined) return new JobNotFoundError(id);
      if (status === 401 || status === 403) {
        return new JobUnauthorizedError(message ?? `Not authorized (HTTP ${status})`, { status });
      }
      if (status === 429 || status >= 500) {
        return new JobTransportError(message ?? `Server answered HTTP ${status}`, {
          status,
          retryAfterMs: parseRetryAfter(headers.get('retry-after')),
        });
      }
      return new JobRequestError(status, code ?? `http_${status}`, message ?? `Server answered HTTP ${status}`);
    },
  };
  return transport;
}

/** Headers the client sets itself: not the caller's, so they do not make a request "custom". */
const OWN_HEADERS: ReadonlySet<string> = new Set(['accept', 'last-event-id']);
