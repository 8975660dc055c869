// No React here: server components (Next.js App Router) import this from `jobwatch/core`.
// Only types come from @tanstack/react-query; the object is built by hand, as
// `queryOptions()` (an identity function at runtime) would return it.
import type { DataTag, DefaultError, UnusedSkipTokenOptions } from '@tanstack/react-query';
import { createJobKeys, jobKeys } from './jobKeys';
import { parseJob } from '../contract/parseJob';
import type { Job, JobClient } from '../contract/types';

/** The query key of one job's status: `['jobwatch', 'status', id]`, or `['jobwatch:<scope>', 'status', id]`. */
export type JobStatusQueryKey = readonly [string, 'status', string];

/**
 * What {@link jobStatusQueryOptions} returns: the type TanStack Query's
 * `queryOptions()` gives for the same `queryKey` and `queryFn`, so
 * `queryClient.getQueryData(options.queryKey)` is typed `Job<TResult> | undefined`.
 */
export type JobStatusQueryOptions<TResult = unknown> = UnusedSkipTokenOptions<
  Job<TResult>,
  DefaultError,
  Job<TResult>,
  JobStatusQueryKey
> & {
  /** `jobKeys.status(id)` (or the scope's), tagged with the data type. */
  queryKey: DataTag<JobStatusQueryKey, Job<TResult>, DefaultError>;
};

/**
 * Query options that read one job, for prefetching and server rendering:
 * `await queryClient.prefetchQuery(jobStatusQueryOptions(client, id))`.
 * `useJobStatus(id)` under the same QueryClient starts from that data and,
 * when the job is already terminal, makes no request at all. For a provider
 * with a `scope`, pass the same `{ scope }`.
 *
 * A plain `{ queryKey, queryFn }` object with no React in it: import it from
 * `jobwatch/core` in a React Server Component (the `jobwatch` entry is a
 * client module), prefetch, then `dehydrate` into a `HydrationBoundary`.
 * Only `client.getStatus` is used. The job it returns is validated (a payload that is not a job
 * rejects with `JobProtocolError`).
 *
 * @example
 * // app/jobs/[id]/page.tsx (a server component)
 * import { jobStatusQueryOptions } from 'jobwatch/core';
 * await queryClient.prefetchQuery(jobStatusQueryOptions(jobClient, id));
 */
export function jobStatusQueryOptions<TResult = unknown>(
  /** Any `JobClient`, or just its `getStatus` (e.g. a server-side store read as the signed-in user). */
  client: Pick<JobClient, 'getStatus'>,
  id: string,
  /** `scope`: the `scope` of the provider that will show the job. */
  options: { scope?: string | undefined } = {},
): JobStatusQueryOptions<TResult> {
  return {
    queryKey: (options.scope === undefined ? jobKeys : createJobKeys(options.scope)).status(id) as DataTag<
      JobStatusQueryKey,
      Job<TResult>,
      DefaultError
    >,
    queryFn: async ({ signal }) => parseJob<TResult>(await client.getStatus(id, { signal })),
  };
}
