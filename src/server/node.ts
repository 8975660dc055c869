/// <reference types="node" />
/**
 * `jobwatch/server/node`: `toNodeListener`, which serves a Fetch-API handler
 * (such as `createJobHandler`'s) from `node:http`. Node only.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { errorResponse } from './http';

/** A Fetch-API handler: what `createJobHandler` returns. */
export type FetchHandler = (request: Request) => Response | Promise<Response>;

/** A `node:http` request listener: `createServer(listener)` or `server.on('request', listener)`. */
export type NodeRequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** Options of {@link toNodeListener}. */
export interface NodeListenerOptions {
  /**
   * The origin every `Request` URL gets, e.g. `'https://jobs.example.com'` —
   * set it behind a proxy, or to not depend on the `Host` header at all.
   * Default: `http://` (`https://` on a TLS socket) and the request's `Host`
   * header, which must then be a plain `host[:port]` (else 400). Throws
   * `TypeError` unless an `http:` or `https:` origin without path, query or user.
   */
  origin?: string;
  /**
   * Called with an unexpected error: the handler throwing or answering
   * something that is not a `Response` (the client gets a 500
   * `internal_error`), or a response body failing after its headers went out
   * (the connection is cut, so the client sees an incomplete answer).
   * Default: `console.error`. An exception thrown here is ignored.
   */
  onError?: (error: unknown, req: IncomingMessage) => void;
}

/** Methods a Fetch `Request` cannot carry: `new Request()` throws for them. */
const FORBIDDEN_METHOD = /^(?:CONNECT|TRACE|TRACK)$/i;
/** The methods the jobwatch REST contract uses, named in `Allow` when a forbidden one is refused. */
const CONTRACT_METHODS = 'GET, HEAD, OPTIONS, POST';
/** A `Host` header as a client sends it: a name, IPv4 or bracketed IPv6 address, and an optional port. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::[0-9]{1,5})?$/;

/** Why a request cannot become a `Request`: answered with this status and the JSON error body. */
class UnservableRequest extends Error {
  constructor(
    readonly status: 400 | 405,
    message: string,
  ) {
    super(message);
  }
}

function checkOrigin(origin: string): string {
  let url: URL | null = null;
  try {
    url = new URL(origin);
  } catch {
    // Reported below.
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.username || url.password || url.pathname !== '/' || url.search || url.hash || origin.endsWith('/')) {
    throw new TypeError(`toNodeListener: origin must be an http(s) origin such as "https://jobs.example.com", got ${JSON.stringify(origin)}`);
  }
  return url.origin;
}

/** The origin of a request: the fixed one, or the socket's scheme and the validated `Host` header. */
function requestOrigin(req: IncomingMessage, fixed: string | null): string {
  if (fixed) return fixed;
  const host = req.headers.host;
  if (host === undefined || host === '') throw new UnservableRequest(400, 'Missing Host header');
  if (!HOST.test(host)) throw new UnservableRequest(400, 'Invalid Host header');
  const scheme = (req.socket as { encrypted?: boolean }).encrypted ? 'https' : 'http';
  try {
    return new URL(`${scheme}://${host}`).origin;
  } catch {
    throw new UnservableRequest(400, 'Invalid Host header');
  }
}

/**
 * Turns a node request into a Fetch `Request`, or throws {@link UnservableRequest}.
 * Only origin-form targets (`/path?query`) are taken: absolute-form
 * (`http://evil/x`), authority-form, `*` and targets starting `//` or `/\`
 * (which URL parsers read as another host) answer 400.
 */
function toRequest(req: IncomingMessage, origin: string | null, signal: AbortSignal): Request {
  const method = req.method ?? 'GET';
  if (FORBIDDEN_METHOD.test(method)) throw new UnservableRequest(405, `${method} is not supported`);
  const target = req.url ?? '';
  if (!target.startsWith('/') || target.startsWith('//') || target.startsWith('/\\')) {
    throw new UnservableRequest(400, 'The request target must be a path such as /api/jobs');
  }
  const base = requestOrigin(req, origin);
  let url: URL;
  try {
    url = new URL(`${base}${target}`);
  } catch {
    throw new UnservableRequest(400, 'Invalid request target');
  }
  if (url.origin !== base) throw new UnservableRequest(400, 'Invalid request target');

  const headers = new Headers();
  const raw = req.rawHeaders;
  try {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i]!;
      if (!name.startsWith(':')) headers.append(name, raw[i + 1]!);
    }
  } catch {
    throw new UnservableRequest(400, 'Invalid request header');
  }
  const hasBody =
    method !== 'GET' &&
    method !== 'HEAD' &&
    (req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0'));
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal };
  if (hasBody) {
    init.body = Readable.toWeb(req) as unknown as ReadableStream<Uint8Array>;
    init.duplex = 'half';
  }
  try {
    return new Request(url, init);
  } catch {
    throw new UnservableRequest(400, 'The request cannot be served');
  }
}

function isResponse(value: unknown): value is Response {
  return value instanceof Response || (typeof value === 'object' && value !== null && typeof (value as Response).status === 'number' && (value as Response).headers instanceof Headers);
}

