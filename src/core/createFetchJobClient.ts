import { abortError, JobProtocolError, JobRequestError } from '../contract/errors';
import { badRequest } from '../contract/listFilter';
import { outputAfterProblem, outputLimitProblem, parseOutputPage } from '../contract/output';
import { createEventStreams, DEFAULT_SILENCE_TIMEOUT_MS } from './eventStreams';
import { createHttpTransport, type FetchJobClientHeaders } from './fetchTransport';
import { parseJobBatch, parseJobFor, parseJobPage, parsePendingCount } from '../contract/parseJob';
import { formatIdList, isValidJobId, MAX_JOB_ID_LENGTH } from '../contract/ids';
import { jobRequestTarget, type JobAction } from '../contract/routes';
import { MAX_IDS_PER_REQUEST } from '../contract/limits';
import type {
  Job,
  JobBatch,
  JobClient,
  JobFilter,
  JobOutputPage,
  JobOutputReadOptions,
  JobPage,
  JobRequestOptions,
  PendingCount,
} from '../contract/types';

export type { FetchJobClientHeaders } from './fetchTransport';
export { parseRetryAfter } from '../contract/retryAfter';

/** Options of {@link createFetchJobClient}. */
export interface FetchJobClientOptions {
  /** Where the contract is served, e.g. `/api/jobs` or `https://api.example.com/jobs`. A trailing slash is ignored. */
  baseUrl: string;
  /** The fetch to use. Default: the global `fetch`, looked up at call time. */
  fetch?: typeof fetch;
  /**
   * Headers sent with every request, or a (possibly async) function returning
   * them, called on every request and every reconnect.
   *
   * When there are any, redirects are not left to `fetch` (which would send
   * them to wherever the server points): the client follows same-origin
   * redirects itself (at most 5), and a redirect to another origin fails with
   * `JobTransportError` without reaching it. In browsers, where a redirect's
   * target cannot be read, any redirect fails so. Point `baseUrl` at the
   * address that answers.
   */
  headers?: FetchJobClientHeaders;
  /**
   * Gives up on a request after this many ms with `JobTransportError`: the
   * whole exchange, redirects, headers and body, so a server that sends
   * headers and then stalls cannot hang a read. For the event stream it
   * covers opening it (silence after that is `silenceTimeoutMs`'s). Default 30 000.
   */
  timeoutMs?: number;
  /** Offer push through `GET {base}/events`. Default `true`; set `false` when the server has no event stream. */
  push?: boolean;
  /**
   * An event stream silent for this long is taken for dead and reopened, in
   * ms. Default 45 000 (three of the server's default 15 s heartbeats). When
   * the server announces a slower heartbeat (the comment `: heartbeat <ms>`
   * right after connecting, as `createJobHandler({ heartbeatMs })` does), that
   * stream waits `max(silenceTimeoutMs, 3 × heartbeat)` instead.
   */
  silenceTimeoutMs?: number;
  /**
   * What tabs of one browser must have in common to share this client's requests and event
   * stream (`JobClientProvider share`): the default is the absolute base URL (resolved
   * against the page's address). Put the user in it when one browser profile may hold tabs
   * of different users (`${baseUrl}|${userId}`), or pass `false` never to share.
   */
  shareKey?: string | false;
}

/**
 * A {@link JobClient} over HTTP, with `subscribe` and `subscribeOutput` sharing
 * one event stream for all jobs (both absent with `push: false`).
 */
