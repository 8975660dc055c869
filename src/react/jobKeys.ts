import type { JobFilter } from '../core/types';

/**
 * Query keys under which jobwatch keeps data in the QueryClient, for
 * `getQueryData`, `setQueryData`, `prefetchQuery` and `invalidateQueries`.
 *
 * @example
 * queryClient.getQueryData(jobKeys.status(id)); // the latest Job
 * queryClient.invalidateQueries({ queryKey: jobKeys.counts() }); // every count
 */
export const jobKeys = {
  /** Everything jobwatch caches. */
  all: ['jobwatch'] as const,
  /** Every job status. */
  statuses: () => ['jobwatch', 'status'] as const,
  /** One job's status (data: `Job`). */
  status: (id: string) => ['jobwatch', 'status', id] as const,
  /** Every job list. */
  lists: () => ['jobwatch', 'list'] as const,
  /** One list (data: `JobPage`). */
  list: (filter: Omit<JobFilter, 'cursor'> = {}) => ['jobwatch', 'list', filter] as const,
  /** Every pending count, or the one scoped by `meta` (data: `PendingCount`). */
  counts: (meta?: Record<string, string>) =>
    (meta ? (['jobwatch', 'counts', meta] as const) : (['jobwatch', 'counts'] as const)),
};
