import { act, renderHook } from '@testing-library/react';
import { StrictMode, type ReactNode } from 'react';
import {
  JobFailedError,
  JobNotFoundError,
  JobProtocolError,
  JobTransportError,
  JobUnauthorizedError,
  type Job,
  type JobClient,
} from '../../src/core';
import { JobClientProvider } from '../../src/react/JobClientProvider';
import { jobKeys } from '../../src/react/jobKeys';
import { useJobStatus } from '../../src/react/useJobStatus';
import type { UseJobStatusOptions } from '../../src/react/types';
import { createMemoryJobBackend, type MemoryJobBackend } from '../../src/testing';
import { advance, controlledClient, fire, makeJob, setVisibility, testQueryClient } from '../helpers';

/** A client of the backend without push, so these tests see polling alone. */
function pollingClient(backend: MemoryJobBackend): JobClient {
  const { subscribe: _push, ...client } = backend;
  return client;
}

function statusCalls(backend: MemoryJobBackend, id?: string): number {
  return backend.calls.filter((c) => c.method === 'getStatus' && (id === undefined || c.args[0] === id)).length;
}

function setup(client: JobClient, queryClient = testQueryClient()) {
  const wrapper = ({ children }: { children?: ReactNode }) => (
    <StrictMode>
      <JobClientProvider client={client} queryClient={queryClient}>
        {children}
      </JobClientProvider>
    </StrictMode>
  );
  return { wrapper, queryClient };
}

function watch(
  client: JobClient,
  id: string | null | undefined,
  options?: UseJobStatusOptions,
  queryClient = testQueryClient(),
) {
  const { wrapper } = setup(client, queryClient);
  return renderHook(({ jobId, opts }) => useJobStatus(jobId, opts), {
    wrapper,
    initialProps: { jobId: id, opts: options },
  });
}

beforeEach(() => {
  vi.useFakeTimers();
  setVisibility('visible');
});
afterEach(() => {
  vi.useRealTimers();
});

