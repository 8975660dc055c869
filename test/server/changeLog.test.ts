// @vitest-environment node
import { JobUnauthorizedError } from '../../src/contract/errors';
import { isNewerJob } from '../../src/contract/ordering';
import { formatIdList } from '../../src/contract/ids';
import type { Job, JobRequestOptions, JobStoreRequestOptions, JobSubscriptionListener } from '../../src/contract/types';
import { createJobHandler, type JobHandlerOptions, type JobStore } from '../../src/server';
import { createMemoryJobBackend, type JobSpec, type MemoryJobBackend } from '../../src/testing';
import { readEvents } from '../support/sse';

/**
 * The event stream over a store that keeps a change log (`logPosition` + `changedSince`):
 * event ids are log positions, a reconnect is sent only what changed since its
 * Last-Event-ID, and pushes at or below the pre-snapshot position are stale.
 */

const T0 = Date.parse('2030-01-01T00:00:00.000Z');

const authorize: JobHandlerOptions['authorize'] = (request) => {
  const owner = request.headers.get('x-owner');
  return owner ? { owner } : null;
};

function eventsRequest(ids: string[], init: { signal?: AbortSignal; lastEventId?: string; owner?: string } = {}): Request {
  const headers = new Headers({ 'x-owner': init.owner ?? 'alice' });
  if (init.lastEventId !== undefined) headers.set('last-event-id', init.lastEventId);
  return new Request(`http://localhost/api/jobs/events?ids=${formatIdList(ids)}`, {
    headers,
    ...(init.signal ? { signal: init.signal } : {}),
  });
}


// ---- a fake change-log store ------------------------------------------------

/**
 * A change log shared by every "instance": a global counter bumped by every change made
 * through its controls, and each job's last change. Positions are `"<n>-0"`, like Redis stream ids.
 */
function createChangeLog(backend: MemoryJobBackend) {
  let head = 0;
  const lastChanged = new Map<string, number>();
  /** changedSince answers null for positions below this (the log was trimmed). */
  let trimmedBelow = 0;

  /** Bumps the log, then applies the change: the backend pushes synchronously, so a push sees its own position. */
  function record<T>(id: string, apply: () => T): T {
    head += 1;
    lastChanged.set(id, head);
    return apply();
  }

  return {
    backend,
    head: () => head,
    position: () => `${head}-0`,
    lastChanged: (id: string) => lastChanged.get(id) ?? 0,
    trim: () => {
      trimmedBelow = head;
    },
    trimmedBelow: () => trimmedBelow,
    create: (spec: JobSpec & { id: string }) => record(spec.id, () => backend.create(spec)),
    start: (id: string) => record(id, () => backend.start(id)),
    progress: (id: string, fraction: number | null, message?: string | null) => record(id, () => backend.progress(id, fraction, message)),
    complete: (id: string, result?: unknown) => record(id, () => backend.complete(id, result)),
    fail: (id: string, message: string) => record(id, () => backend.fail(id, message)),
  };
}
type ChangeLog = ReturnType<typeof createChangeLog>;

/** The first number of a position (this log's positions are all `"<n>-0"`, so a later second number changes nothing). */
function entryOf(position: string): number {
  const match = /^([0-9]+)(?:-[0-9]+)?$/.exec(position);
  if (!match) throw new Error(`changedSince got ${JSON.stringify(position)}, not a position`);
  return Number(match[1]);
}

interface LogStoreOptions {
  /** How jobs look to the handler, on reads and pushes (e.g. without `version`). */
  view?: (job: Job) => Job;
  /** Runs before the snapshot read (getStatuses) reads the backend. */
  beforeRead?: () => void | Promise<void>;
  /** Runs after the snapshot read read the backend, before it answers. */
  afterRead?: () => void | Promise<void>;
}

/**
 * One "server instance" over the shared backend and log: a JobStore with logPosition,
 * changedSince (spies), and subscriptions whose pushes carry `{ position }`. Counts the
 * subscriptions the handler holds, and can push (a lagging consumer) or disconnect by hand.
 */
