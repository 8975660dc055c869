import { http, type HttpHandler } from 'msw';
import { createJobHandler, type JobHandlerOptions } from '../server/createJobHandler';
import type { JobClient, JobOutputReadOptions, JobStore } from '../contract/types';
import type { MemoryJobBackend } from '../testing/createMemoryJobBackend';

/** Options of {@link createJobHandlers}. */
export interface JobHandlersOptions {
  /** The in-memory backend (or any `JobStore`) whose jobs are served. */
  backend: MemoryJobBackend | JobStore;
  /**
   * Where the contract is mocked, as the client's `baseUrl`: a path such as
   * `/api/jobs` (matched on any origin, as in the browser) or an absolute URL.
   */
  baseUrl: string;
  /**
   * Who is asking: an owner id, or a function of the request returning one (or
   * `null` to answer 401). Default: no owner — every job of the backend is
   * visible, as when the backend is used directly as a client.
   */
  owner?: string | ((request: Request) => string | null | Promise<string | null>);
  /** Passed to the server handler: heartbeat period of the event stream in ms (default 15 000). */
  heartbeatMs?: number;
}

/** A store view of a backend that sees every job, whatever owner the handler passes (output too, when the backend keeps it). */
function everyOwner(backend: MemoryJobBackend | JobStore): JobStore {
  const b = backend as MemoryJobBackend;
  const output = backend as Pick<JobClient, 'readOutput' | 'subscribeOutput'>;
  const store: JobStore = {
    getStatus: (id, o) => b.getStatus(id, { signal: o.signal }),
    list: (filter, o) => b.list(filter, { signal: o.signal }),
    getPendingCount: (filter, o) => b.getPendingCount(filter, { signal: o.signal }),
    getStatuses: b.getStatuses && ((ids, o) => b.getStatuses(ids, { signal: o.signal })),
    cancel: b.cancel && ((id, o) => b.cancel(id, { signal: o.signal })),
    retry: b.retry && ((id, o) => b.retry(id, { signal: o.signal })),
    subscribe: b.subscribe && ((id, listener) => b.subscribe(id, listener)),
  };
  if (typeof output.readOutput === 'function') {
    store.readOutput = (id, o) => {
      const read: JobOutputReadOptions = { signal: o.signal };
      if (o.after !== undefined) read.after = o.after;
      if (o.limit !== undefined) read.limit = o.limit;
      return output.readOutput!(id, read);
    };
  }
  if (typeof output.subscribeOutput === 'function') {
    store.subscribeOutput = (id, o, listener) => output.subscribeOutput!(id, o.after === undefined ? {} : { after: o.after }, listener);
  }
  return store;
}

/**
 * MSW request handlers that serve a backend over jobwatch's REST contract —
 * through the same `createJobHandler` a real server uses, so tests and stories
 * exercise the real contract (routes, validation, errors, the event stream).
 * Works with `setupServer` (msw/node) and `setupWorker` (msw/browser).
 *
 * @example
 * const backend = createMemoryJobBackend();
 * const server = setupServer(...createJobHandlers({ backend, baseUrl: 'http://localhost/api/jobs' }));
 * // the app under test: createFetchJobClient({ baseUrl: 'http://localhost/api/jobs' })
 */
export function createJobHandlers(options: JobHandlersOptions): HttpHandler[] {
  const { backend, baseUrl, owner } = options;
  const base = baseUrl.replace(/\/+$/, '');
  const basePath = /^[a-z][a-z\d+.-]*:\/\//i.test(base) ? new URL(base).pathname.replace(/\/+$/, '') : base;
  const store = owner === undefined ? everyOwner(backend) : (backend as JobStore);
  const authorize: JobHandlerOptions['authorize'] = async (request) => {
    if (owner === undefined) return { owner: '*' };
    const who = typeof owner === 'function' ? await owner(request) : owner;
    return who ? { owner: who } : null;
  };
  const handle = createJobHandler({
    store,
    basePath,
    authorize,
    ...(options.heartbeatMs === undefined ? {} : { heartbeatMs: options.heartbeatMs }),
  });
  const resolver = ({ request }: { request: Request }) => handle(request);
  return [http.all(base, resolver), http.all(`${base}/*`, resolver)];
}