describe('semantic 1: polling while active, never after terminal', () => {
  it('polls every 2 s by default while the job is not terminal', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const { result } = watch(pollingClient(backend), job.id);
    await advance(0);
    expect(statusCalls(backend)).toBe(1);
    expect(result.current.status).toBe('pending');
    expect(result.current.connection).toBe('polling');
    await advance(1999);
    expect(statusCalls(backend)).toBe(1);
    await advance(1);
    expect(statusCalls(backend)).toBe(2);
    await advance(2000 * 5);
    expect(statusCalls(backend)).toBe(7);
  });

  it('polls at a custom interval', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    watch(pollingClient(backend), job.id, { pollInterval: 500 });
    await advance(0);
    await advance(500 * 4);
    expect(statusCalls(backend)).toBe(5);
  });

  it('polls at the interval a function returns for the latest job, and stops on false', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const pollInterval = (j: Job | undefined) => (j?.status === 'processing' ? false : 1000);
    watch(pollingClient(backend), job.id, { pollInterval });
    await advance(0);
    await advance(1000);
    expect(statusCalls(backend)).toBe(2);
    backend.start(job.id);
    await advance(1000);
    expect(statusCalls(backend)).toBe(3);
    await advance(10_000);
    expect(statusCalls(backend)).toBe(3);
  });

  it('makes no further call after a terminal state: not on interval, refocus or remount', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const client = pollingClient(backend);
    const queryClient = testQueryClient();
    const first = watch(client, job.id, undefined, queryClient);
    await advance(0);
    backend.complete(job.id, { url: 'x' });
    await advance(2000);
    expect(first.result.current.status).toBe('completed');
    expect(first.result.current.connection).toBe('idle');
    const callsAtTerminal = statusCalls(backend);

    await advance(20_000);
    setVisibility('hidden');
    setVisibility('visible');
    fire('online');
    await advance(2000);
    first.unmount();
    const second = watch(client, job.id, undefined, queryClient);
    await advance(20_000);
    expect(second.result.current.status).toBe('completed');
    expect(statusCalls(backend)).toBe(callsAtTerminal);
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('semantic 2: callbacks once per hook and job', () => {
  it('calls onComplete and onSettled exactly once under StrictMode, with three observers and inline callbacks', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create({ queuedMs: 1000, runningMs: 3000, result: { n: 1 } });
    const onComplete = vi.fn();
    const onSettled = vi.fn();
    const onError = vi.fn();
    const { wrapper } = setup(pollingClient(backend));
    const { result } = renderHook(
      () => [
        // A new callback identity every render; each forwards to the spies.
        useJobStatus(job.id, { onComplete: (j) => onComplete('a', j.status), onSettled: (j) => onSettled('a', j.id), onError: (e) => onError(e) }),
        useJobStatus(job.id, { onComplete: (j) => onComplete('b', j.status), onError: (e) => onError(e) }),
        useJobStatus(job.id, { onComplete: (j) => onComplete('c', j.status) }),
      ],
      { wrapper },
    );
    await advance(0);
    for (let i = 0; i < 10; i++) await advance(1000);
    expect(result.current.map((r) => r.status)).toEqual(['completed', 'completed', 'completed']);
    expect(onComplete.mock.calls).toEqual([
      ['a', 'completed'],
      ['b', 'completed'],
      ['c', 'completed'],
    ]);
    expect(onSettled.mock.calls).toEqual([['a', job.id]]);
    expect(onError).not.toHaveBeenCalled();
    // The three observers shared one request per poll.
    expect(statusCalls(backend)).toBeLessThanOrEqual(4);
  });

  it('calls onError exactly once per observer under StrictMode when the job fails, with inline callbacks', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create({ queuedMs: 500, runningMs: 1000, failures: 1, maxRetries: 0, errorMessage: 'NSFW filter' });
    const onError = vi.fn();
    const onComplete = vi.fn();
    const { wrapper } = setup(pollingClient(backend));
    const { result } = renderHook(
      () =>
        ['a', 'b', 'c'].map((name) =>
          useJobStatus(job.id, { onError: (error, failed) => onError(name, error, failed?.status), onComplete }),
        ),
      { wrapper },
    );
    await advance(0);
    for (let i = 0; i < 10; i++) await advance(1000);
    expect(result.current.map((r) => r.status)).toEqual(['failed', 'failed', 'failed']);
    expect(onError.mock.calls.map(([name]) => name)).toEqual(['a', 'b', 'c']);
    for (const [, error, status] of onError.mock.calls) {
      expect(error).toBeInstanceOf(JobFailedError);
      expect(error.message).toBe('NSFW filter');
      expect(status).toBe('failed');
    }
    expect(onComplete).not.toHaveBeenCalled();
  });

  it('always calls the latest callback', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const first = vi.fn();
    const latest = vi.fn();
    const { rerender } = watch(pollingClient(backend), job.id, { onComplete: first });
    await advance(0);
    rerender({ jobId: job.id, opts: { onComplete: latest } });
    backend.complete(job.id);
    await advance(2000);
    expect(first).not.toHaveBeenCalled();
    expect(latest).toHaveBeenCalledTimes(1);
  });

  it('fires once when the job is already terminal at mount', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    backend.fail(job.id, 'GPU out of memory');
    const onError = vi.fn();
    const onSettled = vi.fn();
    const onComplete = vi.fn();
    const { result } = watch(pollingClient(backend), job.id, { onError, onSettled, onComplete });
    await advance(0);
    await advance(10_000);
    expect(result.current.status).toBe('failed');
    expect(onError).toHaveBeenCalledTimes(1);
    const [error, failedJob] = onError.mock.calls[0]!;
    expect(error).toBeInstanceOf(JobFailedError);
    expect(error.message).toBe('GPU out of memory');
    expect(failedJob.id).toBe(job.id);
    expect(onSettled).toHaveBeenCalledTimes(1);
    expect(onComplete).not.toHaveBeenCalled();
    expect(statusCalls(backend)).toBe(1);
  });

  it('reports each status change once, with the previous status', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const changes: Array<[string, string | undefined]> = [];
    watch(pollingClient(backend), job.id, { onStatusChange: (j, prev) => changes.push([j.status, prev]) });
    await advance(0);
    backend.start(job.id);
    await advance(2000);
    backend.progress(job.id, 0.5);
    await advance(2000);
    backend.complete(job.id);
    await advance(2000);
    expect(changes).toEqual([
      ['pending', undefined],
      ['processing', 'pending'],
      ['completed', 'processing'],
    ]);
  });

  it('fires again for a different job id in the same hook', async () => {
    const backend = createMemoryJobBackend();
    const a = backend.create();
    const b = backend.create();
    backend.complete(a.id);
    backend.complete(b.id);
    const onComplete = vi.fn();
    const { rerender } = watch(pollingClient(backend), a.id, { onComplete });
    await advance(0);
    rerender({ jobId: b.id, opts: { onComplete } });
    await advance(0);
    rerender({ jobId: a.id, opts: { onComplete } });
    await advance(0);
    expect(onComplete.mock.calls.map(([j]) => j.id)).toEqual([a.id, b.id]);
  });
});

