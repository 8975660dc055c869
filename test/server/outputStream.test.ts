// @vitest-environment node
import { formatIdList } from '../../src/contract/ids';
import { MAX_OUTPUT_PAGE_PARTS, MAX_OUTPUT_PART_LENGTH, parseOutputEvent, type JobOutputEvent } from '../../src/contract/output';
import type { JobStore } from '../../src/contract/types';
import { createJobHandler, MAX_EVENT_STREAM_BUFFER_BYTES, type JobHandlerOptions } from '../../src/server';
import { readEvents, type SseBlock } from '../support/sse';
import { createOutputFake } from './outputFake';

// The event stream's `output=`: catch-up, live parts, de-duplication, splitting, done, resume.

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

const authorize: JobHandlerOptions['authorize'] = (request) => {
  const owner = request.headers.get('x-owner');
  return owner ? { owner } : null;
};

function eventsRequest(ids: string[], output: string | null, init: { signal?: AbortSignal } = {}): Request {
  const query = `ids=${formatIdList(ids)}${output === null ? '' : `&output=${output}`}`;
  return new Request(`http://localhost/api/jobs/events?${query}`, { headers: { 'x-owner': 'alice' }, ...init });
}

function setup(options: { push?: boolean; keep?: number; store?: JobStore } = {}) {
  const fake = createOutputFake(options);
  const onError = vi.fn();
  const handler = createJobHandler({ store: options.store ?? fake.store, basePath: '/api/jobs', authorize, onError, pollIntervalMs: 1000 });
  return { ...fake, handler, onError };
}

const flush = () => vi.advanceTimersByTimeAsync(0);

/** The output events of a stream, read with the contract's parser. */
function outputs(blocks: SseBlock[]): JobOutputEvent[] {
  return blocks.filter((block) => block.event === 'output').map((block) => parseOutputEvent(JSON.parse(block.data!)));
}

