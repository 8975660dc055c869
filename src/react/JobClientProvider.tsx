import { QueryClient, QueryClientContext, QueryClientProvider } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { createJobWatcher, type JobWatcher } from '../core/createJobWatcher';
import type { Job, JobClient } from '../contract/types';
import type { ShareAcrossTabsOptions } from '../core/share/types';
import { createJobKeys, type JobKeys } from './jobKeys';
import { queryClientJobCache, type QueryClientJobCache } from './queryClientJobCache';
import { createLazySharedClient, shareOptionsOf, type JobShareMode, type LazySharedClient } from './shareTabs';
import { useIsomorphicLayoutEffect } from './useIsomorphicLayoutEffect';

/** @internal What the provider gives hooks. */
export interface JobContextValue {
  client: JobClient;
  watcher: JobWatcher;
  queryClient: QueryClient;
  /** The provider's query keys (its `scope`). */
  keys: JobKeys;
  /**
   * State this provider keeps for a kind of hook (hidden-poll requests, tracked-jobs
   * lists), made by `create` on first use and then returned again: `create` is the
   * key, so pass a function defined once at module level. Kept here, never in
   * module-level maps, so several providers on a page and server renders stay apart.
   */
  local<T>(create: () => T): T;
}

const JobContext = /* @__PURE__ */ createContext<JobContextValue | null>(null);

/** Props of {@link JobClientProvider}. */
export interface JobClientProviderProps {
  /** How jobs are read: your own object mapping your router, `createFetchJobClient(...)`, or `createMemoryJobBackend()` in tests. May change identity between renders without restarting anything. */
  client: JobClient;
  /** The QueryClient that holds job data. Default: the one of the surrounding `QueryClientProvider`, else one the provider creates. */
  queryClient?: QueryClient;
  /**
   * Keeps this provider's data apart in a shared QueryClient, under `createJobKeys(scope)`.
   * Needed when two providers for two backends share one QueryClient: jobs of both with the
   * same id would otherwise be one cache entry. Default: none (`jobKeys`).
   */
  scope?: string;
  /**
   * Called once per job id for the whole app, whichever components watch it, when the job is first seen terminal. The place for toasts.
   * While tabs share (`share`), once for all the tabs open when it settled.
   */
  onJobSettled?: (job: Job) => void;
  /**
   * One connection per browser: with `'tabs'`, the tabs of the app that use the same backend
   * (the client's `shareKey`) and `scope` elect a leader, and only the leader's watcher talks to
   * the server (one poll round per interval, one event stream); the others get its jobs over
   * BroadcastChannel, and another tab takes over when it closes. `'none'`: each tab on its own.
   * An object is `'tabs'` with options (a `key` for clients without `shareKey`; fakes in tests).
   * Default: `'tabs'` in browsers with BroadcastChannel and Web Locks when the client has a
   * `shareKey`; `'none'` on servers, in jsdom and for clients without one. Read when the provider
   * mounts (and when `scope` or the key changes).
   */
  share?: JobShareMode;
  /** The app. */
  children?: ReactNode;
}

/**
 * Gives every jobwatch hook and component below it a {@link JobClient} and
 * one shared job watcher. Uses the app's QueryClient when there is one, so
 * job data can be read, prefetched and invalidated with React Query's usual
 * calls under {@link jobKeys}.
 */
