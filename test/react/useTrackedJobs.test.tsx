import { act, render, renderHook, screen } from '@testing-library/react';
import { StrictMode, type ReactNode } from 'react';
import { JobFailedError, JobNotFoundError, JobTransportError, type Job, type JobClient } from '../../src/core';
import { useCancelJob } from '../../src/react/useCancelJob';
import { JobStatus } from '../../src/components/JobStatus';
import { JobClientProvider } from '../../src/react/JobClientProvider';
import { createMemoryJobIdStorage, type JobIdStorage } from '../../src/react/trackedJobsStore';
import { MAX_TRACKED_JOBS, useTrackedJobs, type UseTrackedJobsOptions } from '../../src/react/useTrackedJobs';
import { createMemoryJobBackend, type MemoryJobBackend } from '../../src/testing';
import { advance, setVisibility, testQueryClient } from '../helpers';

const KEY = 'jobwatch:tracked:exports';

/** A client of the backend without push, so these tests see polling alone. */
function pollingClient(backend: MemoryJobBackend): JobClient {
  const { subscribe: _push, ...client } = backend;
  return client;
}

/** A backend holding pending jobs with these ids (an unknown id would be read, found missing and untracked). */
function backendWith(...ids: string[]): MemoryJobBackend {
  const backend = createMemoryJobBackend();
  for (const id of ids) backend.create({ id });
  return backend;
}

function statusCalls(backend: MemoryJobBackend): number {
  return backend.calls.filter((c) => c.method === 'getStatus' || c.method === 'getStatuses').length;
}

/** A provider as a page load would make it: its own QueryClient and watcher. */
function pageWrapper(client: JobClient) {
  const queryClient = testQueryClient();
  return ({ children }: { children?: ReactNode }) => (
    <StrictMode>
      <JobClientProvider client={client} queryClient={queryClient}>
        {children}
      </JobClientProvider>
    </StrictMode>
  );
}

function track(client: JobClient, key: string, options?: UseTrackedJobsOptions) {
  return renderHook(({ o }) => useTrackedJobs(key, o), { wrapper: pageWrapper(client), initialProps: { o: options } });
}

