import { QueryClient, QueryClientContext, QueryClientProvider } from '@tanstack/react-query';
import { createContext, useContext, useEffect, useMemo, useRef, useState, type ReactNode } from 'react';
import { createJobWatcher, type JobWatcher } from '../core/createJobWatcher';
import type { Job, JobClient } from '../contract/types';
import { createJobKeys, type JobKeys } from './jobKeys';
import { queryClientJobCache, type QueryClientJobCache } from './queryClientJobCache';
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
  /** Called once per job id for the whole app, whichever components watch it, when the job is first seen terminal. The place for toasts. */
  onJobSettled?: (job: Job) => void;
  /** The app. */
  children?: ReactNode;
}

/**
 * Gives every jobwatch hook and component below it a {@link JobClient} and
 * one shared job watcher. Uses the app's QueryClient when there is one, so
 * job data can be read, prefetched and invalidated with React Query's usual
 * calls under {@link jobKeys}.
 */
export function JobClientProvider({ client, queryClient, scope, onJobSettled, children }: JobClientProviderProps) {
  const ambient = useContext(QueryClientContext);
  const [ownQueryClient] = useState(() => (queryClient ?? ambient ? null : new QueryClient()));
  const qc = (queryClient ?? ambient ?? ownQueryClient) as QueryClient;

  const onJobSettledRef = useRef(onJobSettled);
  const [local] = useState(createLocal);
  const [state, setState] = useState(() => makeWatcher(qc, client, onJobSettledRef, scope));
  let current = state;
  if (state.queryClient !== qc || state.scope !== scope) {
    // A different QueryClient or scope means different data: start over with a new watcher.
    // (Making one has no effect outside it: it starts nothing until it is used.)
    current = makeWatcher(qc, client, onJobSettledRef, scope);
    setState(current);
  }
  const { watcher, keys, cache } = current;

  // The watcher is told of a new client or callback once this render commits, never during
  // render: a render React throws away (suspended, interrupted, StrictMode's second one) changes nothing.
  // Children's first render needs neither: the watcher was made with the client of that render.
  useIsomorphicLayoutEffect(() => {
    onJobSettledRef.current = onJobSettled;
  });
  useIsomorphicLayoutEffect(() => watcher.setClient(client), [watcher, client]);
  useEffect(() => cache.connect(watcher), [cache, watcher]);

  const value = useMemo<JobContextValue>(
    () => ({ client, watcher, queryClient: qc, keys, local }),
    [client, watcher, qc, keys, local],
  );
  const tree = <JobContext.Provider value={value}>{children}</JobContext.Provider>;
  return qc === ambient ? tree : <QueryClientProvider client={qc}>{tree}</QueryClientProvider>;
}

function makeWatcher(
  queryClient: QueryClient,
  client: JobClient,
  onJobSettled: { current: ((job: Job) => void) | undefined },
  scope: string | undefined,
): { queryClient: QueryClient; scope: string | undefined; keys: JobKeys; cache: QueryClientJobCache; watcher: JobWatcher } {
  let countsRefreshQueued = false;
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
    client,
    cache,
    onJobStatusChange(_job, previous) {
      if (previous) refreshCounts();
    },
    // A job just started is seen first with its first answer: counts read before it existed miss it.
    onJobFirstSeen: refreshCounts,
    onJobSettled(job) {
      onJobSettled.current?.(job);
    },
  });
  return { queryClient, scope, keys, cache, watcher };
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
