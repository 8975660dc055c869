/** The provider's lazily connected client (src/react/shareTabs.ts): waiting, (re)connecting, a chunk that fails to load. */
import { createJobWatcher, type JobClient, type JobSubscriptionListener } from '../../src/core';
import type { SharedJobClient } from '../../src/core/share/types';
import { createLazySharedClient, shareOptionsOf, type ShareRuntime } from '../../src/react/shareTabs';
import { createMemoryJobBackend } from '../../src/testing';

/** A runtime whose shared client records subscriptions and answers reads from the backend. */
function fakeRuntime(backend: JobClient, log: string[]): ShareRuntime {
  const shared = {
    ...backend,
    isLeader: true,
    setClient() {},
    close() {},
    subscribe(id: string, _listener: JobSubscriptionListener, hint?: { pollInterval?: number }) {
      log.push(`subscribe ${id} ${hint?.pollInterval ?? '-'}`);
      return () => log.push(`unsubscribe ${id}`);
    },
  } as SharedJobClient;
  return { shared, claim: (_key, won) => won(), close: () => log.push('close') };
}

describe('createLazySharedClient', () => {
  it('holds calls and subscriptions until connected, and makes them again after a reconnection', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const log: string[] = [];
    const lazy = createLazySharedClient(backend, { key: 'k' }, async () => () => fakeRuntime(backend, log));
    const off = (lazy.subscribe as (...a: unknown[]) => () => void)(job.id, { next() {} }, { pollInterval: 500 });
    const read = lazy.getStatus(job.id);
    expect(log).toEqual([]);
    const leave = lazy.connect();
    expect((await read).id).toBe(job.id);
    expect(log).toEqual([`subscribe ${job.id} 500`]);
    leave();
    expect(log.slice(1)).toEqual([`unsubscribe ${job.id}`, 'close']);
    lazy.connect();
    await Promise.resolve();
    await Promise.resolve();
    expect(log.at(-1)).toBe(`subscribe ${job.id} 500`);
    off();
    expect(log.at(-1)).toBe(`unsubscribe ${job.id}`);
  });

  it('works alone with the real client when the coordination code fails to load', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const lazy = createLazySharedClient(backend, { key: 'k' }, () => Promise.reject(new Error('chunk failed')));
    const read = lazy.getStatus(job.id);
    lazy.connect();
    expect((await read).id).toBe(job.id);
    const fired: string[] = [];
    lazy.settleOnce(job, () => fired.push('once'));
    expect(fired).toEqual(['once']);
  });

  it('offers only the optional calls the client has, so a tab working alone never calls a missing getStatuses', async () => {
    const backend = createMemoryJobBackend();
    const [a, b] = [backend.create(), backend.create()];
    const { getStatuses: _batch, cancel: _cancel, ...single } = backend;
    const lazy = createLazySharedClient(single as JobClient, { key: 'k' }, () => Promise.reject(new Error('chunk failed')));
    expect(lazy.getStatuses).toBeUndefined();
    expect(lazy.cancel).toBeUndefined();
    expect(typeof lazy.retry).toBe('function');
    lazy.connect();
    const watcher = createJobWatcher({ client: lazy });
    const handles = [watcher.watch(a.id), watcher.watch(b.id)];
    await vi.waitFor(() => expect(watcher.getSnapshot(b.id).job?.id).toBe(b.id));
    expect(watcher.getSnapshot(a.id)).toMatchObject({ job: { id: a.id }, error: null });
    for (const handle of handles) handle.release();
  });

  it('shares only where asked and possible: never with "none", keyed by the client and the scope', () => {
    const client = { ...createMemoryJobBackend(), shareKey: 'https://app.example/api/jobs' };
    expect(shareOptionsOf('none', client, undefined)).toBeNull();
    // jsdom: no Web Locks, so no sharing by default.
    expect(shareOptionsOf(undefined, client, undefined)).toBeNull();
    expect(shareOptionsOf('tabs', client, 'p1')?.key).toBe('https://app.example/api/jobs\np1');
    expect(shareOptionsOf({ key: 'mine' }, createMemoryJobBackend(), undefined)?.key).toBe('mine\n');
    expect(() => shareOptionsOf('tabs', createMemoryJobBackend(), undefined)).toThrow(TypeError);
  });
});