describe('semantic 3: transient failures are not failed jobs', () => {
  it('keeps the last job, sets error, backs off and recovers', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const c = controlledClient();
    const { result } = watch(c.client, 'a');
    await advance(0);
    c.answer(0, makeJob({ id: 'a', status: 'processing', version: 1 }));
    await advance(2000);
    c.fail(1, new JobTransportError('Service unavailable', { status: 503 }));
    await advance(0);
    expect(result.current.job?.status).toBe('processing');
    expect(result.current.error).toBeInstanceOf(JobTransportError);
    expect(result.current.connection).toBe('error');
    // Backoff: 2 s x 2^1 = 4 s, then 8 s.
    await advance(3999);
    expect(c.calls).toHaveLength(2);
    await advance(1);
    expect(c.calls).toHaveLength(3);
    c.fail(2, new TypeError('Failed to fetch'));
    await advance(7999);
    expect(c.calls).toHaveLength(3);
    await advance(1);
    expect(c.calls).toHaveLength(4);
    expect(result.current.error).toBeInstanceOf(JobTransportError);
    c.answer(3, makeJob({ id: 'a', status: 'processing', progress: 0.5, version: 2 }));
    await advance(0);
    expect(result.current.error).toBeNull();
    expect(result.current.progress).toBe(0.5);
    expect(result.current.connection).toBe('polling');
    // Back to the normal interval.
    await advance(2000);
    expect(c.calls).toHaveLength(5);
  });

  it('caps the backoff at 30 s and honours Retry-After', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const c = controlledClient();
    watch(c.client, 'a');
    await advance(0);
    for (let i = 0; i < 6; i++) {
      c.fail(i, new JobTransportError('down', { status: 500 }));
      await advance(30_000);
    }
    const before = c.calls.length;
    c.fail(before - 1, new JobTransportError('slow down', { status: 429, retryAfterMs: 60_000 }));
    await advance(59_999);
    expect(c.calls).toHaveLength(before);
    await advance(1);
    expect(c.calls).toHaveLength(before + 1);
  });

  it('jitters retries so clients do not retry in lockstep', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const c = controlledClient();
    watch(c.client, 'a');
    await advance(0);
    c.fail(0, new JobTransportError('down', { status: 500 }));
    // With no jitter the retry would come at 4 s; the lowest jitter halves it.
    await advance(2000);
    expect(c.calls).toHaveLength(2);
  });

  it('shows a malformed payload as a transient JobProtocolError naming the field, never as a failed job', async () => {
    const c = controlledClient();
    const onError = vi.fn();
    const { result } = watch(c.client, 'a', { onError });
    await advance(0);
    c.answer(0, makeJob({ id: 'a', status: 'processing', version: 1 }));
    await advance(2000);
    c.answer(1, { ...makeJob({ id: 'a', version: 2 }), status: 'exploded' });
    await advance(0);
    expect(result.current.status).toBe('processing');
    expect(result.current.error).toBeInstanceOf(JobProtocolError);
    expect((result.current.error as JobProtocolError).field).toBe('status');
    expect(onError).not.toHaveBeenCalled();
    await advance(30_000);
    expect(c.calls.length).toBeGreaterThan(2);
  });

  it('stops polling on 404 and calls onError once with JobNotFoundError', async () => {
    const backend = createMemoryJobBackend();
    const onError = vi.fn();
    const { result } = watch(pollingClient(backend), 'no-such-job', { onError });
    await advance(0);
    await advance(60_000);
    expect(statusCalls(backend)).toBe(1);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]![0]).toBeInstanceOf(JobNotFoundError);
    expect(result.current.error).toBeInstanceOf(JobNotFoundError);
    expect(result.current.connection).toBe('error');
    expect(result.current.isLoading).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('stops on JobUnauthorizedError and calls onError once', async () => {
    const c = controlledClient();
    const onError = vi.fn();
    watch(c.client, 'a', { onError });
    await advance(0);
    c.fail(0, new JobUnauthorizedError('Session expired', { status: 401 }));
    await advance(60_000);
    expect(c.calls).toHaveLength(1);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]![0]).toBeInstanceOf(JobUnauthorizedError);
  });
});

