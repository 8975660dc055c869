// @vitest-environment node
import { JobTransportError } from '../../src/contract/errors';
import type { Job, JobStore } from '../../src/contract/types';
import { createJobHandler, type JobHandlerOptions } from '../../src/server';
import { readEvents } from '../support/sse';

// Semantic 15: a store whose backing service is down makes the handler answer
// 503 `unavailable` with Retry-After — never a hang, never a generic 500.

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

const authorize: JobHandlerOptions['authorize'] = (request) => {
  const owner = request.headers.get('x-owner');
  return owner ? { owner } : null;
};

function job(id: string, status: Job['status'] = 'pending', at = T0): Job {
  const iso = new Date(at).toISOString();
  return { id, status, createdAt: iso, updatedAt: iso };
}

function req(path: string, init: RequestInit = {}): Request {
  return new Request(`http://localhost${path}`, { ...init, headers: { 'x-owner': 'alice', ...init.headers } });
}

/** A store every method of which behaves as `behave` says; the signals it was given are kept. */
function failingStore(behave: (method: string) => Promise<never>): { store: JobStore; signals: AbortSignal[] } {
  const signals: AbortSignal[] = [];
  const call = (method: string, options: { signal?: AbortSignal }) => {
    if (options.signal) signals.push(options.signal);
    return behave(method);
  };
  const store: JobStore = {
    getStatus: (_id, o) => call('getStatus', o),
    getStatuses: (_ids, o) => call('getStatuses', o),
    list: (_f, o) => call('list', o),
    getPendingCount: (_f, o) => call('getPendingCount', o),
    cancel: (_id, o) => call('cancel', o),
    retry: (_id, o) => call('retry', o),
  };
  return { store, signals };
}

const routes: Array<[string, string, string]> = [
  ['status', 'GET', '/api/jobs/a'],
  ['status (query form)', 'GET', '/api/jobs?id=a'],
  ['batch', 'GET', '/api/jobs?ids=a,b'],
  ['list', 'GET', '/api/jobs?status=pending'],
  ['counts', 'GET', '/api/jobs/counts'],
  ['cancel', 'POST', '/api/jobs/a/cancel'],
  ['retry', 'POST', '/api/jobs/a/retry'],
  ['events (snapshot)', 'GET', '/api/jobs/events?ids=a'],
];

async function expectUnavailable(response: Response, retryAfter: string): Promise<void> {
  expect(response.status).toBe(503);
  expect(response.headers.get('retry-after')).toBe(retryAfter);
  expect(response.headers.get('content-type')).toBe('application/json');
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(await response.json()).toEqual({ error: { code: 'unavailable', message: expect.any(String) } });
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('a store that throws JobTransportError', () => {
  it.each(routes)('%s: answers 503 unavailable with Retry-After from retryAfterMs (in whole seconds, rounded up), unreported', async (_name, method, path) => {
    const { store } = failingStore(() => Promise.reject(new JobTransportError('redis: connect ECONNREFUSED 10.0.0.5:6379', { retryAfterMs: 2500 })));
    const onError = vi.fn();
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, onError });
    const response = await handler(req(path, { method }));
    await expectUnavailable(response, '3');
    expect(onError).not.toHaveBeenCalled();
  });

  it('answers Retry-After: 1 when the error names no wait, and never leaks the store message', async () => {
    const { store } = failingStore(() => Promise.reject(new JobTransportError('redis: connect ECONNREFUSED 10.0.0.5:6379')));
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, onError: vi.fn() });
    const response = await handler(req('/api/jobs/a'));
    expect(response.headers.get('retry-after')).toBe('1');
    expect(JSON.stringify(await response.json())).not.toContain('10.0.0.5');
  });
});

