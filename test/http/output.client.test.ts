// @vitest-environment node
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  createFetchJobClient,
  JobNotFoundError,
  JobProtocolError,
  JobRequestError,
  JobTransportError,
  JobUnauthorizedError,
  type JobOutputListener,
  type JobOutputPart,
} from '../../src/core';
import { parseOutputRequest } from '../../src/contract/output';
import { makeJob } from '../helpers';

/**
 * The fetch client's output (readOutput, subscribeOutput) over real HTTP,
 * against a small node:http server written here that speaks the wire
 * protocol (parts after each `output=id:after` position, then live ones), and
 * counts every stream, every read and every byte it sends.
 */

interface StreamRecord {
  url: URL;
  output: Array<[string, number]>;
  res: ServerResponse;
  /** Output parts this stream sent, by seq, per id. */
  sent: Map<string, number[]>;
  /** Bytes of the whole answer, and of its `output` events. */
  bytes: number;
  outputBytes: number;
  ended: Set<string>;
  /** The connection of this answer closed. */
  closed: boolean;
}

const at = (seq: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, seq)).toISOString();

async function outputServer() {
  const parts = new Map<string, JobOutputPart[]>();
  /** Parts the store no longer keeps: the first seq still kept, per id. */
  const firstKept = new Map<string, number>();
  const done = new Set<string>();
  const requests: Array<{ method: string; url: URL; headers: IncomingMessage['headers'] }> = [];
  const streams: StreamRecord[] = [];
  const sockets = new Set<Socket>();
  let eventId = 0;
  /** Answers a request instead of the routes, when set. */
  let override: ((url: URL) => { status: number; body: string; headers?: Record<string, string> } | null) | null = null;

  const kept = (id: string) => (parts.get(id) ?? []).filter((p) => p.seq >= (firstKept.get(id) ?? 1));

  function write(s: StreamRecord, text: string, output = false): void {
    s.bytes += Buffer.byteLength(text);
    if (output) s.outputBytes += Buffer.byteLength(text);
    s.res.write(text);
  }

  function sendParts(s: StreamRecord, id: string, list: JobOutputPart[]): void {
    if (s.ended.has(id)) return;
    for (let i = 0; i < list.length; i += 500) {
      const page = list.slice(i, i + 500);
      s.sent.get(id)!.push(...page.map((p) => p.seq));
      write(s, `id: ${++eventId}\nevent: output\ndata: ${JSON.stringify({ id, parts: page })}\n\n`, true);
    }
  }

  function sendDone(s: StreamRecord, id: string): void {
    if (s.ended.has(id)) return;
    s.ended.add(id);
    write(s, `id: ${++eventId}\nevent: output\ndata: ${JSON.stringify({ id, parts: [], done: true })}\n\n`, true);
  }

  function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  }

  function page(id: string, after: number, limit: number) {
    const all = kept(id);
    const list = all.filter((p) => p.seq > after).slice(0, limit);
    const last = all.at(-1)?.seq ?? 0;
    const trimmed = after + 1 < (firstKept.get(id) ?? 1);
    return { parts: list, done: done.has(id) && (list.at(-1)?.seq ?? after) >= last, ...(trimmed ? { trimmed: true } : {}) };
  }

  function handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    requests.push({ method: req.method ?? '', url, headers: req.headers });
    const answer = override?.(url);
    if (answer) return json(res, answer.status, answer.body, answer.headers);
    const rest = url.pathname.replace(/^\/api\/jobs/, '');
    if (rest === '/events') {
      const ids = (url.searchParams.get('ids') ?? '').split(',').map(decodeURIComponent);
      const raw = /[?&]output=([^&]*)/.exec(url.search)?.[1];
      const output = raw === undefined ? [] : parseOutputRequest(raw);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const s: StreamRecord = { url, output, res, sent: new Map(), bytes: 0, outputBytes: 0, ended: new Set(), closed: false };
      streams.push(s);
      res.on('close', () => {
        s.closed = true;
      });
      for (const id of ids) write(s, `id: ${++eventId}\nevent: job\ndata: ${JSON.stringify(makeJob({ id }))}\n\n`);
      for (const [id, after] of output) {
        s.sent.set(id, []);
        sendParts(s, id, kept(id).filter((p) => p.seq > after));
        if (done.has(id)) sendDone(s, id);
      }
      return;
    }
    if (rest === '' && url.searchParams.has('ids')) {
      const ids = url.searchParams.get('ids')!.split(',');
      return json(res, 200, { jobs: ids.map((id) => makeJob({ id })), missing: [] });
    }
    const perJob = /^\/([^/]+)\/output$/.exec(rest);
    const id = perJob ? decodeURIComponent(perJob[1]!) : url.searchParams.get('action') === 'output' ? url.searchParams.get('id') : null;
    if (id !== null) {
      if (!parts.has(id)) return json(res, 404, { error: { code: 'not_found', message: `no job ${id}` } });
      return json(res, 200, page(id, Number(url.searchParams.get('after') ?? 0), Number(url.searchParams.get('limit') ?? 500)));
    }
    json(res, 404, { error: { code: 'not_found', message: 'no route' } });
  }

  const server = createServer(handle);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const open = () => streams.filter((s) => !s.closed && s.res.socket?.destroyed === false);

  return {
    baseUrl: `http://127.0.0.1:${port}/api/jobs`,
    requests,
    /** Every `/events` request, in order. */
    eventRequests: () => requests.filter((r) => r.url.pathname.endsWith('/events')),
    /** Every output read, in order. */
    outputReads: () => requests.filter((r) => r.url.pathname.endsWith('/output') || r.url.searchParams.get('action') === 'output'),
    /** Every stream answered so far (closed ones too), in order. */
    streams: () => streams,
    /** The streams still open. */
    open,
    /** How many parts `id` has. */
    count: (id: string) => parts.get(id)?.length ?? 0,
    /** Creates a job's output (no parts yet). */
    create(id: string) {
      if (!parts.has(id)) parts.set(id, []);
    },
    /** Appends `count` parts to `id`; sent to the open streams carrying its output unless `live` is false. */
    append(id: string, count = 1, { live = true } = {}): JobOutputPart[] {
      const list = parts.get(id) ?? [];
      parts.set(id, list);
      const added: JobOutputPart[] = [];
      for (let i = 0; i < count; i++) {
        const seq = list.length + 1;
        const part: JobOutputPart = { seq, kind: 'text', text: `t${seq} `, at: at(seq) };
        list.push(part);
        added.push(part);
      }
      if (live) for (const s of open()) if (s.sent.has(id)) sendParts(s, id, added);
      return added;
    },
    /** The store keeps only parts from `seq` on. */
    trimBefore(id: string, seq: number) {
      firstKept.set(id, seq);
    },
    /** The job is terminal: streams carrying its output send `done`. */
    finish(id: string) {
      done.add(id);
      for (const s of open()) if (s.sent.has(id)) sendDone(s, id);
    },
    /** Writes raw text to every open stream. */
    raw(text: string) {
      for (const s of open()) write(s, text);
    },
    setOverride(fn: typeof override) {
      override = fn;
    },
    /** Cuts every connection, as a proxy restart would. */
    drop() {
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

type OutputServer = Awaited<ReturnType<typeof outputServer>>;

/** A listener that records every call. */
function recorder() {
  const calls: Array<{ seqs: number[]; info?: { done?: boolean; trimmed?: boolean } }> = [];
  const disconnected: unknown[] = [];
  const errors: unknown[] = [];
  const listener: JobOutputListener = {
    next: (parts, info) => calls.push({ seqs: parts.map((p) => p.seq), ...(info ? { info } : {}) }),
    disconnected: (error) => disconnected.push(error),
    error: (error) => errors.push(error),
  };
  return { listener, calls, disconnected, errors, seqs: () => calls.flatMap((c) => c.seqs) };
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** `vi.waitFor` with room for a loaded machine (2 shared cores). */
const eventually = <T>(check: () => T) => vi.waitFor(check, { timeout: 5000 });

let s: OutputServer;
beforeEach(async () => {
  // No jitter: a reconnect follows a drop after 0.5 s.
  vi.spyOn(Math, 'random').mockReturnValue(0);
  s = await outputServer();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await s.close();
});

describe('readOutput', () => {
  it('reads a page: GET {base}/{id}/output?after=&limit=, parsed and typed', async () => {
    s.append('a', 5);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const page = await client.readOutput('a', { after: 1, limit: 2 });
    expect(page).toEqual({ parts: [expect.objectContaining({ seq: 2 }), expect.objectContaining({ seq: 3 })], done: false });
    const first = s.outputReads()[0]!.url;
    expect(first.pathname).toBe('/api/jobs/a/output');
    expect(first.search).toBe('?after=1&limit=2');
    await client.readOutput('a');
    expect(s.outputReads()[1]!.url.search).toBe('?after=0');
  });

  it('sends the dot-segment ids in the query form, and percent-encodes others in the path', async () => {
    s.append('..', 1);
    s.append('a/b', 1);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    expect((await client.readOutput('..', { after: 0 })).parts).toHaveLength(1);
    expect((await client.readOutput('a/b')).parts).toHaveLength(1);
    const [dots, slash] = s.outputReads();
    expect(dots!.url.pathname).toBe('/api/jobs');
    expect(dots!.url.search).toBe('?id=..&action=output&after=0');
    expect(slash!.url.pathname).toBe('/api/jobs/a%2Fb/output');
  });

  it('says trimmed and done as the page does', async () => {
    s.append('a', 4);
    s.trimBefore('a', 3);
    s.finish('a');
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const page = await client.readOutput('a');
    expect(page.parts.map((p) => p.seq)).toEqual([3, 4]);
    expect(page).toMatchObject({ done: true, trimmed: true });
  });

  it('answers errors as getStatus does', async () => {
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    await expect(client.readOutput('nope')).rejects.toBeInstanceOf(JobNotFoundError);
    const answers: Array<[number, unknown, Record<string, string>?]> = [
      [401, { error: { code: 'unauthorized', message: 'sign in' } }],
      [503, { error: { code: 'unavailable', message: 'down' } }, { 'retry-after': '7' }],
      [429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'retry-after': '2' }],
      [400, { error: { code: 'bad_request', message: 'after must be an integer of 0 or more' } }],
      [200, { parts: [{ seq: 1, kind: 'text', text: 'x', at: 'yesterday' }], done: false }],
    ];
    const outcomes: unknown[] = [];
    for (const [status, body, headers] of answers) {
      s.setOverride(() => ({ status, body: JSON.stringify(body), ...(headers ? { headers } : {}) }));
      outcomes.push(await client.readOutput('a').catch((e: unknown) => e));
    }
    s.setOverride(() => ({ status: 200, body: 'not json' }));
    outcomes.push(await client.readOutput('a').catch((e: unknown) => e));
    const [unauthorized, unavailable, limited, bad, malformed, notJson] = outcomes;
    expect(unauthorized).toBeInstanceOf(JobUnauthorizedError);
    expect(unavailable).toBeInstanceOf(JobTransportError);
    expect((unavailable as JobTransportError).retryAfterMs).toBe(7000);
    expect((limited as JobTransportError).retryAfterMs).toBe(2000);
    expect(bad).toBeInstanceOf(JobRequestError);
    expect((bad as JobRequestError).code).toBe('bad_request');
    expect(malformed).toBeInstanceOf(JobProtocolError);
    expect((malformed as JobProtocolError).message).toContain('parts[0].at');
    expect(notJson).toBeInstanceOf(JobProtocolError);
  });

  it('refuses a bad after, limit or id with a 400 JobRequestError without sending anything', async () => {
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const bad = [
      client.readOutput('a', { after: -1 }),
      client.readOutput('a', { after: 1.5 }),
      client.readOutput('a', { after: '3' as unknown as number }),
      client.readOutput('a', { limit: 0 }),
      client.readOutput('a', { limit: 501 }),
      client.readOutput(''),
      client.readOutput('events'),
    ];
    for (const outcome of await Promise.all(bad.map((p) => p.catch((e: unknown) => e)))) {
      expect(outcome).toBeInstanceOf(JobRequestError);
      expect(outcome).toMatchObject({ status: 400, code: 'bad_request' });
    }
    expect(s.requests).toHaveLength(0);
  });
});

describe('subscribeOutput: one connection', () => {
  it('carries status and output of three jobs on one stream, each output id in ids', async () => {
    for (const id of ['a', 'b', 'c']) s.append(id, 2);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const status = vi.fn();
    const outputs = ['a', 'b', 'c'].map(() => recorder());
    const offs = ['a', 'b', 'c'].flatMap((id, i) => [
      client.subscribe!(id, { next: status }),
      client.subscribeOutput!(id, {}, outputs[i]!.listener),
    ]);
    await eventually(() => {
      for (const o of outputs) expect(o.seqs()).toEqual([1, 2]);
      expect(status).toHaveBeenCalledTimes(3);
    });
    s.append('b', 1);
    await eventually(() => expect(outputs[1]!.seqs()).toEqual([1, 2, 3]));
    expect(s.eventRequests()).toHaveLength(1);
    const url = s.eventRequests()[0]!.url;
    expect(url.searchParams.get('ids')).toBe('a,b,c');
    expect(url.searchParams.get('output')).toBe('a,b,c');
    expect(s.outputReads()).toHaveLength(0);
    for (const off of offs) off();
  });

  it('gives several listeners of one id one stream entry (the smallest after), each only the parts after its own', async () => {
    s.append('a', 6);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const from2 = recorder();
    const from5 = recorder();
    const off2 = client.subscribeOutput!('a', { after: 2 }, from2.listener);
    const off5 = client.subscribeOutput!('a', { after: 5 }, from5.listener);
    await eventually(() => expect(from2.seqs()).toEqual([3, 4, 5, 6]));
    await eventually(() => expect(from5.seqs()).toEqual([6]));
    expect(s.eventRequests()).toHaveLength(1);
    expect(s.eventRequests()[0]!.url.searchParams.get('output')).toBe('a:2');

    // A late listener from the start, on the stream that already carries `a`: caught up by one read, no new stream.
    const late = recorder();
    const offLate = client.subscribeOutput!('a', {}, late.listener);
    await eventually(() => expect(late.seqs()).toEqual([1, 2, 3, 4, 5, 6]));
    s.append('a', 1);
    await eventually(() => expect(late.seqs()).toEqual(range(1, 7)));
    await eventually(() => expect(from5.seqs()).toEqual([6, 7]));
    expect(from2.seqs()).toEqual([3, 4, 5, 6, 7]);
    expect(s.eventRequests()).toHaveLength(1);
    expect(s.outputReads().map((r) => r.url.searchParams.get('after'))).toEqual(['0']);
    off2();
    off5();
    offLate();
  });
});

describe('subscribeOutput: reconnects resume after the last part', () => {
  it('after a dropped connection asks for output=a:<last> and gets only the missing parts', async () => {
    s.append('a', 3);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const out = recorder();
    const off = client.subscribeOutput!('a', {}, out.listener);
    await eventually(() => expect(out.seqs()).toEqual([1, 2, 3]));
    s.drop();
    await eventually(() => expect(out.disconnected).toHaveLength(1));
    expect(out.disconnected[0]).toBeInstanceOf(JobTransportError);
    s.append('a', 2); // while the stream is down
    await eventually(() => expect(out.seqs()).toEqual([1, 2, 3, 4, 5]));
    const [first, ...reconnects] = s.eventRequests();
    expect(first!.url.searchParams.get('output')).toBe('a');
    expect(reconnects.length).toBeGreaterThanOrEqual(1);
    expect(reconnects.at(-1)!.url.searchParams.get('output')).toBe('a:3');
    expect(s.streams().at(-1)!.sent.get('a')).toEqual([4, 5]);
    expect(s.outputReads()).toHaveLength(0);
    off();
  });

  it('after a silence timeout too', async () => {
    s.append('a', 2);
    const client = createFetchJobClient({ baseUrl: s.baseUrl, silenceTimeoutMs: 300 });
    const out = recorder();
    const off = client.subscribeOutput!('a', {}, out.listener);
    await eventually(() => expect(out.seqs()).toEqual([1, 2]));
    await eventually(() => expect(s.eventRequests().length).toBeGreaterThanOrEqual(2));
    expect(s.eventRequests()[1]!.url.searchParams.get('output')).toBe('a:2');
    expect(out.seqs()).toEqual([1, 2]);
    off();
  });

  it('a reconnect after 1,000 parts transfers only the missing parts', async () => {
    s.append('a', 1000);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const out = recorder();
    const off = client.subscribeOutput!('a', {}, out.listener);
    await eventually(() => expect(out.seqs()).toHaveLength(1000));
    const first = s.streams()[0]!;
    s.drop();
    const missing = s.append('a', 5);
    await eventually(() => expect(out.seqs()).toEqual(range(1, 1005)));
    const last = s.streams().at(-1)!;
    expect(last).not.toBe(first);
    expect(last.url.searchParams.get('output')).toBe('a:1000');
    expect(last.sent.get('a')).toEqual([1001, 1002, 1003, 1004, 1005]);
    // The output bytes of the reconnect are those of the 5 missing parts (one event), not of 1,005.
    const fiveParts = Buffer.byteLength(`id: 99999\nevent: output\ndata: ${JSON.stringify({ id: 'a', parts: missing })}\n\n`);
    expect(last.outputBytes).toBeLessThanOrEqual(fiveParts);
    expect(first.outputBytes).toBeGreaterThan(100 * last.outputBytes);
    // The whole second answer (status snapshot included) is a small fraction of the first.
    expect(last.bytes).toBeLessThan(first.bytes / 50);
    off();
  });
});

describe('subscribeOutput: changing the id set', () => {
  it('opens the new stream before closing the old one without duplicating or losing parts', async () => {
    s.append('a', 3);
    s.append('b', 1);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const a = recorder();
    const b = recorder();
    const offA = client.subscribeOutput!('a', {}, a.listener);
    await eventually(() => expect(a.seqs()).toEqual([1, 2, 3]));
    const offB = client.subscribeOutput!('b', {}, b.listener);
    // Parts keep coming while the streams switch: on the old stream, the new one, or both.
    const timer = setInterval(() => s.append('a', 1), 5);
    await eventually(() => expect(s.eventRequests()).toHaveLength(2));
    await eventually(() => expect(b.seqs()).toEqual([1]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    clearInterval(timer);
    const total = s.count('a');
    await eventually(() => expect(a.seqs().at(-1)).toBe(total));
    expect(a.seqs()).toEqual(range(1, total));
    expect(a.disconnected).toHaveLength(0);
    const second = s.eventRequests()[1]!.url;
    expect(second.searchParams.get('ids')).toBe('a,b');
    expect(Number(parseOutputRequest(/output=([^&]*)/.exec(second.search)![1]!)[0]![1])).toBeGreaterThanOrEqual(3);
    await eventually(() => expect(s.open()).toHaveLength(1));
    offA();
    offB();
  });
});

describe('subscribeOutput: gaps, done and malformed events', () => {
  it('fills a gap with readOutput({ after: last }) before delivering what follows it', async () => {
    s.append('a', 1);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const out = recorder();
    const off = client.subscribeOutput!('a', {}, out.listener);
    await eventually(() => expect(out.seqs()).toEqual([1]));
    s.append('a', 2, { live: false }); // never sent on the stream
    s.append('a', 1);
    await eventually(() => expect(out.seqs()).toEqual([1, 2, 3, 4]));
    expect(s.outputReads().map((r) => r.url.searchParams.get('after'))).toEqual(['1']);
    expect(out.calls.every((c) => c.info === undefined)).toBe(true);
    off();
  });

  it('delivers with info.trimmed what follows parts the store no longer has', async () => {
    s.append('a', 1);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const out = recorder();
    const off = client.subscribeOutput!('a', {}, out.listener);
    await eventually(() => expect(out.seqs()).toEqual([1]));
    s.append('a', 3, { live: false });
    s.trimBefore('a', 4);
    s.append('a', 1);
    await eventually(() => expect(out.seqs()).toEqual([1, 4, 5]));
    expect(out.calls[1]).toEqual({ seqs: [4, 5], info: { trimmed: true } });
    off();
  });

  it('delivers done once, and the output leaves the query at the next id-set change without a reconnect of its own', async () => {
    s.append('a', 2);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const out = recorder();
    const offStatus = client.subscribe!('a', { next: () => {} });
    const off = client.subscribeOutput!('a', {}, out.listener);
    await eventually(() => expect(out.seqs()).toEqual([1, 2]));
    s.append('a', 1);
    s.finish('a');
    await eventually(() => expect(out.calls.at(-1)).toEqual({ seqs: [], info: { done: true } }));
    expect(out.seqs()).toEqual([1, 2, 3]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(out.calls.filter((c) => c.info?.done)).toHaveLength(1);
    expect(s.eventRequests()).toHaveLength(1);
    const offB = client.subscribe!('b', { next: () => {} });
    await eventually(() => expect(s.eventRequests()).toHaveLength(2));
    expect(s.eventRequests()[1]!.url.searchParams.get('ids')).toBe('a,b');
    expect(s.eventRequests()[1]!.url.searchParams.has('output')).toBe(false);
    off();
    offStatus();
    offB();
  });

  it('tells listeners once about malformed output events and reads back what they carried, on the same stream', async () => {
    s.append('a', 2);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const out = recorder();
    const off = client.subscribeOutput!('a', {}, out.listener);
    await eventually(() => expect(out.seqs()).toEqual([1, 2]));
    s.append('a', 2, { live: false });
    const bad = `event: output\ndata: ${JSON.stringify({ id: 'a', parts: [{ seq: 3, kind: 'image', url: 'javascript:alert(1)', at: at(3) }] })}\n\n`;
    for (let i = 0; i < 20; i++) s.raw(bad);
    s.raw('event: output\ndata: {"id": "a", oops\n\n');
    await eventually(() => expect(out.seqs()).toEqual([1, 2, 3, 4]));
    expect(out.disconnected).toHaveLength(1);
    expect(out.disconnected[0]).toBeInstanceOf(JobProtocolError);
    expect(s.outputReads().length).toBe(1);
    // Valid events still arrive on the same stream.
    s.append('a', 1);
    await eventually(() => expect(out.seqs()).toEqual([1, 2, 3, 4, 5]));
    expect(s.eventRequests()).toHaveLength(1);
    off();
  });

  it('ends the subscription with JobNotFoundError when the job is missing, and refuses a bad after or id', async () => {
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const out = recorder();
    s.setOverride((url) =>
      url.pathname.endsWith('/events') ? null : { status: 404, body: JSON.stringify({ error: { code: 'not_found', message: 'x' } }) },
    );
    const off = client.subscribeOutput!('a', {}, out.listener);
    await eventually(() => expect(s.streams()).toHaveLength(1));
    s.raw(`event: missing\ndata: {"id":"a"}\n\n`);
    await eventually(() => expect(out.errors).toHaveLength(1));
    expect(out.errors[0]).toBeInstanceOf(JobNotFoundError);
    off();
    const badAfter = recorder();
    const badId = recorder();
    client.subscribeOutput!('a', { after: -2 }, badAfter.listener);
    client.subscribeOutput!('', {}, badId.listener);
    await eventually(() => expect([...badAfter.errors, ...badId.errors]).toHaveLength(2));
    expect(badAfter.errors[0]).toMatchObject({ status: 400, code: 'bad_request' });
    expect(badId.errors[0]).toBeInstanceOf(JobRequestError);
  });
});