export interface FetchJobClient extends JobClient {
  getStatuses(ids: string[], options?: JobRequestOptions): Promise<JobBatch>;
  cancel(id: string, options?: JobRequestOptions): Promise<Job>;
  retry(id: string, options?: JobRequestOptions): Promise<Job>;
  /**
   * `GET {base}/{id}/output?after=N&limit=M`: one page of a job's output.
   * `after` (default 0) and `limit` (1 to `MAX_OUTPUT_PAGE_PARTS`) are checked
   * before anything is sent (`JobRequestError` 400 `bad_request`); errors as
   * for `getStatus`.
   */
  readOutput(id: string, options?: JobOutputReadOptions): Promise<JobOutputPage>;
  /** Which tabs may share this client (see {@link FetchJobClientOptions.shareKey}); absent when it is `false`. */
  readonly shareKey?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

/** What the server would answer for an id the contract refuses; such an id is never sent (it may not even be encodable). */
function invalidIdError(id: string): JobRequestError {
  return new JobRequestError(
    400,
    'bad_request',
    `Invalid job id ${JSON.stringify(id)}: 1 to ${MAX_JOB_ID_LENGTH} well-formed characters, no control characters, not a route name`,
  );
}

/** Longest delay `setTimeout` honours (2^31 − 1 ms); past it, timers fire at once. */
const MAX_TIMER_MS = 2_147_483_647;

function checkPositive(name: string, value: number | undefined): void {
  if (value !== undefined && !(typeof value === 'number' && value > 0 && value <= MAX_TIMER_MS)) {
    throw new RangeError(`createFetchJobClient: ${name} must be a number of ms from 1 to 2^31 - 1, got ${String(value)}`);
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
 * Aborting a request's `signal` rejects it with an `AbortError`. An id the
 * contract refuses (see `isValidJobId`) is never sent: it is a
 * `JobRequestError` (`bad_request`), as the server would answer; the ids `.`
 * and `..`, which URLs cannot carry in a path, go in the query
 * (`GET {base}?id=..`).
 *
 * `subscribe` multiplexes: all subscriptions of one client share one
 * `GET {base}/events?ids=…` stream (one per 100 ids), read with fetch so
 * `headers` apply, reconnecting with backoff and jitter, resuming with
 * `Last-Event-ID` and re-reading the jobs in one batch after a reconnect.
 *
 * `subscribeOutput` rides on that same stream (`&output=a:17`): every
 * reconnect asks for the parts after the last one delivered, each listener
 * gets each part once in `seq` order (from its own `after`), a gap is filled
 * with `readOutput`, and `done` ends the subscription once.
 *
 * @example
 * const client = createFetchJobClient({
 *   baseUrl: '/api/jobs',
 *   headers: async () => ({ authorization: `Bearer ${await getToken()}` }),
 * });
 */
export function createFetchJobClient(options: FetchJobClientOptions): FetchJobClient {
  checkPositive('timeoutMs', options.timeoutMs);
  checkPositive('silenceTimeoutMs', options.silenceTimeoutMs);
  const transport = createHttpTransport({
    base: options.baseUrl.replace(/\/+$/, ''),
    fetch: options.fetch,
    headers: options.headers,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  });

  async function request<T>(
    method: 'GET' | 'POST',
    target: { path: string; query: string },
    parse: (value: unknown) => T,
    signal: AbortSignal | undefined,
    id?: string,
  ): Promise<T> {
    const headers = await transport.headers();
    headers.set('accept', 'application/json');
    const answer = await transport.send(transport.url(target.path, target.query), { method, headers }, signal);
    if (!answer.ok) throw transport.errorFor(answer, id);
    let body: unknown;
    try {
      body = JSON.parse(answer.text);
    } catch (error) {
      if (signal?.aborted) throw abortError(signal);
      throw new JobProtocolError('', 'is not JSON', { cause: error });
    }
    return parse(body);
  }

  function checkedJob(id: string) {
    return (value: unknown): Job => parseJobFor(value, id);
  }

  /** `GET {base}/{id}`, `POST {base}/{id}/{action}`, or their query form for `.` and `..` (see `jobRequestTarget`). */
  async function perJob(id: string, action: JobAction | undefined, o: JobRequestOptions | undefined): Promise<Job> {
    if (!isValidJobId(id)) throw invalidIdError(id);
    return request(action ? 'POST' : 'GET', jobRequestTarget(id, action), checkedJob(id), o?.signal, id);
  }

  async function getStatuses(ids: string[], o?: JobRequestOptions): Promise<JobBatch> {
    const unique = [...new Set(ids)];
    if (unique.length === 0) return { jobs: [], missing: [] };
    const invalid = unique.find((id) => !isValidJobId(id));
    if (invalid !== undefined) throw invalidIdError(invalid);
    const chunks: string[][] = [];
    for (let i = 0; i < unique.length; i += MAX_IDS_PER_REQUEST) chunks.push(unique.slice(i, i + MAX_IDS_PER_REQUEST));
    const answers = await Promise.all(
      chunks.map((chunk) => request('GET', { path: '', query: `ids=${formatIdList(chunk)}` }, parseJobBatch, o?.signal)),
    );
    return { jobs: answers.flatMap((a) => a.jobs), missing: answers.flatMap((a) => a.missing) };
  }

  /** `GET {base}/{id}/output?after=N&limit=M` (`GET {base}?id=..&action=output&after=N` for a dot-segment id). */
  async function readOutput(id: string, o: JobOutputReadOptions = {}): Promise<JobOutputPage> {
    if (!isValidJobId(id)) throw invalidIdError(id);
    const after = o.after ?? 0;
    const problem = outputAfterProblem(after) ?? (o.limit === undefined ? null : outputLimitProblem(o.limit));
    if (problem !== null) throw badRequest(problem);
    const target = jobRequestTarget(id, 'output');
    const query = [target.query, `after=${after}`, ...(o.limit === undefined ? [] : [`limit=${o.limit}`])];
    return request('GET', { path: target.path, query: query.filter(Boolean).join('&') }, parseOutputPage, o.signal, id);
  }

  const client: FetchJobClient = {
    getStatus: (id, o) => perJob(id, undefined, o),
    getStatuses,
    list: (filter = {}, o) => request('GET', { path: '', query: listQuery(filter) }, parseJobPage, o?.signal) as Promise<JobPage>,
    getPendingCount: (filter = {}, o) =>
      request('GET', { path: '/counts', query: metaQuery(filter.meta).join('&') }, parsePendingCount, o?.signal) as Promise<PendingCount>,
    cancel: (id, o) => perJob(id, 'cancel', o),
    retry: (id, o) => perJob(id, 'retry', o),
    readOutput,
  };
  if (options.shareKey !== false) {
    (client as { shareKey?: string }).shareKey = options.shareKey ?? absoluteUrl(options.baseUrl);
  }
  if (options.push !== false) {
    const streams = createEventStreams({
      transport,
      resync: (ids) => getStatuses(ids),
      readOutput: (id, o) => readOutput(id, o),
      silenceTimeoutMs: options.silenceTimeoutMs ?? DEFAULT_SILENCE_TIMEOUT_MS,
      invalidId: (id) => (isValidJobId(id) ? null : invalidIdError(id)),
    });
    client.subscribe = streams.subscribe;
    client.subscribeOutput = streams.subscribeOutput;
  }
  return client;
}

/** `baseUrl` resolved against the page's address in a browser; as given elsewhere. */
function absoluteUrl(baseUrl: string): string {
  const page = typeof location === 'undefined' ? undefined : location.href;
  try {
    return new URL(baseUrl, page).href.replace(/\/+$/, '');
  } catch {
    return baseUrl.replace(/\/+$/, '');
  }
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
