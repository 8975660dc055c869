import { JobNotFoundError, JobProtocolError, JobTransportError, type JobClient } from '../../src/core';
import { createBackoff } from '../../src/core/watcher/backoff';
import { createPush, stopPush, type Pushable } from '../../src/core/watcher/push';
import { makeJob } from '../helpers';

type Listener = Parameters<NonNullable<JobClient['subscribe']>>[1] & { disconnected?(e: unknown): void };

/** A client whose subscriptions the test drives. */
function fakeClient() {
  const subs: Array<{ id: string; listener: Listener; closed: boolean }> = [];
  const client: JobClient = {
    getStatus: async () => makeJob(),
    list: async () => ({ jobs: [], nextCursor: null }),
    getPendingCount: async () => ({ pending: 0, processing: 0 }),
    subscribe(id, listener) {
      const sub = { id, listener: listener as Listener, closed: false };
      subs.push(sub);
      return () => void (sub.closed = true);
    },
  };
  return { client, subs, open: () => subs.filter((s) => !s.closed) };
}

const entry = (id = 'a'): Pushable => ({ id, unsubscribe: null, live: false, pushFailures: 0, pushTimer: null });

/** A push unit over `client`, recording every callback. */
function setup(client: JobClient, { wants = (): boolean => true, random = (): number => 1 }: { wants?: () => boolean; random?: () => number } = {}) {
  const events: Array<[string, ...unknown[]]> = [];
  const backoff = createBackoff(random);
  const push = createPush<Pushable>(
    () => client,
    backoff,
    wants,
    (e, job, becameLive) => events.push(['job', e.id, job.status, becameLive]),
    (e, wasLive) => events.push(['lost', e.id, wasLive]),
    (e, error, fatal) => events.push(['error', e.id, error.constructor.name, fatal]),
  );
  return { push, events, backoff };
}

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

describe('watcher push: subscriptions', () => {
  it('subscribes once per job, only when wanted and the client can', () => {
    const c = fakeClient();
    const { push } = setup(c.client);
    const a = entry();
    push.start(a);
    push.start(a);
    expect(c.subs).toHaveLength(1);
    const unwanted = setup(c.client, { wants: () => false });
    unwanted.push.start(entry('b'));
    expect(c.subs).toHaveLength(1);
    const { subscribe: _none, ...polling } = c.client;
    setup(polling).push.start(entry('c'));
    expect(c.subs).toHaveLength(1);
  });

  it('goes live with the first valid push for the job, and passes later ones on', () => {
    const c = fakeClient();
    const { push, events } = setup(c.client);
    const a = entry();
    push.start(a);
    const { listener } = c.subs[0]!;
    listener.next(makeJob({ id: 'other', status: 'processing' }));
    expect(events).toEqual([]);
    listener.next(makeJob({ id: 'a', status: 'processing', version: 2 }));
    listener.next(makeJob({ id: 'a', status: 'completed', version: 3 }));
    expect(a.live).toBe(true);
    expect(events).toEqual([
      ['job', 'a', 'processing', true],
      ['job', 'a', 'completed', false],
    ]);
  });

  it('reports a malformed push as a transient JobProtocolError and stays subscribed', () => {
    const c = fakeClient();
    const { push, events } = setup(c.client);
    push.start(entry());
    c.subs[0]!.listener.next({ id: 'a', status: 'exploded' } as never);
    expect(events).toEqual([['error', 'a', JobProtocolError.name, false]]);
    expect(c.open()).toHaveLength(1);
  });

  it('falls back on a dropped connection once, while the client reconnects by itself', () => {
    const c = fakeClient();
    const { push, events } = setup(c.client);
    const a = entry();
    push.start(a);
    const { listener } = c.subs[0]!;
    listener.disconnected?.(new JobTransportError('dropped'));
    expect(events).toEqual([]);
    listener.next(makeJob({ id: 'a' }));
    listener.disconnected?.(new JobTransportError('dropped'));
    listener.disconnected?.(new JobTransportError('dropped'));
    expect(a.live).toBe(false);
    expect(events.slice(1)).toEqual([['lost', 'a', true]]);
    expect(c.subs).toHaveLength(1);
  });

  it('stop unsubscribes, cancels a pending resubscribe, and ignores anything the old subscription still sends', async () => {
    const c = fakeClient();
    const { push, events } = setup(c.client);
    const a = entry();
    push.start(a);
    const { listener } = c.subs[0]!;
    stopPush(a);
    expect(c.open()).toHaveLength(0);
    listener.next(makeJob({ id: 'a' }));
    listener.error?.(new JobTransportError('late'));
    expect(events).toEqual([]);
    push.start(a);
    c.subs[1]!.listener.error?.(new JobTransportError('down'));
    expect(vi.getTimerCount()).toBe(1);
    stopPush(a);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sync follows what is wanted', () => {
    const c = fakeClient();
    let wanted = true;
    const { push } = setup(c.client, { wants: () => wanted });
    const a = entry();
    push.sync(a);
    expect(c.open()).toHaveLength(1);
    wanted = false;
    push.sync(a);
    expect(c.open()).toHaveLength(0);
  });
});

