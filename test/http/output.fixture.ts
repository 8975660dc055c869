import type { IncomingMessage, ServerResponse } from 'node:http';
import type { JobOutputListener, JobOutputPart } from '../../src/core';
import { parseOutputRequest } from '../../src/contract/output';
import { makeJob } from '../helpers';
import { listenOnLoopback } from '../support/loopback';

/**
 * For the output tests over real HTTP: a small node:http server that speaks
 * the wire protocol of streamed output (parts after each `output=id:after`
 * position, then live ones; pages at `GET {base}/{id}/output`), and counts
 * every stream, every read and every byte it sends.
 */

export interface StreamRecord {
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

export const at = (seq: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, seq)).toISOString();

export async function outputServer() {
  const parts = new Map<string, JobOutputPart[]>();
  /** Parts the store no longer keeps: the first seq still kept, per id. */
  const firstKept = new Map<string, number>();
  const done = new Set<string>();
  const requests: Array<{ method: string; url: URL; headers: IncomingMessage['headers'] }> = [];
  const streams: StreamRecord[] = [];
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

  const { origin, dropConnections, close } = await listenOnLoopback(handle);
  const open = () => streams.filter((s) => !s.closed && s.res.socket?.destroyed === false);

  return {
    baseUrl: `${origin}/api/jobs`,
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
    drop: dropConnections,
    close,
  };
}

export type OutputServer = Awaited<ReturnType<typeof outputServer>>;

/**
 * A fresh fixture server per test of the calling file, with `Math.random` at 0 (no jitter:
 * a reconnect follows a drop after 0.5 s). Returns a getter for the current test's server.
 */
export function useOutputServer(): () => OutputServer {
  let server: OutputServer | undefined;
  beforeEach(async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    server = await outputServer();
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await server?.close();
    server = undefined;
  });
  return () => server!;
}

/** A listener that records every call. */
export function recorder() {
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

export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** `vi.waitFor` with room for a loaded machine (2 shared cores). */
export const eventually = <T>(check: () => T) => vi.waitFor(check, { timeout: 5000 });
