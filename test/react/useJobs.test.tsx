import { act, render, renderHook, screen } from '@testing-library/react';
import { StrictMode, useEffect, type ReactNode } from 'react';
import { JobProtocolError, JobRequestError, type Job, type JobClient } from '../../src/core';
import { JobList } from '../../src/components/JobList';
import { JobClientProvider, useJobContext } from '../../src/react/JobClientProvider';
import { useJobs, type UseJobsFilter, type UseJobsOptions } from '../../src/react/useJobs';
import { useJobStatus } from '../../src/react/useJobStatus';
import { createMemoryJobBackend, type MemoryBackendMethod, type MemoryJobBackend } from '../../src/testing';
import { advance, setVisibility, testQueryClient } from '../helpers';

/** A client of the backend without push, so a test sees the polling rounds. */
function pollingClient(backend: MemoryJobBackend): JobClient {
  const { subscribe: _push, ...client } = backend;
  return client;
}

function calls(backend: MemoryJobBackend, method: MemoryBackendMethod) {
  return backend.calls.filter((c) => c.method === method);
}

/** The ids each status read asked for: one entry per `getStatuses` or `getStatus` call. */
function statusReads(backend: MemoryJobBackend): string[][] {
  return backend.calls
    .filter((c) => c.method === 'getStatuses' || c.method === 'getStatus')
    .map((c) => (c.method === 'getStatus' ? [c.args[0] as string] : [...(c.args[0] as string[])].sort()));
}

function wrapperFor(client: JobClient, queryClient = testQueryClient()) {
  return ({ children }: { children?: ReactNode }) => (
    <StrictMode>
      <JobClientProvider client={client} queryClient={queryClient}>
        {children}
      </JobClientProvider>
    </StrictMode>
  );
}

function list(client: JobClient, filter?: UseJobsFilter, options?: UseJobsOptions) {
  return renderHook(({ f, o }) => useJobs(f, o), { wrapper: wrapperFor(client), initialProps: { f: filter, o: options } });
}

/** Finished jobs of a project, created oldest first (so they list newest first: the last created on top). */
function finished(backend: MemoryJobBackend, count: number, projectId = 'p1'): Job[] {
  return Array.from({ length: count }, () => {
    const job = backend.create({ meta: { projectId } });
    return backend.complete(job.id);
  });
}

const ids = (jobs: readonly Job[]) => jobs.map((job) => job.id);

beforeEach(() => {
  vi.useFakeTimers();
  setVisibility('visible');
});
afterEach(() => vi.useRealTimers());