describe('semantic 4: state never goes backwards', () => {
  it('drops a late answer older than what is shown', async () => {
    const c = controlledClient();
    const { result } = watch(c.client, 'a');
    await advance(0);
    // A later poll answered by a stale replica: older than what is shown.
    c.answer(0, makeJob({ id: 'a', status: 'processing', version: 3, progress: 0.6 }));
    await advance(2000);
    c.answer(1, makeJob({ id: 'a', status: 'pending', version: 2 }));
    await advance(0);
    expect(result.current.status).toBe('processing');
    expect(result.current.progress).toBe(0.6);
  });

  it('orders by updatedAt when there is no version', async () => {
    const c = controlledClient();
    const { result } = watch(c.client, 'a');
    await advance(0);
    const later = { ...makeJob({ id: 'a', status: 'processing' }), version: undefined, updatedAt: '2026-01-01T00:00:10.000Z' };
    const earlier = { ...makeJob({ id: 'a', status: 'pending' }), version: undefined, updatedAt: '2026-01-01T00:00:05.000Z' };
    c.answer(0, later);
    await advance(2000);
    c.answer(1, earlier);
    await advance(0);
    expect(result.current.status).toBe('processing');
  });

  it('never turns a terminal job back to pending or processing', async () => {
    const c = controlledClient();
    const queryClient = testQueryClient();
    const { result } = watch(c.client, 'a', undefined, queryClient);
    await advance(0);
    c.answer(0, makeJob({ id: 'a', status: 'completed', version: 5 }));
    await advance(0);
    act(() => {
      queryClient.setQueryData(jobKeys.status('a'), makeJob({ id: 'a', status: 'processing', version: 9 }));
    });
    expect(result.current.status).toBe('completed');
  });
});

