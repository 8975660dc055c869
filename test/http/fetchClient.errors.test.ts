// @vitest-environment node
import {
  createFetchJobClient,
  JobNotFoundError,
  JobProtocolError,
  JobRequestError,
  JobTransportError,
  JobUnauthorizedError,
  MAX_RETRY_AFTER_MS,
  parseRetryAfter,
} from '../../src/core';
import { makeJob } from '../helpers';

type Handler = (url: URL, init: RequestInit) => Response | Promise<Response>;

/** A fetch answering from `handler`, recording every request. */
function fakeFetch(handler: Handler) {
  const requests: Array<{ url: URL; init: RequestInit }> = [];
  const fetch = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input));
    requests.push({ url, init });
    if (init.signal?.aborted) throw new DOMException('Aborted', 'AbortError');
    return handler(url, init);
  });
  return { fetch: fetch as unknown as typeof globalThis.fetch, requests };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const errorBody = (code: string, message: string) => ({ error: { code, message } });

describe('createFetchJobClient: error mapping', () => {
  it('maps 404 on a job to JobNotFoundError', async () => {
    const { fetch } = fakeFetch(() => json(errorBody('not_found', 'nope'), 404));
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const error = await client.getStatus('a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobNotFoundError);
    expect((error as JobNotFoundError).jobId).toBe('a');
  });

  it.each([401, 403])('maps %d to JobUnauthorizedError', async (status) => {
    const { fetch } = fakeFetch(() => json(errorBody('unauthorized', 'Sign in'), status));
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const error = await client.getStatus('a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobUnauthorizedError);
    expect((error as JobUnauthorizedError).status).toBe(status);
  });

  it('maps 429 to JobTransportError with retryAfterMs from Retry-After seconds', async () => {
    const { fetch } = fakeFetch(() => json(errorBody('rate_limited', 'slow down'), 429, { 'retry-after': '7' }));
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const error = (await client.getStatus('a').catch((e: unknown) => e)) as JobTransportError;
    expect(error).toBeInstanceOf(JobTransportError);
    expect(error.status).toBe(429);
    expect(error.retryAfterMs).toBe(7000);
  });

  it('maps 503 to JobTransportError with retryAfterMs from a Retry-After HTTP date', async () => {
    const at = new Date(Date.now() + 120_000).toUTCString();
    const { fetch } = fakeFetch(() => new Response('down', { status: 503, headers: { 'retry-after': at } }));
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const error = (await client.list().catch((e: unknown) => e)) as JobTransportError;
    expect(error).toBeInstanceOf(JobTransportError);
    expect(error.status).toBe(503);
    expect(error.retryAfterMs).toBeGreaterThan(100_000);
    expect(error.retryAfterMs).toBeLessThanOrEqual(120_000);
  });

  it('maps 500 to JobTransportError without retryAfterMs', async () => {
    const { fetch } = fakeFetch(() => new Response('<html>oops</html>', { status: 500 }));
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const error = (await client.getPendingCount().catch((e: unknown) => e)) as JobTransportError;
    expect(error).toBeInstanceOf(JobTransportError);
    expect(error.retryAfterMs).toBeUndefined();
  });

  it('maps 400 and 409 to JobRequestError with the server code', async () => {
    const { fetch } = fakeFetch((url) =>
      url.pathname.endsWith('/cancel')
        ? json(errorBody('not_cancellable', 'Job already finished'), 409)
        : json(errorBody('bad_request', 'limit must be 1..100'), 400),
    );
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const cancel = (await client.cancel('a').catch((e: unknown) => e)) as JobRequestError;
    expect(cancel).toBeInstanceOf(JobRequestError);
    expect([cancel.status, cancel.code, cancel.message]).toEqual([409, 'not_cancellable', 'Job already finished']);
    const list = (await client.list({ limit: 500 }).catch((e: unknown) => e)) as JobRequestError;
    expect([list.status, list.code]).toEqual([400, 'bad_request']);
  });

  it('maps a network failure to JobTransportError', async () => {
    const fetch = vi.fn(async () => {
      throw new TypeError('fetch failed');
    }) as unknown as typeof globalThis.fetch;
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const error = await client.getStatus('a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobTransportError);
    expect((error as Error).message).toContain('fetch failed');
  });

  it('maps a timeout to JobTransportError', async () => {
    vi.useFakeTimers();
    try {
      const fetch = vi.fn(
        (_url: unknown, init: RequestInit) =>
          new Promise<Response>((_resolve, reject) =>
            init.signal?.addEventListener('abort', () => reject(new DOMException('Aborted', 'AbortError'))),
          ),
      ) as unknown as typeof globalThis.fetch;
      const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch, timeoutMs: 5000 });
      const result = client.getStatus('a').catch((e: unknown) => e);
      await vi.advanceTimersByTimeAsync(5000);
      const error = await result;
      expect(error).toBeInstanceOf(JobTransportError);
      expect((error as Error).message).toContain('timed out');
      expect(vi.getTimerCount()).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('rejects with an AbortError when the caller aborts', async () => {
    const fetch = vi.fn(
      (_url: unknown, init: RequestInit) =>
        new Promise<Response>((_resolve, reject) =>
          init.signal?.addEventListener('abort', () => reject(new DOMException('Aborted', 'AbortError'))),
        ),
    ) as unknown as typeof globalThis.fetch;
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const controller = new AbortController();
    const result = client.getStatus('a', { signal: controller.signal }).catch((e: unknown) => e);
    controller.abort();
    expect(await result).toMatchObject({ name: 'AbortError' });
    await expect(client.getStatus('a', { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('reports a body that is not JSON as JobProtocolError', async () => {
    const { fetch } = fakeFetch(() => new Response('<html>', { status: 200 }));
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    await expect(client.getStatus('a')).rejects.toBeInstanceOf(JobProtocolError);
  });

  it.each([
    [{ ...makeJob({ id: 'a' }), status: 'done' }, 'status'],
    [{ ...makeJob({ id: 'a' }), progress: 2 }, 'progress'],
    [{ ...makeJob({ id: 'a' }), createdAt: 'yesterday' }, 'createdAt'],
    [{ ...makeJob({ id: 'a' }), error: { code: 1 } }, 'error.message'],
    [makeJob({ id: 'b' }), 'id'],
    [[], ''],
  ])('reports an invalid job as JobProtocolError naming the field (%#)', async (body, field) => {
    const { fetch } = fakeFetch(() => json(body));
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const error = await client.getStatus('a').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(JobProtocolError);
    expect((error as JobProtocolError).field).toBe(field);
  });

  it('validates batch, page and count answers', async () => {
    const { fetch } = fakeFetch((url) =>
      url.pathname.endsWith('/counts')
        ? json({ pending: -1, processing: 0 })
        : url.searchParams.has('ids')
          ? json({ jobs: [{ id: 'a' }], missing: [] })
          : json({ jobs: [], nextCursor: 5 }),
    );
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    await expect(client.getStatuses(['a'])).rejects.toMatchObject({ field: 'jobs[0].status' });
    await expect(client.list()).rejects.toMatchObject({ field: 'nextCursor' });
    await expect(client.getPendingCount()).rejects.toMatchObject({ field: 'pending' });
  });
});

describe('createFetchJobClient: requests', () => {
  it('calls a headers function on every request, so short-lived tokens work', async () => {
    let token = 0;
    const { fetch, requests } = fakeFetch(() => json({ pending: 0, processing: 0 }));
    const client = createFetchJobClient({
      baseUrl: 'http://x/api/jobs/',
      fetch,
      headers: async () => ({ authorization: `Bearer t${++token}` }),
    });
    await client.getPendingCount();
    await client.getPendingCount();
    expect(requests.map((r) => new Headers(r.init.headers).get('authorization'))).toEqual(['Bearer t1', 'Bearer t2']);
    expect(requests[0]!.url.pathname).toBe('/api/jobs/counts');
  });

  it('encodes ids in paths and batches, and meta, status, limit and cursor in list queries', async () => {
    const { fetch, requests } = fakeFetch((url) =>
      url.searchParams.has('ids') ? json({ jobs: [], missing: [] }) : url.pathname.endsWith('/cancel') ? json(makeJob({ id: 'a/b c' })) : json({ jobs: [], nextCursor: null }),
    );
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    await client.cancel('a/b c');
    await client.getStatuses(['x,y', 'z']);
    await client.list({ status: ['pending', 'processing'], limit: 5, cursor: 'c/1=', meta: { 'project id': 'p&1' } });
    expect(requests[0]!.url.pathname).toBe('/api/jobs/a%2Fb%20c/cancel');
    expect(requests[0]!.init.method).toBe('POST');
    expect(requests[1]!.url.search).toBe('?ids=x%2Cy,z');
    expect(requests[2]!.url.search).toBe('?status=pending,processing&limit=5&cursor=c%2F1%3D&meta.project%20id=p%261');
  });

  it('splits a batch of more than 100 ids into several requests and merges the answers', async () => {
    const { fetch, requests } = fakeFetch((url) => {
      const ids = (url.searchParams.get('ids') ?? '').split(',');
      return json({ jobs: ids.filter((id) => id !== 'j7').map((id) => makeJob({ id })), missing: ids.filter((id) => id === 'j7') });
    });
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const ids = Array.from({ length: 250 }, (_, i) => `j${i}`);
    const batch = await client.getStatuses(ids);
    expect(requests).toHaveLength(3);
    expect(batch.jobs).toHaveLength(249);
    expect(batch.missing).toEqual(['j7']);
  });

  it('sends the dot-segment ids . and .. in the query, every other id in the path', async () => {
    const { fetch, requests } = fakeFetch((url) => json(makeJob({ id: url.searchParams.get('id') ?? decodeURIComponent(url.pathname.split('/')[3]!) })));
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    expect((await client.getStatus('.')).id).toBe('.');
    expect((await client.cancel('..')).id).toBe('..');
    expect((await client.retry('.')).id).toBe('.');
    expect((await client.getStatus('...')).id).toBe('...');
    expect(requests.map((r) => `${r.init.method} ${r.url.pathname}${r.url.search}`)).toEqual([
      'GET /api/jobs?id=.',
      'POST /api/jobs?id=..&action=cancel',
      'POST /api/jobs?id=.&action=retry',
      'GET /api/jobs/...',
    ]);
  });

  it('refuses an id with a lone surrogate with JobRequestError, not a URIError, and sends nothing', async () => {
    const { fetch, requests } = fakeFetch(() => json(makeJob({ id: 'a' })));
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    for (const call of [() => client.getStatus('a\uD800'), () => client.cancel('\uDFFFa'), () => client.getStatuses(['a', 'b\uD800'])]) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobRequestError);
      expect((error as JobRequestError).code).toBe('bad_request');
    }
    expect(requests).toEqual([]);
  });

  it('lets fetch follow redirects without custom headers, and asks for manual redirects with them', async () => {
    const { fetch, requests } = fakeFetch(() => json(makeJob({ id: 'a' })));
    await createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch }).getStatus('a');
    await createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch, headers: () => ({}) }).getStatus('a');
    await createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch, headers: { authorization: 'Bearer t' } }).getStatus('a');
    expect(requests.map((r) => r.init.redirect)).toEqual([undefined, undefined, 'manual']);
  });

  it("fails a browser's opaque redirect (its target cannot be read) with JobTransportError when custom headers are set", async () => {
    const { fetch, requests } = fakeFetch(() => {
      const response = new Response(null, { status: 200 });
      Object.defineProperty(response, 'type', { value: 'opaqueredirect' });
      Object.defineProperty(response, 'status', { value: 0 });
      return response;
    });
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch, headers: { authorization: 'Bearer t' } });
    await expect(client.getStatus('a')).rejects.toBeInstanceOf(JobTransportError);
    expect(requests).toHaveLength(1);
  });

  it('offers no subscribe with push: false', () => {
    const client = createFetchJobClient({ baseUrl: '/api/jobs', push: false });
    expect(client.subscribe).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, and ignores garbage', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });

  it('clamps to MAX_RETRY_AFTER_MS (one hour): 25 days, in seconds or as a date, is an hour', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(MAX_RETRY_AFTER_MS).toBe(3_600_000);
    expect(parseRetryAfter(String(25 * 24 * 3600), now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('99999999999999999999', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter(new Date(now + 25 * 86_400_000).toUTCString(), now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('3600', now)).toBe(MAX_RETRY_AFTER_MS);
    expect(parseRetryAfter('3599', now)).toBe(3_599_000);
  });

  it('gives a 429 asking for 25 days a JobTransportError whose retryAfterMs is one hour', async () => {
    const { fetch } = fakeFetch(() => json(errorBody('rate_limited', 'later'), 429, { 'retry-after': String(25 * 24 * 3600) }));
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const error = (await client.getStatus('a').catch((e: unknown) => e)) as JobTransportError;
    expect(error.retryAfterMs).toBe(MAX_RETRY_AFTER_MS);
  });
});
