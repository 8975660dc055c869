// @vitest-environment node
import { JobProtocolError, JobRequestError, JobUnauthorizedError } from '../../src/contract/errors';
import { formatIdList } from '../../src/contract/ids';
import type { Job } from '../../src/contract/types';
import { createJobHandler, type JobHandlerOptions, type JobStore } from '../../src/server';
import { createMemoryJobBackend, type MemoryJobBackend } from '../../src/testing';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const BASE = 'http://localhost/api/jobs';

/** Reads the owner from `x-owner`, as an app would from its session. */
const authorize: JobHandlerOptions['authorize'] = (request) => {
  const owner = request.headers.get('x-owner');
  return owner ? { owner } : null;
};

function setup(options: Partial<JobHandlerOptions> = {}) {
  const backend = createMemoryJobBackend();
  const onError = vi.fn();
  const handler = createJobHandler({ store: backend, basePath: '/api/jobs', authorize, onError, ...options });
  return { backend, handler, onError };
}

function req(path: string, init: RequestInit & { owner?: string | null } = {}): Request {
  const { owner = 'alice', headers, ...rest } = init;
  const h = new Headers(headers);
  if (owner) h.set('x-owner', owner);
  return new Request(path.startsWith('http') ? path : `http://localhost${path}`, { ...rest, headers: h });
}

/** Asserts the contract's error shape and returns the body. */
async function expectError(response: Response, status: number, code: string): Promise<{ error: { code: string; message: string } }> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  const body = await response.json();
  expect(body).toEqual({ error: { code, message: expect.any(String) } });
  expect(body.error.message).not.toBe('');
  return body;
}

