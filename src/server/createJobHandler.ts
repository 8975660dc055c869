import { parseJobFor, parseJobPage, parsePendingCount } from '../contract/parseJob';
import { HEARTBEAT_INTERVAL_MS } from '../contract/heartbeat';
import type { JobStore } from '../contract/types';
import { DEFAULT_STORE_TIMEOUT_MS, guardStore } from './guardStore';
import { isValidCursor, MAX_CURSOR_LENGTH } from '../contract/cursors';
import { badRequest } from '../contract/listFilter';
import { errorResponse, jsonResponse, toErrorResponse } from './http';
import { EVENT_STREAM_HEADERS, openJobEventStream } from './openJobEventStream';
import {
  checkParams,
  decodePathId,
  isMetaParam,
  matchRoute,
  normalizeBasePath,
  parseIds,
  parseLastEventId,
  parseListFilter,
  parseMeta,
  parseQuery,
  type JobRoute,
} from './parseRequest';
import { parseQueryJobRequest, queryJobRoute } from './queryRoute';
import { readJobs } from './readJobs';

/** Default of {@link JobHandlerOptions.pollIntervalMs}, in ms. */
const DEFAULT_POLL_INTERVAL_MS = 1000;

/** Options of {@link createJobHandler}. */
export interface JobHandlerOptions {
  /**
   * Where the jobs live. Each method gets the caller's `owner` (from
   * `authorize`) and the request's `signal`; another owner's job must behave
   * as unknown (`JobNotFoundError`). Optional methods widen what is served:
   * without `cancel`/`retry` those routes answer 405, without `getStatuses`
   * batches are read one `getStatus` per id, without `subscribe` the event
   * stream polls the store every `pollIntervalMs`.
   *
   * Errors a store throws on purpose are answered as such: `JobNotFoundError`
   * → 404 `not_found`, `JobUnauthorizedError` → 401 `unauthorized`,
   * `JobRequestError` with a 4xx status → that status, code and message.
   * `JobTransportError` (the store's backing service is down or timed out) →
   * 503 `unavailable` with `Retry-After`: the error's `retryAfterMs` in whole
   * seconds, else 1 s (`DEFAULT_UNAVAILABLE_RETRY_AFTER_MS`); not reported.
   * Anything else — and any answer that is not a valid Job, batch, page or
   * count — is a 500 `internal_error` with a generic message, reported to `onError`.
   */
  store: JobStore;
  /**
   * The path the REST contract is served under, e.g. `'/api/jobs'` (a trailing
   * slash is ignored; `''` or `'/'` serve from the root). It is matched by whole
   * segments against the request's still percent-encoded pathname, so
   * `/api/jobsX` is not under `/api/jobs`. Requests outside it answer 404
   * `not_found`, so the handler can also be mounted as a catch-all.
   * Throws `TypeError` when it is not an absolute path.
   */
  basePath: string;
  /**
   * Who is asking: `{ owner }` (a non-empty string; the store shows that owner
   * only their jobs), or `null`/`undefined` to answer 401 `unauthorized`.
   * May be async. Called once per request, after the route is known (unknown
   * routes answer 404/405 without it) and before any input is validated or the
   * store is called; not for `OPTIONS`. An event stream keeps the owner it was
   * opened with until it ends.
   *
   * Throwing `JobUnauthorizedError` also answers 401, and a `JobRequestError`
   * with a 4xx status answers that (e.g. 403 for a failed CSRF check), and a
   * `JobTransportError` (the session store is down) 503 `unavailable`. Any other
   * throw is treated as an outage, not a verdict: 500 `internal_error` and
   * `onError` — so clients retry rather than stop as they would on a 401.
   *
   * `cancel` and `retry` are plain `POST`s without a body: when auth rides on
   * cookies, check the `Origin` header (or a CSRF token) here.
   */
  authorize: (request: Request) =>
    | {
        /** The caller, as the store knows them: they see only their own jobs. */
        owner: string;
      }
    | null
    | undefined
    | Promise<{
        /** The caller, as the store knows them: they see only their own jobs. */
        owner: string;
      } | null | undefined>;
  /**
   * How often the event stream sends a `: heartbeat` comment, in ms, so
   * proxies don't time out an idle stream and clients notice a dead one.
   * Default `HEARTBEAT_INTERVAL_MS` (15 000). Throws `RangeError` unless a positive finite number.
   */
  heartbeatMs?: number;
  /**
   * How often the event stream reads a store without `subscribe` for changes,
   * in ms (one `getStatuses` call for all ids still watched, else one
   * `getStatus` per id; the next read waits for the previous answer).
   * Default 1000. Throws `RangeError` unless a positive finite number.
   */
  pollIntervalMs?: number;
  /**
   * The longest the handler waits for one store call, in ms, whatever the
   * store: a call still unsettled by then answers 503 `unavailable` with
   * `Retry-After` (as a `JobTransportError` does), its signal is aborted and
   * its late answer dropped — so a store whose backing service hangs never
   * hangs the handler. A `cancel`/`retry` that times out may still take effect;
   * clients see it on their next read. Give the store its own, shorter timeout
   * (e.g. `jobwatch/bullmq`'s 2 s) for a precise message; `Infinity` turns
   * this one off. Default `DEFAULT_STORE_TIMEOUT_MS` (10 000), below the fetch
   * client's 30 s. Throws `RangeError` unless a positive number.
   */
  storeTimeoutMs?: number;
  /**
   * Called with every unexpected error (a store or `authorize` throwing
   * something other than the errors above, or answering an invalid payload)
   * and the request. The client only ever sees a generic 500 `internal_error`
   * (or, on an open event stream, the stream ending). Default: `console.error`.
   * An exception thrown here is ignored.
   */
  onError?: (error: unknown, request: Request) => void;
}

