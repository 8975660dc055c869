// @vitest-environment node
import { createFetchJobClient, JobNotFoundError, type JobOutputListener } from '../../src/core';
import { createJobHandler } from '../../src/server';
import { toNodeListener } from '../../src/server/node';
import { createMemoryJobBackend } from '../../src/testing';
import { listenOnLoopback } from '../support/loopback';

/**
 * The fetch client's output against the real server handler and the memory
 * backend's `appendOutput`, over a real node:http server on 127.0.0.1.
 */

async function serve(options: { maxOutputParts?: number } = {}) {
  const backend = createMemoryJobBackend(options.maxOutputParts ? { maxOutputParts: options.maxOutputParts } : {});
  const urls: URL[] = [];
  const handler = createJobHandler({
    store: backend,
    basePath: '/api/jobs',
    authorize: (request) => {
      const user = request.headers.get('x-user-id');
      return user ? { owner: user } : null;
    },
  });
  const listener = toNodeListener((request) => {
    urls.push(new URL(request.url));
    return handler(request);
  });
  const { origin, dropConnections, close } = await listenOnLoopback((req, res) => void listener(req, res));
  return {
    backend,
    baseUrl: `${origin}/api/jobs`,
    events: () => urls.filter((u) => u.pathname.endsWith('/events')),
    reads: () => urls.filter((u) => u.pathname.endsWith('/output') || u.searchParams.get('action') === 'output'),
    drop: dropConnections,
    close,
  };
}

function recorder() {
  const calls: Array<{ seqs: number[]; texts: string[]; info?: { done?: boolean; trimmed?: boolean } }> = [];
  const errors: unknown[] = [];
  const listener: JobOutputListener = {
    next: (parts, info) => calls.push({ seqs: parts.map((p) => p.seq), texts: parts.map((p) => p.text ?? ''), ...(info ? { info } : {}) }),
    error: (error) => errors.push(error),
  };
  return { listener, calls, errors, seqs: () => calls.flatMap((c) => c.seqs), text: () => calls.flatMap((c) => c.texts).join('') };
}

/** `vi.waitFor` with room for a loaded machine (2 shared cores). */
const eventually = <T>(check: () => T) => vi.waitFor(check, { timeout: 5000 });

let s: Awaited<ReturnType<typeof serve>>;
beforeEach(() => {
  vi.spyOn(Math, 'random').mockReturnValue(0);
});
afterEach(async () => {
  vi.restoreAllMocks();
  await s.close();
});

describe('output through createJobHandler and the memory backend', () => {
  it('reads pages with readOutput (path and query form), 404 for another owner', async () => {
    s = await serve();
    const job = s.backend.create({ owner: 'alice' });
    const dots = s.backend.create({ owner: 'alice', id: '..' });
    for (const text of ['Hel', 'lo']) s.backend.appendOutput(job.id, { kind: 'text', text });
    s.backend.appendOutput(dots.id, { kind: 'log', text: 'line' });
    const alice = createFetchJobClient({ baseUrl: s.baseUrl, headers: { 'x-user-id': 'alice' } });
    const page = await alice.readOutput(job.id, { after: 1 });
    expect(page.parts.map((p) => p.text)).toEqual(['lo']);
    expect(page.done).toBe(false);
    expect((await alice.readOutput('..')).parts.map((p) => p.text)).toEqual(['line']);
    expect(s.reads().at(-1)!.searchParams.get('action')).toBe('output');
    const bob = createFetchJobClient({ baseUrl: s.baseUrl, headers: { 'x-user-id': 'bob' } });
    await expect(bob.readOutput(job.id)).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('streams output on the one status stream, resumes after the last part when dropped, and ends with done once', async () => {
    s = await serve();
    const job = s.backend.create({ owner: 'alice' });
    const other = s.backend.create({ owner: 'alice' });
    const client = createFetchJobClient({ baseUrl: s.baseUrl, headers: { 'x-user-id': 'alice' } });
    const out = recorder();
    const statuses: string[] = [];
    const offStatus = client.subscribe!(job.id, { next: (j) => statuses.push(j.status) });
    const offOther = client.subscribe!(other.id, { next: () => {} });
    const off = client.subscribeOutput!(job.id, {}, out.listener);
    s.backend.start(job.id);
    for (const text of ['a', 'b', 'c']) s.backend.appendOutput(job.id, { kind: 'text', text });
    await eventually(() => expect(out.seqs()).toEqual([1, 2, 3]));
    expect(s.events()).toHaveLength(1);

    s.drop();
    for (const text of ['d', 'e']) s.backend.appendOutput(job.id, { kind: 'text', text });
    await eventually(() => expect(out.seqs()).toEqual([1, 2, 3, 4, 5]));
    expect(s.events().at(-1)!.searchParams.get('output')).toBe(`${job.id}:3`);

    s.backend.appendOutput(job.id, { kind: 'text', text: 'f' });
    s.backend.complete(job.id);
    await eventually(() => expect(out.calls.filter((c) => c.info?.done)).toHaveLength(1));
    expect(out.text()).toBe('abcdef');
    expect(out.seqs()).toEqual([1, 2, 3, 4, 5, 6]);
    await eventually(() => expect(statuses.at(-1)).toBe('completed'));
    expect(out.errors).toEqual([]);
    off();
    offStatus();
    offOther();
  });

  it('adds output to a stream already carrying the status (Last-Event-ID resumes status, output from the start)', async () => {
    s = await serve();
    const job = s.backend.create({ owner: 'alice' });
    const client = createFetchJobClient({ baseUrl: s.baseUrl, headers: { 'x-user-id': 'alice' } });
    const statuses: string[] = [];
    const offStatus = client.subscribe!(job.id, { next: (j) => statuses.push(j.status) });
    await eventually(() => expect(statuses).toEqual(['pending']));
    for (const text of ['x', 'y']) s.backend.appendOutput(job.id, { kind: 'text', text });
    const out = recorder();
    const off = client.subscribeOutput!(job.id, {}, out.listener);
    await eventually(() => expect(out.text()).toBe('xy'));
    expect(s.events()).toHaveLength(2);
    expect(s.events()[1]!.searchParams.get('output')).toBe(job.id);
    // The first stream closes once the second carries everything; nothing is delivered twice.
    s.backend.appendOutput(job.id, { kind: 'text', text: 'z' });
    s.backend.start(job.id);
    await eventually(() => expect(out.text()).toBe('xyz'));
    await eventually(() => expect(statuses).toEqual(['pending', 'processing']));
    expect(out.seqs()).toEqual([1, 2, 3]);
    off();
    offStatus();
  });

  it('delivers what a trimmed store still has, with info.trimmed', async () => {
    s = await serve({ maxOutputParts: 3 });
    const job = s.backend.create({ owner: 'alice' });
    for (let i = 1; i <= 6; i++) s.backend.appendOutput(job.id, { kind: 'log', text: `line ${i}` });
    const client = createFetchJobClient({ baseUrl: s.baseUrl, headers: { 'x-user-id': 'alice' } });
    const out = recorder();
    const off = client.subscribeOutput!(job.id, { after: 1 }, out.listener);
    await eventually(() => expect(out.seqs()).toEqual([4, 5, 6]));
    expect(out.calls[0]!.info).toEqual({ trimmed: true });
    s.backend.appendOutput(job.id, { kind: 'log', text: 'line 7' });
    await eventually(() => expect(out.seqs()).toEqual([4, 5, 6, 7]));
    expect(out.calls.at(-1)!.info).toBeUndefined();
    off();
  });
});
