// @vitest-environment node
import { jobRequestTarget, type JobAction } from '../../src/contract/routes';
import type { Job, JobStore } from '../../src/contract/types';
import { createJobHandler, type JobHandlerOptions } from '../../src/server';
import { createMemoryJobBackend } from '../../src/testing';

// Semantic 14: `.` and `..` cannot travel in a path (URL parsers remove dot
// segments, `%2E` too), so per-job routes also take the id in the query:
// GET {base}?id=<id> and POST {base}?id=<id>&action=cancel|retry.

const authorize: JobHandlerOptions['authorize'] = (request) => {
  const owner = request.headers.get('x-owner');
  return owner ? { owner } : null;
};

const BASE = 'http://localhost/api/jobs';

function setup(store?: JobStore) {
  const backend = createMemoryJobBackend();
  const onError = vi.fn();
  const handler = createJobHandler({ store: store ?? backend, basePath: '/api/jobs', authorize, onError });
  return { backend, handler, onError };
}

/** The request the contract's `jobRequestTarget` builds, as the fetch client sends it. */
function target(id: string, action?: JobAction): Request {
  const { path, query } = jobRequestTarget(id, action);
  return new Request(`${BASE}${path}${query ? `?${query}` : ''}`, { method: action ? 'POST' : 'GET', headers: { 'x-owner': 'alice' } });
}

function req(pathAndQuery: string, method = 'GET', owner: string | null = 'alice'): Request {
  return new Request(`http://localhost${pathAndQuery}`, { method, headers: owner ? { 'x-owner': owner } : {} });
}

async function expectBadRequest(response: Response): Promise<string> {
  expect(response.status).toBe(400);
  const body = await response.json();
  expect(body).toEqual({ error: { code: 'bad_request', message: expect.any(String) } });
  return body.error.message;
}

const ids = ['.', '..', 'a', 'a/b c+é', '...', '%2E', 'x'.repeat(200)];