const READ_METHODS = ['GET', 'HEAD', 'OPTIONS'];

/**
 * Creates a Fetch-API handler, `(request) => Promise<Response>`, serving the
 * jobwatch REST contract from a {@link JobStore} — the server side of
 * `createFetchJobClient`. Mount it in any runtime with `Request`/`Response`
 * (Next.js route handlers, Hono, Remix, Bun, Deno, Cloudflare Workers).
 *
 * | request | answer |
 * |---|---|
 * | `GET {base}/{id}` | 200 Job · 404 `not_found` |
 * | `GET {base}?ids=a,b,c` | 200 `{ jobs, missing }` (jobs in request order, duplicates once) |
 * | `GET {base}?status=pending,processing&limit=20&cursor=…&meta.projectId=p1` | 200 `{ jobs, nextCursor }` |
 * | `GET {base}/counts?meta.projectId=p1` | 200 `{ pending, processing }` |
 * | `POST {base}/{id}/cancel` | 200 Job · 409 `not_cancellable` · 405 when the store has no `cancel` |
 * | `POST {base}/{id}/retry` | 200 Job · 409 `not_retryable` · 405 when the store has no `retry` |
 * | `GET {base}/events?ids=a,b` | `text/event-stream` |
 * | `GET {base}?id=<id>` · `POST {base}?id=<id>&action=cancel\|retry` | the same as the per-job routes above |
 *
 * The query form of the per-job routes carries any id, and is the only form
 * for `.` and `..` (URL parsers remove dot segments from paths, `%2E` too);
 * `id` takes no other parameter (`ids`, list parameters) and `action` is for
 * POST only (400 otherwise). `POST {base}` without `id` answers 405.
 *
 * A store that is down answers 503 `unavailable` with `Retry-After` (a
 * `JobTransportError`, or no answer within `storeTimeoutMs`), never a hang.
 *
 * Every answer carries `cache-control: no-store`; every error is JSON
 * `{ "error": { "code", "message" } }`. Order of checks: the path (404
 * `not_found`), the method (405 `method_not_allowed` with `Allow`), `authorize`
 * (401 `unauthorized`), the input (400 `bad_request`), then the store — bad
 * input never reaches the store and never answers 500.
 *
 * Input rules: ids are percent-encoded path segments or comma-separated `ids`
 * entries (split on the raw commas, then decoded), 1–200 characters without
 * control characters, never `counts`/`events`; at most 100 ids; `status` is a
 * comma-separated list of states; `limit` an integer 1–100 (default 20);
 * `cursor` up to 1000 characters without control characters; `meta.<key>=<value>`
 * filters by meta. Query values decode as form data (`+` is a space). Unknown,
 * repeated or misplaced parameters (`ids` with list parameters, anything on a
 * job route) answer 400 naming the parameter. Another owner's job answers
 * exactly like an unknown one (404, `missing`), never 403.
 *
 * Methods: `HEAD` is served like `GET` without a body (the store is still
 * read, so the status is the same); on `events` it answers the stream's
 * headers without opening it. `OPTIONS` answers 204 with `Allow` and needs no
 * authorization, so it works as a CORS preflight — but the handler sets no
 * CORS headers: cross-origin access is the app's policy, added around it.
 *
 * The event stream sends `retry: 1000`, then the current state of each job as
 * a `job` event (oldest `updatedAt` first), a `missing` event `{ id }` for
 * each unknown or another owner's id, then a `job` event for every change
 * (never one older than or equal to what was sent, by `version`, else
 * `updatedAt`), and `: heartbeat` every `heartbeatMs`, announced first as
 * `: heartbeat <heartbeatMs>` right after `retry:` so clients can size their
 * silence timeout. A client that stops reading is dropped (the stream ends)
 * once `MAX_EVENT_STREAM_BUFFER_BYTES` (1 MiB) wait unread; it reconnects with
 * `Last-Event-ID` and is sent the latest states. A terminal job is sent
 * once and leaves the stream; once every id has left, the stream ends.
 * Every event has an `id:`: the job's `updatedAt` in ms since epoch (for
 * `missing`, the newest one sent so far). A `Last-Event-ID` header (a
 * non-negative integer; anything else is ignored) leaves out of the snapshot
 * the jobs last changed before it; equal ones are sent again (clients de-duplicate).
 * A store that keeps a change log shared by every instance (`logPosition` and
 * `changedSince`, e.g. `jobwatch/bullmq`'s Redis stream) makes the ids log
 * positions instead (`1732800000000-3`): a client reconnecting through any
 * instance is sent exactly the jobs that changed since (all of them when the
 * log no longer reaches back that far).
 * With `store.subscribe` the stream subscribes before reading the snapshot;
 * without it the store is polled. A subscription reporting `disconnected`
 * ends the stream like a store failure. When the client goes away (request signal
 * aborted, or body cancelled) every subscription, timer and read is released.
 * A store failure after the stream opened ends it (reported to `onError`
 * unless it is one of the expected errors); clients reconnect. A plain
 * `EventSource` also reconnects after a clean end, so close it once every
 * job it watches has settled.
 *
 * @example
 * // app/api/jobs/[[...path]]/route.ts (Next.js)
 * const handler = createJobHandler({
 *   store,
 *   basePath: '/api/jobs',
 *   authorize: async (request) => {
 *     const session = await getSession(request);
 *     return session ? { owner: session.userId } : null;
 *   },
 * });
 * export { handler as GET, handler as POST };
 */
