import { act, renderHook } from '@testing-library/react';
import { StrictMode, type ReactNode } from 'react';
import { JobRequestError, JobTransportError, type Job, type JobClient } from '../../src/core';
import { JobClientProvider } from '../../src/react/JobClientProvider';
import { jobKeys } from '../../src/react/jobKeys';
import { useCancelJob } from '../../src/react/useCancelJob';
import { useJobStatus } from '../../src/react/useJobStatus';
import { usePendingJobsCount } from '../../src/react/usePendingJobsCount';
import { useRetryJob } from '../../src/react/useRetryJob';
import { createMemoryJobBackend, type MemoryJobBackend } from '../../src/testing';
import { advance, testQueryClient } from '../helpers';

function wrapperFor(client: JobClient, queryClient = testQueryClient(), onJobSettled?: (job: Job) => void) {
  return ({ children }: { children?: ReactNode }) => (
    <StrictMode>
      <JobClientProvider client={client} queryClient={queryClient} onJobSettled={onJobSettled}>
        {children}
      </JobClientProvider>
    </StrictMode>
  );
}

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** The backend as a client whose `cancel` answers only when the test says so. */
function slowCancel(backend: MemoryJobBackend) {
  const answer = deferred<Job>();
  const client: JobClient = { ...backend, cancel: vi.fn(() => answer.promise) };
  return { client, answer };
}

const counts = ({ pending, processing }: { pending: number; processing: number }) => ({ pending, processing });