describe('semantic 5: hidden tab and offline', () => {
  it('pauses polling while hidden and refreshes once when visible again', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const { result } = watch(pollingClient(backend), job.id);
    await advance(0);
    expect(statusCalls(backend)).toBe(1);
    setVisibility('hidden');
    await advance(2000);
    // A poll already scheduled notices the pause and makes no request.
    await advance(60_000);
    expect(statusCalls(backend)).toBe(1);
    expect(result.current.connection).toBe('paused');
    backend.start(job.id);
    setVisibility('visible');
    await advance(0);
    expect(statusCalls(backend)).toBe(2);
    expect(result.current.status).toBe('processing');
    await advance(1999);
    expect(statusCalls(backend)).toBe(2);
    await advance(1);
    expect(statusCalls(backend)).toBe(3);
  });

  it('keeps polling while hidden with pollWhenHidden', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    watch(pollingClient(backend), job.id, { pollWhenHidden: true });
    await advance(0);
    setVisibility('hidden');
    await advance(6000);
    expect(statusCalls(backend)).toBe(4);
  });

  it('pauses while offline and refreshes once back online', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const online = vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
    fire('offline');
    const { result } = watch(pollingClient(backend), job.id);
    await advance(10_000);
    expect(statusCalls(backend)).toBe(0);
    expect(result.current.connection).toBe('paused');
    online.mockReturnValue(true);
    fire('online');
    await advance(0);
    expect(statusCalls(backend)).toBe(1);
    expect(result.current.status).toBe('pending');
  });
});

describe('semantic 6: unmount', () => {
  it('aborts the request in flight and leaves no call, callback or timer behind', async () => {
    const c = controlledClient();
    const onComplete = vi.fn();
    const onStatusChange = vi.fn();
    const { unmount } = watch(c.client, 'a', { onComplete, onStatusChange });
    await advance(0);
    expect(c.inFlight()).toBe(1);
    unmount();
    expect(c.calls[0]!.signal?.aborted).toBe(true);
    c.answer(0, makeJob({ id: 'a', status: 'completed' }));
    await advance(60_000);
    expect(c.calls).toHaveLength(1);
    expect(onComplete).not.toHaveBeenCalled();
    expect(onStatusChange).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('semantic 10: one request in flight, enabled, inline options', () => {
  it('never sends a second request for the same job while one is in flight, however slow the server', async () => {
    const c = controlledClient();
    const { result } = watch(c.client, 'a', { pollInterval: 100 });
    await advance(0);
    await advance(60_000);
    act(() => {
      void result.current.refetch();
    });
    await advance(0);
    // The explicit refetch joined the request in flight.
    expect(c.calls).toHaveLength(1);
    c.answer(0, makeJob({ id: 'a', status: 'processing' }));
    await advance(100);
    expect(c.calls).toHaveLength(2);
    expect(c.inFlight()).toBe(1);
  });

  it('follows enabled false -> true -> false', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const { rerender, result } = watch(pollingClient(backend), job.id, { enabled: false });
    await advance(10_000);
    expect(statusCalls(backend)).toBe(0);
    expect(result.current.connection).toBe('idle');
    expect(result.current.isLoading).toBe(false);
    rerender({ jobId: job.id, opts: { enabled: true } });
    await advance(0);
    await advance(4000);
    expect(statusCalls(backend)).toBe(3);
    rerender({ jobId: job.id, opts: { enabled: false } });
    await advance(10_000);
    expect(statusCalls(backend)).toBe(3);
    expect(result.current.status).toBe('pending');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not restart watching when options are new objects and callbacks every render', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const { rerender } = watch(pollingClient(backend), job.id, { pollInterval: 2000, onComplete: () => {} });
    await advance(0);
    for (let i = 0; i < 20; i++) {
      rerender({ jobId: job.id, opts: { pollInterval: 2000, onComplete: () => {}, onError: () => {} } });
      await advance(100);
    }
    // 2 s of renders every 100 ms: one initial call and one poll, no restart.
    expect(statusCalls(backend)).toBe(2);
  });

  it('watches the same id from many components with one poll', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const { wrapper } = setup(pollingClient(backend));
    renderHook(() => Array.from({ length: 25 }, () => useJobStatus(job.id)), { wrapper });
    await advance(0);
    await advance(2000 * 3);
    expect(statusCalls(backend)).toBe(4);
  });
});

describe('bad input', () => {
  it.each([undefined, null, ''])('idles without a call for %j', async (id) => {
    const backend = createMemoryJobBackend();
    const { result } = watch(pollingClient(backend), id);
    await advance(10_000);
    expect(backend.calls).toHaveLength(0);
    expect(result.current).toMatchObject({ job: undefined, status: undefined, isLoading: false, connection: 'idle', error: null });
  });

  it('starts watching when an id arrives after null', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const { result, rerender } = watch(pollingClient(backend), null);
    await advance(1000);
    rerender({ jobId: job.id, opts: undefined });
    expect(result.current.isLoading).toBe(true);
    await advance(0);
    expect(result.current.status).toBe('pending');
  });
});

describe('job data lives in the QueryClient', () => {
  it('writes every job under jobKeys.status(id)', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create({ meta: { projectId: 'p1' } });
    const queryClient = testQueryClient();
    watch(pollingClient(backend), job.id, undefined, queryClient);
    await advance(0);
    expect(queryClient.getQueryData<Job>(jobKeys.status(job.id))).toMatchObject({ id: job.id, status: 'pending' });
  });

  it('starts from prefetched data and makes no request for a job already terminal', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    backend.complete(job.id, { url: 'done.png' });
    const queryClient = testQueryClient();
    queryClient.setQueryData(jobKeys.status(job.id), await backend.getStatus(job.id));
    backend.clearCalls();
    const onComplete = vi.fn();
    const { result } = watch(pollingClient(backend), job.id, { onComplete }, queryClient);
    expect(result.current.status).toBe('completed');
    await advance(10_000);
    expect(backend.calls).toHaveLength(0);
    expect(onComplete).toHaveBeenCalledTimes(1);
  });

  it('refreshes a watched job when the app invalidates it', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const queryClient = testQueryClient();
    const { result } = watch(pollingClient(backend), job.id, { pollInterval: 60_000 }, queryClient);
    await advance(0);
    backend.start(job.id);
    await act(() => queryClient.invalidateQueries({ queryKey: jobKeys.all }));
    await advance(0);
    expect(statusCalls(backend)).toBe(2);
    expect(result.current.status).toBe('processing');
  });
});

