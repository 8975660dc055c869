import { parseJobFor, parseJobPage, parsePendingCount } from '../contract/parseJob';
import { HEARTBEAT_INTERVAL_MS } from '../contract/heartbeat';
import { DEFAULT_POLL_INTERVAL_MS, type JobHandlerOptions } from './handlerOptions';
import { DEFAULT_STORE_TIMEOUT_MS, guardStore } from './guardStore';
import { isValidCursor, MAX_CURSOR_LENGTH } from '../contract/cursors';
import { badRequest } from '../contract/listFilter';
import { errorResponse, jsonResponse, toErrorResponse } from './http';
import { EVENT_STREAM_HEADERS } from './eventStreamContext';
import { openJobEventStream } from './openJobEventStream';
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
  parseStreamOutput,
  type JobRoute,
} from './parseRequest';
import { parseQueryJobRequest, queryJobRoute } from './queryRoute';
import { readJobs } from './readJobs';
import { parseOutputRange, serveOutput } from './outputRoute';

export type { JobHandlerOptions } from './handlerOptions';

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
 * | `GET {base}/{id}/output?after=N&limit=M` | 200 `{ parts, done, trimmed? }` · 404 `not_found` (also when the store has no `readOutput`) |
 * | `GET {base}/events?ids=a,b&output=a:17,b` | `text/event-stream`: events `job`, `missing`, `output` |
 * | `GET {base}?id=<id>` · `GET {base}?id=<id>&action=output&after=N` · `POST {base}?id=<id>&action=cancel\|retry` | the same as the per-job routes above |
 *
 * The query form of the per-job routes carries any id, and is the only form
 * for `.` and `..` (URL parsers remove dot segments from paths, `%2E` too);
 * `id` takes no other parameter (`ids`, list parameters) but `after` and
 * `limit` with `action=output`; `action` is `output` on GET, `cancel` or
 * `retry` on POST (400 otherwise). `POST {base}` without `id` answers 405.
 *
 * Output: `after` is an integer ≥ 0 (default 0), `limit` 1–500 (default 500,
 * `MAX_OUTPUT_PAGE_PARTS`); the page is the store's `readOutput` answer,
 * checked (valid parts, seq after `after` without a gap unless `trimmed`, at
 * most `limit`) — a store answering anything else is a 500, reported.
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
 * `output=a:17,b` (ids percent-encoded, each also in `ids`, at most 100;
 * `:N` the last part the client has, default 0) adds `output` events
 * `{ id, parts, done?, trimmed? }` for those ids: the parts after N (read a
 * page at a time, as fast as the client reads), then new ones from
 * `store.subscribeOutput` (else `readOutput` every `pollIntervalMs`), each
 * part exactly once per connection, at most 256 KiB of parts or 500 parts
 * per event; once the job is terminal and its last part was sent, one event
 * with `done: true`, and that id's output ends. Output events carry the same
 * `id:` as a `missing` event would; the stream stays open until every job and
 * every output has ended. A `missing` id carries no output; a store without
 * `readOutput` carries none (the `output` parameter is still validated).
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
      if (route.action === 'output') return READ_METHODS;
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

      case 'output': {
        const id = decodePathId(route.rawId);
        return serveOutput(store, id, parseOutputRange(params), owner, signal);
      }

      case 'query': {
        const { id, action } = parseQueryJobRequest(params, request.method);
        if (action === 'output') return serveOutput(store, id, parseOutputRange(params, (name) => name === 'id' || name === 'action'), owner, signal);
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
        checkParams(params, (name) => name === 'ids' || name === 'output', 'ids and output');
        const ids = parseIds(params.get('ids'));
        const output = parseStreamOutput(params.get('output'), ids);
        if (request.method === 'HEAD') return new Response(null, { status: 200, headers: EVENT_STREAM_HEADERS });
        return openJobEventStream({
          store,
          ids,
          output: store.readOutput ? output : [],
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
