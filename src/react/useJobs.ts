import { useInfiniteQuery, type InfiniteData } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useSyncExternalStore } from 'react';
import type { WatchHandle, WatchOptions } from '../core/createJobWatcher';
import { isTerminal } from '../contract/states';
import { isNewerJob } from '../contract/ordering';
import { parseJobPage } from '../contract/parseJob';
import type { Job, JobFilter, JobPage } from '../contract/types';
import { useJobContext } from './JobClientProvider';
import type { PollInterval } from './types';
import { useIsomorphicLayoutEffect } from './useIsomorphicLayoutEffect';

/** Which jobs {@link useJobs} lists: a {@link JobFilter} without `cursor` (paging is the hook's job). */
export type UseJobsFilter = Omit<JobFilter, 'cursor'>;

/** Options of {@link useJobs}. Inline values (new objects or functions every render) never refetch or restart watching. */
export interface UseJobsOptions<TResult = unknown> {
  /** Set `false` to neither read the list nor watch its active rows; cached pages still show. Default `true`. */
  enabled?: boolean;
  /** How often each active row is polled, on the shared watcher's clock: ms, or `(job) => ms | false`. Default 2000. */
  pollInterval?: PollInterval<TResult>;
  /** Keep active rows fresh by push (the client's `subscribe`) when it has one. Default `true`. */
  live?: boolean;
  /**
   * Re-read the list every this many ms, to show jobs created elsewhere and
   * drop rows that no longer match the filter. A refetch re-reads every
   * loaded page, finished rows included. Default `false`: the list is read
   * when it mounts (and is stale) and on `refetch()` or
   * `invalidateQueries({ queryKey: jobKeys.lists() })`.
   */
  refetchInterval?: number | false;
}

/** What {@link useJobs} returns. Names follow TanStack Query's `useInfiniteQuery`. */
export interface UseJobsResult<TResult = unknown> {
  /**
   * The jobs of every loaded page, newest first as the server sorts them, each
   * in its latest known state: an active row shows what the shared watcher last
   * saw (it may settle while listed; it stays listed until the next refetch,
   * even when it no longer matches a `status` filter). Stable while nothing
   * changes, and a row that did not change keeps its object.
   */
  jobs: Job<TResult>[];
  /** The first page is being read and there is nothing to show yet. */
  isLoading: boolean;
  /** Any read of the list is in flight (first page, next page or refetch). */
  isFetching: boolean;
  /** The last error of the list (`JobRequestError` for a rejected filter or cursor, `JobProtocolError` for a malformed page, `JobTransportError`…), or `null`. Loaded pages stay. */
  error: Error | null;
  /** The last loaded page has a `nextCursor`. */
  hasNextPage: boolean;
  /** Reads the next page and appends it. Joins a read already in flight (a double click costs one request). */
  fetchNextPage: () => Promise<void>;
  /** The next page is being read. */
  isFetchingNextPage: boolean;
  /** Reads every loaded page again (new jobs appear at the top). A read in flight is cancelled and started over. */
  refetch: () => Promise<void>;
}

const NO_JOBS: Job[] = [];
const noop = () => {};

/** The filter as the server gets it and as the query key holds it: no cursor, no undefined fields. */
function listFilter(filter: UseJobsFilter): UseJobsFilter {
  const out: UseJobsFilter = {};
  if (filter.status !== undefined) out.status = filter.status;
  if (filter.meta !== undefined) out.meta = filter.meta;
  if (filter.limit !== undefined) out.limit = filter.limit;
  return out;
}

/** The rows of every page; a job repeated by a later page (offset paging under inserts) is listed once. */
function flatten(data: InfiniteData<JobPage> | undefined): Job[] {
  if (!data) return NO_JOBS;
  const seen = new Set<string>();
  const rows: Job[] = [];
  for (const page of data.pages) {
    for (const job of page.jobs) {
      if (seen.has(job.id)) continue;
      seen.add(job.id);
      rows.push(job);
    }
  }
  return rows;
}

/** The ids of the active jobs among `jobs`, as a string that stays equal while the set does. */
function activeIds(jobs: Job[]): string {
  return JSON.stringify(jobs.filter((job) => !isTerminal(job)).map((job) => job.id));
}

/**
 * Lists jobs, newest first, a page at a time: a project's history
 * (`{ meta: { projectId } }`) or every active job (`{ status: ['pending',
 * 'processing'] }`).
 *
 * The list is one `useInfiniteQuery` under `jobKeys.list(filter)`, paged with
 * the server's `nextCursor`; every page is validated. Rows that are still
 * active are then kept fresh by the provider's shared watcher — the same one
 * `useJobStatus` uses — never by re-reading the list: their polls join the
 * batched `getStatuses` rounds of every other watched job (or arrive by push),
 * and stop when the row settles. Finished rows are never read again. Rows
 * reflect the watcher at once, so a row settles in place.
 *
 * New jobs do not appear by themselves: call `refetch()` after creating one
 * (or invalidate `jobKeys.lists()`), or set `refetchInterval`. Focus and
 * reconnect do not re-read the list (that would re-read every finished row);
 * the watcher refreshes the active rows then.
 *
 * Re-renders: the component using the hook renders once per change of any
 * row (changes arriving together render once). Render rows with a memoized
 * component keyed by `job.id`: unchanged rows keep their object, so only the
 * row that changed renders again.
 *
 * @param filter which jobs: `status` (one state or several), `meta` (every
 *   key must match), `limit` (page size, 1–100; server default 20). May be
 *   a new object every render.
 * @example
 * const { jobs, hasNextPage, fetchNextPage, isFetchingNextPage } = useJobs({ meta: { projectId } });
 */