/** Creates jobs one second apart, so their times (and list order) differ. */
function seed(backend: MemoryJobBackend): { a: Job; b: Job; c: Job; bobs: Job } {
  const a = backend.create({ id: 'a', owner: 'alice', meta: { projectId: 'p1' } });
  vi.advanceTimersByTime(1000);
  const b = backend.create({ id: 'b', owner: 'alice', meta: { projectId: 'p2' } });
  vi.advanceTimersByTime(1000);
  const c = backend.create({ id: 'c', owner: 'alice', meta: { projectId: 'p1' } });
  const bobs = backend.create({ id: 'bobs', owner: 'bob', meta: { projectId: 'p1' } });
  backend.clearCalls();
  return { a, b, c, bobs };
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('routes', () => {
  it('GET {base}/{id} answers the job as JSON, uncached', async () => {
    const { backend, handler } = setup();
    const { a } = seed(backend);
    const response = await handler(req('/api/jobs/a'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual(a);
    expect(backend.calls).toEqual([{ method: 'getStatus', args: ['a', { owner: 'alice', signal: expect.any(AbortSignal) }], at: T0 + 2000 }]);
  });

  it('decodes ids from percent-encoded path segments', async () => {
    const { backend, handler } = setup();
    const job = backend.create({ id: 'a/b,c d+é', owner: 'alice' });
    const response = await handler(req(`/api/jobs/${encodeURIComponent(job.id)}`));
    expect(response.status).toBe(200);
    expect((await response.json()).id).toBe('a/b,c d+é');
  });

  it('GET {base}/{id} answers 404 not_found for an unknown job', async () => {
    const { handler } = setup();
    const body = await expectError(await handler(req('/api/jobs/nope')), 404, 'not_found');
    expect(body.error.message).toBe('Job "nope" was not found');
  });

  it('tolerates a trailing slash, on the base path option and on requests', async () => {
    const { backend, handler } = setup({ basePath: '/api/jobs/' });
    seed(backend);
    expect((await handler(req('/api/jobs/a/'))).status).toBe(200);
    expect((await handler(req('/api/jobs/'))).status).toBe(200);
    expect((await handler(req('/api/jobs/counts/'))).status).toBe(200);
  });

  it('serves from the root with basePath "/"', async () => {
    const { backend, handler } = setup({ basePath: '/' });
    seed(backend);
    expect((await handler(req('/a'))).status).toBe(200);
    expect(await (await handler(req('/counts'))).json()).toEqual({ pending: 3, processing: 0 });
  });

  it('GET {base}?ids= answers { jobs, missing }: request order, duplicates once, ids split on raw commas', async () => {
    const { backend, handler } = setup();
    const { a, c } = seed(backend);
    const comma = backend.create({ id: 'x,y', owner: 'alice' });
    const response = await handler(req(`/api/jobs?ids=${formatIdList(['c', 'zzz', 'a', 'c', 'x,y'])}`));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ jobs: [c, a, comma], missing: ['zzz'] });
    expect(backend.calls.map((call) => [call.method, call.args[0]])).toEqual([['getStatuses', ['c', 'zzz', 'a', 'x,y']]]);
  });

  it('reads a batch one getStatus per id when the store has no getStatuses', async () => {
    const backend = createMemoryJobBackend();
    const { getStatuses: _, ...store } = backend;
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize });
    const { a, b } = seed(backend);
    const response = await handler(req('/api/jobs?ids=a,zzz,b,bobs'));
    expect(await response.json()).toEqual({ jobs: [a, b], missing: ['zzz', 'bobs'] });
    expect(backend.calls.map((call) => call.method)).toEqual(['getStatus', 'getStatus', 'getStatus', 'getStatus']);
  });

  it('GET {base} lists newest first, filtered by status and meta, a page at a time', async () => {
    const { backend, handler } = setup();
    const { a, b, c } = seed(backend);
    backend.start('b');

    const all = await handler(req('/api/jobs'));
    expect(all.status).toBe(200);
    expect(await all.json()).toEqual({ jobs: [c, backend.get('b'), a], nextCursor: null });

    const first = await (await handler(req('/api/jobs?limit=2'))).json();
    expect(first.jobs.map((job: Job) => job.id)).toEqual(['c', 'b']);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = await (await handler(req(`/api/jobs?limit=2&cursor=${encodeURIComponent(first.nextCursor)}`))).json();
    expect(second).toEqual({ jobs: [a], nextCursor: null });

    const pending = await (await handler(req('/api/jobs?status=pending'))).json();
    expect(pending.jobs.map((job: Job) => job.id)).toEqual(['c', 'a']);
    const active = await (await handler(req('/api/jobs?status=pending,processing&meta.projectId=p1'))).json();
    expect(active.jobs.map((job: Job) => job.id)).toEqual(['c', 'a']);
    expect(b.id).toBe('b');
  });

  it('passes a resolved filter to the store: default limit 20, one status as a string, meta as an object', async () => {
    const { backend, handler } = setup();
    await handler(req('/api/jobs'));
    await handler(req('/api/jobs?status=failed,failed&meta.projectId=p1&meta.kind=video'));
    await handler(req('/api/jobs?status=failed,completed&limit=5'));
    expect(backend.calls.map((call) => call.args[0])).toEqual([
      { limit: 20 },
      { limit: 20, status: 'failed', meta: { projectId: 'p1', kind: 'video' } },
      { limit: 5, status: ['failed', 'completed'] },
    ]);
  });

  it('decodes query values as form data: + is a space, %2B a plus', async () => {
    const { backend, handler } = setup();
    backend.create({ id: 'space', owner: 'alice', meta: { name: 'a b' } });
    backend.create({ id: 'plus', owner: 'alice', meta: { name: 'a+b' } });
    const spaced = await (await handler(req('/api/jobs?meta.name=a+b'))).json();
    const plussed = await (await handler(req('/api/jobs?meta.name=a%2Bb'))).json();
    expect(spaced.jobs.map((job: Job) => job.id)).toEqual(['space']);
    expect(plussed.jobs.map((job: Job) => job.id)).toEqual(['plus']);
  });

  it('keeps a meta key such as __proto__ a plain filter key', async () => {
    const { backend, handler } = setup();
    expect((await handler(req('/api/jobs?meta.__proto__=x'))).status).toBe(200);
    const meta = (backend.calls[0]!.args[0] as { meta: Record<string, string> }).meta;
    expect(Object.getPrototypeOf(meta)).toBe(Object.prototype);
    expect(Object.keys(meta)).toEqual(['__proto__']);
  });

  it('GET {base}/counts answers { pending, processing }, scoped by meta', async () => {
    const { backend, handler } = setup();
    seed(backend);
    backend.start('c');
    const all = await handler(req('/api/jobs/counts'));
    expect(all.status).toBe(200);
    expect(await all.json()).toEqual({ pending: 2, processing: 1 });
    expect(await (await handler(req('/api/jobs/counts?meta.projectId=p1'))).json()).toEqual({ pending: 1, processing: 1 });
  });

  it('POST {base}/{id}/cancel cancels; 409 not_cancellable once finished', async () => {
    const { backend, handler } = setup();
    seed(backend);
    const response = await handler(req('/api/jobs/a/cancel', { method: 'POST' }));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual(backend.get('a'));
    expect(backend.get('a')?.status).toBe('cancelled');
    await expectError(await handler(req('/api/jobs/a/cancel', { method: 'POST' })), 409, 'not_cancellable');
    await expectError(await handler(req('/api/jobs/zzz/cancel', { method: 'POST' })), 404, 'not_found');
  });

  it('POST {base}/{id}/retry retries a failed job; 409 not_retryable otherwise', async () => {
    const { backend, handler } = setup();
    seed(backend);
    backend.fail('a', 'boom');
    const response = await handler(req('/api/jobs/a/retry', { method: 'POST' }));
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: 'a', status: 'pending', retryCount: 1 });
    await expectError(await handler(req('/api/jobs/b/retry', { method: 'POST' })), 409, 'not_retryable');
    await expectError(await handler(req('/api/jobs/zzz/retry', { method: 'POST' })), 404, 'not_found');
  });

  it('answers 405 with Allow for cancel and retry when the store has neither', async () => {
    const backend = createMemoryJobBackend();
    const { cancel: _c, retry: _r, ...store } = backend;
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize });
    seed(backend);
    for (const action of ['cancel', 'retry']) {
      const response = await handler(req(`/api/jobs/a/${action}`, { method: 'POST' }));
      expect(response.headers.get('allow')).toBe('OPTIONS');
      const body = await expectError(response, 405, 'method_not_allowed');
      expect(body.error.message).toBe(`This server does not support ${action}`);
      const options = await handler(req(`/api/jobs/a/${action}`, { method: 'OPTIONS' }));
      expect(options.headers.get('allow')).toBe('OPTIONS');
    }
    expect(backend.get('a')?.status).toBe('pending');
  });

  it('answers OPTIONS with 204 and Allow, without authorizing', async () => {
    const authorizeSpy = vi.fn(authorize);
    const { handler } = setup({ authorize: authorizeSpy });
    const cases: Array<[string, string]> = [
      ['/api/jobs', 'GET, HEAD, OPTIONS'],
      ['/api/jobs/a', 'GET, HEAD, OPTIONS'],
      ['/api/jobs/counts', 'GET, HEAD, OPTIONS'],
      ['/api/jobs/events', 'GET, HEAD, OPTIONS'],
      ['/api/jobs/a/cancel', 'POST, OPTIONS'],
      ['/api/jobs/a/retry', 'POST, OPTIONS'],
    ];
    for (const [path, allow] of cases) {
      const response = await handler(req(path, { method: 'OPTIONS', owner: null }));
      expect(response.status).toBe(204);
      expect(response.headers.get('allow')).toBe(allow);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('access-control-allow-origin')).toBeNull();
      expect(await response.text()).toBe('');
    }
    expect(authorizeSpy).not.toHaveBeenCalled();
    await expectError(await handler(req('/api/jobs/a/b/c', { method: 'OPTIONS' })), 404, 'not_found');
  });

  it('answers HEAD like GET, without a body', async () => {
    const { backend, handler } = setup();
    seed(backend);
    const found = await handler(req('/api/jobs/a', { method: 'HEAD' }));
    expect(found.status).toBe(200);
    expect(found.headers.get('content-type')).toBe('application/json');
    expect(found.body).toBeNull();
    const missing = await handler(req('/api/jobs/zzz', { method: 'HEAD' }));
    expect(missing.status).toBe(404);
    expect(missing.body).toBeNull();
    const bad = await handler(req('/api/jobs?limit=0', { method: 'HEAD' }));
    expect(bad.status).toBe(400);
    expect(bad.body).toBeNull();
  });
});

