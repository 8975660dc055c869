import { queryOptions } from '@tanstack/react-query';
import { parseJob } from '../core/parseJob';
import type { Job, JobClient } from '../core/types';
import { createJobKeys, jobKeys } from './jobKeys';

/**
 * Query options that read one job, for prefetching and server rendering:
 * `await queryClient.prefetchQuery(jobStatusQueryOptions(client, id))`.
 * `useJobStatus(id)` under the same QueryClient starts from that data and,
 * when the job is already terminal, makes no request at all. For a provider
 * with a `scope`, pass the same `{ scope }`.
 */
export function jobStatusQueryOptions<TResult = unknown>(
  client: JobClient,
  id: string,
  /** `scope`: the `scope` of the provider that will show the job. */
  options: { scope?: string } = {},
) {
  return queryOptions({
    queryKey: (options.scope === undefined ? jobKeys : createJobKeys(options.scope)).status(id),
    queryFn: async ({ signal }): Promise<Job<TResult>> => parseJob<TResult>(await client.getStatus(id, { signal })),
  });
}