/** One job watched (push off, slow polling, so the test decides what the client knows), and counts: all, project p1, project p2. */
function useScreen(id: string) {
  return {
    job: useJobStatus(id, { live: false, pollInterval: 60_000 }),
    all: usePendingJobsCount({ pollInterval: 60_000 }),
    p1: usePendingJobsCount({ filter: { meta: { projectId: 'p1' } }, pollInterval: 60_000 }),
    p2: usePendingJobsCount({ filter: { meta: { projectId: 'p2' } }, pollInterval: 60_000 }),
    cancel: useCancelJob(),
    retry: useRetryJob(),
  };
}

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('useCancelJob', () => {
  it('shows the cancel at once (job and counts) and puts both back when the server fails (500)', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create({ meta: { projectId: 'p1' } });
    backend.start(job.id);
    backend.create({ meta: { projectId: 'p2' } });
    const { client, answer } = slowCancel(backend);
    const { result } = renderHook(() => useScreen(job.id), { wrapper: wrapperFor(client) });
    await advance(10);
    expect(result.current.job.status).toBe('processing');
    expect(counts(result.current.all)).toEqual({ pending: 1, processing: 1 });
    expect(counts(result.current.p1)).toEqual({ pending: 0, processing: 1 });

    act(() => result.current.cancel.mutate(job.id));
    // The job at once; the counts as soon as React Query hands them over.
    expect(result.current.job.status).toBe('cancelled');
    expect(result.current.job.job?.finishedAt).toEqual(expect.any(String));
    await advance(10);
    expect(result.current.cancel.isPending).toBe(true);
    expect(result.current.job.status).toBe('cancelled');
    expect(counts(result.current.all)).toEqual({ pending: 1, processing: 0 });
    expect(counts(result.current.p1)).toEqual({ pending: 0, processing: 0 });
    // Another project's count does not include the job: untouched.
    expect(counts(result.current.p2)).toEqual({ pending: 1, processing: 0 });

    answer.reject(new JobTransportError('Internal Server Error', { status: 500 }));
    await advance(10);
    expect(result.current.job.status).toBe('processing');
    expect(result.current.cancel.error).toBeInstanceOf(JobTransportError);
    expect(counts(result.current.all)).toEqual({ pending: 1, processing: 1 });
    expect(counts(result.current.p1)).toEqual({ pending: 0, processing: 1 });

    // Watched again after the rollback: it follows the job to its real end.
    backend.complete(job.id);
    await advance(60_000);
    expect(result.current.job.status).toBe('completed');
  });

  it('keeps the optimistic counts while a count request from before the cancel answers late', async () => {
    const backend = createMemoryJobBackend({ latencyMs: (method) => (method === 'getPendingCount' ? 500 : 0) });
    const job = backend.create();
    const { client, answer } = slowCancel(backend);
    const { result } = renderHook(() => useScreen(job.id), { wrapper: wrapperFor(client) });
    await advance(510);
    expect(counts(result.current.all)).toEqual({ pending: 1, processing: 0 });

    act(() => result.current.cancel.mutate(job.id));
    // Whatever count requests the status change started, their (stale) answers would still say 1.
    await advance(1000);
    expect(counts(result.current.all)).toEqual({ pending: 0, processing: 0 });
    answer.resolve({ ...backend.get(job.id)!, status: 'cancelled' });
    await advance(10);
    expect(result.current.cancel.isSuccess).toBe(true);
  });

  it('replaces the guess with the server\'s job on success and refreshes the counts', async () => {
    const backend = createMemoryJobBackend({ latencyMs: (method) => (method === 'cancel' ? 300 : 0) });
    const job = backend.create({ meta: { projectId: 'p1' } });
    const { result } = renderHook(() => useScreen(job.id), { wrapper: wrapperFor(backend) });
    await advance(10);

    let returned: Job | undefined;
    act(() => void result.current.cancel.mutateAsync(job.id).then((j) => (returned = j)));
    expect(result.current.job.status).toBe('cancelled');
    await advance(300);
    await advance(10);
    expect(returned).toEqual(backend.get(job.id));
    expect(result.current.job.job).toEqual(backend.get(job.id));
    expect(result.current.cancel.isSuccess).toBe(true);
    expect(counts(result.current.all)).toEqual({ pending: 0, processing: 0 });
    expect(backend.calls.filter((c) => c.method === 'cancel')).toHaveLength(1);
  });

  it('treats a 409 on a job that already finished as a refresh: shows it as it is, reports no error', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    backend.start(job.id);
    const { result } = renderHook(() => useScreen(job.id), { wrapper: wrapperFor(backend) });
    await advance(10);
    expect(result.current.job.status).toBe('processing');
    // It finishes on the server; this client has not seen it yet.
    backend.complete(job.id, { url: '/a.png' });

    let returned: Job | undefined;
    await act(async () => {
      returned = await result.current.cancel.mutateAsync(job.id);
    });
    await advance(10);
    expect(backend.calls.filter((c) => c.method === 'cancel')).toHaveLength(1);
    expect(returned?.status).toBe('completed');
    expect(result.current.job.status).toBe('completed');
    expect(result.current.job.job?.result).toEqual({ url: '/a.png' });
    expect(result.current.cancel.isSuccess).toBe(true);
    expect(result.current.cancel.error).toBeNull();
    expect(counts(result.current.all)).toEqual({ pending: 0, processing: 0 });
  });

  it('after a 409, tells onJobSettled how the job really ended', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const settled = vi.fn();
    const { result } = renderHook(() => useScreen(job.id), { wrapper: wrapperFor(backend, testQueryClient(), settled) });
    await advance(10);
    backend.complete(job.id);
    await act(async () => {
      await result.current.cancel.mutateAsync(job.id);
    });
    expect(settled).toHaveBeenLastCalledWith(expect.objectContaining({ id: job.id, status: 'completed' }));
  });

  it('is not supported without the client method: mutate fails with JobRequestError 405 not_supported and changes nothing', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const { getStatus, list, getPendingCount } = backend;
    const client: JobClient = { getStatus, list, getPendingCount };
    const { result } = renderHook(() => useScreen(job.id), { wrapper: wrapperFor(client) });
    await advance(10);
    expect(result.current.cancel.supported).toBe(false);
    expect(result.current.retry.supported).toBe(false);

    let error: unknown;
    await act(async () => {
      await result.current.cancel.mutateAsync(job.id).catch((e: unknown) => (error = e));
    });
    expect(error).toBeInstanceOf(JobRequestError);
    expect(error).toMatchObject({ status: 405, code: 'not_supported' });
    await advance(10);
    expect(result.current.cancel.error).toBe(error);
    expect(result.current.job.status).toBe('pending');
    expect(counts(result.current.all)).toEqual({ pending: 1, processing: 0 });
  });

  it('is supported when the client has the method', async () => {
    const backend = createMemoryJobBackend();
    const { result } = renderHook(() => useScreen('none'), { wrapper: wrapperFor(backend) });
    expect(result.current.cancel.supported).toBe(true);
    expect(result.current.retry.supported).toBe(true);
  });

  it('cancels a job nobody shows yet without an optimistic guess', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const queryClient = testQueryClient();
    const { result } = renderHook(() => useCancelJob(), { wrapper: wrapperFor(backend, queryClient) });
    let returned: Job | undefined;
    await act(async () => {
      returned = await result.current.mutateAsync(job.id);
    });
    expect(returned?.status).toBe('cancelled');
    // The answer is kept for whoever shows the job later.
    expect(queryClient.getQueryData<Job>(jobKeys.status(job.id))?.status).toBe('cancelled');
  });
});