describe('several providers on one page', () => {
  it('keeps watchers, clients and data apart', async () => {
    const one = createMemoryJobBackend();
    const two = createMemoryJobBackend();
    const a = one.create();
    const b = two.create();
    two.start(b.id);
    const first = watch(pollingClient(one), a.id);
    const second = watch(pollingClient(two), b.id);
    await advance(0);
    expect(first.result.current.status).toBe('pending');
    expect(second.result.current.status).toBe('processing');
    expect(one.calls.every((c) => c.args[0] === a.id)).toBe(true);
    expect(two.calls.every((c) => c.args[0] === b.id)).toBe(true);
  });
});

/** The backend's client with its push wrapped, to count live subscriptions and break them. */
function pushClient(backend: MemoryJobBackend) {
  const listeners = new Set<{ error?(e: unknown): void; disconnected?(e: unknown): void }>();
  let subscribes = 0;
  let refusing = false;
  const client: JobClient = {
    ...backend,
    subscribe(id, listener) {
      subscribes += 1;
      if (refusing) {
        queueMicrotask(() => listener.error?.(new JobTransportError('stream refused', { status: 503 })));
        return () => {};
      }
      const off = backend.subscribe(id, listener);
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
        off();
      };
    },
  };
  return {
    client,
    active: () => listeners.size,
    subscribes: () => subscribes,
    breakAll: (error: unknown) => act(() => [...listeners].forEach((l) => l.error?.(error))),
    dropAll: (error: unknown) => act(() => [...listeners].forEach((l) => l.disconnected?.(error))),
    refuse: (value: boolean) => {
      refusing = value;
    },
  };
}

