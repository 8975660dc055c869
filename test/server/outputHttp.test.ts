// @vitest-environment node
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setupServer } from 'msw/node';
import { parseOutputEvent, parseOutputPage, type JobOutputEvent } from '../../src/contract/output';
import type { JobStore } from '../../src/contract/types';
import { createJobHandlers } from '../../src/msw';
import { createJobHandler } from '../../src/server';
import { toNodeListener } from '../../src/server/node';
import { createMemoryJobBackend, type MemoryJobBackend } from '../../src/testing';
import { readEvents, type SseBlock } from '../support/sse';
import { until } from '../support/until';

/** Waits (up to 3 s) until `ok()` holds. */
const settle = (ok: () => boolean, what: string) => until(ok, Boolean, what, 3000);

// Output over real HTTP (jobwatch/server/node's toNodeListener) and through jobwatch/msw,
// with the memory backend's own output (appendOutput, readOutput, subscribeOutput).

const servers: Server[] = [];

afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** The memory backend served on 127.0.0.1, its output subscriptions counted; the caller is alice. */
async function serve(): Promise<{ base: string; backend: MemoryJobBackend; active: () => number }> {
  const backend = createMemoryJobBackend();
  let active = 0;
  const store: JobStore = {
    ...backend,
    subscribeOutput(id, options, listener) {
      active++;
      const off = backend.subscribeOutput(id, options, listener);
      return () => {
        active--;
        off();
      };
    },
  };
  const handler = createJobHandler({ store, basePath: '/api/jobs', authorize: () => ({ owner: 'alice' }), heartbeatMs: 60_000 });
  const server = createServer(toNodeListener(handler));
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/jobs`, backend, active: () => active };
}

function outputs(blocks: SseBlock[]): JobOutputEvent[] {
  return blocks.filter((block) => block.event === 'output').map((block) => parseOutputEvent(JSON.parse(block.data!)));
}

const seqsOf = (events: JobOutputEvent[]) => events.flatMap((event) => event.parts.map((part) => part.seq));

describe('output over HTTP (toNodeListener)', () => {
  it('serves GET {base}/{id}/output with after and limit, and the query form for ..', async () => {
    const { base, backend } = await serve();
    backend.create({ id: 'a', owner: 'alice' });
    backend.create({ id: '..', owner: 'alice' });
    for (const text of ['Hello', ', ', 'world']) backend.appendOutput('a', { kind: 'text', text });
    backend.appendOutput('..', { kind: 'log', text: 'dots' });

    const page = parseOutputPage(await (await fetch(`${base}/a/output?after=1&limit=1`)).json());
    expect(page).toEqual({ parts: [expect.objectContaining({ seq: 2, kind: 'text', text: ', ' })], done: false });
    const dots = await fetch(`${base}?id=..&action=output`);
    expect(dots.status).toBe(200);
    expect(parseOutputPage(await dots.json()).parts.map((part) => part.text)).toEqual(['dots']);
    const bad = await fetch(`${base}/a/output?limit=1000`);
    expect(bad.status).toBe(400);
    expect((await bad.json()).error.code).toBe('bad_request');
    expect((await fetch(`${base}/a/output`, { method: 'POST' })).status).toBe(405);
  });

  it('streams catch-up, then live parts, then done once, over one connection; the subscription goes at the end', async () => {
    const { base, backend, active } = await serve();
    backend.create({ id: 'a', owner: 'alice' });
    backend.start('a');
    backend.appendOutput('a', { kind: 'text', text: 'one' });
    backend.appendOutput('a', { kind: 'text', text: 'two' });
    const stream = readEvents(await fetch(`${base}/events?ids=a&output=a:1`));
    await settle(() => seqsOf(outputs(stream.blocks)).length === 1, 'the part after 1');
    expect(seqsOf(outputs(stream.blocks))).toEqual([2]);
    backend.appendOutput('a', { kind: 'log', text: 'three' });
    await settle(() => seqsOf(outputs(stream.blocks)).length === 2, 'the live part');
    backend.complete('a');
    await stream.finished;
    const events = outputs(stream.blocks);
    expect(seqsOf(events)).toEqual([2, 3]);
    expect(events.filter((event) => event.done)).toHaveLength(1);
    expect(events.at(-1)!.done).toBe(true);
    expect(stream.jobs().at(-1)!.status).toBe('completed');
    await settle(() => active() === 0, 'the output subscription to go');
  });
});

describe('output through jobwatch/msw', () => {
  it('serves the backend’s output: the page and the event stream', async () => {
    const backend = createMemoryJobBackend();
    const server = setupServer(...createJobHandlers({ backend, baseUrl: 'http://mock.test/api/jobs', heartbeatMs: 60_000 }));
    server.listen({ onUnhandledRequest: 'error' });
    try {
      backend.create({ id: 'a' });
      backend.appendOutput('a', { kind: 'data', data: { step: 1 } });
      const page = parseOutputPage(await (await fetch('http://mock.test/api/jobs/a/output')).json());
      expect(page.parts).toEqual([expect.objectContaining({ seq: 1, kind: 'data', data: { step: 1 } })]);
      const abort = new AbortController();
      const stream = readEvents(await fetch('http://mock.test/api/jobs/events?ids=a&output=a', { signal: abort.signal }));
      await settle(() => outputs(stream.blocks).length === 1, 'the first output event');
      backend.appendOutput('a', { kind: 'text', text: 'next' });
      await settle(() => outputs(stream.blocks).length === 2, 'the second output event');
      expect(seqsOf(outputs(stream.blocks))).toEqual([1, 2]);
      abort.abort();
      await stream.finished;
    } finally {
      server.close();
    }
  });
});
