// @vitest-environment node
import type { JobStore } from '../../src/contract/types';
import { createJobHandler, type JobHandlerOptions } from '../../src/server';
import { createOutputFake } from './outputFake';

// GET {base}/{id}/output?after=N&limit=M and its query form, over the handler (Request → Response).

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

const authorize: JobHandlerOptions['authorize'] = (request) => {
  const owner = request.headers.get('x-owner');
  return owner ? { owner } : null;
};

function req(path: string, init: RequestInit & { owner?: string } = {}): Request {
  return new Request(`http://localhost${path}`, { ...init, headers: { 'x-owner': init.owner ?? 'alice', ...init.headers } });
}

function setup(options: { keep?: number; store?: JobStore; storeTimeoutMs?: number } = {}) {
  const fake = createOutputFake(options.keep === undefined ? {} : { keep: options.keep });
  const onError = vi.fn();
  const handler = createJobHandler({
    store: options.store ?? fake.store,
    basePath: '/api/jobs',
    authorize,
    onError,
    ...(options.storeTimeoutMs === undefined ? {} : { storeTimeoutMs: options.storeTimeoutMs }),
  });
  return { ...fake, handler, onError };
}

const seqs = (body: { parts: Array<{ seq: number }> }) => body.parts.map((part) => part.seq);

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('GET {base}/{id}/output', () => {
  it('answers the parts after 0 as a JobOutputPage, asking the store with the caller as owner', async () => {
    const { handler, create, append, reads } = setup();
    create('a');
    const written = append('a', 3);
    const response = await handler(req('/api/jobs/a/output'));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(await response.json()).toEqual({ parts: written, done: false });
    expect(reads).toEqual([{ id: 'a', owner: 'alice', after: 0, limit: 500 }]);
  });

  it('passes after and limit on, and answers only the parts after `after`', async () => {
    const { handler, create, append, reads } = setup();
    create('a');
    append('a', 5);
    const response = await handler(req('/api/jobs/a/output?after=2&limit=2'));
    expect(seqs(await response.json())).toEqual([3, 4]);
    expect(reads.at(-1)).toMatchObject({ after: 2, limit: 2 });
  });

  it('says done only when the job is terminal and the page holds its last part', async () => {
    const { handler, create, append, finish } = setup();
    create('a');
    append('a', 3);
    finish('a');
    expect(await (await handler(req('/api/jobs/a/output?limit=2'))).json()).toMatchObject({ done: false });
    expect(await (await handler(req('/api/jobs/a/output?after=1'))).json()).toMatchObject({ done: true });
    expect(await (await handler(req('/api/jobs/a/output?after=3'))).json()).toEqual({ parts: [], done: true });
  });

  it('passes trimmed on when the store no longer keeps the parts asked for', async () => {
    const { handler, create, append } = setup({ keep: 2 });
    create('a');
    append('a', 5);
    const body = await (await handler(req('/api/jobs/a/output'))).json();
    expect(body).toEqual({ parts: [expect.objectContaining({ seq: 4 }), expect.objectContaining({ seq: 5 })], done: false, trimmed: true });
    expect(await (await handler(req('/api/jobs/a/output?after=3'))).json()).not.toHaveProperty('trimmed');
  });

  it.each([
    ['after=-1', 'after'],
    ['after=abc', 'after'],
    ['after=', 'after'],
    ['after=1.5', 'after'],
    ['after=99999999999999999', 'after'],
    ['limit=0', 'limit'],
    ['limit=501', 'limit'],
    ['limit=', 'limit'],
    ['after=1&after=2', 'after'],
    ['cursor=x', 'cursor'],
    ['ids=a', 'ids'],
  ])('answers 400 bad_request for %s, without asking the store', async (query, named) => {
    const { handler, create, reads } = setup();
    create('a');
    const response = await handler(req(`/api/jobs/a/output?${query}`));
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body).toEqual({ error: { code: 'bad_request', message: expect.stringContaining(named) } });
    expect(reads).toEqual([]);
  });

  it('answers 400 for an id the contract refuses, 404 for an unknown id and for another owner’s job', async () => {
    const { handler, create, append } = setup();
    create('a', 'bob');
    append('a', 2);
    expect((await handler(req(`/api/jobs/${'x'.repeat(201)}/output`))).status).toBe(400);
    const unknown = await handler(req('/api/jobs/nope/output'));
    expect(unknown.status).toBe(404);
    const theirs = await handler(req('/api/jobs/a/output'));
    expect(theirs.status).toBe(404);
    expect(await theirs.json()).toEqual({ error: { code: 'not_found', message: 'Job "a" was not found' } });
    expect((await handler(req('/api/jobs/a/output', { owner: 'bob' }))).status).toBe(200);
  });

  it('answers 405 with Allow for POST, and 204 to OPTIONS; HEAD is a GET without body', async () => {
    const { handler, create } = setup();
    create('a');
    const post = await handler(req('/api/jobs/a/output', { method: 'POST' }));
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    expect((await post.json()).error.code).toBe('method_not_allowed');
    expect((await handler(req('/api/jobs/a/output', { method: 'OPTIONS' }))).status).toBe(204);
    const head = await handler(req('/api/jobs/a/output', { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(head.body).toBeNull();
  });

  it('answers 401 before validating or reading when authorize finds no owner', async () => {
    const { handler, create, reads } = setup();
    create('a');
    const response = await handler(new Request('http://localhost/api/jobs/a/output?after=-1'));
    expect(response.status).toBe(401);
    expect(reads).toEqual([]);
  });

  it('answers 404 not_found saying so when the store keeps no output', async () => {
    const fake = createOutputFake();
    const { readOutput: _read, subscribeOutput: _sub, ...statusOnly } = fake.store;
    const { handler } = setup({ store: statusOnly });
    fake.create('a');
    const response = await handler(req('/api/jobs/a/output'));
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { code: 'not_found', message: 'This server keeps no job output' } });
  });

  it.each([
    ['a page with a gap', { parts: [part(1), part(3)], done: false }, /parts\[1\]\.seq/],
    ['a page without done', { parts: [part(1)] }, /done/],
    ['parts at or before after', { parts: [part(2)], done: false }, /part 2 for after=2/],
    ['a gap after `after` without trimmed', { parts: [part(5)], done: false }, /skipped parts 3 to 4/],
    ['more parts than the limit', { parts: [part(3), part(4), part(5)], done: false }, /3 parts for limit 2/],
    ['an unsafe image url', { parts: [{ ...part(3), kind: 'image', url: 'javascript:alert(1)', text: undefined }], done: false }, /url/],
  ])('answers 500 internal_error for %s, and reports what is wrong', async (_name, answer, problem) => {
    const fake = createOutputFake();
    const { handler, onError } = setup({ store: { ...fake.store, readOutput: async () => answer as never } });
    fake.create('a');
    const response = await handler(req('/api/jobs/a/output?after=2&limit=2'));
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: { code: 'internal_error', message: 'Internal server error' } });
    expect(onError).toHaveBeenCalledTimes(1);
    const reported = onError.mock.calls[0]![0] as Error;
    expect(reported).toBeInstanceOf(TypeError);
    expect(reported.message).toMatch(/store\.readOutput\("a"\)/);
    expect(reported.message).toMatch(problem);
  });

  it('answers 503 with Retry-After when readOutput does not settle within storeTimeoutMs, and aborts its signal', async () => {
    const signals: AbortSignal[] = [];
    const fake = createOutputFake();
    const store: JobStore = {
      ...fake.store,
      readOutput: (_id, o) => {
        signals.push(o.signal!);
        return new Promise(() => {});
      },
    };
    const { handler } = setup({ store, storeTimeoutMs: 2000 });
    const pending = handler(req('/api/jobs/a/output'));
    await vi.advanceTimersByTimeAsync(2000);
    const response = await pending;
    expect(response.status).toBe(503);
    expect(response.headers.get('retry-after')).toBe('1');
    expect(await response.json()).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(true);
  });
});