function logStore(log: ChangeLog, options: LogStoreOptions = {}) {
  const { backend } = log;
  const view = options.view ?? ((job: Job) => job);
  const subscriptions = new Set<{ id: string; listener: JobSubscriptionListener }>();
  let subscribed = 0;
  const logPosition = vi.fn(async (_options: JobRequestOptions): Promise<string> => log.position());
  const changedSince = vi.fn(async (ids: string[], position: string, _options: JobStoreRequestOptions): Promise<string[] | null> => {
    const after = entryOf(position);
    if (after < log.trimmedBelow()) return null;
    return ids.filter((id) => log.lastChanged(id) > after);
  });
  const store = {
    getStatus: async (id: string, o: JobStoreRequestOptions) => view(await backend.getStatus(id, o)),
    getStatuses: async (ids: string[], o: JobStoreRequestOptions) => {
      await options.beforeRead?.();
      const batch = backend.getStatuses(ids, o); // reads the backend now
      await options.afterRead?.();
      const { jobs, missing } = await batch;
      return { jobs: jobs.map(view), missing };
    },
    list: backend.list,
    getPendingCount: backend.getPendingCount,
    logPosition,
    changedSince,
    subscribe(id: string, listener: JobSubscriptionListener, o: Pick<JobStoreRequestOptions, 'owner'>): () => void {
      subscribed += 1;
      const subscription = { id, listener };
      subscriptions.add(subscription);
      const off = backend.subscribe(
        id,
        {
          next: (job) => listener.next(view(job), { position: log.position() }),
          error: (error) => listener.error?.(error),
        },
        o,
      );
      return () => {
        if (!subscriptions.delete(subscription)) return;
        off();
      };
    },
  } satisfies JobStore;
  return {
    store,
    logPosition,
    changedSince,
    /** Subscriptions the handler has not released. */
    active: () => subscriptions.size,
    subscribed: () => subscribed,
    /** Delivers a push by hand, as a lagging consumer of the log would. */
    push(id: string, job: Job, position: string) {
      for (const s of [...subscriptions]) if (s.id === id) s.listener.next(job, { position });
    },
    /** The store lost its connection: every subscription hears `disconnected`. */
    disconnect(error: unknown) {
      for (const s of [...subscriptions]) if (subscriptions.has(s)) s.listener.disconnected?.(error);
    },
  };
}

function handlerFor(store: JobStore, options: Partial<JobHandlerOptions> = {}) {
  const onError = vi.fn();
  const handler = createJobHandler({ store, basePath: '/api/jobs', authorize, onError, ...options });
  return { handler, onError };
}

function setup(options: LogStoreOptions = {}) {
  const backend = createMemoryJobBackend();
  const log = createChangeLog(backend);
  const instance = logStore(log, options);
  return { backend, log, ...instance, ...handlerFor(instance.store) };
}

/** Lets the body reader and store microtasks run. */
const flush = () => vi.advanceTimersByTimeAsync(0);

/** Drops `version`, so jobs are ordered by `updatedAt` alone (as some stores' are). */
const versionless = (job: Job): Job => {
  const { version: _version, ...rest } = job;
  return rest;
};

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});

afterEach(() => {
  vi.useRealTimers();
});

// ---- tests -------------------------------------------------------------------

