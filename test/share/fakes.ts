/**
 * A fake browser for the tab-sharing tests: BroadcastChannel and Web Locks
 * shared by several "tabs" in one process, with tabs that close (their locks
 * released, as a browser does) or freeze (silent: nothing sent, messages kept
 * until they thaw).
 */
import { createJobWatcher, type JobClient, type JobWatcher, type JobWatcherEnvironment } from '../../src/core';
import { shareClientAcrossTabs } from '../../src/core/share/shareClientAcrossTabs';
import type { ShareAcrossTabsOptions, ShareChannel, SharedJobClient, ShareLocks } from '../../src/core/share/types';

interface FakeChannel extends ShareChannel {
  readonly tab: FakeTab;
  readonly name: string;
  closed: boolean;
}

interface Held {
  tab: FakeTab;
  reject(error: unknown): void;
  done: boolean;
}

interface Waiting {
  tab: FakeTab;
  grant(): void;
  reject(error: unknown): void;
}

/** One fake tab: its channels and locks die with it. */
export interface FakeTab {
  readonly id: string;
  /** Messages kept while frozen. */
  readonly inbox: Array<() => void>;
  frozen: boolean;
  closed: boolean;
  channel(name: string): ShareChannel;
  readonly locks: ShareLocks;
}

const abort = () => new DOMException('aborted', 'AbortError');

/** The fake browser (one origin). */
export function fakeBrowser() {
  const channels = new Set<FakeChannel>();
  const held = new Map<string, Held>();
  const queues = new Map<string, Waiting[]>();
  let posted = 0;

  function deliver(to: FakeChannel, data: unknown): void {
    const run = () => {
      if (!to.closed && !to.tab.closed) to.onmessage?.({ data: structuredClone(data) });
    };
    setTimeout(() => (to.tab.frozen ? to.tab.inbox.push(run) : run()), 0);
  }

  function grantNext(name: string): void {
    if (held.has(name)) return;
    const next = queues.get(name)?.shift();
    next?.grant();
  }

  function request(tab: FakeTab, name: string, options: { steal?: boolean; signal?: AbortSignal }, callback: (lock: unknown) => Promise<unknown>) {
    return new Promise<unknown>((resolve, reject) => {
      const grant = () => {
        const h: Held = { tab, reject, done: false };
        held.set(name, h);
        Promise.resolve()
          .then(() => callback({ name }))
          .then(
            (value) => {
              if (held.get(name) === h) {
                held.delete(name);
                grantNext(name);
              }
              if (!h.done) resolve(value);
              h.done = true;
            },
            (error: unknown) => {
              if (held.get(name) === h) {
                held.delete(name);
                grantNext(name);
              }
              if (!h.done) reject(error);
              h.done = true;
            },
          );
      };
      if (options.steal) {
        const holder = held.get(name);
        if (holder) {
          held.delete(name);
          holder.done = true;
          holder.reject(abort());
        }
        return grant();
      }
      if (!held.has(name) && (queues.get(name)?.length ?? 0) === 0) return grant();
      const waiting: Waiting = { tab, grant, reject };
      if (!queues.has(name)) queues.set(name, []);
      queues.get(name)!.push(waiting);
      options.signal?.addEventListener('abort', () => {
        const q = queues.get(name)!;
        const i = q.indexOf(waiting);
        if (i >= 0) {
          q.splice(i, 1);
          reject(abort());
        }
      });
    });
  }

  let count = 0;
  function tab(): FakeTab {
    const t: FakeTab = {
      id: `tab${++count}`,
      inbox: [],
      frozen: false,
      closed: false,
      channel(name) {
        const c: FakeChannel = {
          tab: t,
          name,
          closed: false,
          onmessage: null,
          postMessage(data) {
            if (c.closed || t.frozen || t.closed) return;
            posted += 1;
            for (const other of channels) if (other !== c && other.name === name) deliver(other, data);
          },
          close() {
            c.closed = true;
            channels.delete(c);
          },
        };
        channels.add(c);
        return c;
      },
      locks: { request: (name, options, callback) => request(t, name, options, callback) },
    };
    return t;
  }

  return {
    tab,
    posted: () => posted,
    /** Closes a tab as the browser would: no more messages, its locks released, its waits dropped. */
    close(t: FakeTab) {
      t.closed = true;
      for (const c of [...channels]) if (c.tab === t) c.close();
      for (const [name, h] of [...held]) {
        if (h.tab !== t) continue;
        held.delete(name);
        grantNext(name);
      }
      for (const q of queues.values()) for (let i = q.length - 1; i >= 0; i--) if (q[i]!.tab === t) q.splice(i, 1);
    },
    freeze(t: FakeTab) {
      t.frozen = true;
    },
    thaw(t: FakeTab) {
      t.frozen = false;
      for (const run of t.inbox.splice(0)) setTimeout(run, 0);
    },
    holder: (name: string) => held.get(name)?.tab.id ?? null,
  };
}

/** A tab's visibility and connectivity, set by the test. */
export function fakeEnvironment(visible = true) {
  let online = true;
  const listeners = new Set<() => void>();
  const environment: JobWatcherEnvironment = {
    isVisible: () => visible,
    isOnline: () => online,
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
  return {
    environment,
    setVisible(value: boolean) {
      visible = value;
      for (const l of [...listeners]) l();
    },
    setOnline(value: boolean) {
      online = value;
      for (const l of [...listeners]) l();
    },
  };
}

/** One app tab: a fake tab, its shared client and the tab's own watcher over it. */
export interface AppTab {
  readonly tab: FakeTab;
  readonly shared: SharedJobClient;
  readonly watcher: JobWatcher;
  readonly page: ReturnType<typeof fakeEnvironment>;
  readonly settled: string[];
}

/** Opens an app tab on `browser` sharing `client` under `key`. */
export function openTab(
  browser: ReturnType<typeof fakeBrowser>,
  client: JobClient,
  options: Partial<ShareAcrossTabsOptions> & { visible?: boolean; noLocks?: boolean } = {},
): AppTab {
  const tab = browser.tab();
  const page = fakeEnvironment(options.visible ?? true);
  const { visible: _v, noLocks, ...rest } = options;
  const shared = shareClientAcrossTabs(client, {
    key: 'k',
    channel: (name) => tab.channel(name),
    locks: noLocks ? null : tab.locks,
    environment: page.environment,
    lifecycle: null,
    tabId: `${String(Date.now()).padStart(15, '0')}-${tab.id}`,
    ...rest,
  });
  const settled: string[] = [];
  const watcher = createJobWatcher({ client: shared, environment: page.environment, onJobSettled: (job) => settled.push(job.id) });
  return { tab, shared, watcher, page, settled };
}

/** Closes an app tab as the browser would (no goodbye). */
export function crash(browser: ReturnType<typeof fakeBrowser>, app: AppTab): void {
  browser.close(app.tab);
  // The process of a closed tab is gone: nothing of it runs any more (its channel is already closed).
  app.shared.close();
}