export function createJobHandler(options: JobHandlerOptions): (request: Request) => Promise<Response> {
  const {
    authorize,
    heartbeatMs = HEARTBEAT_INTERVAL_MS,
    pollIntervalMs = DEFAULT_POLL_INTERVAL_MS,
    onError = defaultOnError,
    storeTimeoutMs = DEFAULT_STORE_TIMEOUT_MS,
  } = options;
  const base = normalizeBasePath(options.basePath);
  checkInterval('heartbeatMs', heartbeatMs);
  checkInterval('pollIntervalMs', pollIntervalMs);
  if (typeof storeTimeoutMs !== 'number' || !(storeTimeoutMs > 0)) {
    throw new RangeError(`createJobHandler: storeTimeoutMs must be a positive number of ms (or Infinity), got ${String(storeTimeoutMs)}`);
  }
  const store = guardStore(options.store, storeTimeoutMs);

  function allowedMethods(route: JobRoute): string[] {
    if (route.kind === 'cancel') return store.cancel ? ['POST', 'OPTIONS'] : ['OPTIONS'];
    if (route.kind === 'retry') return store.retry ? ['POST', 'OPTIONS'] : ['OPTIONS'];
    if (route.kind === 'query') {
      const supported = route.action === 'cancel' ? !!store.cancel : route.action === 'retry' ? !!store.retry : !!(store.cancel || store.retry);
      return supported ? [...READ_METHODS, 'POST'] : READ_METHODS;
    }
    return READ_METHODS;
  }

  async function serve(request: Request, route: JobRoute, owner: string, url: URL): Promise<Response> {
    const params = parseQuery(url.search);
    const signal = request.signal;

    switch (route.kind) {
      case 'job': {
        const id = decodePathId(route.rawId);
        checkParams(params, () => false, '');
        return jsonResponse(200, parseJobFor(await store.getStatus(id, { owner, signal }), id));
      }

      case 'cancel':
      case 'retry': {
        const id = decodePathId(route.rawId);
        checkParams(params, () => false, '');
        return act(route.kind, id, owner, signal);
      }

      case 'query': {
        const { id, action } = parseQueryJobRequest(params, request.method);
        if (action) return act(action, id, owner, signal);
        return jsonResponse(200, parseJobFor(await store.getStatus(id, { owner, signal }), id));
      }

      case 'collection': {
        if (params.has('ids')) {
          for (const name of params.keys()) {
            if (isListParam(name)) throw badRequest(`"ids" cannot be combined with "${name}": a batch read takes ids alone`);
          }
          checkParams(params, (name) => name === 'ids', 'ids');
          const ids = parseIds(params.get('ids'));
          const { jobs, missing } = await readJobs(store, ids, { owner, signal });
          return jsonResponse(200, { jobs: ids.flatMap((id) => jobs.get(id) ?? []), missing });
        }
        checkParams(params, isListParam, 'ids, or status, limit, cursor and meta.<key>');
        const filter = parseListFilter(params);
        const page = parseJobPage(await store.list(filter, { owner, signal }));
        // A cursor the client could not send back is the store's bug, found here rather than on the next page.
        if (page.nextCursor !== null && !isValidCursor(page.nextCursor)) {
          throw new TypeError(`store.list answered a nextCursor that is not 1 to ${MAX_CURSOR_LENGTH} characters without control characters`);
        }
        if (page.jobs.length > filter.limit) throw new TypeError(`store.list answered ${page.jobs.length} jobs for limit ${filter.limit}`);
        return jsonResponse(200, { jobs: page.jobs, nextCursor: page.nextCursor });
      }

      case 'counts': {
        checkParams(params, isMetaParam, 'meta.<key>');
        const meta = parseMeta(params);
        const count = parsePendingCount(await store.getPendingCount(meta ? { meta } : {}, { owner, signal }));
        return jsonResponse(200, { pending: count.pending, processing: count.processing });
      }

      case 'events': {
        checkParams(params, (name) => name === 'ids', 'ids');
        const ids = parseIds(params.get('ids'));
        if (request.method === 'HEAD') return new Response(null, { status: 200, headers: EVENT_STREAM_HEADERS });
        return openJobEventStream({
          store,
          ids,
          owner,
          request,
          lastEventId: parseLastEventId(request.headers.get('last-event-id')),
          heartbeatMs,
          pollIntervalMs,
          report: (error) => report(error, request),
        });
      }
    }
  }

  async function act(kind: 'cancel' | 'retry', id: string, owner: string, signal: AbortSignal): Promise<Response> {
    const action = kind === 'cancel' ? store.cancel : store.retry;
    // allowedMethods() answered 405 already when the store lacks the action; this only guards a store that lost it since.
    if (!action) return errorResponse(405, 'method_not_allowed', `This server does not support ${kind}`, { allow: READ_METHODS.join(', ') });
    return jsonResponse(200, parseJobFor(await action.call(store, id, { owner, signal }), id));
  }

  function report(error: unknown, request: Request): void {
    try {
      onError(error, request);
    } catch {
      // A failing reporter must not turn an answer into a crash.
    }
  }

  async function handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    let route = matchRoute(url.pathname, base);
    if (!route) return errorResponse(404, 'not_found', 'Not found');
    if (route.kind === 'collection') route = queryJobRoute(url.search) ?? route;

    const allow = allowedMethods(route);
    const allowHeader = allow.join(', ');
    if (request.method === 'OPTIONS') {
      return new Response(null, { status: 204, headers: { allow: allowHeader, 'cache-control': 'no-store' } });
    }
    if (!allow.includes(request.method)) {
      const message =
        allow.length === 1 && (route.kind === 'cancel' || route.kind === 'retry')
          ? `This server does not support ${route.kind}`
          : route.kind === 'query' && request.method === 'POST' && (route.action === 'cancel' || route.action === 'retry')
          ? `This server does not support ${route.action}`
          : `${request.method} is not allowed here; allowed: ${allowHeader}`;
      return errorResponse(405, 'method_not_allowed', message, { allow: allowHeader });
    }

    const caller = await authorize(request);
    if (!caller || typeof caller.owner !== 'string' || caller.owner === '') {
      return errorResponse(401, 'unauthorized', 'Not authorized');
    }
    return serve(request, route, caller.owner, url);
  }

  return async function jobHandler(request: Request): Promise<Response> {
    let response: Response;
    try {
      response = await handle(request);
    } catch (error) {
      response = toErrorResponse(error, request, (e) => report(e, request));
    }
    // HEAD: the same status and headers as GET, without the body.
    if (request.method === 'HEAD' && response.body) {
      void response.body.cancel();
      return new Response(null, { status: response.status, statusText: response.statusText, headers: response.headers });
    }
    return response;
  };
}

function isListParam(name: string): boolean {
  return name === 'status' || name === 'limit' || name === 'cursor' || isMetaParam(name);
}

function checkInterval(name: string, value: number): void {
  if (typeof value !== 'number' || !(value > 0) || !Number.isFinite(value)) {
    throw new RangeError(`createJobHandler: ${name} must be a positive number of ms, got ${String(value)}`);
  }
}

function defaultOnError(error: unknown): void {
  console.error('[jobwatch] createJobHandler: unexpected error', error);
}