export function useJobs<TResult = unknown>(
  filter: UseJobsFilter = {},
  options: UseJobsOptions<TResult> = {},
): UseJobsResult<TResult> {
  const { client, watcher, queryClient, keys } = useJobContext();
  const enabled = options.enabled !== false;
  const key = listFilter(filter);

  const query = useInfiniteQuery(
    {
      queryKey: keys.list(key),
      queryFn: async ({ pageParam, signal }) => {
        const page = parseJobPage(await client.list(pageParam === null ? key : { ...key, cursor: pageParam }, { signal }));
        // Into the watcher (and its cache) before the rows render: a JobStatus for a row shows it at once.
        for (const job of page.jobs) watcher.ingest(job);
        return page;
      },
      initialPageParam: null as string | null,
      getNextPageParam: (page) => page.nextCursor,
      enabled,
      refetchInterval: options.refetchInterval ?? false,
      refetchIntervalInBackground: false,
      // Active rows are refreshed by the watcher on focus and reconnect; re-reading
      // the list then would re-read every finished row of every loaded page.
      refetchOnWindowFocus: false,
      refetchOnReconnect: false,
    },
    queryClient,
  );

  const rows = useMemo(() => flatten(query.data), [query.data]);
  const listed = useMemo(() => JSON.stringify(rows.map((job) => job.id)), [rows]);

  // Every listed row follows the watcher, not only the active ones: a finished
  // row can become active again (a retry), and an optimistic update or its
  // rollback must show. Following costs no request; only watched rows are read.
  const subscribe = useCallback(
    (listener: () => void) => {
      const ids = JSON.parse(listed) as string[];
      if (ids.length === 0) return noop;
      const unsubscribes = ids.map((id) => watcher.subscribe(id, listener));
      return () => unsubscribes.forEach((unsubscribe) => unsubscribe());
    },
    [watcher, listed],
  );
  const lastRef = useRef<{ rows: Job[]; seen: Array<Job | undefined>; jobs: Job[] } | null>(null);
  const getSnapshot = (): Job[] => {
    const seen = rows.map((row) => watcher.getSnapshot(row.id).job);
    const last = lastRef.current;
    if (last && last.rows === rows && last.seen.every((job, i) => job === seen[i])) return last.jobs;
    // The watcher's job wins unless the list brought a newer one (offered to the watcher just after).
    const jobs = rows.map((row, i) => {
      const job = seen[i];
      return job && !isNewerJob(job, row) ? job : row;
    });
    lastRef.current = { rows, seen, jobs };
    return jobs;
  };
  const jobs = useSyncExternalStore(subscribe, getSnapshot, getSnapshot);

  const optionsRef = useRef(options);
  useIsomorphicLayoutEffect(() => {
    optionsRef.current = options;
  });
  const watchOptions = useCallback((): WatchOptions => {
    const o = optionsRef.current;
    return { pollInterval: o.pollInterval as WatchOptions['pollInterval'], live: o.live };
  }, []);

  const handlesRef = useRef(new Map<string, WatchHandle>());

  // Offers every row to the watcher. This runs after the subscriptions above
  // exist, so active rows count as fresh and are not read again at once, and
  // finished rows are in the cache: a `JobStatus` rendered for one (the
  // history example) shows it without a read (semantic 13). A refetch that
  // shows a watched row finished settles it without another read.
  useEffect(() => {
    if (!enabled) return;
    for (const row of rows) watcher.ingest(row);
  }, [watcher, rows, enabled]);

  // Watches exactly the rows that are active now; a row that settles or leaves is released alone.
  const watched = enabled ? activeIds(jobs) : '[]';
  useEffect(() => {
    const handles = handlesRef.current;
    const ids = new Set(JSON.parse(watched) as string[]);
    for (const [id, handle] of handles) {
      if (ids.has(id)) continue;
      handle.release();
      handles.delete(id);
    }
    for (const id of ids) if (!handles.has(id)) handles.set(id, watcher.watch(id, watchOptions));
  }, [watcher, watched, watchOptions]);
  useEffect(
    () => () => {
      for (const handle of handlesRef.current.values()) handle.release();
      handlesRef.current.clear();
    },
    [watcher],
  );

  // A changed number or flag takes effect at once; a changed function is read at the next poll.
  const interval = typeof options.pollInterval === 'function' ? 'fn' : options.pollInterval;
  const firstRun = useRef(true);
  useEffect(() => {
    if (firstRun.current) {
      firstRun.current = false;
      return;
    }
    for (const handle of handlesRef.current.values()) handle.update();
  }, [interval, options.live]);

  const { fetchNextPage: fetchNext, refetch: refetchList } = query;
  const fetchNextPage = useCallback(async () => {
    await fetchNext({ cancelRefetch: false });
  }, [fetchNext]);
  const refetch = useCallback(async () => {
    await refetchList();
  }, [refetchList]);

  return {
    jobs: jobs as Job<TResult>[],
    isLoading: query.isLoading,
    isFetching: query.isFetching,
    error: query.error,
    hasNextPage: query.hasNextPage,
    fetchNextPage,
    isFetchingNextPage: query.isFetchingNextPage,
    refetch,
  };
}
