// @vitest-environment node
import type { AddressInfo } from 'node:net';
import { createFetchJobClient, JobTransportError, type Job } from '../../src/core';
import { createJobHandler } from '../../src/server';
import { createMemoryJobBackend, type MemoryJobBackend } from '../../src/testing';
import { createJobServer } from '../../examples/node-server';
import { toNodeListener } from '../../src/server/node';
import { listenOnLoopback } from '../support/loopback';
import { clientSuite, type ServedBackend } from './clientSuite';

/** The server handler on a real node:http server on 127.0.0.1, with a way to cut every connection. */
async function serveOverHttp(options: { heartbeatMs?: number } = {}) {
  const backend = createMemoryJobBackend();
  const requests: ServedBackend['requests'] = [];
  const handler = createJobHandler({
    store: backend,
    basePath: '/api/jobs',
    authorize: (request) => {
      const user = request.headers.get('x-user-id');
      return user ? { owner: user } : null;
    },
    ...(options.heartbeatMs ? { heartbeatMs: options.heartbeatMs } : {}),
  });
  const listener = toNodeListener(async (request) => {
    requests.push({ method: request.method, url: new URL(request.url), headers: request.headers });
    return handler(request);
  });
  const { origin, dropConnections, close } = await listenOnLoopback((req, res) => void listener(req, res));
  return {
    backend,
    baseUrl: `${origin}/api/jobs`,
    requests,
    /** Drops every open connection, as a proxy restart would. */
    dropConnections,
    close,
  };
}

clientSuite('a real node:http server', serveOverHttp);

describe('push over a real node:http server', () => {
  let s: Awaited<ReturnType<typeof serveOverHttp>>;
  afterEach(async () => {
    await s.close();
  });

  it('reconnects after the server drops the stream, resumes with Last-Event-ID and catches up with one batch read', async () => {
    s = await serveOverHttp();
    const job = s.backend.create({ owner: 'alice' });
    const client = createFetchJobClient({ baseUrl: s.baseUrl, headers: { 'x-user-id': 'alice' } });
    const seen: Job[] = [];
    const disconnected = vi.fn();
    const off = client.subscribe!(job.id, { next: (j) => seen.push(j), disconnected });
    await vi.waitFor(() => expect(seen.map((j) => j.status)).toEqual(['pending']));

    s.dropConnections();
    await vi.waitFor(() => expect(disconnected).toHaveBeenCalledTimes(1));
    expect(disconnected.mock.calls[0]![0]).toBeInstanceOf(JobTransportError);
    // Changed while the stream was down.
    s.backend.start(job.id);
    await vi.waitFor(() => expect(seen.map((j) => j.status)).toEqual(['pending', 'processing']), { timeout: 5000 });

    // On a loaded machine a reconnect attempt may itself fail and be retried: at least one reconnect.
    const streams = s.requests.filter((r) => r.url.pathname.endsWith('/events'));
    expect(streams.length).toBeGreaterThanOrEqual(2);
    expect(streams[0]!.headers.get('last-event-id')).toBeNull();
    for (const reconnect of streams.slice(1)) {
      expect(reconnect.headers.get('last-event-id')).toBe(String(Date.parse(seen[0]!.updatedAt)));
    }
    // The catch-up read is sent as the stream reopens; the reopened stream's snapshot may arrive first.
    const batchReads = () => s.requests.filter((r) => r.url.searchParams.has('ids') && !r.url.pathname.endsWith('/events'));
    await vi.waitFor(() => expect(batchReads().length).toBeGreaterThanOrEqual(1), { timeout: 5000 });

    s.backend.complete(job.id);
    await vi.waitFor(() => expect(seen.map((j) => j.status)).toEqual(['pending', 'processing', 'completed']));
    off();
  });

  it('calls a headers function again on every reconnect', async () => {
    s = await serveOverHttp();
    const job = s.backend.create({ owner: 'alice' });
    let calls = 0;
    const client = createFetchJobClient({
      baseUrl: s.baseUrl,
      headers: () => {
        calls += 1;
        return { 'x-user-id': 'alice', authorization: `Bearer ${calls}` };
      },
    });
    const next = vi.fn();
    const off = client.subscribe!(job.id, { next });
    await vi.waitFor(() => expect(next).toHaveBeenCalledTimes(1));
    s.dropConnections();
    await vi.waitFor(() => expect(s.requests.filter((r) => r.url.pathname.endsWith('/events'))).toHaveLength(2), {
      timeout: 5000,
    });
    const tokens = s.requests.filter((r) => r.url.pathname.endsWith('/events')).map((r) => r.headers.get('authorization'));
    expect(tokens[0]).not.toBe(tokens[1]);
    off();
  });

  it('closes the stream when the last subscriber leaves, and the server lets go of the store', async () => {
    s = await serveOverHttp();
    const job = s.backend.create({ owner: 'alice' });
    let active = 0;
    const subscribe = s.backend.subscribe;
    s.backend.subscribe = (id, listener, o) => {
      active += 1;
      const off = subscribe(id, listener, o);
      return () => {
        active -= 1;
        off();
      };
    };
    const client = createFetchJobClient({ baseUrl: s.baseUrl, headers: { 'x-user-id': 'alice' } });
    const next = vi.fn();
    const off = client.subscribe!(job.id, { next });
    await vi.waitFor(() => expect(next).toHaveBeenCalledTimes(1));
    expect(active).toBe(1);
    off();
    await vi.waitFor(() => expect(active).toBe(0));
  });
});

describe('heartbeat announcement over a real node:http server', () => {
  it("keeps a stream through silence longer than the client's silence timeout when the server announced a slow heartbeat", async () => {
    const s = await serveOverHttp({ heartbeatMs: 60_000 });
    try {
      const job = s.backend.create({ owner: 'alice' });
      // 300 ms would reopen a silent stream three times a second, but the server announces `: heartbeat 60000`.
      const client = createFetchJobClient({ baseUrl: s.baseUrl, headers: { 'x-user-id': 'alice' }, silenceTimeoutMs: 300 });
      const next = vi.fn();
      const disconnected = vi.fn();
      const off = client.subscribe!(job.id, { next, disconnected });
      await vi.waitFor(() => expect(next).toHaveBeenCalledTimes(1));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(disconnected).not.toHaveBeenCalled();
      expect(s.requests.filter((r) => r.url.pathname.endsWith('/events'))).toHaveLength(1);
      off();
    } finally {
      await s.close();
    }
  });
});

describe('the node:http example of the Next.js and node:http guide', () => {
  it('serves the contract under /api/jobs and nothing else', async () => {
    const store: MemoryJobBackend = createMemoryJobBackend();
    const job = store.create({ owner: 'u1' });
    const server = createJobServer(store);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const client = createFetchJobClient({ baseUrl: `http://127.0.0.1:${port}/api/jobs`, headers: { 'x-user-id': 'u1' } });
      expect((await client.getStatus(job.id)).status).toBe('pending');
      expect((await fetch(`http://127.0.0.1:${port}/elsewhere`)).status).toBe(404);
    } finally {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