export function JobClientProvider({ client, queryClient, scope, onJobSettled, share, children }: JobClientProviderProps) {
  const ambient = useContext(QueryClientContext);
  const [ownQueryClient] = useState(() => (queryClient ?? ambient ? null : new QueryClient()));
  const qc = (queryClient ?? ambient ?? ownQueryClient) as QueryClient;

  const onJobSettledRef = useRef(onJobSettled);
  const [local] = useState(createLocal);
  const shareOptions = shareOptionsOf(share, client, scope);
  const shareKey = shareOptions?.key ?? null;
  const [state, setState] = useState(() => makeWatcher(qc, client, onJobSettledRef, scope, shareOptions));
  let current = state;
  if (state.queryClient !== qc || state.scope !== scope || state.shareKey !== shareKey) {
    // A different QueryClient, scope or tab group means different data: start over with a new watcher.
    // (Making one has no effect outside it: it starts nothing until it is used.)
    current = makeWatcher(qc, client, onJobSettledRef, scope, shareOptions);
    setState(current);
  }
  const { watcher, keys, cache, lazy } = current;

  // The watcher is told of a new client or callback once this render commits, never during
  // render: a render React throws away (suspended, interrupted, StrictMode's second one) changes nothing.
  // Children's first render needs neither: the watcher was made with the client of that render.
  useIsomorphicLayoutEffect(() => {
    onJobSettledRef.current = onJobSettled;
  });
  useIsomorphicLayoutEffect(() => (lazy ? lazy.setClient(client) : watcher.setClient(client)), [watcher, lazy, client]);
  useEffect(() => cache.connect(watcher), [cache, watcher]);
  // Joins the tab group once mounted (never during render or on a server).
  useEffect(() => lazy?.connect(), [lazy]);

  const hooksClient = lazy ?? client;
  const value = useMemo<JobContextValue>(
    () => ({ client: hooksClient, watcher, queryClient: qc, keys, local }),
    [hooksClient, watcher, qc, keys, local],
  );
  const tree = <JobContext.Provider value={value}>{children}</JobContext.Provider>;
  return qc === ambient ? tree : <QueryClientProvider client={qc}>{tree}</QueryClientProvider>;
}

function makeWatcher(
  queryClient: QueryClient,
  client: JobClient,
  onJobSettled: { current: ((job: Job) => void) | undefined },
  scope: string | undefined,
  shareOptions: ShareAcrossTabsOptions | null,
): {
  queryClient: QueryClient;
  scope: string | undefined;
  shareKey: string | null;
  keys: JobKeys;
  cache: QueryClientJobCache;
  watcher: JobWatcher;
  lazy: LazySharedClient | null;
} {
  let countsRefreshQueued = false;
  // Sharing: the watcher reads through the tab group; the coordination code is a separate chunk.
  const lazy = shareOptions
    ? createLazySharedClient(client, shareOptions, () => import('./shareTabsRuntime').then((m) => m.startShareRuntime))
    : null;
  const keys = createJobKeys(scope);
  const cache = queryClientJobCache(queryClient, keys);
  // A job that appears, starts, finishes or leaves changes the active counts:
  // refresh them now rather than at the next tick, so badges agree with
  // statuses. Changes arriving together cost one refresh.
  const refreshCounts = () => {
    if (countsRefreshQueued) return;
    countsRefreshQueued = true;
    queueMicrotask(() => {
      countsRefreshQueued = false;
      void queryClient.invalidateQueries({ queryKey: keys.counts() });
    });
  };
  const watcher = createJobWatcher({
    client: lazy ?? client,
    cache,
    onJobStatusChange(_job, previous) {
      if (previous) refreshCounts();
    },
    // A job just started is seen first with its first answer: counts read before it existed miss it.
    onJobFirstSeen: refreshCounts,
    onJobSettled(job) {
      const fire = () => onJobSettled.current?.(job);
      if (lazy) lazy.settleOnce(job, fire);
      else fire();
    },
  });
  return { queryClient, scope, shareKey: shareOptions?.key ?? null, keys, cache, watcher, lazy };
}

/** A provider's {@link JobContextValue.local}: one value per `create` function, for the provider's life. */
function createLocal(): JobContextValue['local'] {
  const values = new Map<() => unknown, unknown>();
  return <T,>(create: () => T): T => {
    if (!values.has(create)) values.set(create, create());
    return values.get(create) as T;
  };
}

/** @internal The provider's context; throws a clear error outside a provider. */
export function useJobContext(): JobContextValue {
  const value = useContext(JobContext);
  if (!value) {
    throw new Error('jobwatch: no JobClientProvider found. Wrap your app in <JobClientProvider client={...}>.');
  }
  return value;
}

/** The {@link JobClient} given to the nearest {@link JobClientProvider}. Throws outside a provider. */
export function useJobClient(): JobClient {
  return useJobContext().client;
}
