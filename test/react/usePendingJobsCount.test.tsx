import { act, renderHook } from '@testing-library/react';
import { StrictMode, type ReactNode } from 'react';
import { JobProtocolError, type JobClient } from '../../src/core';
import { JobClientProvider } from '../../src/react/JobClientProvider';
import { usePendingJobsCount } from '../../src/react/usePendingJobsCount';
import { useJobStatus } from '../../src/react/useJobStatus';
import { createMemoryJobBackend, type MemoryJobBackend } from '../../src/testing';
import { advance, setVisibility, testQueryClient } from '../helpers';

function countCalls(backend: MemoryJobBackend): number {
  return backend.calls.filter((c) => c.method === 'getPendingCount').length;
}

function wrapperFor(client: JobClient) {
  const queryClient = testQueryClient();
  return ({ children }: { children?: ReactNode }) => (
    <StrictMode>
      <JobClientProvider client={client} queryClient={queryClient}>
        {children}
      </JobClientProvider>
    </StrictMode>
  );
}

beforeEach(() => {
  vi.useFakeTimers();
  setVisibility('visible');
});
afterEach(() => vi.useRealTimers());

describe('usePendingJobsCount', () => {
  it('counts pending and processing jobs and refreshes every 5 s', async () => {
    const backend = createMemoryJobBackend();
    const a = backend.create();
    backend.create();
    const { result } = renderHook(() => usePendingJobsCount(), { wrapper: wrapperFor(backend) });
    expect(result.current.isLoading).toBe(true);
    await advance(0);
    expect(result.current).toMatchObject({ pending: 2, processing: 0, total: 2, isLoading: false, error: null });
    const calls = countCalls(backend);
    backend.start(a.id);
    await advance(4999);
    expect(countCalls(backend)).toBe(calls);
    await advance(1);
    expect(countCalls(backend)).toBe(calls + 1);
    // React Query hands results to components on a zero-delay timer.
    await advance(10);
    expect(result.current).toMatchObject({ pending: 1, processing: 1, total: 2 });
  });

  it('scopes the count by meta, also with a filter object passed inline', async () => {
    const backend = createMemoryJobBackend();
    backend.create({ meta: { projectId: 'p1' } });
    backend.create({ meta: { projectId: 'p2' } });
    const { result, rerender } = renderHook(() => usePendingJobsCount({ filter: { meta: { projectId: 'p1' } } }), {
      wrapper: wrapperFor(backend),
    });
    await advance(0);
    const calls = countCalls(backend);
    for (let i = 0; i < 5; i++) rerender();
    await advance(0);
    expect(result.current.total).toBe(1);
    expect(countCalls(backend)).toBe(calls);
  });

  it('refreshes at once when a watched job settles', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const { result } = renderHook(() => [usePendingJobsCount({ pollInterval: 60_000 }), useJobStatus(job.id)] as const, {
      wrapper: wrapperFor(backend),
    });
    await advance(0);
    expect(result.current[0].total).toBe(1);
    act(() => void backend.complete(job.id));
    await advance(2000);
    expect(result.current[1].status).toBe('completed');
    expect(result.current[0].total).toBe(0);
  });

  it('pauses while the tab is hidden', async () => {
    const backend = createMemoryJobBackend();
    backend.create();
    renderHook(() => usePendingJobsCount(), { wrapper: wrapperFor(backend) });
    await advance(0);
    const calls = countCalls(backend);
    act(() => setVisibility('hidden'));
    await advance(30_000);
    expect(countCalls(backend)).toBe(calls);
  });

  it('reports a malformed count as JobProtocolError and keeps the last good counts', async () => {
    const backend = createMemoryJobBackend();
    backend.create();
    let broken = false;
    const client: JobClient = {
      ...backend,
      getPendingCount: async (filter, o) =>
        broken ? ({ pending: 'many' } as never) : backend.getPendingCount(filter, o),
    };
    const { result } = renderHook(() => usePendingJobsCount(), { wrapper: wrapperFor(client) });
    await advance(0);
    expect(result.current.total).toBe(1);
    broken = true;
    await advance(5000);
    await advance(10);
    expect(result.current.error).toBeInstanceOf(JobProtocolError);
    expect((result.current.error as JobProtocolError).field).toBe('pending');
    expect(result.current.total).toBe(1);
  });
});

describe('usePendingJobsCount and watched jobs', () => {
  it('refreshes when a watched job starts processing, so a badge agrees with the status beside it', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const { result } = renderHook(() => [usePendingJobsCount({ pollInterval: 60_000 }), useJobStatus(job.id)] as const, {
      wrapper: wrapperFor(backend),
    });
    await advance(0);
    expect(result.current[0]).toMatchObject({ pending: 1, processing: 0 });
    act(() => void backend.start(job.id));
    await advance(10);
    expect(result.current[1].status).toBe('processing');
    expect(result.current[0]).toMatchObject({ pending: 0, processing: 1 });
  });
});

it('refreshes counts once when many watched jobs change together', async () => {
  const backend = createMemoryJobBackend();
  const jobs = Array.from({ length: 20 }, () => backend.create());
  const { result } = renderHook(
    () => [usePendingJobsCount({ pollInterval: 60_000 }), ...jobs.map((j) => useJobStatus(j.id))] as const,
    { wrapper: wrapperFor(backend) },
  );
  await advance(0);
  const before = countCalls(backend);
  act(() => jobs.forEach((j) => backend.complete(j.id)));
  await advance(10);
  expect(result.current[0].total).toBe(0);
  expect(countCalls(backend)).toBe(before + 1);
});
