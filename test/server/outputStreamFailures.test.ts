// @vitest-environment node
import { JobNotFoundError, JobTransportError } from '../../src/contract/errors';
import { parseOutputEvent, type JobOutputEvent } from '../../src/contract/output';
import type { JobOutputListener, JobStore } from '../../src/contract/types';
import { createJobHandler, type JobHandlerOptions } from '../../src/server';
import { readEvents, type SseBlock } from '../support/sse';
import { createOutputFake } from './outputFake';

// The event stream's output when the store fails, loses a job, or keeps a change log.

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

const authorize: JobHandlerOptions['authorize'] = () => ({ owner: 'alice' });

function eventsRequest(query: string, init: RequestInit = {}): Request {
  return new Request(`http://localhost/api/jobs/events?${query}`, init);
}

function outputs(blocks: SseBlock[]): JobOutputEvent[] {
  return blocks.filter((block) => block.event === 'output').map((block) => parseOutputEvent(JSON.parse(block.data!)));
}

const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('GET {base}/events?output= when things go wrong', () => {
  it('ends the stream when readOutput does not answer within storeTimeoutMs (an outage: not reported), releasing everything', async () => {
    const fake = createOutputFake();
    fake.create('a');
    const onError = vi.fn();
    const signals: AbortSignal[] = [];
    const store: JobStore = {
      ...fake.store,
      readOutput: (_id, o) => {
        signals.push(o.signal!);
        return new Promise(() => {});
      },
    };
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, onError, storeTimeoutMs: 3000, heartbeatMs: 60_000 });
    const stream = readEvents(await handler(eventsRequest('ids=a&output=a')));
    await flush();
    expect(stream.ended).toBe(false);
    await vi.advanceTimersByTimeAsync(3000);
    await stream.finished;
    expect(stream.jobs()).toHaveLength(1);
    expect(outputs(stream.blocks)).toEqual([]);
    expect(onError).not.toHaveBeenCalled();
    expect(signals[0]!.aborted).toBe(true);
    expect(fake.active()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('ends the stream and reports a store that pushes invalid parts', async () => {
    const fake = createOutputFake();
    fake.create('a');
    let listener: JobOutputListener | undefined;
    const store: JobStore = {
      ...fake.store,
      subscribeOutput: (_id, _o, l) => {
        listener = l;
        return () => {};
      },
    };
    const onError = vi.fn();
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, onError });
    const stream = readEvents(await handler(eventsRequest('ids=a&output=a')));
    await flush();
    listener!.next([{ seq: 1, kind: 'text', at: 'not a date' } as never]);
    await stream.finished;
    expect(onError).toHaveBeenCalledWith(expect.objectContaining({ message: expect.stringMatching(/subscribeOutput\("a"\).*parts\[0\]\.at/) }), expect.any(Request));
  });

  it('sends missing (once) when the store stops knowing the job while its output streams', async () => {
    const fake = createOutputFake();
    fake.create('a');
    fake.create('b');
    let listener: JobOutputListener | undefined;
    const store: JobStore = {
      ...fake.store,
      subscribeOutput: (id, o, l) => {
        if (id === 'a') listener = l;
        return fake.store.subscribeOutput!(id, o, l);
      },
    };
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, onError: vi.fn() });
    const stream = readEvents(await handler(eventsRequest('ids=a,b&output=a,b')));
    await flush();
    listener!.error!(new JobNotFoundError('a'));
    listener!.next([{ seq: 1, kind: 'text', text: 'late', at: new Date(T0).toISOString() }]);
    await flush();
    fake.append('b');
    await flush();
    expect(stream.events().filter((event) => event.event === 'missing').map((event) => event.data)).toEqual([{ id: 'a' }]);
    expect(outputs(stream.blocks).map((event) => event.id)).toEqual(['b']);
    expect(stream.ended).toBe(false);
    void stream.cancel();
  });

  it('ends the stream when the output subscription reports disconnected, so the client resumes on a fresh one', async () => {
    const fake = createOutputFake();
    fake.create('a');
    let listener: JobOutputListener | undefined;
    const store: JobStore = {
      ...fake.store,
      subscribeOutput: (id, o, l) => {
        listener = l;
        return fake.store.subscribeOutput!(id, o, l);
      },
    };
    const onError = vi.fn();
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, onError });
    const stream = readEvents(await handler(eventsRequest('ids=a&output=a')));
    await flush();
    listener!.disconnected!(new JobTransportError('redis went away'));
    await stream.finished;
    expect(onError).not.toHaveBeenCalled();
    expect(fake.active()).toBe(0);
  });

  it('uses the change log’s positions as the id: of output events when the store keeps one', async () => {
    const fake = createOutputFake();
    fake.create('a');
    fake.append('a', 2);
    const store: JobStore = {
      ...fake.store,
      logPosition: async () => '1700000000000-4',
      changedSince: async () => [],
    };
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize });
    const stream = readEvents(await handler(eventsRequest('ids=a&output=a')));
    await flush();
    expect(stream.blocks.filter((block) => block.event !== undefined).map((block) => [block.event, block.id])).toEqual([
      ['job', '1700000000000-4'],
      ['output', '1700000000000-4'],
    ]);
    void stream.cancel();
  });

  it('answers HEAD with the stream’s headers after validating output, without reading output', async () => {
    const fake = createOutputFake();
    fake.create('a');
    const handler = createJobHandler({ store: fake.store, basePath: '/api/jobs', authorize });
    const head = await handler(eventsRequest('ids=a&output=a', { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toContain('text/event-stream');
    expect((await handler(eventsRequest('ids=a&output=b', { method: 'HEAD' }))).status).toBe(400);
    expect(fake.reads).toEqual([]);
  });

  it('validates output but carries none when the store keeps no output', async () => {
    const fake = createOutputFake();
    fake.create('a');
    fake.append('a');
    const { readOutput: _r, subscribeOutput: _s, ...statusOnly } = fake.store;
    const handler = createJobHandler({ store: statusOnly, basePath: '/api/jobs', authorize });
    expect((await handler(eventsRequest('ids=a&output=z'))).status).toBe(400);
    const stream = readEvents(await handler(eventsRequest('ids=a&output=a')));
    await flush();
    expect(stream.jobs()).toHaveLength(1);
    expect(outputs(stream.blocks)).toEqual([]);
    void stream.cancel();
  });
});
