import type { ReactNode } from 'react';
import { useJobs, type UseJobsFilter, type UseJobsOptions, type UseJobsResult } from '../react/useJobs';

/** Props of {@link JobList}: the filter, every {@link useJobs} option, and the render function. */
export interface JobListProps<TResult = unknown> extends UseJobsOptions<TResult> {
  /**
   * Which jobs: `status`, `meta`, `limit` (page size). May be a new object every render. Default: every job.
   *
   * @default {} (every job, the server's page size)
   */
  filter?: UseJobsFilter;
  /**
   * Renders the list from `useJobs`'s state: `jobs`, `isLoading`,
   * `isFetching`, `error`, `hasNextPage`, `fetchNextPage`,
   * `isFetchingNextPage`, `refetch`.
   */
  children: (renderProps: UseJobsResult<TResult>) => ReactNode;
}

/**
 * Headless list of jobs: {@link useJobs} as a component, for JSX-only call
 * sites. It renders exactly what `children` returns and no element of its
 * own, so the markup (a table, a list, a feed), its roles and its "Load more"
 * button are yours.
 *
 * Active rows update live through the shared watcher and finished rows are
 * never read again (see `useJobs`). The component renders once per change of
 * any row; render each row from its `job` with a memoized component keyed by
 * `job.id`: a row that did not change keeps its object, so only the row that
 * changed renders again.
 *
 * @example
 * <JobList filter={{ meta: { projectId } }}>
 *   {({ jobs, hasNextPage, fetchNextPage, isFetchingNextPage }) => (
 *     <>
 *       <ul>{jobs.map((job) => <li key={job.id}>{job.id}: {job.status}</li>)}</ul>
 *       {hasNextPage && (
 *         <button onClick={() => fetchNextPage()} disabled={isFetchingNextPage}>Load more</button>
 *       )}
 *     </>
 *   )}
 * </JobList>
 */
export function JobList<TResult = unknown>({ filter, children, ...options }: JobListProps<TResult>) {
  return <>{children(useJobs<TResult>(filter, options))}</>;
}