describe('watcher push: failures and resubscribe backoff', () => {
  it('falls back and resubscribes after 2 s, 4 s, 8 s (jittered), then resets after a push', async () => {
    const c = fakeClient();
    const { push, events } = setup(c.client);
    const a = entry();
    push.start(a);
    c.subs[0]!.listener.next(makeJob({ id: 'a' }));
    c.subs[0]!.listener.error?.(new JobTransportError('down', { status: 503 }));
    expect(events.at(-1)).toEqual(['lost', 'a', true]);
    expect(c.open()).toHaveLength(0);
    for (const wait of [2000, 4000, 8000]) {
      const before = c.subs.length;
      await vi.advanceTimersByTimeAsync(wait - 1);
      expect(c.subs).toHaveLength(before);
      await vi.advanceTimersByTimeAsync(1);
      expect(c.subs).toHaveLength(before + 1);
      if (wait < 8000) c.subs.at(-1)!.listener.error?.(new JobTransportError('down', { status: 503 }));
    }
    expect(events.at(-1)).toEqual(['lost', 'a', false]);
    c.subs.at(-1)!.listener.next(makeJob({ id: 'a' }));
    expect(a.pushFailures).toBe(0);
  });

  it('stops for good on a fatal error, with no resubscribe', async () => {
    const c = fakeClient();
    const { push, events } = setup(c.client);
    push.start(entry());
    c.subs[0]!.listener.error?.(new JobNotFoundError('a'));
    expect(events).toEqual([['error', 'a', JobNotFoundError.name, true]]);
    await vi.advanceTimersByTimeAsync(120_000);
    expect(c.subs).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('treats a subscribe call that throws as a failed subscription', () => {
    const c = fakeClient();
    const throwing: JobClient = {
      ...c.client,
      subscribe: () => {
        throw new JobTransportError('no stream');
      },
    };
    const { push, events } = setup(throwing);
    push.start(entry());
    expect(events).toEqual([['lost', 'a', false]]);
    expect(vi.getTimerCount()).toBe(1);
  });

  it('waits for Retry-After before any new subscription, and holds the rest back for one a failure asks', async () => {
    const c = fakeClient();
    const { push, backoff } = setup(c.client);
    backoff.hold(10_000);
    push.start(entry('a'));
    expect(c.subs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(9999);
    expect(c.subs).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(c.subs).toHaveLength(1);
    c.subs[0]!.listener.error?.(new JobTransportError('slow down', { status: 429, retryAfterMs: 60_000 }));
    expect(backoff.heldUntil()).toBe(Date.now() + 60_000);
    push.start(entry('b'));
    await vi.advanceTimersByTimeAsync(59_999);
    expect(c.subs).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(c.subs.map((s) => s.id).sort()).toEqual(['a', 'a', 'b']);
  });
});