describe('event stream over a store with a change log', () => {
  it('event ids are log positions: the snapshot carries the position read before it, each later push its own', async () => {
    const { backend, log, handler, logPosition, changedSince, active } = setup();
    log.create({ id: 'a', owner: 'alice' }); // 1
    vi.advanceTimersByTime(1000);
    log.create({ id: 'b', owner: 'alice' }); // 2
    vi.advanceTimersByTime(1000);
    log.progress('a', 0.25); // 3: a changed last

    const response = await handler(eventsRequest(['a', 'b']));
    expect(response.status).toBe(200);
    const stream = readEvents(response);
    await flush();
    expect(stream.blocks[0]).toEqual({ retry: '1000', comments: [] });
    // Oldest change first; every snapshot event carries the position read before the snapshot.
    expect(stream.events()).toEqual([
      { event: 'job', id: '3-0', data: backend.get('b') },
      { event: 'job', id: '3-0', data: backend.get('a') },
    ]);
    expect(logPosition).toHaveBeenCalledTimes(1);
    expect(logPosition).toHaveBeenCalledWith({ signal: expect.any(AbortSignal) });
    expect(changedSince).not.toHaveBeenCalled(); // no Last-Event-ID

    vi.advanceTimersByTime(1000);
    log.start('b'); // 4
    await flush();
    vi.advanceTimersByTime(1000);
    log.progress('a', 0.5, 'Halfway'); // 5
    await flush();
    expect(stream.events().slice(2)).toEqual([
      { event: 'job', id: '4-0', data: expect.objectContaining({ id: 'b', status: 'processing' }) },
      { event: 'job', id: '5-0', data: expect.objectContaining({ id: 'a', progress: 0.5, progressMessage: 'Halfway' }) },
    ]);

    log.complete('a'); // 6: a leaves
    await flush();
    expect(stream.events().at(-1)).toEqual({ event: 'job', id: '6-0', data: backend.get('a') });
    expect(active()).toBe(1);
    log.fail('b', 'boom'); // 7: the last one leaves, the stream ends
    await stream.finished;
    expect(stream.events().at(-1)).toEqual({ event: 'job', id: '7-0', data: backend.get('b') });
    expect(active()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('writes the exact wire format: retry, then id / event / data blocks with the log position', async () => {
    const { backend, log, handler } = setup();
    log.create({ id: 'x', owner: 'alice' }); // 1
    log.complete('x', { ok: true }); // 2
    const text = await (await handler(eventsRequest(['x', 'nope']))).text(); // every id terminal or missing: ends at once
    expect(text).toBe(
      'retry: 1000\n\n' +
        `id: 2-0\nevent: job\ndata: ${JSON.stringify(backend.get('x'))}\n\n` +
        'id: 2-0\nevent: missing\ndata: {"id":"nope"}\n\n',
    );
  });

  it('a change made after the position was read but before the snapshot read is in the snapshot, whose ids stay at the earlier position', async () => {
    let log!: ChangeLog;
    const s = setup({ beforeRead: () => void log.progress('a', 0.5) }); // 2, during the connect
    log = s.log;
    log.create({ id: 'a', owner: 'alice' }); // 1
    const stream = readEvents(await s.handler(eventsRequest(['a'])));
    await flush();
    // The snapshot holds change 2, yet says "1-0": a reconnect from it is sent a again (safe), never less.
    expect(stream.events()).toEqual([{ event: 'job', id: '1-0', data: expect.objectContaining({ progress: 0.5, version: 2 }) }]);
    s.log.progress('a', 0.75); // 3
    await flush();
    expect(stream.events().at(-1)).toEqual({ event: 'job', id: '3-0', data: expect.objectContaining({ progress: 0.75 }) });
    await stream.cancel();
  });

  it('a push above the floor that is newer than the snapshot read goes out in the snapshot and raises its id', async () => {
    let log!: ChangeLog;
    const s = setup({ afterRead: () => void log.start('b') }); // 3: read already taken, pushed during the connect
    log = s.log;
    log.create({ id: 'a', owner: 'alice' }); // 1
    vi.advanceTimersByTime(1000);
    log.create({ id: 'b', owner: 'alice' }); // 2
    vi.advanceTimersByTime(1000);
    const stream = readEvents(await s.handler(eventsRequest(['a', 'b'])));
    await flush();
    expect(stream.events()).toEqual([
      { event: 'job', id: '3-0', data: s.backend.get('a') },
      { event: 'job', id: '3-0', data: expect.objectContaining({ id: 'b', status: 'processing', version: 2 }) },
    ]);
    await stream.cancel();
  });

  it('a reconnect with Last-Event-ID is sent only the jobs changed since; unchanged terminal jobs leave, unchanged live ones stay watched', async () => {
    const { backend, log, handler, changedSince, active } = setup();
    log.create({ id: 'a', owner: 'alice' }); // 1
    vi.advanceTimersByTime(1000);
    log.create({ id: 'done', owner: 'alice' }); // 2
    vi.advanceTimersByTime(1000);
    log.create({ id: 'b', owner: 'alice' }); // 3
    vi.advanceTimersByTime(1000);
    log.complete('done'); // 4
    backend.create({ id: 'bobs', owner: 'bob' });
    const ids = ['a', 'done', 'b', 'nope', 'bobs'];

    const first = readEvents(await handler(eventsRequest(ids)));
    await flush();
    expect(first.events().map((e) => [e.event, (e.data as { id: string }).id, e.id])).toEqual([
      ['job', 'a', '4-0'],
      ['job', 'b', '4-0'],
      ['job', 'done', '4-0'],
      ['missing', 'nope', '4-0'],
      ['missing', 'bobs', '4-0'],
    ]);
    const lastEventId = first.lastId()!;
    expect(lastEventId).toBe('4-0');
    await first.cancel();
    expect(active()).toBe(0);

    vi.advanceTimersByTime(1000);
    log.progress('b', 0.5); // 5: the only change while the client was away

    const response = await handler(eventsRequest(ids, { lastEventId }));
    expect(response.status).toBe(200);
    const second = readEvents(response);
    await flush();
    expect(changedSince).toHaveBeenCalledTimes(1);
    expect(changedSince).toHaveBeenCalledWith(ids, '4-0', { owner: 'alice', signal: expect.any(AbortSignal) });
    expect(await changedSince.mock.results[0]!.value).toEqual(['b']);
    // b changed; `missing` ids are always sent; a and done are not.
    expect(second.events()).toEqual([
      { event: 'job', id: '5-0', data: backend.get('b') },
      { event: 'missing', id: '5-0', data: { id: 'nope' } },
      { event: 'missing', id: '5-0', data: { id: 'bobs' } },
    ]);
    expect(active()).toBe(2); // a and b: done (terminal, unchanged) left without an event
    expect(second.ended).toBe(false);

    vi.advanceTimersByTime(1000);
    log.progress('a', 0.1); // 6: the unchanged job is still watched
    await flush();
    expect(second.events().at(-1)).toEqual({ event: 'job', id: '6-0', data: backend.get('a') });
    log.complete('a'); // 7
    log.complete('b'); // 8
    await second.finished;
    expect(second.events().slice(-2).map((e) => [e.id, (e.data as Job).id, (e.data as Job).status])).toEqual([
      ['7-0', 'a', 'completed'],
      ['8-0', 'b', 'completed'],
    ]);
    expect(active()).toBe(0);
  });

  it('a reconnect where nothing changed and every job is terminal gets only retry, and ends', async () => {
    const { log, handler, active } = setup();
    log.create({ id: 'a', owner: 'alice' }); // 1
    log.complete('a'); // 2
    const stream = readEvents(await handler(eventsRequest(['a'], { lastEventId: '2-0' })));
    await stream.finished;
    expect(stream.blocks).toEqual([{ retry: '1000', comments: [] }]);
    expect(active()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a job whose content changed without its updatedAt changing is still sent on reconnect (the reason for the log)', async () => {
    // A store (like BullMQ) that stamps updatedAt on status changes only: progress leaves it as it was.
    const statusChangedAt = new Map<string, string>();
    const view = (job: Job): Job => {
      const previous = statusChangedAt.get(`${job.id}:${job.status}`);
      if (previous === undefined) statusChangedAt.set(`${job.id}:${job.status}`, job.updatedAt);
      return { ...job, updatedAt: previous ?? job.updatedAt };
    };
    const { backend, log, handler } = setup({ view });
    log.create({ id: 'a', owner: 'alice' }); // 1, T0
    log.start('a'); // 2, T0
    vi.advanceTimersByTime(1000);
    log.create({ id: 'b', owner: 'alice' }); // 3, T0 + 1000

    const first = readEvents(await handler(eventsRequest(['a', 'b'])));
    await flush();
    expect(first.jobs().map((job) => [job.id, job.updatedAt])).toEqual([
      ['a', new Date(T0).toISOString()],
      ['b', new Date(T0 + 1000).toISOString()],
    ]);
    const lastEventId = first.lastId()!;
    expect(lastEventId).toBe('3-0');
    await first.cancel();

    vi.advanceTimersByTime(5000);
    log.progress('a', 0.5, 'Rendering'); // 4: a's updatedAt stays T0, older than b's
    expect(view(backend.get('a')!).updatedAt).toBe(new Date(T0).toISOString());

    const second = readEvents(await handler(eventsRequest(['a', 'b'], { lastEventId })));
    await flush();
    expect(second.events()).toEqual([
      {
        event: 'job',
        id: '4-0',
        data: expect.objectContaining({ id: 'a', updatedAt: new Date(T0).toISOString(), progress: 0.5, progressMessage: 'Rendering' }),
      },
    ]);
    await second.cancel();

    // The same store without its log: Last-Event-ID is b's updatedAt, and a (updatedAt T0) is left out.
    const { logPosition: _p, changedSince: _c, ...withoutLog } = logStore(log, { view }).store;
    const plain = handlerFor(withoutLog).handler;
    const third = readEvents(await plain(eventsRequest(['a', 'b'], { lastEventId: String(T0 + 1000) })));
    await flush();
    expect(third.jobs().map((job) => job.id)).toEqual(['b']);
    await third.cancel();
  });

  it('changedSince answering null (log trimmed past the position) sends every job', async () => {
    const { backend, log, handler, changedSince } = setup();
    log.create({ id: 'a', owner: 'alice' }); // 1
    vi.advanceTimersByTime(1000);
    log.create({ id: 'b', owner: 'alice' }); // 2
    log.create({ id: 'done', owner: 'alice' }); // 3
    log.complete('done'); // 4
    vi.advanceTimersByTime(1000);
    log.progress('b', 0.5); // 5
    log.trim(); // the log no longer reaches back before 5

    const stream = readEvents(await handler(eventsRequest(['a', 'b', 'done'], { lastEventId: '2-0' })));
    await flush();
    expect(changedSince).toHaveBeenCalledWith(['a', 'b', 'done'], '2-0', expect.objectContaining({ owner: 'alice' }));
    expect(await changedSince.mock.results[0]!.value).toBeNull();
    expect(stream.events()).toEqual([
      { event: 'job', id: '5-0', data: backend.get('a') },
      { event: 'job', id: '5-0', data: backend.get('done') },
      { event: 'job', id: '5-0', data: backend.get('b') },
    ]);
    await stream.cancel();
  });

  it.each(['abc', '', '1-2-3', '-1', '1.5', '1e3', '0x10', '1-', '1'.repeat(21), '4-0x'])(
    'a malformed Last-Event-ID %j is ignored: full snapshot, changedSince never asked',
    async (lastEventId) => {
      const { backend, log, handler, changedSince, logPosition } = setup();
      log.create({ id: 'a', owner: 'alice' }); // 1
      log.create({ id: 'b', owner: 'alice' }); // 2
      const stream = readEvents(await handler(eventsRequest(['a', 'b'], { lastEventId })));
      await flush();
      expect(stream.events()).toEqual([
        { event: 'job', id: '2-0', data: backend.get('a') },
        { event: 'job', id: '2-0', data: backend.get('b') },
      ]);
      expect(changedSince).not.toHaveBeenCalled();
      expect(logPosition).toHaveBeenCalledTimes(1);
      await stream.cancel();
    },
  );

  it('a stale push (at or below the floor) arriving after the snapshot is not sent; a push above the floor is', async () => {
    // Without versions, two changes in the same ms are ordered by content alone, so only the
    // log position tells a stale push from a fresh one.
    const { backend, log, handler, push } = setup({ view: versionless });
    log.create({ id: 'a', owner: 'alice' }); // 1
    log.progress('a', 0.4, 'Step 1'); // 2
    const stale = versionless(backend.get('a')!);
    log.progress('a', 0.5, 'Step 2'); // 3, same ms
    const current = versionless(backend.get('a')!);

    const stream = readEvents(await handler(eventsRequest(['a'])));
    await flush();
    expect(stream.events()).toEqual([{ event: 'job', id: '3-0', data: current }]);
    expect(current).toMatchObject({ progress: 0.5, progressMessage: 'Step 2' });
    // By content alone the stale state passes as newer: only the floor keeps it out.
    expect(isNewerJob(current, stale)).toBe(true);

    // A lagging consumer of the log delivers changes 2 and 3 now, after the snapshot (floor "3-0").
    push('a', stale, '2-0');
    push('a', stale, '3'); // "3" is "3-0": at the floor
    push('a', current, '3-0');
    await flush();
    expect(stream.events()).toHaveLength(1);

    log.progress('a', 0.6, 'Step 3'); // 4, same ms: above the floor
    await flush();
    expect(stream.events()).toEqual([
      { event: 'job', id: '3-0', data: current },
      { event: 'job', id: '4-0', data: versionless(backend.get('a')!) },
    ]);
    expect(stream.jobs().at(-1)).toMatchObject({ progress: 0.6, progressMessage: 'Step 3' });
    await stream.cancel();
  });

  it('a stale push (at or below the floor) arriving while connecting does not replace the snapshot read', async () => {
    let inject!: () => void;
    const s = setup({ view: versionless, beforeRead: () => inject() });
    s.log.create({ id: 'a', owner: 'alice' }); // 1
    s.log.progress('a', 0.4, 'Step 1'); // 2
    const stale = versionless(s.backend.get('a')!);
    s.log.progress('a', 0.5, 'Step 2'); // 3, same ms
    const current = versionless(s.backend.get('a')!);
    inject = () => s.push('a', stale, '2-0'); // after the floor "3-0" was read, before the snapshot read
    const stream = readEvents(await s.handler(eventsRequest(['a'])));
    await flush();
    expect(stream.events()).toEqual([{ event: 'job', id: '3-0', data: current }]);
    await stream.cancel();
  });

  it('disconnected from a store subscription ends the stream and is reported to onError', async () => {
    const { log, handler, onError, active, disconnect } = setup();
    log.create({ id: 'a', owner: 'alice' });
    log.create({ id: 'b', owner: 'alice' });
    const stream = readEvents(await handler(eventsRequest(['a', 'b'])));
    await flush();
    expect(active()).toBe(2);

    const failure = new Error('redis connection lost');
    disconnect(failure);
    await stream.finished;
    expect(stream.ended).toBe(true);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError).toHaveBeenCalledWith(failure, expect.any(Request));
    expect(active()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(stream.jobs()).toHaveLength(2);
  });

  it('disconnected with an expected error ends the stream without reporting it', async () => {
    const { log, handler, onError, active, disconnect } = setup();
    log.create({ id: 'a', owner: 'alice' });
    const stream = readEvents(await handler(eventsRequest(['a'])));
    await flush();
    disconnect(new JobUnauthorizedError());
    await stream.finished;
    expect(onError).not.toHaveBeenCalled();
    expect(active()).toBe(0);
  });

  it('disconnected before the snapshot went out fails the connect: 500, reported, every subscription released', async () => {
    let disconnect!: (error: unknown) => void;
    const failure = new Error('redis connection lost');
    const s = setup({ beforeRead: () => disconnect(failure) });
    disconnect = s.disconnect;
    s.log.create({ id: 'a', owner: 'alice' });
    s.log.create({ id: 'b', owner: 'alice' });
    const response = await s.handler(eventsRequest(['a', 'b']));
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: { code: 'internal_error', message: 'Internal server error' } });
    expect(s.onError).toHaveBeenCalledWith(failure, expect.any(Request));
    expect(s.active()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it.each([
    ['not a position', 'abc'],
    ['empty', ''],
    ['three numbers', '1-2-3'],
    ['negative', '-1'],
    ['a decimal', '1.5'],
    ['too long', '1'.repeat(21)],
    ['a number', 42],
    ['null', null],
    ['undefined', undefined],
  ])('logPosition answering %s fails the connect: 500, onError, every subscription released', async (_name, answer) => {
    const { backend, log, handler, onError, logPosition, active, subscribed } = setup();
    log.create({ id: 'a', owner: 'alice' });
    log.create({ id: 'b', owner: 'alice' });
    logPosition.mockImplementation(async () => answer as string);
    backend.clearCalls();
    const response = await handler(eventsRequest(['a', 'b']));
    expect(response.status).toBe(500);
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(await response.json()).toEqual({ error: { code: 'internal_error', message: 'Internal server error' } });
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]![0]).toBeInstanceOf(TypeError);
    expect(subscribed()).toBe(2);
    expect(active()).toBe(0);
    expect(backend.calls.map((call) => call.method)).toEqual(['subscribe', 'subscribe']); // no snapshot read
    expect(vi.getTimerCount()).toBe(0);
  });

  it('changedSince rejecting fails the connect: 500, onError, every subscription released', async () => {
    const { log, handler, onError, changedSince, active, subscribed } = setup();
    log.create({ id: 'a', owner: 'alice' });
    log.create({ id: 'b', owner: 'alice' });
    const failure = new Error('log unreadable');
    changedSince.mockRejectedValue(failure);
    const response = await handler(eventsRequest(['a', 'b'], { lastEventId: '1-0' }));
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: { code: 'internal_error', message: 'Internal server error' } });
    expect(onError).toHaveBeenCalledWith(failure, expect.any(Request));
    expect(subscribed()).toBe(2);
    expect(active()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('two handlers over one shared log: a client moving from instance 1 to instance 2 gets exactly the changes made meanwhile', async () => {
    const backend = createMemoryJobBackend();
    const log = createChangeLog(backend);
    const one = logStore(log);
    const two = logStore(log);
    const handler1 = handlerFor(one.store).handler;
    const handler2 = handlerFor(two.store).handler;
    log.create({ id: 'a', owner: 'alice' }); // 1
    vi.advanceTimersByTime(100);
    log.create({ id: 'b', owner: 'alice' }); // 2
    vi.advanceTimersByTime(100);
    log.create({ id: 'c', owner: 'alice' }); // 3
    vi.advanceTimersByTime(100);
    log.create({ id: 'd', owner: 'alice' }); // 4
    const ids = ['a', 'b', 'c', 'd'];

    const first = readEvents(await handler1(eventsRequest(ids)));
    await flush();
    expect(first.events().map((e) => e.id)).toEqual(['4-0', '4-0', '4-0', '4-0']);
    vi.advanceTimersByTime(100);
    log.start('a'); // 5: received on instance 1
    await flush();
    expect(first.events().at(-1)).toEqual({ event: 'job', id: '5-0', data: backend.get('a') });
    const lastEventId = first.lastId()!;
    await first.cancel();
    expect(one.active()).toBe(0);

    // While the client is away (e.g. instance 1 is redeployed):
    vi.advanceTimersByTime(100);
    log.progress('b', 0.3); // 6
    vi.advanceTimersByTime(100);
    log.complete('c', { url: '/c.png' }); // 7
    vi.advanceTimersByTime(100);
    log.progress('b', 0.6); // 8

    const second = readEvents(await handler2(eventsRequest(ids, { lastEventId })));
    await flush();
    expect(two.changedSince).toHaveBeenCalledWith(ids, '5-0', expect.objectContaining({ owner: 'alice' }));
    expect(second.events()).toEqual([
      { event: 'job', id: '8-0', data: backend.get('c') },
      { event: 'job', id: '8-0', data: backend.get('b') },
    ]);
    expect(one.changedSince).not.toHaveBeenCalled();
    expect(two.active()).toBe(3); // a, b, d; c completed and left

    log.start('d'); // 9: instance 2 pushes it
    await flush();
    expect(second.events().at(-1)).toEqual({ event: 'job', id: '9-0', data: backend.get('d') });
    expect(second.jobs().map((job) => job.id)).toEqual(['c', 'b', 'd']);
    await second.cancel();
    expect(two.active()).toBe(0);
  });
});

describe('event stream over a store without a change log', () => {
  it('keeps updatedAt ids; a log-position Last-Event-ID is ignored; logPosition alone (without changedSince) is not used', async () => {
    const backend = createMemoryJobBackend();
    backend.create({ id: 'a', owner: 'alice' }); // T0
    vi.advanceTimersByTime(1000);
    backend.create({ id: 'b', owner: 'alice' }); // T0 + 1000
    const logPosition = vi.fn(async () => '1-0');
    const store: JobStore = { ...backend, logPosition };
    const { handler } = handlerFor(store);

    const stream = readEvents(await handler(eventsRequest(['a', 'b'])));
    await flush();
    expect(stream.events()).toEqual([
      { event: 'job', id: String(T0), data: backend.get('a') },
      { event: 'job', id: String(T0 + 1000), data: backend.get('b') },
    ]);
    vi.advanceTimersByTime(1000);
    backend.start('a');
    await flush();
    expect(stream.events().at(-1)).toEqual({ event: 'job', id: String(T0 + 2000), data: backend.get('a') });
    await stream.cancel();

    // An updatedAt Last-Event-ID still leaves out older jobs …
    const resumed = readEvents(await handler(eventsRequest(['a', 'b'], { lastEventId: String(T0 + 2000) })));
    await flush();
    expect(resumed.jobs().map((job) => job.id)).toEqual(['a']);
    await resumed.cancel();
    // … and a log position is not one: full snapshot.
    const positioned = readEvents(await handler(eventsRequest(['a', 'b'], { lastEventId: '99999999999999-0' })));
    await flush();
    expect(positioned.jobs().map((job) => job.id)).toEqual(['b', 'a']);
    await positioned.cancel();
    expect(logPosition).not.toHaveBeenCalled();
  });
});