describe('useJobs: history and paging', () => {
  it('lists the first page newest first and loads more with the cursor', async () => {
    const backend = createMemoryJobBackend();
    const jobs = finished(backend, 5);
    const { result } = list(backend, { meta: { projectId: 'p1' }, limit: 2 });
    expect(result.current.isLoading).toBe(true);
    await advance(0);
    expect(result.current).toMatchObject({ isLoading: false, error: null, hasNextPage: true, isFetchingNextPage: false });
    expect(ids(result.current.jobs)).toEqual([jobs[4]!.id, jobs[3]!.id]);

    await act(() => result.current.fetchNextPage());
    await advance(0);
    expect(ids(result.current.jobs)).toEqual([jobs[4]!.id, jobs[3]!.id, jobs[2]!.id, jobs[1]!.id]);
    await act(() => result.current.fetchNextPage());
    await advance(0);
    expect(ids(result.current.jobs)).toEqual(ids(jobs).reverse());
    expect(result.current.hasNextPage).toBe(false);

    const filters = calls(backend, 'list').map((c) => c.args[0] as { cursor?: string });
    expect(filters[0]).toEqual({ meta: { projectId: 'p1' }, limit: 2 });
    expect(filters.at(-2)!.cursor).toEqual(expect.any(String));
    expect(filters.at(-1)!.cursor).toEqual(expect.any(String));
    expect(filters.at(-1)!.cursor).not.toBe(filters.at(-2)!.cursor);
  });

  it('shows isFetchingNextPage while the next page is read, and a double click costs one request', async () => {
    const backend = createMemoryJobBackend({ latencyMs: (method) => (method === 'list' ? 100 : 0) });
    finished(backend, 3);
    const { result } = list(backend, { limit: 2 });
    await advance(100);
    const before = calls(backend, 'list').length;
    act(() => {
      void result.current.fetchNextPage();
      void result.current.fetchNextPage();
    });
    await advance(0);
    expect(result.current.isFetchingNextPage).toBe(true);
    await advance(110);
    expect(result.current.isFetchingNextPage).toBe(false);
    expect(result.current.jobs).toHaveLength(3);
    expect(calls(backend, 'list')).toHaveLength(before + 1);
  });

  it('filters by meta', async () => {
    const backend = createMemoryJobBackend();
    const mine = finished(backend, 2, 'p1');
    finished(backend, 2, 'p2');
    const { result } = list(backend, { meta: { projectId: 'p1' } });
    await advance(0);
    expect(ids(result.current.jobs)).toEqual(ids(mine).reverse());
  });

  it('filters by status: one state, or several', async () => {
    const backend = createMemoryJobBackend();
    const pending = backend.create();
    const processing = backend.create();
    backend.start(processing.id);
    const [done] = finished(backend, 1);
    const failed = backend.create();
    backend.fail(failed.id, 'Broken');

    const completedOnly = list(backend, { status: 'completed' });
    const active = list(backend, { status: ['pending', 'processing'] });
    await advance(0);
    expect(ids(completedOnly.result.current.jobs)).toEqual([done!.id]);
    expect(ids(active.result.current.jobs)).toEqual([processing.id, pending.id]);
    expect(calls(backend, 'list').map((c) => (c.args[0] as { status: unknown }).status)).toEqual(
      expect.arrayContaining(['completed', ['pending', 'processing']]),
    );
  });

  it('reads a list once for every component showing it, also under StrictMode', async () => {
    const backend = createMemoryJobBackend();
    finished(backend, 2);
    const { result } = renderHook(() => [useJobs({ meta: { projectId: 'p1' } }), useJobs({ meta: { projectId: 'p1' } })], {
      wrapper: wrapperFor(backend),
    });
    await advance(0);
    expect(result.current[0]!.jobs).toHaveLength(2);
    expect(ids(result.current[1]!.jobs)).toEqual(ids(result.current[0]!.jobs));
    expect(calls(backend, 'list')).toHaveLength(1);
  });
});

