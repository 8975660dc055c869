// @vitest-environment node
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import type { JobStore } from '../../src/contract/types';
import { createJobHandler } from '../../src/server';
import { toNodeListener, type FetchHandler, type NodeListenerOptions } from '../../src/server/node';
import { createMemoryJobBackend, type MemoryJobBackend } from '../../src/testing';

// The node:http adapter, spoken to over raw sockets: literal HTTP/1.1 bytes, so
// nothing a client library would refuse to send is left untested.

interface Served {
  port: number;
  server: Server;
  backend: MemoryJobBackend;
  onError: ReturnType<typeof vi.fn>;
  /** Subscriptions the handler has open on the store. */
  active: () => number;
}

const servers: Server[] = [];
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);

beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});
afterAll(() => {
  process.off('unhandledRejection', onUnhandled);
});
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  expect(unhandled.splice(0)).toEqual([]);
});

async function listen(handler: FetchHandler, options: NodeListenerOptions = {}, extra: Partial<Served> = {}): Promise<Served> {
  const onError = vi.fn();
  const server = createServer(toNodeListener(handler, { onError, ...options }));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as AddressInfo).port, server, onError, backend: createMemoryJobBackend(), active: () => 0, ...extra };
}

/** createJobHandler over the memory backend, its subscriptions counted; job "a" is alice's. */
async function serveJobs(): Promise<Served> {
  const backend = createMemoryJobBackend();
  backend.create({ id: 'a', owner: 'alice' });
  let active = 0;
  const store: JobStore = {
    ...backend,
    subscribe(id, listener, o) {
      active++;
      const off = backend.subscribe(id, listener, o);
      return () => {
        active--;
        off();
      };
    },
  };
  const handler = createJobHandler({ store, basePath: '/api/jobs', authorize: () => ({ owner: 'alice' }), heartbeatMs: 60_000 });
  return listen(handler, {}, { backend, active: () => active });
}

/** Writes `bytes` on a new connection and collects everything until the server closes it. */
function exchange(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve(text));
    socket.write(bytes);
    setTimeout(() => socket.destroy(new Error(`no close within 5 s; got ${JSON.stringify(text)}`)), 5000).unref();
  });
}

const statusLines = (text: string) => [...text.matchAll(/^HTTP\/1\.1 ([0-9]{3})/gm)].map((m) => Number(m[1]));

/** A good request that closes the connection: sent after a bad one, it shows the server still serves. */
const GOOD = 'GET /api/jobs/a HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n';

function jsonBodies(text: string): unknown[] {
  return [...text.matchAll(/\{"error":\{[^}]*\}\}/g)].map((m) => JSON.parse(m[0]));
}