/** Resolves once `res` can take more (`drain`) or is gone (`close`). */
function writable(res: ServerResponse): Promise<void> {
  // Already gone (its 'close' has been emitted) or drained: nothing to wait for.
  if (res.destroyed || !res.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/**
 * Writes a Fetch `Response` to `res`: status, headers (every `set-cookie`
 * kept apart), then the body chunk by chunk, waiting for `drain` whenever the
 * socket is full (so a slow client slows the body's source rather than
 * filling memory), and ends it. Stops reading the body when the client goes.
 */
async function writeResponse(req: IncomingMessage, res: ServerResponse, response: Response, report: (error: unknown) => void): Promise<void> {
  const body = response.body;
  if (res.destroyed) {
    await body?.cancel().catch(() => {});
    return;
  }
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== 'set-cookie') headers[name] = value;
  });
  const cookies = typeof response.headers.getSetCookie === 'function' ? response.headers.getSetCookie() : [];
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  if (response.statusText) res.statusMessage = response.statusText;
  res.writeHead(response.status, headers);
  if (!body || req.method === 'HEAD' || response.status === 204 || response.status === 304) {
    await body?.cancel().catch(() => {});
    res.end();
    return;
  }
  // An event stream's headers go out at once, before its first event.
  if ((response.headers.get('content-type') ?? '').startsWith('text/event-stream')) res.flushHeaders();
  const reader = body.getReader();
  const stop = (): void => void reader.cancel().catch(() => {});
  res.once('close', stop);
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done || res.destroyed) break;
      if (!res.write(value)) await writable(res);
    }
    if (!res.destroyed) res.end();
  } catch (error) {
    // The status is out already: cut the connection so the client sees an incomplete answer.
    if (!res.destroyed) {
      report(error);
      res.destroy();
    }
  } finally {
    res.off('close', stop);
  }
}

/**
 * Serves a Fetch-API handler (e.g. `createJobHandler(...)`) from `node:http`:
 * `createServer(toNodeListener(handler))`. The listener never throws and never
 * leaves a rejected promise behind, whatever a client sends:
 *
 * - A request that cannot become a Fetch `Request` answers the JSON error body
 *   `{ error: { code, message } }`: 400 `bad_request` for a missing or malformed
 *   `Host` header, or a target that is not a plain path (absolute-form
 *   `http://evil/x`, `//x`, `/\x`, `*`); 405 `method_not_allowed` for `TRACE`,
 *   `TRACK` and `CONNECT` (which node emits as a `connect` event anyway). Input
 *   that is not HTTP at all never reaches the listener: node answers 400 itself.
 * - A handler that throws answers 500 `internal_error` (reported to `onError`).
 * - The body is streamed with backpressure (each write waits for `drain` when
 *   the socket is full) and ended cleanly when it ends.
 * - When the client disconnects, the `Request`'s `signal` aborts (which ends an
 *   event stream and releases its subscriptions) and the body is cancelled.
 *
 * Request bodies are passed on as streams (`duplex: 'half'`); headers come
 * from the raw header list, so repeated ones are kept.
 *
 * @example
 * import { createServer } from 'node:http';
 * import { createJobHandler } from 'jobwatch/server';
 * import { toNodeListener } from 'jobwatch/server/node';
 *
 * createServer(toNodeListener(createJobHandler({ store, basePath: '/api/jobs', authorize }))).listen(3000);
 */
export function toNodeListener(handler: FetchHandler, options: NodeListenerOptions = {}): NodeRequestListener {
  if (typeof handler !== 'function') throw new TypeError('toNodeListener: handler must be a function (request) => Response');
  const origin = options.origin === undefined ? null : checkOrigin(options.origin);
  const onError = options.onError ?? ((error: unknown) => console.error('[jobwatch] toNodeListener: unexpected error', error));

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const report = (error: unknown): void => {
      try {
        onError(error, req);
      } catch {
        // A failing reporter must not turn an answer into a crash.
      }
    };
    const controller = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished) controller.abort();
    });
    let response: Response;
    try {
      const answer: unknown = await handler(toRequest(req, origin, controller.signal));
      if (!isResponse(answer)) throw new TypeError('toNodeListener: the handler did not answer a Response');
      response = answer;
    } catch (error) {
      if (error instanceof UnservableRequest) {
        const allow: Record<string, string> = error.status === 405 ? { allow: CONTRACT_METHODS } : {};
        response = errorResponse(error.status, error.status === 405 ? 'method_not_allowed' : 'bad_request', error.message, allow);
      } else {
        report(error);
        response = errorResponse(500, 'internal_error', 'Internal server error');
      }
    }
    try {
      await writeResponse(req, res, response, report);
    } catch (error) {
      // writeHead refused the handler's status or headers.
      report(error);
      await response.body?.cancel().catch(() => {});
      if (res.headersSent) res.destroy();
      else await writeResponse(req, res, errorResponse(500, 'internal_error', 'Internal server error'), report);
    }
  }

  return function nodeListener(req, res) {
    serve(req, res).catch((error: unknown) => {
      try {
        onError(error, req);
      } catch {
        // Ignored, as above.
      }
      res.destroy();
    });
  };
}
