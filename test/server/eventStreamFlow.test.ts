// @vitest-environment node
import { formatIdList } from '../../src/contract/ids';
import { HEARTBEAT_INTERVAL_MS } from '../../src/contract/heartbeat';
import type { Job, JobStore } from '../../src/contract/types';
import { createJobHandler, type JobHandlerOptions } from '../../src/server';
import { MAX_EVENT_STREAM_BUFFER_BYTES } from '../../src/server/openJobEventStream';
import { createMemoryJobBackend, type MemoryJobBackend } from '../../src/testing';
import { readEvents } from '../support/sse';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

const authorize: JobHandlerOptions['authorize'] = (request) => {
  const owner = request.headers.get('x-owner');
  return owner ? { owner } : null;
};

function eventsRequest(ids: string[], lastEventId?: string): Request {
  const headers = new Headers({ 'x-owner': 'alice' });
  if (lastEventId !== undefined) headers.set('last-event-id', lastEventId);
  return new Request(`http://localhost/api/jobs/events?ids=${formatIdList(ids)}`, { headers });
}

/** The backend, with its live subscriptions counted. */
function setup(options: Partial<JobHandlerOptions> = {}) {
  const backend: MemoryJobBackend = createMemoryJobBackend();
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
  const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, onError: vi.fn(), ...options });
  return { backend, handler, active: () => active };
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('heartbeat announcement', () => {
  it('sends ": heartbeat <heartbeatMs>" right after retry, before any event (default 15 000)', async () => {
    const { backend, handler } = setup();
    backend.create({ id: 'a', owner: 'alice' });
    const response = await handler(eventsRequest(['a']));
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first.startsWith(`retry: 1000\n\n: heartbeat ${HEARTBEAT_INTERVAL_MS}\n\nid: `)).toBe(true);
    expect(HEARTBEAT_INTERVAL_MS).toBe(15_000);
    await reader.cancel();
  });

  it('announces the configured heartbeatMs, and the periodic heartbeats stay ": heartbeat"', async () => {
    const { backend, handler } = setup({ heartbeatMs: 2500 });
    backend.create({ id: 'a', owner: 'alice' });
    const stream = readEvents(await handler(eventsRequest(['a'])));
    await vi.advanceTimersByTimeAsync(2500);
    expect(stream.blocks.slice(0, 2)).toEqual([
      { retry: '1000', comments: [] },
      { comments: ['heartbeat 2500'] },
    ]);
    expect(stream.blocks.at(-1)).toEqual({ comments: ['heartbeat'] });
    await stream.cancel();
  });
});

describe('a client that stops reading', () => {
  it(
    'is dropped once MAX_EVENT_STREAM_BUFFER_BYTES wait unread: the queue stays bounded, the stream ends, and a reconnect with Last-Event-ID gets the latest state',
    async () => {
      const { backend, handler, active } = setup();
      backend.create({ id: 'a', owner: 'alice' });
      backend.create({ id: 'b', owner: 'alice' });
      const response = await handler(eventsRequest(['a', 'b'])); // never read while the store emits
      const note = 'x'.repeat(200);
      for (let i = 1; i <= 20_000; i++) {
        backend.progress(i % 2 ? 'a' : 'b', i / 20_000, `${note} ${i}`);
        if (i % 1000 === 0) await vi.advanceTimersByTimeAsync(0);
      }
      await vi.advanceTimersByTimeAsync(0);
      expect(active()).toBe(0); // dropped: every subscription released while nobody read

      // Everything the handler queued, read only now: bounded, and ending cleanly.
      const reader = response.body!.getReader();
      let queued = 0;
      let text = '';
      const decoder = new TextDecoder();
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
        queued += chunk.value.byteLength;
        text += decoder.decode(chunk.value, { stream: true });
      }
      expect(queued).toBeGreaterThan(MAX_EVENT_STREAM_BUFFER_BYTES / 2);
      expect(queued).toBeLessThanOrEqual(MAX_EVENT_STREAM_BUFFER_BYTES);
      expect(text.endsWith('\n\n')).toBe(true); // whole events only
      const delivered = text.match(/^event: job$/gm) ?? [];
      expect(delivered.length).toBeLessThan(20_000);
      expect(vi.getTimerCount()).toBe(0);
      const lastId = [...text.matchAll(/^id: (.+)$/gm)].at(-1)![1];

      const resumed = readEvents(await handler(eventsRequest(['a', 'b'], lastId)));
      await vi.advanceTimersByTimeAsync(0);
      const latest = new Map(resumed.jobs().map((job): [string, Job] => [job.id, job]));
      expect(latest.get('a')).toEqual(backend.get('a'));
      expect(latest.get('b')).toEqual(backend.get('b'));
      expect(backend.get('b')?.progress).toBe(1);
      await resumed.cancel();
    },
    60_000,
  );
});