beforeEach(() => {
  vi.useFakeTimers();
  setVisibility('visible');
  localStorage.clear();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('useTrackedJobs: kept across reloads, removed once settled and handled', () => {
  it('restores tracked ids after a reload and removes a job that finished while the page was closed, after onComplete', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const storage = createMemoryJobIdStorage();

    const first = track(backend, 'exports', { storage });
    expect(first.result.current.ids).toEqual([]);
    await act(async () => first.result.current.track(job.id));
    expect(first.result.current.ids).toEqual([job.id]);
    expect(JSON.parse(storage.getItem(KEY)!)).toEqual([job.id]);
    await advance(0);
    first.unmount();

    // The page is closed while the job finishes.
    backend.complete(job.id, { url: '/export.csv' });

    const onComplete = vi.fn();
    const onSettled = vi.fn();
    const second = track(backend, 'exports', { storage, onComplete, onSettled });
    expect(second.result.current.ids).toEqual([job.id]);
    await advance(0);
    expect(onComplete).toHaveBeenCalledTimes(1);
    expect(onComplete).toHaveBeenCalledWith(expect.objectContaining({ id: job.id, status: 'completed', result: { url: '/export.csv' } }));
    expect(onSettled).toHaveBeenCalledTimes(1);
    expect(second.result.current.ids).toEqual([]);
    expect(storage.getItem(KEY)).toBeNull();
  });

  it('keeps an active job tracked (and polled) until it settles', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const client = pollingClient(backend);
    const onComplete = vi.fn();
    const { result } = track(client, 'exports', { onComplete });
    await act(async () => result.current.track(job.id));
    await advance(0);
    expect(statusCalls(backend)).toBe(1);
    await advance(2000 * 3);
    expect(statusCalls(backend)).toBe(4);
    expect(result.current.ids).toEqual([job.id]);
    expect(onComplete).not.toHaveBeenCalled();

    await act(async () => void backend.complete(job.id));
    await advance(2000);
    expect(onComplete).toHaveBeenCalledTimes(1);
    expect(result.current.ids).toEqual([]);
    // Settled and untracked: no more requests.
    await advance(2000 * 5);
    expect(statusCalls(backend)).toBe(5);
  });

  it('lets a component showing a tracked id run its own onComplete before the id goes', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const order: string[] = [];

    function Exports() {
      const { ids, track: add } = useTrackedJobs('exports', { onComplete: () => order.push('hook onComplete') });
      return (
        <>
          <button onClick={() => add(job.id)}>Export</button>
          {ids.map((id) => (
            <JobStatus key={id} jobId={id} onComplete={() => order.push('JobStatus onComplete')} />
          ))}
        </>
      );
    }
    render(<Exports />, { wrapper: pageWrapper(backend) });
    await act(async () => screen.getByRole('button', { name: 'Export' }).click());
    await advance(0);
    expect(screen.getByRole('status').textContent).toContain('Queued');

    await act(async () => void backend.complete(job.id));
    await advance(0);
    expect(order).toEqual(['JobStatus onComplete', 'hook onComplete']);
    expect(screen.queryByRole('status')).toBeNull();
  });

  it('calls onError with JobFailedError for a failed job, then removes it', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const onError = vi.fn();
    const { result } = track(backend, 'exports', { onError });
    await act(async () => result.current.track(job.id));
    await advance(0);
    await act(async () => void backend.fail(job.id, 'Disk full'));
    await advance(0);
    expect(onError).toHaveBeenCalledTimes(1);
    const [error, failed] = onError.mock.calls[0]! as [Error, Job];
    expect(error).toBeInstanceOf(JobFailedError);
    expect(failed.error?.message).toBe('Disk full');
    expect(result.current.ids).toEqual([]);
  });

  it('removes an id the server no longer knows, calling onError once with JobNotFoundError', async () => {
    const backend = createMemoryJobBackend();
    const storage = createMemoryJobIdStorage();
    storage.setItem(KEY, JSON.stringify(['forgotten']));
    const onError = vi.fn();
    const { result } = track(backend, 'exports', { storage, onError });
    expect(result.current.ids).toEqual(['forgotten']);
    await advance(0);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]![0]).toBeInstanceOf(JobNotFoundError);
    expect(result.current.ids).toEqual([]);
  });

  it('with removeOnSettled: false, keeps a settled id until untrack', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const onSettled = vi.fn();
    const { result } = track(backend, 'exports', { removeOnSettled: false, onSettled });
    await act(async () => result.current.track(job.id));
    await advance(0);
    await act(async () => void backend.complete(job.id));
    await advance(0);
    expect(onSettled).toHaveBeenCalledTimes(1);
    expect(result.current.ids).toEqual([job.id]);
    await advance(10_000);
    expect(onSettled).toHaveBeenCalledTimes(1);
    await act(async () => result.current.untrack(job.id));
    expect(result.current.ids).toEqual([]);
    expect(localStorage.getItem(KEY)).toBeNull();
  });

  it('clear() forgets every id of the key, and only of that key', async () => {
    const backend = backendWith('a', 'b', 'c');
    const { result } = track(backend, 'exports');
    const other = track(backend, 'imports');
    await act(async () => {
      result.current.track('a');
      result.current.track('b');
      other.result.current.track('c');
    });
    expect(result.current.ids).toEqual(['a', 'b']);
    await act(async () => result.current.clear());
    expect(result.current.ids).toEqual([]);
    expect(other.result.current.ids).toEqual(['c']);
    expect(JSON.parse(localStorage.getItem('jobwatch:tracked:imports')!)).toEqual(['c']);
  });

  it('keeps track, untrack and clear stable across renders', async () => {
    const { result } = track(backendWith('a'), 'exports');
    const before = result.current;
    await act(async () => result.current.track('a'));
    expect(result.current.ids).not.toBe(before.ids);
    expect(result.current.track).toBe(before.track);
    expect(result.current.untrack).toBe(before.untrack);
    expect(result.current.clear).toBe(before.clear);
  });
});

