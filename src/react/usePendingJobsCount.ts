import { useQuery } from '@tanstack/react-query';
import { parsePendingCount } from '../contract/parseJob';
import { useJobContext } from './JobClientProvider';
import type { UsePendingJobsCountOptions, UsePendingJobsCountResult } from './types';

/** Default refresh interval of {@link usePendingJobsCount}, in ms. */
export const DEFAULT_COUNT_INTERVAL = 5000;

/**
 * Counts the active jobs (pending and processing), refreshed every 5 s while
 * the tab is visible and at once when a watched job changes status or gives its
 * first answer (so a job just started shows up while it is queued). A failed refresh
 * sets `error`, keeps the last good counts and is tried again at the next tick. Scope it with
 * `filter.meta`, e.g. one project's jobs.
 *
 * @example
 * const { total, pending, processing } = usePendingJobsCount({ filter: { meta: { projectId } } });
 */
export function usePendingJobsCount(options: UsePendingJobsCountOptions = {}): UsePendingJobsCountResult {
  const { client, queryClient, keys } = useJobContext();
  const meta = options.filter?.meta;
  const query = useQuery(
    {
      queryKey: keys.counts(meta ?? {}),
      queryFn: async ({ signal }) =>
        parsePendingCount(await client.getPendingCount(meta ? { meta } : undefined, { signal })),
      refetchInterval: options.pollInterval ?? DEFAULT_COUNT_INTERVAL,
      refetchIntervalInBackground: false,
      enabled: options.enabled !== false,
      // A failed refresh is retried at the next interval; the last good counts stay.
      retry: false,
    },
    queryClient,
  );
  const pending = query.data?.pending ?? 0;
  const processing = query.data?.processing ?? 0;
  return {
    pending,
    processing,
    total: pending + processing,
    isLoading: query.isPending && query.fetchStatus !== 'idle',
    error: query.error,
  };
}
