import type { JobFilter } from '../contract/types';

/** Query keys of one provider scope; see {@link jobKeys} and {@link createJobKeys}. */
export interface JobKeys {
  /** Everything jobwatch caches in this scope. */
  readonly all: readonly [string];
  /** Every job status. */
  statuses(): readonly [string, 'status'];
  /** One job's status (data: `Job`). */
  status(id: string): readonly [string, 'status', string];
  /** Every job list. */
  lists(): readonly [string, 'list'];
  /** One list (data: `JobPage`). */
  list(filter?: Omit<JobFilter, 'cursor'>): readonly [string, 'list', Omit<JobFilter, 'cursor'>];
  /** Every pending count, or the one scoped by `meta` (data: `PendingCount`). */
  counts(meta?: Record<string, string>): readonly [string, 'counts'] | readonly [string, 'counts', Record<string, string>];
}

/**
 * The query keys of a `<JobClientProvider scope>`: `['jobwatch:<scope>', …]`. Without a scope,
 * {@link jobKeys}. Two providers for two backends under one QueryClient need two scopes, or
 * their jobs with the same id (BullMQ numbers every queue's jobs from 1) share one cache entry.
 *
 * @example
 * <JobClientProvider client={exportsClient} scope="exports">…</JobClientProvider>
 * queryClient.getQueryData(createJobKeys('exports').status('1'));
 */
export function createJobKeys(scope?: string): JobKeys {
  const root = scope === undefined ? 'jobwatch' : `jobwatch:${scope}`;
  return {
    all: [root],
    statuses: () => [root, 'status'],
    status: (id) => [root, 'status', id],
    lists: () => [root, 'list'],
    list: (filter = {}) => [root, 'list', filter],
    counts: (meta) => (meta ? [root, 'counts', meta] : [root, 'counts']),
  };
}

/**
 * Query keys under which jobwatch keeps data in the QueryClient, for
 * `getQueryData`, `setQueryData`, `prefetchQuery` and `invalidateQueries`
 * (a provider with a `scope` uses {@link createJobKeys}`(scope)` instead).
 *
 * @example
 * queryClient.getQueryData(jobKeys.status(id)); // the latest Job
 * queryClient.invalidateQueries({ queryKey: jobKeys.counts() }); // every count
 */
export const jobKeys: JobKeys = /* @__PURE__ */ createJobKeys();