describe('GET {base}?id=…&action=output (the query form)', () => {
  it('serves dot-segment ids, with after and limit', async () => {
    const { handler, create, append } = setup();
    create('..');
    append('..', 4);
    const response = await handler(req('/api/jobs?id=..&action=output&after=1&limit=2'));
    expect(response.status).toBe(200);
    expect(seqs(await response.json())).toEqual([2, 3]);
    expect(seqs(await (await handler(req('/api/jobs?action=output&id=%2E%2E'))).json())).toEqual([1, 2, 3, 4]);
  });

  it('answers 400 for other parameters, for after/limit without action=output, and 405 for POST', async () => {
    const { handler, create } = setup();
    create('a');
    const extra = await handler(req('/api/jobs?id=a&action=output&status=pending'));
    expect(extra.status).toBe(400);
    expect((await extra.json()).error.message).toContain('status');
    expect((await handler(req('/api/jobs?id=a&action=output&after=x'))).status).toBe(400);
    expect((await handler(req('/api/jobs?id=a&after=1'))).status).toBe(400);
    expect((await handler(req('/api/jobs?action=output'))).status).toBe(400);
    const post = await handler(req('/api/jobs?id=a&action=output', { method: 'POST' }));
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
  });

  it('answers 404 for another owner’s job', async () => {
    const { handler, create } = setup();
    create('..', 'bob');
    expect((await handler(req('/api/jobs?id=..&action=output'))).status).toBe(404);
  });
});

function part(seq: number) {
  return { seq, kind: 'text', text: `t${seq}`, at: new Date(T0).toISOString() };
}
