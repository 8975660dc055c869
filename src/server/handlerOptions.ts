import type { JobStore } from '../contract/types';

/** Default of {@link JobHandlerOptions.pollIntervalMs}, in ms. */
export const DEFAULT_POLL_INTERVAL_MS = 1000;

/** Options of `createJobHandler`. */
export interface JobHandlerOptions {
  /**
   * Where the jobs live. Each method gets the caller's `owner` (from
   * `authorize`) and the request's `signal`; another owner's job must behave
   * as unknown (`JobNotFoundError`). Optional methods widen what is served:
   * without `cancel`/`retry` those routes answer 405, without `getStatuses`
   * batches are read one `getStatus` per id, without `subscribe` the event
   * stream polls the store every `pollIntervalMs`, without `readOutput` the
   * output route answers 404 and the event stream carries no output, without
   * `subscribeOutput` the event stream polls `readOutput` every `pollIntervalMs`.
   *
   * Errors a store throws on purpose are answered as such: `JobNotFoundError`
   * → 404 `not_found`, `JobUnauthorizedError` → 401 `unauthorized`,
   * `JobRequestError` with a 4xx status → that status, code and message.
   * `JobTransportError` (the store's backing service is down or timed out) →
   * 503 `unavailable` with `Retry-After`: the error's `retryAfterMs` in whole
   * seconds, else 1 s (`DEFAULT_UNAVAILABLE_RETRY_AFTER_MS`); not reported.
   * Anything else — and any answer that is not a valid Job, batch, page,
   * count or output page — is a 500 `internal_error` with a generic message, reported to `onError`.
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
   * `getStatus` per id; the next read waits for the previous answer), and
   * the output of a store without `subscribeOutput` (one `readOutput` per id).
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