const seqsOf = (events: JobOutputEvent[]) => events.flatMap((event) => event.parts.map((part) => part.seq));
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('GET {base}/events?output=', () => {
  it('sends the parts there are, then each new part as it is pushed, then done once; the stream then ends', async () => {
    const { handler, create, append, finish, active, backend } = setup();
    create('a');
    backend.start('a');
    append('a', 3);
    const stream = readEvents(await handler(eventsRequest(['a'], 'a')));
    await flush();
    expect(outputs(stream.blocks)).toEqual([{ id: 'a', parts: [expect.objectContaining({ seq: 1, text: 't1' }), expect.any(Object), expect.any(Object)] }]);
    expect(active()).toBe(1);
    append('a');
    await flush();
    append('a');
    await flush();
    expect(outputs(stream.blocks).slice(1)).toEqual([
      { id: 'a', parts: [expect.objectContaining({ seq: 4 })] },
      { id: 'a', parts: [expect.objectContaining({ seq: 5 })] },
    ]);
    finish('a');
    await flush();
    await stream.finished;
    const events = outputs(stream.blocks);
    expect(seqsOf(events)).toEqual([1, 2, 3, 4, 5]);
    expect(events.filter((event) => event.done)).toEqual([{ id: 'a', parts: [], done: true }]);
    expect(stream.jobs().map((job) => job.status)).toEqual(['processing', 'completed']);
    expect(active()).toBe(0);
  });

  it('resumes after the position given: output=a:17 sends part 18 onwards', async () => {
    const { handler, create, append, reads } = setup();
    create('a');
    append('a', 20);
    const stream = readEvents(await handler(eventsRequest(['a'], 'a:17')));
    await flush();
    expect(seqsOf(outputs(stream.blocks))).toEqual([18, 19, 20]);
    expect(reads[0]).toMatchObject({ id: 'a', owner: 'alice', after: 17 });
    void stream.cancel();
  });

  it('never sends a part twice or skips one when parts are pushed while the catch-up read is in flight', async () => {
    const { handler, create, append, hold, release } = setup();
    create('a');
    append('a', 3);
    hold();
    const stream = readEvents(await handler(eventsRequest(['a'], 'a')));
    await flush();
    // Pushed during the read, and also in what the read answers once released.
    append('a', 2);
    await flush();
    expect(outputs(stream.blocks)).toEqual([]);
    release();
    await flush();
    append('a');
    await flush();
    expect(seqsOf(outputs(stream.blocks))).toEqual([1, 2, 3, 4, 5, 6]);
    void stream.cancel();
  });

  it('fills a gap in what was pushed with a read', async () => {
    const fake = createOutputFake();
    let forward = true;
    const store: JobStore = {
      ...fake.store,
      subscribeOutput: (id, o, listener) =>
        fake.store.subscribeOutput!(id, o, { ...listener, next: (parts, info) => (forward ? listener.next(parts, info) : undefined) }),
    };
    const { handler } = setup({ store });
    fake.create('a');
    const stream = readEvents(await handler(eventsRequest(['a'], 'a')));
    await flush();
    forward = false;
    fake.append('a', 2); // lost on the way
    forward = true;
    fake.append('a');
    await flush();
    expect(seqsOf(outputs(stream.blocks))).toEqual([1, 2, 3]);
    void stream.cancel();
  });

  it('polls readOutput every pollIntervalMs for a store without subscribeOutput', async () => {
    const { handler, create, append, finish, reads, backend } = setup({ push: false });
    create('a');
    backend.start('a');
    const stream = readEvents(await handler(eventsRequest(['a'], 'a')));
    await flush();
    expect(reads).toHaveLength(1);
    append('a', 2);
    await flush();
    expect(outputs(stream.blocks)).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(seqsOf(outputs(stream.blocks))).toEqual([1, 2]);
    expect(reads.map((read) => read.after)).toEqual([0, 0]);
    append('a');
    finish('a');
    await vi.advanceTimersByTimeAsync(1000);
    await stream.finished;
    const events = outputs(stream.blocks);
    expect(seqsOf(events)).toEqual([1, 2, 3]);
    expect(events.at(-1)).toEqual({ id: 'a', parts: [expect.objectContaining({ seq: 3 })], done: true });
    expect(events.filter((event) => event.done)).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sends a job that is already terminal its parts with done, once, and ends', async () => {
    const { handler, create, append, finish, active } = setup();
    create('a');
    append('a', 2);
    finish('a');
    const stream = readEvents(await handler(eventsRequest(['a'], 'a')));
    await flush();
    await stream.finished;
    expect(outputs(stream.blocks)).toEqual([{ id: 'a', parts: [expect.objectContaining({ seq: 1 }), expect.objectContaining({ seq: 2 })], done: true }]);
    expect(active()).toBe(0);
  });

  it('splits big batches: no event over 256 KiB of parts or MAX_OUTPUT_PAGE_PARTS parts, every part once', async () => {
    const { handler, create, append } = setup();
    create('a');
    append('a', 5, (seq) => `${seq}`.padEnd(100_000, 'x'));
    append('a', 1200);
    const stream = readEvents(await handler(eventsRequest(['a'], 'a')));
    for (let i = 0; i < 10; i++) await flush();
    const blocks = stream.blocks.filter((block) => block.event === 'output');
    const events = outputs(blocks);
    expect(seqsOf(events)).toEqual(range(1, 1205));
    for (const block of blocks) expect(block.data!.length).toBeLessThan(MAX_OUTPUT_PART_LENGTH + 1000);
    for (const event of events) expect(event.parts.length).toBeLessThanOrEqual(MAX_OUTPUT_PAGE_PARTS);
    // Two 100 kB parts fit in one event, a third does not; 500 small ones fill one event.
    expect(events.map((event) => [event.parts[0]!.seq, event.parts.at(-1)!.seq])).toEqual([
      [1, 2],
      [3, 4],
      [5, 500],
      [501, 1000],
      [1001, 1205],
    ]);
    void stream.cancel();
  });

  it('says trimmed when the store no longer has parts the client asked for', async () => {
    const { handler, create, append } = setup({ keep: 3 });
    create('a');
    append('a', 10);
    const stream = readEvents(await handler(eventsRequest(['a'], 'a:2')));
    await flush();
    expect(outputs(stream.blocks)).toEqual([{ id: 'a', parts: [expect.objectContaining({ seq: 8 }), expect.any(Object), expect.any(Object)], trimmed: true }]);
    void stream.cancel();
  });

  it('carries no output for another owner’s or an unknown id: the one missing event covers it', async () => {
    const { handler, create, append, reads, subscribed } = setup();
    create('a');
    create('b', 'bob');
    append('b', 2);
    const stream = readEvents(await handler(eventsRequest(['a', 'b', 'c'], 'a,b,c')));
    await flush();
    expect(stream.events().filter((event) => event.event === 'missing').map((event) => event.data)).toEqual([{ id: 'b' }, { id: 'c' }]);
    expect(outputs(stream.blocks)).toEqual([]);
    expect(reads.map((read) => read.id)).toEqual(['a']);
    expect(subscribed()).toBe(1);
    void stream.cancel();
  });

  it('gives output events an id: of the stream’s position scheme, never going back', async () => {
    const { handler, create, append, backend } = setup();
    create('a');
    vi.advanceTimersByTime(1000);
    create('b');
    append('a', 2);
    const stream = readEvents(await handler(eventsRequest(['a', 'b'], 'a')));
    await flush();
    const updated = String(Date.parse(backend.get('b')!.updatedAt));
    expect(stream.blocks.filter((block) => block.event === 'output').map((block) => block.id)).toEqual([updated]);
    vi.advanceTimersByTime(1000);
    backend.start('b');
    await flush();
    append('a');
    await flush();
    const ids = stream.blocks.filter((block) => block.id !== undefined).map((block) => Number(block.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(stream.blocks.at(-1)).toMatchObject({ event: 'output', id: String(Date.parse(backend.get('b')!.updatedAt)) });
    void stream.cancel();
  });

  it.each([
    ['an id not in ids', 'b', 'must also be listed in ids'],
    ['a malformed position', 'a:x', 'position'],
    ['the same id twice', 'a,a:3', 'more than once'],
    ['an empty value', '', 'at least one'],
    ['an over-long id', 'x'.repeat(201), 'Invalid job id'],
    ['malformed percent-encoding', '%E0%A4%A', 'percent-encoding'],
  ])('answers 400 for %s in output', async (_name, output, message) => {
    const { handler, create, reads } = setup();
    create('a');
    const response = await handler(eventsRequest(['a'], output));
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: { code: 'bad_request', message: expect.stringContaining(message) } });
    expect(reads).toEqual([]);
  });

  it('answers 400 for more than 100 output ids, and for an unknown parameter', async () => {
    const { handler } = setup();
    const many = range(1, 101).map(String);
    const response = await handler(eventsRequest(many.slice(0, 100), many.join(',')));
    expect(response.status).toBe(400);
    const unknown = await handler(new Request('http://localhost/api/jobs/events?ids=a&outputs=a', { headers: { 'x-owner': 'alice' } }));
    expect(unknown.status).toBe(400);
    expect((await unknown.json()).error.message).toContain('"outputs"');
  });

  it('releases every subscription and timer when the client goes away', async () => {
    for (const push of [true, false]) {
      const { handler, create, append, active } = setup({ push });
      create('a');
      append('a');
      const abort = new AbortController();
      const stream = readEvents(await handler(eventsRequest(['a'], 'a', { signal: abort.signal })));
      await flush();
      expect(seqsOf(outputs(stream.blocks))).toEqual([1]);
      abort.abort();
      await flush();
      expect(active()).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
    }
  });

  it('drops a client that does not read while output keeps coming: memory stays bounded, subscriptions go', async () => {
    const { handler, create, append, active, backend } = setup();
    create('a');
    backend.start('a');
    const response = await handler(eventsRequest(['a'], 'a'));
    await flush();
    const text = (seq: number) => `${seq}`.padEnd(4000, 'y');
    // Enough to fill the buffer, then more than the parts a feed may hold back.
    for (let i = 0; i < 2 * MAX_OUTPUT_PAGE_PARTS && active() > 0; i++) {
      append('a', 1, text);
      await flush();
    }
    expect(active()).toBe(0);
    // What was queued is still readable, then the stream ends.
    const stream = readEvents(response);
    await stream.finished;
    const seqs = seqsOf(outputs(stream.blocks));
    expect(seqs).toEqual(range(1, seqs.length));
    expect(seqs.length * 4000).toBeLessThan(MAX_EVENT_STREAM_BUFFER_BYTES + 8000);
  });

  it('is paced by the client during a long catch-up: a slow reader gets every part', async () => {
    const { handler, create, append } = setup();
    create('a');
    append('a', 1500, (seq) => `${seq}`.padEnd(2000, 'z'));
    const response = await handler(eventsRequest(['a'], 'a'));
    await flush();
    const stream = readEvents(response);
    for (let i = 0; i < 40; i++) await flush();
    expect(seqsOf(outputs(stream.blocks))).toEqual(range(1, 1500));
    void stream.cancel();
  });
});
