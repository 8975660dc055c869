import {
  isAbortError,
  JobError,
  JobNotFoundError,
  JobProtocolError,
  JobRequestError,
  JobTransportError,
  JobUnauthorizedError,
} from './errors';
import { createEventStreams } from './eventStreams';
import { parseJob, parseJobBatch, parseJobPage, parsePendingCount } from './parseJob';
import { formatIdList, MAX_IDS_PER_REQUEST } from './restContract';
import type { Job, JobBatch, JobClient, JobFilter, JobPage, JobRequestOptions, PendingCount } from './types';

/** Headers for every request: a value, or a function called before every request and every reconnect (for short-lived tokens). */
export type FetchJobClientHeaders = HeadersInit | (() => HeadersInit | Promise<HeadersInit>);

/** Options of {@link createFetchJobClient}. */
export interface FetchJobClientOptions {
  /** Where the contract is served, e.g. `/api/jobs` or `https://api.example.com/jobs`. A trailing slash is ignored. */
  baseUrl: string;
  /** The fetch to use. Default: the global `fetch`, looked up at call time. */
  fetch?: typeof fetch;
  /** Headers sent with every request, or a (possibly async) function returning them, called on every request and every reconnect. */
  headers?: FetchJobClientHeaders;
  /** Gives up on a request (or on opening the event stream) after this many ms with `JobTransportError`. Default 30 000. */
  timeoutMs?: number;
  /** Offer push through `GET {base}/events`. Default `true`; set `false` when the server has no event stream. */
  push?: boolean;
}

/** A {@link JobClient} over HTTP, with `subscribe` sharing one event stream for all jobs. */
export interface FetchJobClient extends JobClient {
  getStatuses(ids: string[], options?: JobRequestOptions): Promise<JobBatch>;
  cancel(id: string, options?: JobRequestOptions): Promise<Job>;
  retry(id: string, options?: JobRequestOptions): Promise<Job>;
}

/** @internal What the event streams need from the client. */
export interface HttpTransport {
  url(path: string, query?: string): string;
  fetch(url: string, init: RequestInit, options: { signal?: AbortSignal; timeout: boolean }): Promise<Response>;
  headers(): Promise<Headers>;
  errorFor(response: Response, id?: string): Promise<JobError>;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/**
 * Parses `Retry-After` (seconds or an HTTP date) into ms from now; `undefined` when absent or invalid.
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

async function readErrorBody(response: Response): Promise<{ code?: string; message?: string }> {
  try {
    const body = (await response.json()) as { error?: { code?: unknown; message?: unknown } };
    const code = typeof body?.error?.code === 'string' ? body.error.code : undefined;
    const message = typeof body?.error?.message === 'string' ? body.error.message : undefined;
    return { code, message };
  } catch {
    return {};
  }
}

/**
 * Creates a {@link JobClient} that speaks jobwatch's REST contract (served by
 * `createJobHandler` from `jobwatch/server`, or by `createJobHandlers` from
 * `jobwatch/msw` in tests).
 *
 * Every answer is validated: a payload that is not what the contract says
 * becomes `JobProtocolError` naming the field. 404 → `JobNotFoundError`;
 * 401/403 → `JobUnauthorizedError`; 429 and 5xx → `JobTransportError` with
 * `retryAfterMs` from `Retry-After`; 400/409 → `JobRequestError` with the
 * server's `code`; a network failure or timeout → `JobTransportError`.
 * Aborting a request's `signal` rejects it with an `AbortError`.
 *
 * `subscribe` multiplexes: all subscriptions of one client share one
 * `GET {base}/events?ids=…` stream (one per 100 ids), read with fetch so
 * `headers` apply, reconnecting with backoff and jitter, resuming with
 * `Last-Event-ID` and re-reading the jobs in one batch after a reconnect.
 *
 * @example
 * const client = createFetchJobClient({
 *   baseUrl: '/api/jobs',
 *   headers: async () => ({ authorization: `Bearer ${await getToken()}` }),
 * });
 */
export function createFetchJobClient(options: FetchJobClientOptions): FetchJobClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