describe('malformed requests', () => {
  const long = 'x'.repeat(201);
  const ids101 = Array.from({ length: 101 }, (_, i) => `j${i}`).join(',');
  // [what, method, path, status, code]
  const cases: Array<[string, string, string, number, string]> = [
    ['unknown status', 'GET', '/api/jobs?status=done', 400, 'bad_request'],
    ['empty status', 'GET', '/api/jobs?status=', 400, 'bad_request'],
    ['status with an empty entry', 'GET', '/api/jobs?status=pending,', 400, 'bad_request'],
    ['limit 0', 'GET', '/api/jobs?limit=0', 400, 'bad_request'],
    ['limit 101', 'GET', '/api/jobs?limit=101', 400, 'bad_request'],
    ['limit abc', 'GET', '/api/jobs?limit=abc', 400, 'bad_request'],
    ['limit 1.5', 'GET', '/api/jobs?limit=1.5', 400, 'bad_request'],
    ['limit -1', 'GET', '/api/jobs?limit=-1', 400, 'bad_request'],
    ['limit 1e1', 'GET', '/api/jobs?limit=1e1', 400, 'bad_request'],
    ['empty limit', 'GET', '/api/jobs?limit=', 400, 'bad_request'],
    ['101 ids', 'GET', `/api/jobs?ids=${ids101}`, 400, 'bad_request'],
    ['empty ids', 'GET', '/api/jobs?ids=', 400, 'bad_request'],
    ['ids without a value', 'GET', '/api/jobs?ids', 400, 'bad_request'],
    ['an empty id in ids', 'GET', '/api/jobs?ids=a,,b', 400, 'bad_request'],
    ['a route name in ids', 'GET', '/api/jobs?ids=a,counts', 400, 'bad_request'],
    ['an over-long id in the path', 'GET', `/api/jobs/${long}`, 400, 'bad_request'],
    ['an over-long id in ids', 'GET', `/api/jobs?ids=a,${long}`, 400, 'bad_request'],
    ['an id with %00', 'GET', '/api/jobs/a%00b', 400, 'bad_request'],
    ['an id with %0A', 'GET', '/api/jobs/a%0Ab', 400, 'bad_request'],
    ['an id with %C2%85 (C1 control)', 'GET', '/api/jobs/a%C2%85b', 400, 'bad_request'],
    ['ids with %0A', 'GET', '/api/jobs?ids=a%0Ab', 400, 'bad_request'],
    ['an encoded route name as id', 'GET', '/api/jobs/%63ounts', 400, 'bad_request'],
    ['malformed percent-encoding in the path', 'GET', '/api/jobs/%E0%A4%A', 400, 'bad_request'],
    ['malformed percent-encoding on cancel', 'POST', '/api/jobs/%E0%A4%A/cancel', 400, 'bad_request'],
    ['malformed percent-encoding in ids', 'GET', '/api/jobs?ids=%E0%A4%A', 400, 'bad_request'],
    ['malformed percent-encoding in a parameter name', 'GET', '/api/jobs?%E0%A4%A=1', 400, 'bad_request'],
    ['malformed percent-encoding in meta', 'GET', '/api/jobs/counts?meta.p=%ZZ', 400, 'bad_request'],
    ['a cursor over 1000 characters', 'GET', `/api/jobs?cursor=${'c'.repeat(1001)}`, 400, 'bad_request'],
    ['a cursor with a control character', 'GET', '/api/jobs?cursor=ab%01cd', 400, 'bad_request'],
    ['an empty cursor', 'GET', '/api/jobs?cursor=', 400, 'bad_request'],
    ['an empty meta key', 'GET', '/api/jobs?meta.=x', 400, 'bad_request'],
    ['an unknown parameter on the list', 'GET', '/api/jobs?sort=asc', 400, 'bad_request'],
    ['a parameter on a job', 'GET', '/api/jobs/a?x=1', 400, 'bad_request'],
    ['a parameter on cancel', 'POST', '/api/jobs/a/cancel?force=1', 400, 'bad_request'],
    ['status on counts', 'GET', '/api/jobs/counts?status=pending', 400, 'bad_request'],
    ['a parameter given twice', 'GET', '/api/jobs?limit=1&limit=2', 400, 'bad_request'],
    ['ids with status', 'GET', '/api/jobs?ids=a&status=pending', 400, 'bad_request'],
    ['ids with limit', 'GET', '/api/jobs?limit=5&ids=a', 400, 'bad_request'],
    ['ids with meta', 'GET', '/api/jobs?ids=a&meta.projectId=p1', 400, 'bad_request'],
    ['events without ids', 'GET', '/api/jobs/events', 400, 'bad_request'],
    ['events with empty ids', 'GET', '/api/jobs/events?ids=', 400, 'bad_request'],
    ['events with an invalid id', 'GET', '/api/jobs/events?ids=a%00', 400, 'bad_request'],
    ['events with 101 ids', 'GET', `/api/jobs/events?ids=${ids101}`, 400, 'bad_request'],
    ['events with status', 'GET', '/api/jobs/events?ids=a&status=pending', 400, 'bad_request'],
    ['a path under a job', 'GET', '/api/jobs/a/b/c', 404, 'not_found'],
    ['an unknown job action', 'POST', '/api/jobs/a/unknown', 404, 'not_found'],
    ['a path under counts', 'GET', '/api/jobs/counts/x', 404, 'not_found'],
    ['cancel on a route name', 'POST', '/api/jobs/events/cancel', 404, 'not_found'],
    ['an empty segment', 'GET', '/api/jobs//a', 404, 'not_found'],
    ['a path that only starts like the base', 'GET', '/api/jobsX', 404, 'not_found'],
    ['a path outside the base', 'GET', '/api/other', 404, 'not_found'],
    ['POST on a job', 'POST', '/api/jobs/a', 405, 'method_not_allowed'],
    ['DELETE on a job', 'DELETE', '/api/jobs/a', 405, 'method_not_allowed'],
    ['GET on cancel', 'GET', '/api/jobs/a/cancel', 405, 'method_not_allowed'],
    ['GET on retry', 'GET', '/api/jobs/a/retry', 405, 'method_not_allowed'],
    ['POST on the list', 'POST', '/api/jobs', 405, 'method_not_allowed'],
    ['PUT on counts', 'PUT', '/api/jobs/counts', 405, 'method_not_allowed'],
    ['POST on events', 'POST', '/api/jobs/events?ids=a', 405, 'method_not_allowed'],
  ];

  it.each(cases)('%s → %s %s answers %i %s', async (_what, method, path, status, code) => {
    const { backend, handler, onError } = setup();
    seed(backend);
    const response = await handler(req(path, { method }));
    await expectError(response, status, code);
    if (status === 405) expect(response.headers.get('allow')).toMatch(/^(GET, HEAD, OPTIONS|POST, OPTIONS)$/);
    // Validated before the store is asked, and never the server's fault.
    expect(backend.calls).toEqual([]);
    expect(onError).not.toHaveBeenCalled();
  });

  it('names the offending parameter', async () => {
    const { handler } = setup();
    expect((await expectError(await handler(req('/api/jobs?sort=asc')), 400, 'bad_request')).error.message).toContain('"sort"');
    expect((await expectError(await handler(req('/api/jobs?ids=a&status=pending')), 400, 'bad_request')).error.message).toContain('"status"');
    expect((await expectError(await handler(req('/api/jobs?status=done')), 400, 'bad_request')).error.message).toContain('"done"');
  });

  it('answers a cursor the store rejects with the store’s 400', async () => {
    const { handler, onError } = setup();
    const body = await expectError(await handler(req('/api/jobs?cursor=not-a-cursor')), 400, 'bad_request');
    expect(body.error.message).toBe('Malformed cursor');
    expect(onError).not.toHaveBeenCalled();
  });

  it('refuses an invalid basePath or interval when created', () => {
    const store = createMemoryJobBackend();
    expect(() => createJobHandler({ store, basePath: 'api/jobs', authorize })).toThrow(TypeError);
    expect(() => createJobHandler({ store, basePath: '/api?x', authorize })).toThrow(TypeError);
    expect(() => createJobHandler({ store, basePath: '/api', authorize, heartbeatMs: 0 })).toThrow(RangeError);
    expect(() => createJobHandler({ store, basePath: '/api', authorize, pollIntervalMs: Infinity })).toThrow(RangeError);
  });
});

