// @vitest-environment node
import { JobNotFoundError, JobProtocolError } from '../../src/contract/errors';
import { formatIdList } from '../../src/contract/ids';
import type { Job, JobBatch, JobSubscriptionListener } from '../../src/contract/types';
import { createJobHandler, type JobHandlerOptions, type JobStore } from '../../src/server';
import { createMemoryJobBackend, type MemoryJobBackend } from '../../src/testing';
import { readEvents } from '../support/sse';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

const authorize: JobHandlerOptions['authorize'] = (request) => {
  const owner = request.headers.get('x-owner');
  return owner ? { owner } : null;
};

function eventsRequest(ids: string[], init: { signal?: AbortSignal; lastEventId?: string; owner?: string; method?: string } = {}): Request {
  const headers = new Headers({ 'x-owner': init.owner ?? 'alice' });
  if (init.lastEventId !== undefined) headers.set('last-event-id', init.lastEventId);
  return new Request(`http://localhost/api/jobs/events?ids=${formatIdList(ids)}`, {
    headers,
    method: init.method ?? 'GET',
    ...(init.signal ? { signal: init.signal } : {}),
  });
}


/** The backend as a store whose subscriptions are counted: `active()` is how many the handler has not unsubscribed. */
function countingStore(backend: MemoryJobBackend): { store: JobStore; active: () => number; subscribed: () => number } {
  let active = 0;
  let subscribed = 0;
  const store: JobStore = {
    ...backend,
    subscribe(id, listener, options) {
      active += 1;
      subscribed += 1;
      const off = backend.subscribe(id, listener, options);
      let done = false;
      return () => {
        if (done) return;
        done = true;
        active -= 1;
        off();
      };
    },
  };
  return { store, active: () => active, subscribed: () => subscribed };
}

function setup(options: Partial<JobHandlerOptions> & { backend?: MemoryJobBackend } = {}) {
  const backend = options.backend ?? createMemoryJobBackend();
  const counting = countingStore(backend);
  const onError = vi.fn();
  const handler = createJobHandler({ store: counting.store, basePath: '/api/jobs', authorize, onError, ...options });
  return { backend, handler, onError, ...counting };
}

const ms = (job: Job | undefined): string => String(Date.parse(job!.updatedAt));