describe('semantic 8: push first, polling as a safety net', () => {
  it('takes updates by push and drops polling to a 30 s safety poll', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const push = pushClient(backend);
    const { result } = watch(push.client, job.id);
    await advance(0);
    expect(result.current.connection).toBe('live');
    expect(push.active()).toBe(1);
    const polls = statusCalls(backend);
    act(() => {
      backend.start(job.id);
      backend.progress(job.id, 0.4, 'Generating image');
    });
    await advance(0);
    expect(result.current.status).toBe('processing');
    expect(result.current.progress).toBe(0.4);
    await advance(29_000);
    expect(statusCalls(backend)).toBe(polls);
    await advance(1000);
    expect(statusCalls(backend)).toBe(polls + 1);
  });

  it('falls back to polling when the subscription fails and resubscribes with backoff', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(1);
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const push = pushClient(backend);
    const { result } = watch(push.client, job.id);
    await advance(0);
    const polls = statusCalls(backend);
    push.refuse(true);
    push.breakAll(new JobTransportError('stream dropped'));
    await advance(0);
    expect(result.current.connection).toBe('polling');
    // One refresh at once, then the normal 2 s interval while push is down...
    expect(statusCalls(backend)).toBe(polls + 1);
    await advance(10_000);
    expect(statusCalls(backend)).toBe(polls + 6);
    // ...while resubscribing backs off: at 2 s, then 4 s later, then 8 s later.
    expect(push.subscribes()).toBe(3);
    await advance(4000);
    expect(push.subscribes()).toBe(4);
    push.refuse(false);
    await advance(16_000);
    expect(push.subscribes()).toBe(5);
    expect(result.current.connection).toBe('live');
    expect(push.active()).toBe(1);
    // Live again: back to the safety poll.
    const live = statusCalls(backend);
    await advance(20_000);
    expect(statusCalls(backend)).toBe(live);
  });

  it('polls at the normal interval while the client reconnects a dropped stream, and goes live again with the next push', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const push = pushClient(backend);
    const { result } = watch(push.client, job.id);
    await advance(0);
    const polls = statusCalls(backend);
    push.dropAll(new JobTransportError('stream dropped'));
    await advance(0);
    expect(result.current.connection).toBe('polling');
    expect(statusCalls(backend)).toBe(polls + 1);
    await advance(4000);
    expect(statusCalls(backend)).toBe(polls + 3);
    // The subscription itself stays: no resubscribe.
    expect(push.subscribes()).toBe(1);
    act(() => void backend.start(job.id));
    expect(result.current.connection).toBe('live');
    expect(result.current.status).toBe('processing');
    await advance(20_000);
    expect(statusCalls(backend)).toBe(polls + 3);
  });

  it('stops on a JobNotFoundError from the subscription and calls onError once', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const push = pushClient(backend);
    const onError = vi.fn();
    const { result } = watch(push.client, job.id, { onError });
    await advance(0);
    push.breakAll(new JobNotFoundError(job.id));
    await advance(60_000);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(result.current.error).toBeInstanceOf(JobNotFoundError);
    expect(push.active()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('never subscribes with live: false', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const push = pushClient(backend);
    const { result } = watch(push.client, job.id, { live: false });
    await advance(4000);
    expect(push.subscribes()).toBe(0);
    expect(result.current.connection).toBe('polling');
  });

  it('settles by push once, then unsubscribes and makes no further call', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create({ queuedMs: 500, runningMs: 1500 });
    const push = pushClient(backend);
    const onComplete = vi.fn();
    const { result } = watch(push.client, job.id, { onComplete });
    await advance(0);
    const polls = statusCalls(backend);
    await advance(2000);
    expect(result.current.status).toBe('completed');
    expect(onComplete).toHaveBeenCalledTimes(1);
    expect(push.active()).toBe(0);
    await advance(120_000);
    expect(statusCalls(backend)).toBe(polls);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('unsubscribes on unmount and leaves no timer', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const push = pushClient(backend);
    const { unmount } = watch(push.client, job.id);
    await advance(0);
    expect(push.active()).toBe(1);
    unmount();
    expect(push.active()).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('shares one subscription between every component watching a job', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const push = pushClient(backend);
    const { wrapper } = setup(push.client);
    renderHook(() => [useJobStatus(job.id), useJobStatus(job.id), useJobStatus(job.id)], { wrapper });
    await advance(0);
    expect(push.active()).toBe(1);
  });
});
