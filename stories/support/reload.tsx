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

/**
 * Renders `children(storage)` as a page in a reloadable tab: a bar with a
 * "Reload page" button, the number of the page load ("Page load 2") and what
 * the tab's storage holds (`data-testid="tab-storage"`), above the page.
 * Give `storage` to `useTrackedJobs`.
 *
 * Place it inside the story's `JobClientProvider` (a decorator): each page
 * load gets that provider's client (the backend itself, or a fetch client over
 * HTTP) and nothing else from it.
 */
export function ReloadableTab({ children }: { children: (storage: JobIdStorage) => ReactNode }) {
  const client = useJobClient();
  // useState, not module scope: one tab storage per mounted story.
  const [tab] = useState(createTabStorage);
  const [load, setLoad] = useState(1);
  const entries = useSyncExternalStore(tab.subscribe, tab.getSnapshot, tab.getSnapshot);
  return (
    <div style={{ display: 'grid', gap: '1rem' }}>
      <div
        style={{
          display: 'flex',
          flexWrap: 'wrap',
          alignItems: 'center',
          gap: '0.75rem',
          padding: '0.375rem 0.5rem',
          borderRadius: '0.375rem',
          background: '#f3f4f6',
          color: '#374151',
          fontFamily: 'system-ui, sans-serif',
          fontSize: '0.8125rem',
        }}
      >
        <button type="button" onClick={() => setLoad((n) => n + 1)}>
          Reload page
        </button>
        <span data-testid="page-load">Page load {load}</span>
        <span>
          Tab storage:{' '}
          <code data-testid="tab-storage">
            {entries.length === 0 ? 'empty' : entries.map(([key, value]) => `${key} = ${value}`).join('; ')}
          </code>
        </span>
      </div>
      <PageLoad key={load} client={client} tab={tab}>
        {children}
      </PageLoad>
    </div>
  );
}