describe('useRetryJob', () => {
  it('shows a failed job as queued at once (retry count + 1, last error kept), then follows the server\'s job', async () => {
    const backend = createMemoryJobBackend({ latencyMs: (method) => (method === 'retry' ? 300 : 0) });
    const job = backend.create({ meta: { projectId: 'p1' } });
    backend.fail(job.id, 'Out of credits');
    const { result } = renderHook(() => useScreen(job.id), { wrapper: wrapperFor(backend) });
    await advance(10);
    expect(result.current.job.status).toBe('failed');
    expect(counts(result.current.p1)).toEqual({ pending: 0, processing: 0 });

    act(() => result.current.retry.mutate(job.id));
    expect(result.current.job.job).toMatchObject({ status: 'pending', retryCount: 1, error: { message: 'Out of credits' } });
    await advance(10);
    expect(result.current.retry.isPending).toBe(true);
    expect(counts(result.current.p1)).toEqual({ pending: 1, processing: 0 });
    expect(counts(result.current.p2)).toEqual({ pending: 0, processing: 0 });

    await advance(300);
    expect(result.current.retry.isSuccess).toBe(true);
    expect(result.current.job.job).toEqual(backend.get(job.id));
    expect(counts(result.current.all)).toEqual({ pending: 1, processing: 0 });

    // Watched again: the new attempt is followed to its end.
    backend.start(job.id);
    backend.complete(job.id);
    await advance(60_000);
    expect(result.current.job.status).toBe('completed');
  });

  it('puts the failed job and the counts back when the server fails', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    backend.fail(job.id, 'Out of credits');
    const answer = deferred<Job>();
    const client: JobClient = { ...backend, retry: () => answer.promise };
    const { result } = renderHook(() => useScreen(job.id), { wrapper: wrapperFor(client) });
    await advance(10);

    act(() => result.current.retry.mutate(job.id));
    await advance(10);
    expect(result.current.job.status).toBe('pending');
    expect(counts(result.current.all)).toEqual({ pending: 1, processing: 0 });

    answer.reject(new JobTransportError('Bad Gateway', { status: 502 }));
    await advance(10);
    expect(result.current.job.job).toMatchObject({ status: 'failed', retryCount: 0 });
    expect(result.current.retry.error).toBeInstanceOf(JobTransportError);
    expect(counts(result.current.all)).toEqual({ pending: 0, processing: 0 });
  });

  it('treats a 409 (the job is no longer failed) as a refresh, without an error', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    backend.fail(job.id, 'Out of credits');
    const { result } = renderHook(() => useScreen(job.id), { wrapper: wrapperFor(backend) });
    await advance(10);
    // Retried elsewhere (another tab) and already running.
    await backend.retry(job.id);
    backend.start(job.id);

    await act(async () => {
      await result.current.retry.mutateAsync(job.id);
    });
    await advance(10);
    expect(result.current.retry.error).toBeNull();
    expect(result.current.job.job).toMatchObject({ status: 'processing', retryCount: 1 });
    expect(counts(result.current.all)).toEqual({ pending: 0, processing: 1 });
  });

  it('after a 409, does not announce the failed job again', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    backend.fail(job.id, 'Out of credits');
    const settled = vi.fn();
    const { result } = renderHook(() => useScreen(job.id), { wrapper: wrapperFor(backend, testQueryClient(), settled) });
    await advance(10);
    expect(settled).toHaveBeenCalledTimes(1);
    await backend.retry(job.id);
    await act(async () => {
      await result.current.retry.mutateAsync(job.id);
    });
    await advance(10);
    expect(result.current.job.status).toBe('pending');
    expect(settled).toHaveBeenCalledTimes(1);
  });
});

describe('announcements around mutations', () => {
  it('announces nothing for an optimistic cancel the server rejects (500)', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    backend.start(job.id);
    const onJobSettled = vi.fn();
    const onSettled = vi.fn();
    const { client, answer } = slowCancel(backend);
    const { result } = renderHook(
      () => ({ job: useJobStatus(job.id, { live: false, pollInterval: 60_000, onSettled }), cancel: useCancelJob() }),
      { wrapper: wrapperFor(client, testQueryClient(), onJobSettled) },
    );
    await advance(0);
    act(() => result.current.cancel.mutate(job.id));
    await advance(0);
    expect(result.current.job.status).toBe('cancelled');
    answer.reject(new JobTransportError('Internal error', { status: 500 }));
    await advance(0);
    expect(result.current.job.status).toBe('processing');
    expect(onJobSettled).not.toHaveBeenCalled();
    expect(onSettled).not.toHaveBeenCalled();
  });

  it('calls onComplete again for a job that completes after a retry', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    backend.fail(job.id, 'boom');
    const onComplete = vi.fn();
    const onError = vi.fn();
    const { result } = renderHook(
      () => ({ job: useJobStatus(job.id, { live: false, pollInterval: 1000, onComplete, onError }), retry: useRetryJob() }),
      { wrapper: wrapperFor(backend) },
    );
    await advance(0);
    expect(onError).toHaveBeenCalledTimes(1);
    act(() => result.current.retry.mutate(job.id));
    await advance(0);
    expect(result.current.job.status).toBe('pending');
    act(() => void backend.complete(job.id));
    await advance(1000);
    expect(result.current.job.status).toBe('completed');
    expect(onComplete).toHaveBeenCalledTimes(1);
    expect(onError).toHaveBeenCalledTimes(1);
  });
});
