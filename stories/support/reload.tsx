import { QueryClient } from '@tanstack/react-query';
import { useEffect, useState, useSyncExternalStore, type ReactNode } from 'react';
import { JobClientProvider, useJobClient } from '../../src/index';
import type { JobClient, JobIdStorage } from '../../src/index';

/**
 * A browser tab that can be reloaded inside a story, for pages that keep
 * state across reloads (`useTrackedJobs`).
 *
 * What survives a reload here is what survives one in a browser: the
 * server (the story's backend, and the story's `JobClient` in front of it)
 * and the tab's storage. Everything else starts over: "Reload page" remounts
 * the page under a new key, with a new `JobClientProvider` (so a new
 * watcher), a new QueryClient (an empty cache), and a new storage object
 * over the same stored data (so jobwatch's per-storage state starts over too,
 * and the page reads its ids back from the data, as from `localStorage` after
 * a reload).
 *
 * The storage is in memory, one per mounted story, and not
 * `window.localStorage`: stories and test runs never see each other's ids,
 * and nothing needs clearing afterwards. (A real app passes nothing, or
 * `localStorage`, to `useTrackedJobs`.)
 */

/** The tab's storage: data kept across reloads, opened anew by every page load. */
export interface TabStorage {
  /** A new `JobIdStorage` object over the tab's data, as a page load gets its own `window.localStorage`. */
  open(): JobIdStorage;
  /** Calls `listener` after every change of the data. */
  subscribe(listener: () => void): () => void;
  /** The stored entries, `[key, value]` in insertion order; the same array until the data changes. */
  getSnapshot(): ReadonlyArray<readonly [string, string]>;
}

/** An empty in-memory tab storage. */
export function createTabStorage(): TabStorage {
  const items = new Map<string, string>();
  const listeners = new Set<() => void>();
  let snapshot: ReadonlyArray<readonly [string, string]> = [];
  const changed = () => {
    snapshot = [...items.entries()];
    for (const listener of [...listeners]) listener();
  };
  return {
    open: () => ({
      getItem: (key) => items.get(key) ?? null,
      setItem: (key, value) => {
        items.set(key, String(value));
        changed();
      },
      removeItem: (key) => {
        if (items.delete(key)) changed();
      },
    }),
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
    getSnapshot: () => snapshot,
  };
}

/** One page load: its own provider (watcher) and QueryClient, and its own storage object over the tab's data. */
function PageLoad({ client, tab, children }: { client: JobClient; tab: TabStorage; children: (storage: JobIdStorage) => ReactNode }) {
  const [queryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { retry: false } } }));
  const [storage] = useState(() => tab.open());
  // The page goes away: its cached queries and their timers with it.
  useEffect(() => () => queryClient.clear(), [queryClient]);
  return (
    <JobClientProvider client={client} queryClient={queryClient}>
      {children(storage)}
    </JobClientProvider>
  );
}

/** How a {@link ReloadableTab} is framed. */
export type TabFrame =
  /** A browser window: a reload button and an address bar, nothing else (what showcase stories use). */
  | 'browser'
  /**
   * The same, plus what a test reads: the number of the page load ("Page load 2",
   * `data-testid="page-load"`) and what the tab's storage holds
   * (`data-testid="tab-storage"`). Only for test-only stories.
   */
  | 'instrumented';

/**
 * Renders `children(storage)` as a page in a reloadable tab: a browser-like
 * frame whose reload button ("Reload page") mounts the page again, with an
 * address bar showing `address`; `frame="instrumented"` adds the page load's
 * number and what the tab's storage holds, for play functions.
 * Give `storage` to `useTrackedJobs`.
 *
 * Place it inside the story's `JobClientProvider` (a decorator): each page
 * load gets that provider's client (the backend itself, or a fetch client over
 * HTTP) and nothing else from it.
 */
export function ReloadableTab({
  children,
  frame = 'browser',
  address = 'app.example.com',
}: {
  children: (storage: JobIdStorage) => ReactNode;
  frame?: TabFrame;
  address?: string;
}) {
  const client = useJobClient();
  // useState, not module scope: one tab storage per mounted story.
  const [tab] = useState(createTabStorage);
  const [load, setLoad] = useState(1);
  const entries = useSyncExternalStore(tab.subscribe, tab.getSnapshot, tab.getSnapshot);
  return (
    <div className="jw-demo jw-demo-window">
      <div className="jw-demo-window__bar">
        <span className="jw-demo-window__dots" aria-hidden="true">
          <span />
          <span />
          <span />
        </span>
        <button type="button" className="jw-demo-window__reload" aria-label="Reload page" title="Reload page" onClick={() => setLoad((n) => n + 1)}>
          <span aria-hidden="true">↻</span>
        </button>
        <span className="jw-demo-window__address">{address}</span>
      </div>
      {frame === 'instrumented' && (
        <div className="jw-demo-window__bar" style={{ fontSize: '0.8125rem', background: '#fef3c7', color: '#78350f' }}>
          <span data-testid="page-load">Page load {load}</span>
          <span>
            Tab storage:{' '}
            <code data-testid="tab-storage">
              {entries.length === 0 ? 'empty' : entries.map(([key, value]) => `${key} = ${value}`).join('; ')}
            </code>
          </span>
        </div>
      )}
      <PageLoad key={load} client={client} tab={tab}>
        {children}
      </PageLoad>
    </div>
  );
}