describe('toNodeListener over raw sockets', () => {
  it.each([
    ['a Host with a space', 'GET /api/jobs/a HTTP/1.1\r\nHost: a b\r\n\r\n'],
    ['a Host with a path', 'GET /api/jobs/a HTTP/1.1\r\nHost: evil.example/x\r\n\r\n'],
    ['a Host with user info', 'GET /api/jobs/a HTTP/1.1\r\nHost: user@evil.example\r\n\r\n'],
    ['an unclosed IPv6 Host', 'GET /api/jobs/a HTTP/1.1\r\nHost: [::1\r\n\r\n'],
    ['a //x target', 'GET //x HTTP/1.1\r\nHost: localhost\r\n\r\n'],
    ['a //host/path target', 'GET //evil.example/api/jobs/a HTTP/1.1\r\nHost: localhost\r\n\r\n'],
    ['a /\\x target', 'GET /\\evil.example/api/jobs/a HTTP/1.1\r\nHost: localhost\r\n\r\n'],
    ['an absolute-form target', 'GET http://evil/x HTTP/1.1\r\nHost: localhost\r\n\r\n'],
    ['an asterisk target', 'OPTIONS * HTTP/1.1\r\nHost: localhost\r\n\r\n'],
  ])('answers 400 bad_request with the JSON error body to %s, and serves the next request on the same connection', async (_name, bad) => {
    const s = await serveJobs();
    const text = await exchange(s.port, bad + GOOD);
    expect(statusLines(text)).toEqual([400, 200]);
    expect(jsonBodies(text)).toEqual([{ error: { code: 'bad_request', message: expect.any(String) } }]);
    expect(text).toContain('"id":"a"');
    expect(s.onError).not.toHaveBeenCalled();
  });

  it('answers 400 to an HTTP/1.0 request without Host (HTTP/1.1 ones node refuses itself), and keeps serving', async () => {
    const s = await serveJobs();
    const text = await exchange(s.port, 'GET /api/jobs/a HTTP/1.0\r\n\r\n');
    expect(statusLines(text.replace(/^HTTP\/1\.0/gm, 'HTTP/1.1'))).toEqual([400]);
    expect(jsonBodies(text)).toEqual([{ error: { code: 'bad_request', message: 'Missing Host header' } }]);
    expect(statusLines(await exchange(s.port, 'GET /api/jobs/a HTTP/1.1\r\n\r\n'))).toEqual([400]);
    expect(statusLines(await exchange(s.port, GOOD))).toEqual([200]);
  });

  // TRACK and CONNECT never reach a request listener: node answers 400 to TRACK and emits CONNECT as 'connect'.
  it.each(['TRACE'])('answers %s with 405 method_not_allowed and Allow, and keeps serving', async (method) => {
    const s = await serveJobs();
    const text = await exchange(s.port, `${method} /api/jobs/a HTTP/1.1\r\nHost: localhost\r\n\r\n${GOOD}`);
    expect(statusLines(text)).toEqual([405, 200]);
    expect(text).toMatch(/^allow: GET, HEAD, OPTIONS, POST\r$/im);
    expect(jsonBodies(text)).toEqual([{ error: { code: 'method_not_allowed', message: expect.stringContaining(method) } }]);
  });

  it('survives garbage and CONNECT (node answers 400 or closes) and serves the next connection', async () => {
    const s = await serveJobs();
    expect(statusLines(await exchange(s.port, Buffer.from([0, 1, 2, 0x68, 0x69, 13, 10, 13, 10])))[0]).toBe(400);
    expect(statusLines(await exchange(s.port, 'GET /api/jobs/a HTTP/9.9\r\n\r\n'))[0]).toBe(400);
    // CONNECT is a 'connect' event, not a request: without a listener node closes the connection.
    expect(statusLines(await exchange(s.port, 'CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n'))).toEqual([]);
    expect(statusLines(await exchange(s.port, GOOD))).toEqual([200]);
  });

  it('answers 500 internal_error when the handler throws or answers no Response, reports it, and keeps serving', async () => {
    let call = 0;
    const s = await listen(() => {
      call++;
      if (call === 1) throw new Error('sync boom');
      if (call === 2) return Promise.reject(new Error('async boom'));
      if (call === 3) return 'not a response' as unknown as Response;
      return new Response('ok');
    });
    const request = 'GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n';
    const text = await exchange(s.port, request.repeat(3) + request.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'));
    expect(statusLines(text)).toEqual([500, 500, 500, 200]);
    expect(jsonBodies(text)).toEqual(Array(3).fill({ error: { code: 'internal_error', message: 'Internal server error' } }));
    expect(s.onError).toHaveBeenCalledTimes(3);
  });

  it('passes method, URL, repeated headers and the body on, and every set-cookie back', async () => {
    const seen: Array<{ method: string; url: string; accept: string | null; body: string }> = [];
    const s = await listen(async (request) => {
      seen.push({ method: request.method, url: request.url, accept: request.headers.get('accept'), body: await request.text() });
      const headers = new Headers({ 'content-type': 'text/plain' });
      headers.append('set-cookie', 'a=1');
      headers.append('set-cookie', 'b=2');
      return new Response('done', { status: 201, headers });
    });
    const text = await exchange(
      s.port,
      'POST /api/jobs/a%2Fb/cancel?x=1 HTTP/1.1\r\nHost: Example.COM:8080\r\nAccept: a\r\nAccept: b\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello',
    );
    expect(statusLines(text)).toEqual([201]);
    expect(text.match(/^set-cookie: .*$/gim)).toEqual(['set-cookie: a=1', 'set-cookie: b=2']);
    expect(seen).toEqual([{ method: 'POST', url: 'http://example.com:8080/api/jobs/a%2Fb/cancel?x=1', accept: 'a, b', body: 'hello' }]);
  });

  it('uses the fixed origin when given, whatever the Host, and refuses an origin with a path', async () => {
    const urls: string[] = [];
    const s = await listen((request) => (urls.push(request.url), new Response(null, { status: 204 })), { origin: 'https://jobs.example.com' });
    expect(statusLines(await exchange(s.port, 'GET /q HTTP/1.0\r\n\r\n'))).toEqual([204]);
    expect(urls).toEqual(['https://jobs.example.com/q']);
    expect(() => toNodeListener(() => new Response(), { origin: 'https://jobs.example.com/api' })).toThrow(TypeError);
    expect(() => toNodeListener(() => new Response(), { origin: 'ftp://x' })).toThrow(TypeError);
  });

  it('streams an event stream and ends it cleanly (the last chunk) once every job settled', async () => {
    const s = await serveJobs();
    const socket = connect(s.port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    const closed = new Promise((resolve) => socket.on('close', resolve));
    socket.write('GET /api/jobs/events?ids=a HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n');
    await vi.waitFor(() => expect(text).toContain('event: job'));
    expect(statusLines(text)).toEqual([200]);
    expect(text).toMatch(/^content-type: text\/event-stream/im);
    s.backend.complete('a');
    await closed;
    expect(text).toContain('"status":"completed"');
    expect(text.endsWith('0\r\n\r\n')).toBe(true); // the chunked body's clean end
    expect(s.active()).toBe(0);
  });

  it('aborts the request when the client disconnects mid-stream: subscriptions are released, the server keeps serving', async () => {
    const s = await serveJobs();
    const socket: Socket = connect(s.port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.write('GET /api/jobs/events?ids=a HTTP/1.1\r\nHost: localhost\r\n\r\n');
    await vi.waitFor(() => expect(text).toContain('event: job'));
    expect(s.active()).toBe(1);
    socket.destroy();
    await vi.waitFor(() => expect(s.active()).toBe(0));
    s.backend.start('a'); // a push with nobody left to send it to
    expect(statusLines(await exchange(s.port, GOOD))).toEqual([200]);
    expect(s.onError).not.toHaveBeenCalled();
  });

  it(
    'drops an event-stream client that stops reading once the stream buffer is full: its subscription goes, the server keeps serving',
    async () => {
      const s = await serveJobs();
      const socket: Socket = connect(s.port, '127.0.0.1');
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => (text += chunk));
      socket.write('GET /api/jobs/events?ids=a HTTP/1.1\r\nHost: localhost\r\n\r\n');
      await vi.waitFor(() => expect(text).toContain('event: job'));
      socket.pause(); // reads nothing more
      const note = 'x'.repeat(500);
      for (let i = 1; i <= 40_000 && s.active() > 0; i++) {
        s.backend.progress('a', i / 40_000, `${note} ${i}`);
        if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      expect(s.active()).toBe(0);
      socket.destroy();
      expect(statusLines(await exchange(s.port, GOOD))).toEqual([200]);
    },
    60_000,
  );

  it('streams with backpressure: a client that stops reading stops the body being pulled, and leaving cancels it', async () => {
    const chunk = new Uint8Array(64 * 1024).fill(120);
    let pulled = 0;
    let cancelled = false;
    const s = await listen(
      () =>
        new Response(
          new ReadableStream<Uint8Array>(
            {
              pull(controller) {
                pulled += chunk.byteLength;
                controller.enqueue(chunk);
              },
              cancel() {
                cancelled = true;
              },
            },
            { highWaterMark: 0 },
          ),
        ),
    );
    const socket = connect(s.port, '127.0.0.1');
    socket.write('GET /big HTTP/1.1\r\nHost: localhost\r\n\r\n');
    socket.pause(); // never reads
    await new Promise((resolve) => setTimeout(resolve, 400));
    const stalled = pulled;
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(pulled).toBe(stalled); // waiting for drain, not pulling
    expect(pulled).toBeLessThan(32 * 1024 * 1024); // socket buffers, not everything
    socket.destroy();
    await vi.waitFor(() => expect(cancelled).toBe(true));
  });
});