describe('a store call that never settles (storeTimeoutMs)', () => {
  it.each(routes)('%s: answers 503 after the default 10 s and aborts the store call', async (_name, method, path) => {
    const { store, signals } = failingStore(() => new Promise<never>(() => {}));
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, onError: vi.fn() });
    let response: Response | undefined;
    void handler(req(path, { method })).then((r) => (response = r));
    await vi.advanceTimersByTimeAsync(9_999);
    expect(response).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(response).toBeDefined();
    await expectUnavailable(response!, '1');
    expect(signals.length).toBeGreaterThan(0);
    expect(signals.every((signal) => signal.aborted)).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('honours storeTimeoutMs, and drops a late answer', async () => {
    let answer!: (job: Job) => void;
    const store: JobStore = {
      getStatus: () => new Promise<Job>((resolve) => (answer = resolve)),
      list: () => Promise.resolve({ jobs: [], nextCursor: null }),
      getPendingCount: () => Promise.resolve({ pending: 0, processing: 0 }),
    };
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, storeTimeoutMs: 250 });
    const pending = handler(req('/api/jobs/a'));
    await vi.advanceTimersByTimeAsync(250);
    await expectUnavailable(await pending, '1');
    answer(job('a')); // too late: nobody is waiting, nothing breaks
    await vi.advanceTimersByTimeAsync(0);
  });

  it('with storeTimeoutMs: Infinity waits, yet a client that goes away stops the wait (499)', async () => {
    const { store, signals } = failingStore(() => new Promise<never>(() => {}));
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, storeTimeoutMs: Infinity });
    const client = new AbortController();
    let response: Response | undefined;
    void handler(req('/api/jobs/a', { signal: client.signal })).then((r) => (response = r));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(response).toBeUndefined();
    expect(vi.getTimerCount()).toBe(0);
    client.abort();
    await vi.advanceTimersByTimeAsync(0);
    expect(response?.status).toBe(499);
    expect(signals[0]!.aborted).toBe(true);
  });

  it('refuses a storeTimeoutMs that is not a positive number', () => {
    const { store } = failingStore(() => new Promise<never>(() => {}));
    for (const storeTimeoutMs of [0, -1, Number.NaN, '5' as unknown as number]) {
      expect(() => createJobHandler({ store, basePath: '/api/jobs', authorize, storeTimeoutMs })).toThrow(RangeError);
    }
  });
});

describe('an open event stream over a polled store that goes down', () => {
  /** A store without subscribe: the snapshot read works, later polls behave as `poll` says. */
  function polledStore(poll: () => Promise<never>) {
    let reads = 0;
    const store: JobStore = {
      getStatus: () => Promise.reject(new Error('unused')),
      getStatuses: (ids) => (reads++ === 0 ? Promise.resolve({ jobs: ids.map((id) => job(id)), missing: [] }) : poll()),
      list: () => Promise.reject(new Error('unused')),
      getPendingCount: () => Promise.reject(new Error('unused')),
    };
    return store;
  }

  it('ends cleanly when a poll throws JobTransportError, unreported, leaving no timer', async () => {
    const onError = vi.fn();
    const store = polledStore(() => Promise.reject(new JobTransportError('down')));
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, onError, pollIntervalMs: 100 });
    const stream = readEvents(await handler(req('/api/jobs/events?ids=a')));
    await vi.advanceTimersByTimeAsync(100);
    await stream.finished;
    expect(stream.failure).toBeNull();
    expect(stream.jobs().map((j) => j.id)).toEqual(['a']);
    expect(onError).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends cleanly when a poll never settles, after storeTimeoutMs', async () => {
    const store = polledStore(() => new Promise<never>(() => {}));
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, onError: vi.fn(), pollIntervalMs: 100, storeTimeoutMs: 1000 });
    const stream = readEvents(await handler(req('/api/jobs/events?ids=a')));
    await vi.advanceTimersByTimeAsync(100 + 999);
    expect(stream.ended).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await stream.finished;
    expect(stream.failure).toBeNull();
    expect(vi.getTimerCount()).toBe(0);
  });
});
