// @vitest-environment node
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createFetchJobClient, JobProtocolError, JobTransportError } from '../../src/core';
import { makeJob } from '../helpers';
import { listenOnLoopback } from '../support/loopback';

/**
 * The fetch client against raw node:http servers on 127.0.0.1 that misbehave
 * on purpose: stalled bodies, cut connections, redirects to another origin.
 */

interface RawServer {
  origin: string;
  requests: Array<{ method: string; url: string; headers: IncomingMessage['headers'] }>;
  close(): Promise<void>;
}

async function rawServer(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<RawServer> {
  const requests: RawServer['requests'] = [];
  const { origin, close } = await listenOnLoopback((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handle(req, res);
  });
  return {
    origin,
    requests,
    close,
  };
}

/** Settles with the outcome of `promise`, or with 'still pending' after `ms` (so a hang fails an assertion, not the run). */
function within<T>(promise: Promise<T>, ms: number): Promise<T | Error | 'still pending'> {
  return Promise.race([
    promise.catch((e: unknown) => e as Error),
    new Promise<'still pending'>((resolve) => setTimeout(() => resolve('still pending'), ms)),
  ]);
}

const servers: RawServer[] = [];
async function serve(handle: (req: IncomingMessage, res: ServerResponse) => void): Promise<RawServer> {
  const s = await rawServer(handle);
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

describe('createFetchJobClient: timeoutMs covers the whole read', () => {
  it('times out with JobTransportError when the server sends headers and then stalls the body', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      res.write('{"id":"a","status":'); // …and nothing more, the connection stays open
    });
    const client = createFetchJobClient({ baseUrl: `${s.origin}/api/jobs`, timeoutMs: 300 });
    const started = Date.now();
    const outcome = await within(client.getStatus('a'), 5000);
    expect(outcome).toBeInstanceOf(JobTransportError);
    expect((outcome as Error).message).toContain('timed out');
    expect(Date.now() - started).toBeLessThan(4000);
  });

  it('times out a batch read and a list the same way', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
      res.write('{"jobs":[');
    });
    const client = createFetchJobClient({ baseUrl: `${s.origin}/api/jobs`, timeoutMs: 300 });
    expect(await within(client.getStatuses(['a', 'b']), 5000)).toBeInstanceOf(JobTransportError);
    expect(await within(client.list(), 5000)).toBeInstanceOf(JobTransportError);
  });

  it('still answers a slow but complete body within the timeout', async () => {
    const job = makeJob({ id: 'a' });
    const s = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const text = JSON.stringify(job);
      res.write(text.slice(0, 10));
      setTimeout(() => res.end(text.slice(10)), 100);
    });
    const client = createFetchJobClient({ baseUrl: `${s.origin}/api/jobs`, timeoutMs: 2000 });
    expect((await client.getStatus('a')).id).toBe('a');
  });
});

describe('createFetchJobClient: a connection cut mid-body', () => {
  it('is a JobTransportError, not a JobProtocolError', async () => {
    const s = await serve((_req, res) => {
      const text = JSON.stringify(makeJob({ id: 'a' }));
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(text.length) });
      res.write(text.slice(0, Math.floor(text.length / 2)), () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const client = createFetchJobClient({ baseUrl: `${s.origin}/api/jobs` });
    const error = await within(client.getStatus('a'), 5000);
    expect(error).toBeInstanceOf(JobTransportError);
    expect(error).not.toBeInstanceOf(JobProtocolError);
  });

  it('is a JobTransportError for an error answer cut mid-body too', async () => {
    const s = await serve((_req, res) => {
      res.writeHead(409, { 'content-type': 'application/json', 'content-length': '200' });
      res.write('{"error":{"code":"not_canc', () => setTimeout(() => res.socket?.destroy(), 20));
    });
    const client = createFetchJobClient({ baseUrl: `${s.origin}/api/jobs` });
    expect(await within(client.cancel('a'), 5000)).toBeInstanceOf(JobTransportError);
  });
});

describe('createFetchJobClient: redirects and custom headers', () => {
  const secret = { authorization: 'Bearer secret', 'x-api-key': 'k1' };

  it('never sends custom headers to another origin: a cross-origin redirect fails with JobTransportError', async () => {
    const other = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(makeJob({ id: 'a' })));
    });
    const first = await serve((req, res) => {
      res.writeHead(req.method === 'POST' ? 307 : 302, { location: `${other.origin}${req.url}` }).end();
    });
    const client = createFetchJobClient({ baseUrl: `${first.origin}/api/jobs`, headers: secret });
    const read = await within(client.getStatus('a'), 5000);
    expect(read).toBeInstanceOf(JobTransportError);
    expect((read as Error).message).toContain(other.origin);
    expect(await within(client.cancel('a'), 5000)).toBeInstanceOf(JobTransportError);
    expect(await within(client.getStatuses(['a']), 5000)).toBeInstanceOf(JobTransportError);
    expect(first.requests).toHaveLength(3);
    // The other origin never saw any request, so never the headers.
    expect(other.requests).toEqual([]);
  });

  it('never sends custom headers to another origin from the event stream either', async () => {
    const other = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`event: job\ndata: ${JSON.stringify(makeJob({ id: 'a' }))}\n\n`);
    });
    const first = await serve((req, res) => {
      res.writeHead(302, { location: `${other.origin}${req.url}` }).end();
    });
    const client = createFetchJobClient({ baseUrl: `${first.origin}/api/jobs`, headers: () => secret });
    const disconnected = vi.fn();
    const next = vi.fn();
    const off = client.subscribe!('a', { next, disconnected });
    await vi.waitFor(() => expect(disconnected).toHaveBeenCalled(), { timeout: 5000 });
    expect(disconnected.mock.calls[0]![0]).toBeInstanceOf(JobTransportError);
    off();
    expect(next).not.toHaveBeenCalled();
    expect(other.requests).toEqual([]);
  });

  it('follows a same-origin redirect itself, keeping the headers', async () => {
    const s = await serve((req, res) => {
      if (req.url?.startsWith('/old/')) {
        res.writeHead(308, { location: req.url.replace('/old/', '/api/jobs/') }).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(makeJob({ id: 'a' })));
    });
    const client = createFetchJobClient({ baseUrl: `${s.origin}/old`, headers: secret });
    expect((await client.getStatus('a')).id).toBe('a');
    expect(s.requests.map((r) => r.url)).toEqual(['/old/a', '/api/jobs/a']);
    expect(s.requests[1]!.headers.authorization).toBe('Bearer secret');
    expect(s.requests[1]!.headers['x-api-key']).toBe('k1');
  });

  it('gives up on a redirect loop after a few hops', async () => {
    const s = await serve((req, res) => {
      res.writeHead(302, { location: req.url ?? '/' }).end();
    });
    const client = createFetchJobClient({ baseUrl: `${s.origin}/api/jobs`, headers: secret });
    const error = await within(client.getStatus('a'), 5000);
    expect(error).toBeInstanceOf(JobTransportError);
    expect(s.requests.length).toBeLessThanOrEqual(6);
  });

  it('leaves redirects to fetch when no custom headers are set', async () => {
    const other = await serve((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(makeJob({ id: 'a' })));
    });
    const first = await serve((req, res) => {
      res.writeHead(302, { location: `${other.origin}${req.url}` }).end();
    });
    const client = createFetchJobClient({ baseUrl: `${first.origin}/api/jobs` });
    expect((await client.getStatus('a')).id).toBe('a');
    expect(other.requests).toHaveLength(1);
  });
});