describe('useJobs: finished rows are never read again', () => {
  it('makes no request for finished rows: not on interval, focus or reconnect', async () => {
    const backend = createMemoryJobBackend();
    finished(backend, 5);
    const { result } = list(backend, { meta: { projectId: 'p1' } });
    await advance(0);
    expect(result.current.jobs).toHaveLength(5);
    const listed = calls(backend, 'list').length;

    await advance(60_000);
    setVisibility('hidden');
    setVisibility('visible');
    act(() => void window.dispatchEvent(new Event('focus')));
    act(() => void window.dispatchEvent(new Event('online')));
    await advance(60_000);

    expect(calls(backend, 'list')).toHaveLength(listed);
    expect(statusReads(backend)).toEqual([]);
    expect(calls(backend, 'subscribe')).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('reads only the active rows of a history, and stops once they settle', async () => {
    const backend = createMemoryJobBackend();
    finished(backend, 3);
    const a = backend.create({ meta: { projectId: 'p1' } });
    const b = backend.create({ meta: { projectId: 'p1' } });
    const { result } = list(pollingClient(backend), { meta: { projectId: 'p1' } });
    await advance(0);
    expect(result.current.jobs.map((job) => job.status)).toEqual(['pending', 'pending', 'completed', 'completed', 'completed']);

    await advance(2000);
    expect(statusReads(backend)).toEqual([[a.id, b.id].sort()]);

    backend.complete(a.id);
    await advance(2000);
    expect(result.current.jobs.find((job) => job.id === a.id)?.status).toBe('completed');
    await advance(2000);
    expect(statusReads(backend).slice(1)).toEqual([[a.id, b.id].sort(), [b.id]]);

    backend.complete(b.id);
    await advance(2000);
    const reads = statusReads(backend).length;
    await advance(60_000);
    expect(statusReads(backend)).toHaveLength(reads);
    expect(result.current.jobs.every((job) => job.status === 'completed')).toBe(true);
    expect(calls(backend, 'list')).toHaveLength(1);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('useJobs: active rows through the shared watcher', () => {
  it('polls active rows in the same getStatuses rounds as other watched jobs, never by re-reading the list', async () => {
    const backend = createMemoryJobBackend();
    const rows = [backend.create({ meta: { projectId: 'p1' } }), backend.create({ meta: { projectId: 'p1' } })];
    const elsewhere = backend.create({ meta: { projectId: 'p2' } });
    const client = pollingClient(backend);
    const { result } = renderHook(
      () => ({ list: useJobs({ meta: { projectId: 'p1' } }), status: useJobStatus(elsewhere.id) }),
      { wrapper: wrapperFor(client) },
    );
    await advance(0);
    const listed = calls(backend, 'list').length;
    // Listed rows were just read: not read again at once. The other job is.
    expect(statusReads(backend)).toEqual([[elsewhere.id]]);

    await advance(2000);
    expect(statusReads(backend).slice(1)).toEqual([[...ids(rows), elsewhere.id].sort()]);
    await advance(2000 * 3);
    expect(statusReads(backend)).toHaveLength(1 + 4);
    expect(calls(backend, 'getStatuses')).toHaveLength(4);
    expect(calls(backend, 'list')).toHaveLength(listed);
    expect(result.current.status.status).toBe('pending');
  });

  it('shows a row in its latest state as the watcher sees it, and keeps unchanged rows as they were', async () => {
    const backend = createMemoryJobBackend();
    const a = backend.create();
    const b = backend.create();
    const { result } = list(pollingClient(backend));
    await advance(0);
    const [rowB, rowA] = result.current.jobs;
    expect(ids([rowB!, rowA!])).toEqual([b.id, a.id]);

    backend.start(a.id);
    backend.progress(a.id, 0.5, 'Halfway');
    await advance(2000);
    expect(result.current.jobs[1]).toMatchObject({ id: a.id, status: 'processing', progress: 0.5, progressMessage: 'Halfway' });
    // Only the row that changed is a new object (memoized rows render alone).
    expect(result.current.jobs[0]).toBe(rowB);
  });

  it('renders once for changes of several rows that arrive together', async () => {
    const backend = createMemoryJobBackend();
    const rows = [backend.create(), backend.create(), backend.create()];
    let commits = 0;
    function Rows() {
      const { jobs } = useJobs();
      useEffect(() => {
        commits += 1;
      });
      return <p>{jobs.map((job) => job.status).join(' ')}</p>;
    }
    render(<Rows />, { wrapper: wrapperFor(pollingClient(backend)) });
    await advance(10);
    expect(screen.getByText('pending pending pending')).toBeTruthy();
    commits = 0;
    rows.forEach((row) => backend.start(row.id));
    await advance(2000);
    expect(screen.getByText('processing processing processing')).toBeTruthy();
    expect(commits).toBe(1);
  });

  it('follows active rows by push when the client has it, without polling', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create({ meta: { projectId: 'p1' }, queuedMs: 500, runningMs: 1000 });
    finished(backend, 2);
    const { result } = list(backend, { meta: { projectId: 'p1' } });
    await advance(0);
    expect(calls(backend, 'subscribe').map((c) => c.args[0])).toEqual([job.id]);
    await advance(600);
    expect(result.current.jobs.find((j) => j.id === job.id)?.status).toBe('processing');
    await advance(1000);
    expect(result.current.jobs.find((j) => j.id === job.id)?.status).toBe('completed');
    expect(statusReads(backend)).toEqual([]);
    await advance(60_000);
    expect(statusReads(backend)).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('follows pollInterval and live: false', async () => {
    const backend = createMemoryJobBackend();
    backend.create();
    list(backend, {}, { pollInterval: 5000, live: false });
    await advance(0);
    expect(calls(backend, 'subscribe')).toEqual([]);
    await advance(4999);
    expect(statusReads(backend)).toHaveLength(0);
    await advance(1);
    expect(statusReads(backend)).toHaveLength(1);
  });

  it('keeps a row settled when a later page or refetch still lists it as active', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const stale = backend.get(job.id)!;
    let answer: 'live' | 'stale' = 'live';
    const client: JobClient = {
      ...pollingClient(backend),
      // A lagging read replica: lists the job as it was before it completed.
      list: async (filter, o) => (answer === 'stale' ? { jobs: [stale], nextCursor: null } : backend.list(filter, o)),
    };
    const { result } = list(client);
    await advance(0);
    backend.complete(job.id);
    await advance(2000);
    expect(result.current.jobs[0]!.status).toBe('completed');
    const reads = statusReads(backend).length;
    answer = 'stale';
    await act(() => result.current.refetch());
    await advance(10_000);
    expect(result.current.jobs[0]!.status).toBe('completed');
    expect(statusReads(backend)).toHaveLength(reads);
  });
});

describe('useJobs: jobs changed by mutations (watcher.replace)', () => {
  it('shows an optimistic cancel of an active row at once, and its rollback', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const { result } = renderHook(() => ({ list: useJobs(), context: useJobContext() }), {
      wrapper: wrapperFor(pollingClient(backend)),
    });
    await advance(0);
    const { watcher } = result.current.context;
    const previous = watcher.getSnapshot(job.id).job!;
    act(() => void watcher.replace({ ...previous, status: 'cancelled' }));
    expect(result.current.list.jobs[0]!.status).toBe('cancelled');
    act(() => void watcher.replace(previous));
    expect(result.current.list.jobs[0]!.status).toBe('pending');
    // Watched again after the rollback.
    backend.start(job.id);
    await advance(2000);
    expect(result.current.list.jobs[0]!.status).toBe('processing');
  });

  it('follows a finished row that is retried until it settles again', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    backend.fail(job.id, 'Broken');
    const { result } = renderHook(() => ({ list: useJobs(), context: useJobContext() }), {
      wrapper: wrapperFor(pollingClient(backend)),
    });
    await advance(2000);
    expect(result.current.list.jobs[0]!.status).toBe('failed');
    expect(statusReads(backend)).toEqual([]);

    // What useRetryJob does with the server's answer.
    const retried = await backend.retry(job.id);
    act(() => void result.current.context.watcher.replace(retried));
    expect(result.current.list.jobs[0]).toMatchObject({ status: 'pending', retryCount: 1 });
    backend.complete(job.id);
    await advance(2000);
    expect(result.current.list.jobs[0]!.status).toBe('completed');
    const reads = statusReads(backend).length;
    expect(reads).toBeGreaterThan(0);
    await advance(60_000);
    expect(statusReads(backend)).toHaveLength(reads);
    expect(calls(backend, 'list')).toHaveLength(1);
  });
});

describe('useJobs: inline options', () => {
  it('neither refetches nor resubscribes when the filter and options are new objects every render', async () => {
    const backend = createMemoryJobBackend();
    backend.create({ meta: { projectId: 'p1' } });
    backend.create({ meta: { projectId: 'p1' } });
    finished(backend, 2);
    const { result, rerender } = renderHook(
      () => useJobs({ meta: { projectId: 'p1' }, status: ['pending', 'processing', 'completed'], limit: 10 }, { pollInterval: 2000, live: true }),
      { wrapper: wrapperFor(backend) },
    );
    await advance(0);
    const jobs = result.current.jobs;
    const before = backend.calls.length;
    for (let i = 0; i < 5; i++) rerender();
    await advance(0);
    expect(backend.calls).toHaveLength(before);
    expect(result.current.jobs).toBe(jobs);
    expect(calls(backend, 'subscribe')).toHaveLength(2);
  });

  it('reads again when the filter really changes', async () => {
    const backend = createMemoryJobBackend();
    const p1 = finished(backend, 1, 'p1');
    const p2 = finished(backend, 1, 'p2');
    const { result, rerender } = list(backend, { meta: { projectId: 'p1' } });
    await advance(0);
    expect(ids(result.current.jobs)).toEqual(ids(p1));
    rerender({ f: { meta: { projectId: 'p2' } }, o: undefined });
    await advance(0);
    expect(ids(result.current.jobs)).toEqual(ids(p2));
  });
});

describe('useJobs: new jobs', () => {
  it('shows new jobs after refetch(), and reads nothing by itself before', async () => {
    const backend = createMemoryJobBackend();
    const old = finished(backend, 1);
    const { result } = list(backend, { meta: { projectId: 'p1' } });
    await advance(0);
    const created = backend.create({ meta: { projectId: 'p1' } });
    await advance(60_000);
    expect(ids(result.current.jobs)).toEqual(ids(old));
    await act(() => result.current.refetch());
    await advance(0);
    expect(ids(result.current.jobs)).toEqual([created.id, old[0]!.id]);
  });

  it('with refetchInterval, discovers new jobs and drops rows that no longer match', async () => {
    const backend = createMemoryJobBackend();
    const first = backend.create();
    const { result } = list(pollingClient(backend), { status: ['pending', 'processing'] }, { refetchInterval: 10_000 });
    await advance(0);
    expect(ids(result.current.jobs)).toEqual([first.id]);
    backend.complete(first.id);
    const second = backend.create();
    await advance(2000);
    // Settled in place: still listed until the list is read again.
    expect(result.current.jobs.map((job) => [job.id, job.status])).toEqual([[first.id, 'completed']]);
    await advance(8000);
    // React Query hands results to components on a zero-delay timer.
    await advance(10);
    expect(ids(result.current.jobs)).toEqual([second.id]);
  });
});

describe('useJobs: errors', () => {
  it('reports a rejected cursor as JobRequestError and keeps the loaded pages', async () => {
    const backend = createMemoryJobBackend();
    finished(backend, 3);
    const client: JobClient = {
      ...backend,
      // An expired cursor: the server hands it out, then rejects it.
      list: async (filter, o) => ({ ...(await backend.list(filter, o)), nextCursor: filter?.cursor ? null : 'expired' }),
    };
    const { result } = list(client, { limit: 2 });
    await advance(0);
    expect(result.current.jobs).toHaveLength(2);
    await act(() => result.current.fetchNextPage());
    await advance(0);
    expect(result.current.error).toBeInstanceOf(JobRequestError);
    expect(result.current.error).toMatchObject({ status: 400, code: 'bad_request' });
    expect(result.current.jobs).toHaveLength(2);
  });

  it('reports a malformed page as JobProtocolError naming the field', async () => {
    const backend = createMemoryJobBackend();
    finished(backend, 1);
    const client: JobClient = {
      ...backend,
      list: async () => ({ jobs: [{ id: 'x', status: 'done' }], nextCursor: null }) as never,
    };
    const { result } = list(client);
    await advance(0);
    expect(result.current.error).toBeInstanceOf(JobProtocolError);
    expect((result.current.error as JobProtocolError).field).toBe('jobs[0].status');
    expect(result.current.jobs).toEqual([]);
    expect(result.current.isLoading).toBe(false);
  });

  it('reports a rejected filter as JobRequestError', async () => {
    const backend = createMemoryJobBackend();
    const { result } = list(backend, { limit: 500 });
    await advance(0);
    expect(result.current.error).toBeInstanceOf(JobRequestError);
  });
});

describe('useJobs: enabled and unmount', () => {
  it('reads and watches nothing while disabled, and starts when enabled', async () => {
    const backend = createMemoryJobBackend();
    backend.create();
    const { result, rerender } = list(backend, {}, { enabled: false });
    await advance(10_000);
    expect(backend.calls).toEqual([]);
    expect(result.current).toMatchObject({ jobs: [], isLoading: false });
    rerender({ f: {}, o: { enabled: true } });
    await advance(0);
    expect(result.current.jobs).toHaveLength(1);
    expect(calls(backend, 'subscribe')).toHaveLength(1);
    rerender({ f: {}, o: { enabled: false } });
    await advance(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('unmount stops watching and leaves no timer', async () => {
    const backend = createMemoryJobBackend();
    backend.create({ queuedMs: 5000, runningMs: 5000 });
    backend.create();
    finished(backend, 2);
    const { unmount } = list(pollingClient(backend));
    await advance(2000);
    expect(vi.getTimerCount()).toBeGreaterThan(0);
    unmount();
    expect(vi.getTimerCount()).toBe(0);
    const reads = statusReads(backend).length;
    await advance(60_000);
    expect(statusReads(backend)).toHaveLength(reads);
  });

  it('unmount aborts the list read in flight', async () => {
    const backend = createMemoryJobBackend({ latencyMs: 1000 });
    backend.create();
    const { unmount } = list(backend);
    await advance(0);
    const signal = (calls(backend, 'list').at(-1)!.args[1] as { signal: AbortSignal }).signal;
    unmount();
    expect(signal.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('JobList', () => {
  it('renders what its children function returns, with the hook state', async () => {
    const backend = createMemoryJobBackend();
    const jobs = finished(backend, 3);
    render(
      <JobList filter={{ meta: { projectId: 'p1' }, limit: 2 }}>
        {({ jobs: rows, hasNextPage, fetchNextPage, isLoading }) =>
          isLoading ? (
            <p>Loading…</p>
          ) : (
            <>
              <ul>
                {rows.map((job) => (
                  <li key={job.id}>
                    {job.id}: {job.status}
                  </li>
                ))}
              </ul>
              {hasNextPage && (
                <button type="button" onClick={() => void fetchNextPage()}>
                  Load more
                </button>
              )}
            </>
          )
        }
      </JobList>,
      { wrapper: wrapperFor(backend) },
    );
    expect(screen.getByText('Loading…')).toBeTruthy();
    await advance(0);
    expect(screen.getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      `${jobs[2]!.id}: completed`,
      `${jobs[1]!.id}: completed`,
    ]);
    act(() => screen.getByRole('button', { name: 'Load more' }).click());
    await advance(0);
    expect(screen.getAllByRole('listitem')).toHaveLength(3);
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
  });
});