describe('authorization', () => {
  const routes: Array<[string, string]> = [
    ['GET', '/api/jobs/a'],
    ['GET', '/api/jobs?ids=a'],
    ['GET', '/api/jobs'],
    ['GET', '/api/jobs?limit=0'],
    ['GET', '/api/jobs/counts'],
    ['POST', '/api/jobs/a/cancel'],
    ['POST', '/api/jobs/a/retry'],
    ['GET', '/api/jobs/events?ids=a'],
  ];

  it.each(routes)('%s %s without an owner answers 401 before validating or reading', async (method, path) => {
    const { backend, handler } = setup();
    seed(backend);
    await expectError(await handler(req(path, { method, owner: null })), 401, 'unauthorized');
    expect(backend.calls).toEqual([]);
  });

  it('answers 401 when authorize gives no usable owner, sync or async', async () => {
    const answers: unknown[] = [null, undefined, {}, { owner: '' }, { owner: 42 }];
    for (const answer of answers) {
      for (const async of [false, true]) {
        const { handler } = setup({ authorize: () => (async ? Promise.resolve(answer) : answer) as { owner: string } });
        await expectError(await handler(req('/api/jobs/a')), 401, 'unauthorized');
      }
    }
  });

  it('accepts an async authorize', async () => {
    const { backend, handler } = setup({ authorize: async () => ({ owner: 'alice' }) });
    seed(backend);
    expect((await handler(req('/api/jobs/a', { owner: null }))).status).toBe(200);
  });

  it('does not call authorize for paths and methods it does not serve', async () => {
    const authorizeSpy = vi.fn(authorize);
    const { handler } = setup({ authorize: authorizeSpy });
    await handler(req('/elsewhere'));
    await handler(req('/api/jobs/a/b/c'));
    await handler(req('/api/jobs/a', { method: 'DELETE' }));
    expect(authorizeSpy).not.toHaveBeenCalled();
  });

  it('answers 500 (not 401) when authorize throws, and reports it', async () => {
    const failure = new Error('session store down');
    const { handler, onError } = setup({ authorize: () => Promise.reject(failure) });
    const request = req('/api/jobs/a');
    const body = await expectError(await handler(request), 500, 'internal_error');
    expect(JSON.stringify(body)).not.toContain('session store');
    expect(onError).toHaveBeenCalledWith(failure, request);
  });

  it('lets authorize throw JobUnauthorizedError (401) or a 4xx JobRequestError, unreported', async () => {
    const denied = setup({ authorize: () => { throw new JobUnauthorizedError('expired', { status: 403 }); } });
    await expectError(await denied.handler(req('/api/jobs/a')), 401, 'unauthorized');
    const csrf = setup({ authorize: () => { throw new JobRequestError(403, 'forbidden', 'Cross-site request refused'); } });
    const body = await expectError(await csrf.handler(req('/api/jobs/a/cancel', { method: 'POST' })), 403, 'forbidden');
    expect(body.error.message).toBe('Cross-site request refused');
    expect(denied.onError).not.toHaveBeenCalled();
    expect(csrf.onError).not.toHaveBeenCalled();
  });

  it("answers another owner's job exactly like an unknown one", async () => {
    const { backend, handler } = setup();
    seed(backend);
    const others = await handler(req('/api/jobs/bobs'));
    const unknown = await handler(req('/api/jobs/nobody'));
    expect(others.status).toBe(404);
    expect([...others.headers]).toEqual([...unknown.headers]);
    expect(await others.json()).toEqual({ error: { code: 'not_found', message: 'Job "bobs" was not found' } });
    expect(await unknown.json()).toEqual({ error: { code: 'not_found', message: 'Job "nobody" was not found' } });

    expect(await (await handler(req('/api/jobs?ids=a,bobs'))).json()).toEqual({ jobs: [backend.get('a')], missing: ['bobs'] });
    const listed = await (await handler(req('/api/jobs?meta.projectId=p1'))).json();
    expect(listed.jobs.map((job: Job) => job.id)).toEqual(['c', 'a']);
    expect(await (await handler(req('/api/jobs/counts?meta.projectId=p1'))).json()).toEqual({ pending: 2, processing: 0 });
    await expectError(await handler(req('/api/jobs/bobs/cancel', { method: 'POST' })), 404, 'not_found');
    expect(backend.get('bobs')?.status).toBe('pending');
    // Bob sees his own job.
    expect((await handler(req('/api/jobs/bobs', { owner: 'bob' }))).status).toBe(200);
  });
});