/** Lets the body reader and store microtasks run. */
const flush = () => vi.advanceTimersByTimeAsync(0);

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('GET {base}/events', () => {
  it('answers text/event-stream: retry, then each job oldest change first, each with its updatedAt as id', async () => {
    const { backend, handler } = setup();
    backend.create({ id: 'a', owner: 'alice' });
    vi.advanceTimersByTime(1000);
    backend.create({ id: 'b', owner: 'alice' });
    vi.advanceTimersByTime(1000);
    backend.create({ id: 'c', owner: 'alice' });
    vi.advanceTimersByTime(1000);
    backend.start('a'); // a changed last

    const response = await handler(eventsRequest(['a', 'b', 'c']));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-store');
    expect(response.headers.get('connection')).toBeNull(); // forbidden in HTTP/2
    expect(response.headers.get('x-accel-buffering')).toBe('no');

    const stream = readEvents(response);
    await flush();
    expect(stream.blocks[0]).toEqual({ retry: '1000', comments: [] });
    expect(stream.events()).toEqual([
      { event: 'job', id: ms(backend.get('b')), data: backend.get('b') },
      { event: 'job', id: ms(backend.get('c')), data: backend.get('c') },
      { event: 'job', id: ms(backend.get('a')), data: backend.get('a') },
    ]);
    expect(stream.ended).toBe(false);
    await stream.cancel();
  });

  it('sends a job event for every change, and a terminal job once before it leaves; ends once every id left', async () => {
    const { backend, handler, active } = setup();
    backend.create({ id: 'a', owner: 'alice' });
    backend.create({ id: 'b', owner: 'alice' });
    const stream = readEvents(await handler(eventsRequest(['a', 'b'])));
    await flush();
    expect(stream.jobs().map((job) => job.status)).toEqual(['pending', 'pending']);
    expect(active()).toBe(2);

    vi.advanceTimersByTime(500);
    backend.start('a');
    vi.advanceTimersByTime(500);
    backend.progress('a', 0.5, 'Halfway');
    await flush();
    const changes = stream.events().slice(2);
    expect(changes).toEqual([
      { event: 'job', id: String(T0 + 500), data: expect.objectContaining({ id: 'a', status: 'processing', version: 2 }) },
      { event: 'job', id: String(T0 + 1000), data: expect.objectContaining({ id: 'a', progress: 0.5, progressMessage: 'Halfway', version: 3 }) },
    ]);

    backend.complete('a', { url: '/a.png' });
    await flush();
    expect(stream.jobs().at(-1)).toMatchObject({ id: 'a', status: 'completed', result: { url: '/a.png' } });
    expect(active()).toBe(1); // a left the stream
    expect(stream.ended).toBe(false);

    backend.fail('b', 'boom');
    await flush();
    expect(stream.jobs().at(-1)).toMatchObject({ id: 'b', status: 'failed' });
    await stream.finished;
    expect(stream.ended).toBe(true);
    expect(active()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(stream.jobs().filter((job) => job.status === 'completed')).toHaveLength(1);
  });

  it("sends one missing event for an unknown or another owner's id, with an id line", async () => {
    const { backend, handler, active } = setup();
    backend.create({ id: 'a', owner: 'alice' });
    backend.create({ id: 'bobs', owner: 'bob' });
    const stream = readEvents(await handler(eventsRequest(['nope', 'a', 'bobs'])));
    await flush();
    expect(stream.events()).toEqual([
      { event: 'job', id: ms(backend.get('a')), data: backend.get('a') },
      { event: 'missing', id: ms(backend.get('a')), data: { id: 'nope' } },
      { event: 'missing', id: ms(backend.get('a')), data: { id: 'bobs' } },
    ]);
    expect(active()).toBe(1);
    await stream.cancel();
  });

  it('ends at once when every id is terminal or missing', async () => {
    const { backend, handler, active } = setup();
    backend.create({ id: 'done', owner: 'alice' });
    backend.complete('done');
    const stream = readEvents(await handler(eventsRequest(['done', 'nope'])));
    await stream.finished;
    expect(stream.events().map((event) => event.event)).toEqual(['job', 'missing']);
    expect(stream.events()[1]!.id).toMatch(/^\d+$/);
    expect(active()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sends a heartbeat comment every heartbeatMs (default 15 s)', async () => {
    const { backend, handler } = setup();
    backend.create({ id: 'a', owner: 'alice' });
    const stream = readEvents(await handler(eventsRequest(['a'])));
    await vi.advanceTimersByTimeAsync(14_999);
    expect(stream.heartbeats()).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(stream.heartbeats()).toBe(1);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(stream.heartbeats()).toBe(3);
    expect(stream.blocks.at(-1)).toEqual({ comments: ['heartbeat'] });
    await stream.cancel();

    const quick = setup({ heartbeatMs: 100 });
    quick.backend.create({ id: 'a', owner: 'alice' });
    const fast = readEvents(await quick.handler(eventsRequest(['a'])));
    await vi.advanceTimersByTimeAsync(350);
    expect(fast.heartbeats()).toBe(3);
    await fast.cancel();
  });

  it('leaves out of the snapshot the jobs older than Last-Event-ID, and still watches them', async () => {
    const { backend, handler, active } = setup();
    backend.create({ id: 'old', owner: 'alice' }); // T0
    backend.create({ id: 'oldDone', owner: 'alice' });
    backend.complete('oldDone'); // T0
    vi.advanceTimersByTime(1000);
    backend.create({ id: 'same', owner: 'alice' }); // T0 + 1000
    vi.advanceTimersByTime(1000);
    backend.create({ id: 'new', owner: 'alice' }); // T0 + 2000

    const stream = readEvents(await handler(eventsRequest(['old', 'oldDone', 'same', 'new'], { lastEventId: String(T0 + 1000) })));
    await flush();
    expect(stream.jobs().map((job) => job.id)).toEqual(['same', 'new']);
    expect(active()).toBe(3); // oldDone was delivered before and left; old stays watched

    backend.start('old');
    await flush();
    expect(stream.jobs().map((job) => job.id)).toEqual(['same', 'new', 'old']);
    await stream.cancel();
  });

  // Each would leave the job (updatedAt T0) out if read leniently (parseInt, Number, Math.abs).
  it.each([`${T0 + 1}abc`, `${T0 + 1}.5`, `-${T0 + 1}`, '1.9e12', 'abc', ''])('ignores a malformed Last-Event-ID %j', async (lastEventId) => {
    const { backend, handler } = setup();
    backend.create({ id: 'a', owner: 'alice' });
    const stream = readEvents(await handler(eventsRequest(['a'], { lastEventId })));
    await flush();
    expect(stream.jobs().map((job) => job.id)).toEqual(['a']);
    await stream.cancel();
  });

  it('releases every subscription and timer when the client aborts', async () => {
    const { backend, handler, active } = setup();
    // A scripted job makes the backend keep a timer while it has subscribers.
    backend.create({ id: 'a', owner: 'alice', queuedMs: 60_000, runningMs: 60_000 });
    backend.create({ id: 'b', owner: 'alice' });
    const controller = new AbortController();
    const stream = readEvents(await handler(eventsRequest(['a', 'b'], { signal: controller.signal })));
    await flush();
    expect(active()).toBe(2);
    expect(vi.getTimerCount()).toBe(2); // the heartbeat and the backend's script timer

    controller.abort();
    await stream.finished;
    expect(active()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('releases every subscription and timer when the body is cancelled', async () => {
    const { backend, handler, active } = setup();
    backend.create({ id: 'a', owner: 'alice' });
    const stream = readEvents(await handler(eventsRequest(['a'])));
    await flush();
    await stream.cancel();
    expect(active()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    backend.start('a'); // nothing left to deliver to
    await flush();
  });

  it('answers 499 and subscribes nothing when the client is already gone', async () => {
    const { backend, handler, subscribed, onError } = setup();
    backend.create({ id: 'a', owner: 'alice' });
    const controller = new AbortController();
    controller.abort();
    const response = await handler(eventsRequest(['a'], { signal: controller.signal }));
    expect(response.status).toBe(499);
    expect(subscribed()).toBe(0);
    expect(onError).not.toHaveBeenCalled();
  });

  it('answers HEAD with the stream headers and opens nothing', async () => {
    const { backend, handler, subscribed } = setup();
    backend.create({ id: 'a', owner: 'alice' });
    const response = await handler(eventsRequest(['a'], { method: 'HEAD' }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.body).toBeNull();
    expect(subscribed()).toBe(0);
    expect(backend.calls).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('GET {base}/events from a store without subscribe', () => {
  function pollingSetup(options: { withGetStatuses: boolean }) {
    const backend = createMemoryJobBackend();
    const { subscribe: _s, getStatuses, ...rest } = backend;
    const store: JobStore = options.withGetStatuses ? { ...rest, getStatuses } : rest;
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, pollIntervalMs: 1000 });
    return { backend, handler };
  }

  it('polls with getStatuses every pollIntervalMs and sends what changed', async () => {
    const { backend, handler } = pollingSetup({ withGetStatuses: true });
    backend.create({ id: 'a', owner: 'alice' });
    backend.create({ id: 'b', owner: 'alice' });
    const stream = readEvents(await handler(eventsRequest(['a', 'b', 'nope'])));
    await flush();
    expect(stream.events().map((event) => [event.event, (event.data as { id: string }).id])).toEqual([
      ['job', 'a'],
      ['job', 'b'],
      ['missing', 'nope'],
    ]);
    expect(backend.calls.map((call) => [call.method, call.args[0]])).toEqual([['getStatuses', ['a', 'b', 'nope']]]);

    backend.start('a');
    await vi.advanceTimersByTimeAsync(999);
    expect(stream.jobs()).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1);
    expect(stream.jobs().at(-1)).toMatchObject({ id: 'a', status: 'processing' });
    expect(backend.calls.at(-1)?.args[0]).toEqual(['a', 'b']);

    // Nothing changed: nothing sent.
    await vi.advanceTimersByTimeAsync(3000);
    expect(stream.jobs()).toHaveLength(3);

    backend.complete('a');
    backend.cancel('b');
    await vi.advanceTimersByTimeAsync(1000);
    await stream.finished;
    expect(stream.jobs().slice(3).map((job) => [job.id, job.status])).toEqual([
      ['a', 'completed'],
      ['b', 'cancelled'],
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('polls one getStatus per id without getStatuses, and stops polling on abort', async () => {
    const { backend, handler } = pollingSetup({ withGetStatuses: false });
    backend.create({ id: 'a', owner: 'alice' });
    const controller = new AbortController();
    const stream = readEvents(await handler(eventsRequest(['a'], { signal: controller.signal })));
    await vi.advanceTimersByTimeAsync(3000);
    expect(backend.calls.map((call) => call.method)).toEqual(['getStatus', 'getStatus', 'getStatus', 'getStatus']);
    backend.progress('a', 0.25);
    await vi.advanceTimersByTimeAsync(1000);
    expect(stream.jobs().at(-1)).toMatchObject({ progress: 0.25 });

    controller.abort();
    await stream.finished;
    expect(vi.getTimerCount()).toBe(0);
    const polls = backend.calls.length;
    await vi.advanceTimersByTimeAsync(5000);
    expect(backend.calls).toHaveLength(polls);
  });

  it('sends missing when a polled job disappears', async () => {
    const backend = createMemoryJobBackend();
    backend.create({ id: 'a', owner: 'alice' });
    backend.create({ id: 'b', owner: 'alice' });
    let gone = false;
    const store: JobStore = {
      getStatus: (id, o) => (gone && id === 'a' ? Promise.reject(new JobNotFoundError(id)) : backend.getStatus(id, o)),
      list: backend.list,
      getPendingCount: backend.getPendingCount,
    };
    const handler = createJobHandler({ store, basePath: '/api/jobs', authorize });
    const stream = readEvents(await handler(eventsRequest(['a', 'b'])));
    await flush();
    gone = true;
    await vi.advanceTimersByTimeAsync(1000);
    expect(stream.events().at(-1)).toMatchObject({ event: 'missing', data: { id: 'a' } });
    backend.complete('b');
    await vi.advanceTimersByTimeAsync(1000);
    await stream.finished;
    expect(stream.events().map((event) => event.event)).toEqual(['job', 'job', 'missing', 'job']);
  });
});

describe('GET {base}/events ordering and failures (hand-driven store)', () => {
  const at = (s: number): string => new Date(T0 + s * 1000).toISOString();
  const job = (id: string, version: number | undefined, extra: Partial<Job> = {}): Job => ({
    id,
    status: 'processing',
    createdAt: at(0),
    updatedAt: at(version ?? 0),
    ...(version === undefined ? {} : { version }),
    ...extra,
  });

  /** A store whose reads answer when the test says, and whose pushes the test makes. */
  function manualStore() {
    const listeners = new Map<string, JobSubscriptionListener>();
    const unsubscribed: string[] = [];
    let answer: (batch: JobBatch) => void = () => {};
    let fail: (error: unknown) => void = () => {};
    const store: JobStore = {
      getStatus: () => Promise.reject(new Error('unused')),
      list: () => Promise.reject(new Error('unused')),
      getPendingCount: () => Promise.reject(new Error('unused')),
      getStatuses: () =>
        new Promise<JobBatch>((resolve, reject) => {
          answer = resolve;
          fail = reject;
        }),
      subscribe(id, listener) {
        listeners.set(id, listener);
        return () => unsubscribed.push(id);
      },
    };
    return {
      store,
      push: (value: unknown) => listeners.get((value as Job).id)!.next(value as Job),
      listeners,
      unsubscribed,
      answer: (batch: JobBatch) => answer(batch),
      fail: (error: unknown) => fail(error),
    };
  }

  function manualSetup() {
    const manual = manualStore();
    const onError = vi.fn();
    const handler = createJobHandler({ store: manual.store, basePath: '/api/jobs', authorize, onError });
    return { ...manual, handler, onError };
  }

  it('subscribes before reading the snapshot and sends the newer of the two', async () => {
    const m = manualSetup();
    const pending = m.handler(eventsRequest(['a', 'b']));
    await flush();
    expect([...m.listeners.keys()]).toEqual(['a', 'b']);
    // A change lands while the snapshot read is in flight; the read then answers the older state.
    m.push(job('a', 3));
    m.answer({ jobs: [job('a', 2), job('b', 1)], missing: [] });
    const stream = readEvents(await pending);
    await flush();
    expect(stream.jobs()).toEqual([job('b', 1), job('a', 3)]);
    await stream.cancel();
  });

  it('never sends a job older than or equal to the one already sent (version, else updatedAt)', async () => {
    // Equal versions compare as if there were none: by updatedAt, then by content.
    const m = manualSetup();
    const pending = m.handler(eventsRequest(['a', 'n']));
    await flush();
    m.answer({ jobs: [job('a', 2), job('n', undefined, { updatedAt: at(5) })], missing: [] });
    const stream = readEvents(await pending);
    await flush();
    m.push(job('a', 1));
    m.push(job('a', 2));
    m.push(job('a', 2, { progress: 0.9, updatedAt: at(1) })); // same version, older time: not newer
    m.push(job('n', undefined, { updatedAt: at(4) }));
    m.push(job('n', undefined, { updatedAt: at(5) }));
    await flush();
    expect(stream.jobs()).toHaveLength(2);
    m.push(job('a', 3));
    m.push(job('n', undefined, { updatedAt: at(6) }));
    m.push(job('a', 3, { progress: 0.5 })); // same version and time, new content of the same rank
    await flush();
    expect(stream.jobs().slice(2)).toEqual([
      job('a', 3),
      job('n', undefined, { updatedAt: at(6) }),
      job('a', 3, { progress: 0.5 }),
    ]);
    await stream.cancel();
  });

  it('sends missing once when both the subscription and the snapshot say the id is unknown', async () => {
    const m = manualSetup();
    const pending = m.handler(eventsRequest(['a', 'gone']));
    await flush();
    m.listeners.get('gone')!.error!(new JobNotFoundError('gone'));
    m.answer({ jobs: [job('a', 1)], missing: ['gone'] });
    const stream = readEvents(await pending);
    await flush();
    expect(stream.events().filter((event) => event.event === 'missing')).toHaveLength(1);
    expect(m.unsubscribed).toEqual(['gone']);
    // A job deleted later gets its missing event live, and the stream ends with the last id.
    m.listeners.get('a')!.error!(new JobNotFoundError('a'));
    await stream.finished;
    expect(stream.events().map((event) => event.event)).toEqual(['job', 'missing', 'missing']);
    expect(m.unsubscribed).toEqual(['gone', 'a']);
  });

  it('takes a subscription that says not found as missing, even when the snapshot still has the job', async () => {
    // Without a subscription the job's changes could never arrive; a missing
    // event is honest, a snapshot followed by silence is not.
    const m = manualSetup();
    const pending = m.handler(eventsRequest(['a', 'b']));
    await flush();
    m.listeners.get('b')!.error!(new JobNotFoundError('b'));
    m.answer({ jobs: [job('a', 1), job('b', 1)], missing: [] });
    const stream = readEvents(await pending);
    await flush();
    expect(stream.events().map((event) => [event.event, (event.data as { id: string }).id])).toEqual([
      ['job', 'a'],
      ['missing', 'b'],
    ]);
    await stream.cancel();
  });

  it('answers 500 JSON and unsubscribes everything when the snapshot read fails', async () => {
    const m = manualSetup();
    const pending = m.handler(eventsRequest(['a', 'b']));
    await flush();
    const failure = new Error('db down');
    m.fail(failure);
    const response = await pending;
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ error: { code: 'internal_error', message: 'Internal server error' } });
    expect(m.unsubscribed.sort()).toEqual(['a', 'b']);
    expect(m.onError).toHaveBeenCalledWith(failure, expect.any(Request));
    expect(vi.getTimerCount()).toBe(0);
  });

  it('answers 500 when a subscription fails before the snapshot went out', async () => {
    const m = manualSetup();
    const pending = m.handler(eventsRequest(['a', 'b']));
    await flush();
    const failure = new Error('broker down');
    m.listeners.get('b')!.error!(failure);
    m.answer({ jobs: [job('a', 1), job('b', 1)], missing: [] });
    const response = await pending;
    expect(response.status).toBe(500);
    expect(m.onError).toHaveBeenCalledWith(failure, expect.any(Request));
    expect(m.unsubscribed.sort()).toEqual(['a', 'b']);
  });

  it('ends the stream and reports when the store pushes an invalid job or fails later', async () => {
    const m = manualSetup();
    const pending = m.handler(eventsRequest(['a', 'b']));
    await flush();
    m.answer({ jobs: [job('a', 1), job('b', 1)], missing: [] });
    const stream = readEvents(await pending);
    await flush();
    m.push({ id: 'a', status: 'weird' });
    await stream.finished;
    expect(m.onError.mock.calls[0]![0]).toBeInstanceOf(JobProtocolError);
    expect(m.unsubscribed.sort()).toEqual(['a', 'b']);
    expect(vi.getTimerCount()).toBe(0);
    expect(stream.jobs()).toHaveLength(2);
  });
});