  const transport: HttpTransport = {
    url: (path, query) => base + path + (query ? `?${query}` : ''),
    async headers() {
      const value = typeof options.headers === 'function' ? await options.headers() : options.headers;
      return new Headers(value);
    },
    async fetch(url, init, { signal, timeout }) {
      const doFetch = options.fetch ?? globalThis.fetch;
      const controller = new AbortController();
      const onAbort = () => controller.abort(signal?.reason);
      if (signal?.aborted) throw abortError(signal);
      signal?.addEventListener('abort', onAbort, { once: true });
      let timedOut = false;
      const timer = timeout
        ? setTimeout(() => {
            timedOut = true;
            controller.abort();
          }, timeoutMs)
        : null;
      try {
        return await doFetch(url, { ...init, signal: controller.signal });
      } catch (error) {
        if (timedOut) throw new JobTransportError(`Request timed out after ${timeoutMs} ms`, { cause: error });
        if (signal?.aborted) throw abortError(signal);
        if (isAbortError(error)) throw error;
        throw new JobTransportError(`Network error: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      } finally {
        if (timer !== null) clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      }
    },
    async errorFor(response, id) {
      const { status } = response;
      const { code, message } = await readErrorBody(response);
      if (status === 404 && id !== undefined) return new JobNotFoundError(id);
      if (status === 401 || status === 403) {
        return new JobUnauthorizedError(message ?? `Not authorized (HTTP ${status})`, { status });
      }
      if (status === 429 || status >= 500) {
        return new JobTransportError(message ?? `Server answered HTTP ${status}`, {
          status,
          retryAfterMs: parseRetryAfter(response.headers.get('retry-after')),
        });
      }
      return new JobRequestError(status, code ?? `http_${status}`, message ?? `Server answered HTTP ${status}`);
    },
  };

  async function request<T>(
    method: 'GET' | 'POST',
    path: string,
    query: string | undefined,
    parse: (value: unknown) => T,
    signal: AbortSignal | undefined,
    id?: string,
  ): Promise<T> {
    const headers = await transport.headers();
    headers.set('accept', 'application/json');
    const response = await transport.fetch(transport.url(path, query), { method, headers }, { signal, timeout: true });
    if (!response.ok) throw await transport.errorFor(response, id);
    let body: unknown;
    try {
      body = await response.json();
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      throw new JobProtocolError('', 'is not JSON', { cause: error });
    }
    return parse(body);
  }

  const jobPath = (id: string) => `/${encodeURIComponent(id)}`;

  function checkedJob(id: string) {
    return (value: unknown): Job => {
      const job = parseJob(value);
      if (job.id !== id) throw new JobProtocolError('id', `must be "${id}", the id that was asked for`);
      return job;
    };
  }

  async function getStatuses(ids: string[], o?: JobRequestOptions): Promise<JobBatch> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return { jobs: [], missing: [] };
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += MAX_IDS_PER_REQUEST) chunks.push(unique.slice(i, i + MAX_IDS_PER_REQUEST));
    const answers = await Promise.all(
      chunks.map((chunk) => request('GET', '', `ids=${formatIdList(chunk)}`, parseJobBatch, o?.signal)),
    );
    return { jobs: answers.flatMap((a) => a.jobs), missing: answers.flatMap((a) => a.missing) };
  }

  const client: FetchJobClient = {
    getStatus: (id, o) => request('GET', jobPath(id), undefined, checkedJob(id), o?.signal, id),
    getStatuses,
    list: (filter = {}, o) => request('GET', '', listQuery(filter), parseJobPage, o?.signal) as Promise<JobPage>,
    getPendingCount: (filter = {}, o) =>
      request('GET', '/counts', metaQuery(filter.meta).join('&'), parsePendingCount, o?.signal) as Promise<PendingCount>,
    cancel: (id, o) => request('POST', `${jobPath(id)}/cancel`, undefined, checkedJob(id), o?.signal, id),
    retry: (id, o) => request('POST', `${jobPath(id)}/retry`, undefined, checkedJob(id), o?.signal, id),
  };
  if (options.push !== false) {
    const streams = createEventStreams({ transport, resync: (ids) => getStatuses(ids) });
    client.subscribe = streams.subscribe;
  }
  return client;
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason instanceof Error && isAbortError(signal.reason)
    ? signal.reason
    : new DOMException('The operation was aborted.', 'AbortError');
}

function metaQuery(meta: Record<string, string> | undefined): string[] {
  return Object.entries(meta ?? {}).map(([k, v]) => `meta.${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`);
}

function listQuery(filter: JobFilter): string {
  const parts: string[] = [];
  const status = filter.status === undefined ? [] : [filter.status].flat();
  if (status.length > 0) parts.push(`status=${status.map(encodeURIComponent).join(',')}`);
  if (filter.limit !== undefined) parts.push(`limit=${encodeURIComponent(String(filter.limit))}`);
  if (filter.cursor !== undefined) parts.push(`cursor=${encodeURIComponent(filter.cursor)}`);
  parts.push(...metaQuery(filter.meta));
  return parts.join('&');
}