describe('useTrackedJobs: storage', () => {
  it('uses localStorage by default, under a namespaced key', async () => {
    const { result } = track(backendWith('job-1'), 'exports');
    await act(async () => result.current.track('job-1'));
    expect(localStorage.getItem(KEY)).toBe('["job-1"]');
  });

  it('uses an injected storage and leaves localStorage alone', async () => {
    const storage = createMemoryJobIdStorage();
    const spy: JobIdStorage = {
      getItem: vi.fn(storage.getItem),
      setItem: vi.fn(storage.setItem),
      removeItem: vi.fn(storage.removeItem),
    };
    const { result } = track(backendWith('job-1'), 'exports', { storage: spy });
    await act(async () => result.current.track('job-1'));
    expect(spy.setItem).toHaveBeenCalledWith(KEY, '["job-1"]');
    expect(localStorage.length).toBe(0);
  });

  it('follows another tab through the storage event', async () => {
    const { result } = track(backendWith('mine', 'theirs'), 'exports');
    await act(async () => result.current.track('mine'));

    // Another tab tracks a job: it writes localStorage, and this tab gets a `storage` event.
    await act(async () => {
      localStorage.setItem(KEY, JSON.stringify(['mine', 'theirs']));
      window.dispatchEvent(new StorageEvent('storage', { key: KEY, newValue: localStorage.getItem(KEY), storageArea: localStorage }));
    });
    expect(result.current.ids).toEqual(['mine', 'theirs']);

    // Another key, or another storage area: not ours.
    await act(async () => {
      localStorage.setItem('jobwatch:tracked:imports', '["x"]');
      window.dispatchEvent(new StorageEvent('storage', { key: 'jobwatch:tracked:imports', storageArea: localStorage }));
      window.dispatchEvent(new StorageEvent('storage', { key: KEY, storageArea: sessionStorage }));
    });
    expect(result.current.ids).toEqual(['mine', 'theirs']);

    // The other tab clears its storage (key null).
    await act(async () => {
      localStorage.clear();
      window.dispatchEvent(new StorageEvent('storage', { key: null, storageArea: localStorage }));
    });
    expect(result.current.ids).toEqual([]);
  });

  it('shares one list between hooks of the same key in this tab, in different providers', async () => {
    const backend = backendWith('job-1');
    const storage = createMemoryJobIdStorage();
    const header = track(backend, 'exports', { storage });
    const page = track(backend, 'exports', { storage });
    await act(async () => page.result.current.track('job-1'));
    expect(header.result.current.ids).toEqual(['job-1']);
    await act(async () => header.result.current.untrack('job-1'));
    expect(page.result.current.ids).toEqual([]);
  });

  it.each([
    ['not JSON', '{oops'],
    ['an object', '{"ids":["a"]}'],
    ['a string', '"a"'],
    ['null', 'null'],
  ])('treats malformed content (%s) as empty, without throwing', async (_name, raw) => {
    const storage = createMemoryJobIdStorage();
    storage.setItem(KEY, raw);
    const { result } = track(backendWith('job-1'), 'exports', { storage });
    expect(result.current.ids).toEqual([]);
    await act(async () => result.current.track('job-1'));
    expect(storage.getItem(KEY)).toBe('["job-1"]');
  });

  it('keeps only the ids of an array, once each', async () => {
    const storage = createMemoryJobIdStorage();
    storage.setItem(KEY, JSON.stringify(['a', 1, null, '', 'b', 'a', { id: 'c' }]));
    const { result } = track(backendWith('a', 'b'), 'exports', { storage });
    expect(result.current.ids).toEqual(['a', 'b']);
  });

  it(`keeps at most ${MAX_TRACKED_JOBS} ids, forgetting the oldest`, async () => {
    const storage = createMemoryJobIdStorage();
    const ids = Array.from({ length: MAX_TRACKED_JOBS + 5 }, (_, i) => `job-${i + 1}`);
    const { result } = track(backendWith(...ids), 'exports', { storage });
    await act(async () => {
      for (let i = 1; i <= MAX_TRACKED_JOBS + 5; i++) result.current.track(`job-${i}`);
    });
    expect(result.current.ids).toHaveLength(MAX_TRACKED_JOBS);
    expect(result.current.ids[0]).toBe('job-6');
    expect(result.current.ids.at(-1)).toBe(`job-${MAX_TRACKED_JOBS + 5}`);
    expect(JSON.parse(storage.getItem(KEY)!)).toHaveLength(MAX_TRACKED_JOBS);
  });

  it('keeps ids in memory, also across remounts, once storage is full', async () => {
    const full: JobIdStorage = {
      getItem: () => null,
      setItem: () => {
        throw new DOMException('full', 'QuotaExceededError');
      },
      removeItem: () => {},
    };
    const backend = backendWith('job-1');
    const first = track(backend, 'exports', { storage: full });
    await act(async () => first.result.current.track('job-1'));
    first.unmount();
    const second = track(backend, 'exports', { storage: full });
    expect(second.result.current.ids).toEqual(['job-1']);
  });

  it('keeps working in memory when storage throws (disabled, quota exceeded)', async () => {
    const broken: JobIdStorage = {
      getItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
      setItem: () => {
        throw new DOMException('full', 'QuotaExceededError');
      },
      removeItem: () => {
        throw new DOMException('denied', 'SecurityError');
      },
    };
    const { result } = track(backendWith('job-1'), 'exports', { storage: broken });
    expect(result.current.ids).toEqual([]);
    await act(async () => result.current.track('job-1'));
    expect(result.current.ids).toEqual(['job-1']);
    await act(async () => result.current.untrack('job-1'));
    expect(result.current.ids).toEqual([]);
  });
});

describe('useTrackedJobs: optimistic changes', () => {
  it('keeps tracking a job whose cancel the server rejects', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    backend.start(job.id);
    const storage = createMemoryJobIdStorage();
    const onSettled = vi.fn();
    const client: JobClient = {
      ...pollingClient(backend),
      cancel: () => Promise.reject(new JobTransportError('Internal error', { status: 500 })),
    };
    const { result } = renderHook(
      () => ({ tracked: useTrackedJobs('gen', { storage, onSettled }), cancel: useCancelJob() }),
      { wrapper: pageWrapper(client) },
    );
    act(() => result.current.tracked.track(job.id));
    await advance(0);
    act(() => result.current.cancel.mutate(job.id));
    await advance(0);
    await advance(0);
    expect(result.current.tracked.ids).toEqual([job.id]);
    expect(onSettled).not.toHaveBeenCalled();
  });
});