describe('store failures', () => {
  function brokenStore(patch: Partial<JobStore>): { backend: MemoryJobBackend; store: JobStore } {
    const backend = createMemoryJobBackend();
    seed(backend);
    return { backend, store: { ...backend, ...patch } };
  }

  it('answers 500 internal_error without details when the store throws, and reports the error', async () => {
    const failure = new Error('connect ECONNREFUSED postgres://admin:secret@db');
    const { store } = brokenStore({
      getStatus: () => Promise.reject(failure),
      getStatuses: () => Promise.reject(failure),
      list: () => Promise.reject(failure),
      getPendingCount: () => Promise.reject(failure),
      cancel: () => { throw failure; },
    });
    const onError = vi.fn();
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, onError });
    const requests = [
      req('/api/jobs/a'),
      req('/api/jobs?ids=a,b'),
      req('/api/jobs'),
      req('/api/jobs/counts'),
      req('/api/jobs/a/cancel', { method: 'POST' }),
      req('/api/jobs/events?ids=a'),
    ];
    for (const request of requests) {
      const response = await handler(request);
      const body = await expectError(response, 500, 'internal_error');
      expect(body.error.message).toBe('Internal server error');
      expect(onError).toHaveBeenLastCalledWith(failure, request);
    }
    expect(onError).toHaveBeenCalledTimes(requests.length);
  });

  const invalid: Array<[string, Partial<JobStore>, string]> = [
    ['a job with an invalid status', { getStatus: async () => ({ id: 'a', status: 'done' }) as unknown as Job }, '/api/jobs/a'],
    ['another job than asked for', { getStatus: async () => makeJob('b') }, '/api/jobs/a'],
    ['nothing', { getStatus: async () => undefined as unknown as Job }, '/api/jobs/a'],
    ['a batch holding an invalid job', { getStatuses: async () => ({ jobs: [{ id: 'a' } as Job], missing: [] }) }, '/api/jobs?ids=a'],
    ['a batch holding a job not asked for', { getStatuses: async () => ({ jobs: [makeJob('zzz')], missing: [] }) }, '/api/jobs?ids=a'],
    ['a page without jobs', { list: async () => ({ nextCursor: null }) as never }, '/api/jobs'],
    ['a page with an unusable cursor', { list: async () => ({ jobs: [], nextCursor: 'x'.repeat(1001) }) }, '/api/jobs'],
    ['a page over the limit', { list: async () => ({ jobs: [makeJob('a'), makeJob('b')], nextCursor: null }) }, '/api/jobs?limit=1'],
    ['a negative count', { getPendingCount: async () => ({ pending: -1, processing: 0 }) }, '/api/jobs/counts'],
    ['a job JSON cannot encode', { getStatus: async () => ({ ...makeJob('a'), result: 1n }) }, '/api/jobs/a'],
    ['a cancelled job that is not a job', { cancel: async () => ({}) as Job }, '/api/jobs/a/cancel'],
  ];

  it.each(invalid)('answers 500 when the store answers %s', async (_what, patch, path) => {
    const { store } = brokenStore(patch);
    const onError = vi.fn();
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, onError });
    await expectError(await handler(req(path, { method: path.endsWith('/cancel') ? 'POST' : 'GET' })), 500, 'internal_error');
    expect(onError).toHaveBeenCalledTimes(1);
  });

  it('reports an invalid job as a JobProtocolError naming the field', async () => {
    const { store } = brokenStore({ getStatus: async () => ({ ...makeJob('a'), progress: 7 }) });
    const onError = vi.fn();
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, onError });
    await handler(req('/api/jobs/a'));
    expect(onError.mock.calls[0]![0]).toBeInstanceOf(JobProtocolError);
    expect((onError.mock.calls[0]![0] as JobProtocolError).field).toBe('progress');
  });

  it('passes a 4xx JobRequestError on, and answers 401 for a JobUnauthorizedError, unreported', async () => {
    const { store } = brokenStore({
      getStatus: () => Promise.reject(new JobUnauthorizedError('token expired', { status: 403 })),
      cancel: () => Promise.reject(new JobRequestError(409, 'locked', 'Job "a" is being archived')),
    });
    const onError = vi.fn();
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, onError });
    await expectError(await handler(req('/api/jobs/a')), 401, 'unauthorized');
    const body = await expectError(await handler(req('/api/jobs/a/cancel', { method: 'POST' })), 409, 'locked');
    expect(body.error.message).toBe('Job "a" is being archived');
    expect(onError).not.toHaveBeenCalled();
  });

  it('treats a JobRequestError with a 5xx status as unexpected', async () => {
    const failure = new JobRequestError(503, 'unavailable', 'replica lag on db-3');
    const { store } = brokenStore({ getStatus: () => Promise.reject(failure) });
    const onError = vi.fn();
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, onError });
    const body = await expectError(await handler(req('/api/jobs/a')), 500, 'internal_error');
    expect(JSON.stringify(body)).not.toContain('db-3');
    expect(onError).toHaveBeenCalledWith(failure, expect.any(Request));
  });

  it('still answers 500 when onError throws', async () => {
    const { store } = brokenStore({ getStatus: () => Promise.reject(new Error('x')) });
    const handler = createJobHandler({
      store,
      basePath: '/api/jobs',
      authorize,
      onError: () => {
        throw new Error('logger down');
      },
    });
    await expectError(await handler(req('/api/jobs/a')), 500, 'internal_error');
  });

  it('reports to console.error by default', async () => {
    const consoleError = vi.spyOn(console, 'error').mockImplementation(() => {});
    const failure = new Error('x');
    const { store } = brokenStore({ getStatus: () => Promise.reject(failure) });
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize });
    await handler(req('/api/jobs/a'));
    expect(consoleError).toHaveBeenCalledWith(expect.stringContaining('jobwatch'), failure);
  });

  it('neither crashes nor reports when the client goes away mid-request', async () => {
    const backend = createMemoryJobBackend({ latencyMs: 5000 });
    seed(backend);
    const onError = vi.fn();
    const handler = createJobHandler({ store: backend, basePath: '/api/jobs', authorize, onError });
    const controller = new AbortController();
    const pending = handler(req('/api/jobs/a', { signal: controller.signal }));
    await vi.advanceTimersByTimeAsync(100);
    controller.abort();
    const response = await pending;
    expect(response.status).toBe(499);
    expect(onError).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});

function makeJob(id: string): Job {
  const at = new Date(T0).toISOString();
  return { id, status: 'pending', createdAt: at, updatedAt: at };
}