describe('per-job routes with the id in the query', () => {
  it('cannot reach "." and ".." by path: the URL parser removes the dot segments', () => {
    expect(new URL(`${BASE}/${encodeURIComponent('..')}`).pathname).toBe('/api/');
    expect(new URL(`${BASE}/%2E%2E`).pathname).toBe('/api/');
    expect(new URL(`${BASE}/%2e`).pathname).toBe('/api/jobs/');
  });

  it.each(ids)('GET {base}?id=%j reads the job, like GET {base}/{id}', async (id) => {
    const { backend, handler } = setup();
    const created = backend.create({ id, owner: 'alice' });
    const viaQuery = await handler(req(`/api/jobs?id=${encodeURIComponent(id)}`));
    expect(viaQuery.status).toBe(200);
    expect(await viaQuery.json()).toEqual(created);
    const viaTarget = await handler(target(id));
    expect(await viaTarget.json()).toEqual(created);
    if (id !== '.' && id !== '..') {
      const viaPath = await handler(req(`/api/jobs/${encodeURIComponent(id)}`));
      expect(await viaPath.json()).toEqual(created);
    }
  });

  it.each(ids)('POST {base}?id=%j&action=cancel|retry acts on the job, like POST {base}/{id}/cancel|retry', async (id) => {
    const { backend, handler } = setup();
    backend.create({ id, owner: 'alice' });
    backend.fail(id, 'boom');
    const retried = await handler(target(id, 'retry'));
    expect(retried.status).toBe(200);
    expect(((await retried.json()) as Job).status).toBe('pending');
    expect((await handler(req(`/api/jobs?action=retry&id=${encodeURIComponent(id)}`, 'POST'))).status).toBe(409); // any order
    const cancelled = await handler(req(`/api/jobs?id=${encodeURIComponent(id)}&action=cancel`, 'POST'));
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as Job).status).toBe('cancelled');
    expect((await handler(target(id, 'cancel'))).status).toBe(409);
    if (id !== '.' && id !== '..') {
      const viaPath = await handler(req(`/api/jobs/${encodeURIComponent(id)}/cancel`, 'POST'));
      expect(viaPath.status).toBe(409);
      expect((await viaPath.json()).error.code).toBe('not_cancellable');
    }
  });

  it("answers 404 for an unknown or another owner's id, and 401 without an owner before reading", async () => {
    const { backend, handler } = setup();
    backend.create({ id: '..', owner: 'bob' });
    expect((await handler(req('/api/jobs?id=..'))).status).toBe(404);
    expect((await handler(req('/api/jobs?id=nope'))).status).toBe(404);
    expect((await handler(req('/api/jobs?id=..&action=cancel', 'POST'))).status).toBe(404);
    backend.clearCalls();
    expect((await handler(req('/api/jobs?id=..', 'GET', null))).status).toBe(401);
    expect((await handler(req('/api/jobs?id=..&action=frobnicate', 'POST', null))).status).toBe(401);
    expect(backend.calls).toEqual([]);
  });

  it.each([
    ['GET', '/api/jobs?id=a&ids=a,b', /ids/],
    ['GET', '/api/jobs?ids=a&id=a', /ids/],
    ['GET', '/api/jobs?id=a&status=pending', /status/],
    ['GET', '/api/jobs?id=a&limit=5', /limit/],
    ['GET', '/api/jobs?id=a&meta.projectId=p1', /meta\.projectId/],
    ['GET', '/api/jobs?id=a&action=cancel', /POST/],
    ['GET', '/api/jobs?action=cancel', /id/],
    ['POST', '/api/jobs?action=cancel', /id/],
    ['POST', '/api/jobs?id=a&action=frobnicate', /frobnicate/],
    ['POST', '/api/jobs?id=a&action=', /action/],
    ['POST', '/api/jobs?id=a', /action/],
    ['POST', '/api/jobs?id=a&action=cancel&action=retry', /more than once/],
    ['GET', '/api/jobs?id=', /empty/],
    ['GET', '/api/jobs?id=%zz', /percent-encoding/],
    ['GET', '/api/jobs?id=a%00b', /control/],
    ['GET', `/api/jobs?id=${'x'.repeat(201)}`, /200/],
    ['GET', '/api/jobs?id=counts', /route name/],
  ])('%s %s answers 400 bad_request and never reads the store', async (method, path, message) => {
    const { backend, handler } = setup();
    backend.create({ id: 'a', owner: 'alice' });
    backend.clearCalls();
    expect(await expectBadRequest(await handler(req(path, method)))).toMatch(message);
    expect(backend.calls).toEqual([]);
  });

  it('keeps POST {base} without an id a 405, and answers OPTIONS with POST allowed', async () => {
    const { handler } = setup();
    const post = await handler(req('/api/jobs', 'POST'));
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    expect((await handler(req('/api/jobs?ids=a', 'POST'))).status).toBe(405);
    const options = await handler(req('/api/jobs?id=..&action=cancel', 'OPTIONS', null));
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('GET, HEAD, OPTIONS, POST');
  });

  it('answers 405 for an action the store does not have, as the path form does', async () => {
    const backend = createMemoryJobBackend();
    const { cancel: _cancel, retry: _retry, ...readOnly } = backend;
    const onlyCancel: JobStore = { ...readOnly, cancel: backend.cancel.bind(backend) } as JobStore;
    backend.create({ id: '..', owner: 'alice' });
    const { handler } = setup(onlyCancel);
    const retry = await handler(req('/api/jobs?id=..&action=retry', 'POST'));
    expect(retry.status).toBe(405);
    expect((await retry.json()).error.message).toMatch(/retry/);
    expect((await handler(req('/api/jobs?id=..&action=cancel', 'POST'))).status).toBe(200);
    const none = setup({ ...readOnly } as JobStore);
    expect((await none.handler(req('/api/jobs?id=..&action=cancel', 'POST'))).status).toBe(405);
    expect((await none.handler(req('/api/jobs?id=..'))).status).toBe(200);
  });

  it('serves HEAD {base}?id=… like GET, without a body', async () => {
    const { backend, handler } = setup();
    backend.create({ id: '.', owner: 'alice' });
    const head = await handler(req('/api/jobs?id=.', 'HEAD'));
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
  });
});
