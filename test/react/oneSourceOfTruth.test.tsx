/**
 * One source of truth per job in the React layer: data flows one way
 * (client → watcher → cache → hook → component). The watcher's own writes
 * into the QueryClient never come back to it as ingests, the provider changes
 * nothing in the watcher during render, and per-provider state lives in the
 * provider (several providers on one page stay apart).
 */
import { act, render, renderHook } from '@testing-library/react';
import { QueryClient } from '@tanstack/react-query';
import { StrictMode, Suspense, startTransition, use, useState, type ReactNode } from 'react';
import type { JobWatcher } from '../../src/core/createJobWatcher';
import * as parseJobModule from '../../src/contract/parseJob';
import type { JobClient } from '../../src/core';
import { JobClientProvider, useJobContext } from '../../src/react/JobClientProvider';
import { jobKeys } from '../../src/react/jobKeys';
import { queryClientJobCache } from '../../src/react/queryClientJobCache';
import { useJobNotifications } from '../../src/react/useJobNotifications';
import { useJobStatus } from '../../src/react/useJobStatus';
import { useTrackedJobs, type JobIdStorage } from '../../src/react/useTrackedJobs';
import { createMemoryJobBackend, type MemoryJobBackend } from '../../src/testing';
import { advance, makeJob, setVisibility, testQueryClient } from '../helpers';

vi.mock('../../src/contract/parseJob', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../src/contract/parseJob')>();
  return { ...original, parseJob: vi.fn(original.parseJob) };
});
const parseJobSpy = vi.mocked(parseJobModule.parseJob);

/** The backend as a client without push, so these tests see polling alone. */
function pollingClient(backend: MemoryJobBackend): JobClient {
  const { subscribe: _push, ...client } = backend;
  return client;
}

const statusReads = (backend: MemoryJobBackend) =>
  backend.calls.filter((c) => c.method === 'getStatus' || c.method === 'getStatuses').length;

function wrapperFor(client: JobClient, queryClient: QueryClient = testQueryClient()) {
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
  localStorage.clear();
  parseJobSpy.mockClear();
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

describe('the QueryClient adapter never offers the watcher its own writes', () => {
  it('ingests an app write of a status query once, and the watcher’s own write never', () => {
    const queryClient = testQueryClient();
    const cache = queryClientJobCache(queryClient);
    const watcher = { ingest: vi.fn(), refresh: vi.fn(async () => {}) } as unknown as JobWatcher;
    const stop = cache.connect(watcher);

    // The watcher's own writes: a new query, then an update of it.
    cache.set('job-1', makeJob({ id: 'job-1', version: 1 }));
    cache.set('job-1', makeJob({ id: 'job-1', version: 2, status: 'processing' }));
    expect(watcher.ingest).not.toHaveBeenCalled();
    expect(parseJobSpy).not.toHaveBeenCalled();
    expect(cache.get('job-1')).toMatchObject({ version: 2, status: 'processing' });

    // The app's write of the same key still reaches the watcher, once.
    const external = makeJob({ id: 'job-1', version: 3, status: 'completed' });
    queryClient.setQueryData(jobKeys.status('job-1'), external);
    expect(watcher.ingest).toHaveBeenCalledTimes(1);
    expect(watcher.ingest).toHaveBeenCalledWith(external);
    expect(parseJobSpy).toHaveBeenCalledTimes(1);
    stop();
  });

  it('a polled answer the watcher writes into the QueryClient is not ingested again; an app setQueryData is, once', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const queryClient = testQueryClient();
    const { result } = renderHook(() => ({ status: useJobStatus(job.id), context: useJobContext() }), {
      wrapper: wrapperFor(pollingClient(backend), queryClient),
    });
    await advance(0);
    expect(result.current.status.status).toBe('pending');
    const ingest = vi.spyOn(result.current.context.watcher, 'ingest');

    // Two answers of the server, each written by the watcher into the QueryClient.
    backend.start(job.id);
    await advance(2000);
    backend.progress(job.id, 0.5);
    await advance(2000);
    expect(result.current.status.progress).toBe(0.5);
    expect(queryClient.getQueryData(jobKeys.status(job.id))).toMatchObject({ status: 'processing', progress: 0.5 });
    expect(ingest).not.toHaveBeenCalled();

    // The app writes a newer job: offered to the watcher once, and shown.
    const shown = result.current.status.job!;
    act(() => {
      queryClient.setQueryData(jobKeys.status(job.id), { ...shown, status: 'completed', version: (shown.version ?? 0) + 1 });
    });
    expect(ingest).toHaveBeenCalledTimes(1);
    expect(result.current.status.status).toBe('completed');
  });

  it('an optimistic replace written into the QueryClient is not offered back to the watcher', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const { result } = renderHook(() => ({ status: useJobStatus(job.id), context: useJobContext() }), {
      wrapper: wrapperFor(pollingClient(backend)),
    });
    await advance(0);
    const { watcher } = result.current.context;
    const ingest = vi.spyOn(watcher, 'ingest');
    const previous = watcher.getSnapshot(job.id).job!;
    act(() => void watcher.replace({ ...previous, status: 'cancelled' }, { silent: true }));
    act(() => void watcher.replace(previous, { silent: true }));
    expect(ingest).not.toHaveBeenCalled();
    expect(result.current.status.status).toBe('pending');
  });
});

describe('the provider changes nothing in the watcher during render', () => {
  it('a render with a new client that never commits (a suspended transition) leaves the watcher on the old client', async () => {
    const first = createMemoryJobBackend();
    const second = createMemoryJobBackend();
    first.create({ id: 'job-1' });
    second.create({ id: 'job-1' });
    const firstClient = pollingClient(first);
    const secondClient = pollingClient(second);
    const queryClient = testQueryClient();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let watcher: JobWatcher | undefined;

    function Watch({ suspend }: { suspend: boolean }) {
      watcher = useJobContext().watcher;
      useJobStatus('job-1');
      if (suspend) use(gate);
      return null;
    }
    let show: (next: { client: JobClient; suspend: boolean }) => void = () => {};
    function App() {
      const [props, setProps] = useState({ client: firstClient, suspend: false });
      show = setProps;
      return (
        <Suspense fallback="loading">
          <JobClientProvider client={props.client} queryClient={queryClient}>
            <Watch suspend={props.suspend} />
          </JobClientProvider>
        </Suspense>
      );
    }

    render(<App />);
    await advance(0);
    expect(statusReads(first)).toBe(1);
    const setClient = vi.spyOn(watcher!, 'setClient');

    // React renders the provider with the new client, then keeps that render from committing.
    await act(async () => startTransition(() => show({ client: secondClient, suspend: true })));
    expect(setClient).not.toHaveBeenCalled();
    await advance(2000);
    expect(statusReads(first)).toBe(2);
    expect(statusReads(second)).toBe(0);

    // Once the render can finish it commits: from now on the new client reads.
    await act(async () => release());
    expect(setClient).toHaveBeenCalledWith(secondClient);
    await advance(2000);
    expect(statusReads(second)).toBe(1);
    expect(statusReads(first)).toBe(2);
  });

  it('a child’s first render, under StrictMode, reads through the client of that render', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const { result } = renderHook(() => useJobStatus(job.id), { wrapper: wrapperFor(pollingClient(backend)) });
    await advance(0);
    expect(result.current.status).toBe('pending');
    expect(statusReads(backend)).toBe(1);
  });
});

describe('several providers on one page keep their state apart', () => {
  function Tracked({ name, onIds }: { name: string; onIds: (name: string, ids: readonly string[], track: (id: string) => void) => void }) {
    const { ids, track } = useTrackedJobs('exports');
    onIds(name, ids, track);
    return null;
  }

  it('without localStorage, each provider keeps its own tracked jobs', async () => {
    vi.spyOn(window, 'localStorage', 'get').mockImplementation(() => {
      throw new DOMException('denied', 'SecurityError');
    });
    const backend = createMemoryJobBackend();
    backend.create({ id: 'job-a' });
    const seen: Record<string, { ids: readonly string[]; track: (id: string) => void }> = {};
    const onIds = (name: string, ids: readonly string[], track: (id: string) => void) => void (seen[name] = { ids, track });
    render(
      <>
        <JobClientProvider client={pollingClient(backend)} queryClient={testQueryClient()}>
          <Tracked name="a" onIds={onIds} />
        </JobClientProvider>
        <JobClientProvider client={pollingClient(backend)} queryClient={testQueryClient()}>
          <Tracked name="b" onIds={onIds} />
        </JobClientProvider>
      </>,
    );
    await act(async () => seen.a!.track('job-a'));
    expect(seen.a!.ids).toEqual(['job-a']);
    expect(seen.b!.ids).toEqual([]);
  });

  it('with localStorage, providers in one tab still share the list of a key, as documented', async () => {
    const backend = createMemoryJobBackend();
    backend.create({ id: 'job-a' });
    const seen: Record<string, { ids: readonly string[]; track: (id: string) => void }> = {};
    const onIds = (name: string, ids: readonly string[], track: (id: string) => void) => void (seen[name] = { ids, track });
    render(
      <>
        <JobClientProvider client={pollingClient(backend)} queryClient={testQueryClient()}>
          <Tracked name="a" onIds={onIds} />
        </JobClientProvider>
        <JobClientProvider client={pollingClient(backend)} queryClient={testQueryClient()}>
          <Tracked name="b" onIds={onIds} />
        </JobClientProvider>
      </>,
    );
    await act(async () => seen.a!.track('job-a'));
    expect(seen.b!.ids).toEqual(['job-a']);
    expect(localStorage.getItem('jobwatch:tracked:exports')).toBe('["job-a"]');
  });

  it('providers sharing a storage that cannot take the ids still show one list, also to a provider mounted later', async () => {
    const full: JobIdStorage = {
      getItem: () => null,
      setItem: () => {
        throw new DOMException('full', 'QuotaExceededError');
      },
      removeItem: () => {},
    };
    function Custom({ name, onIds }: { name: string; onIds: (name: string, ids: readonly string[], track: (id: string) => void) => void }) {
      const { ids, track } = useTrackedJobs('exports', { storage: full });
      onIds(name, ids, track);
      return null;
    }
    const backend = createMemoryJobBackend();
    backend.create({ id: 'job-a' });
    const seen: Record<string, { ids: readonly string[]; track: (id: string) => void }> = {};
    const onIds = (name: string, ids: readonly string[], track: (id: string) => void) => void (seen[name] = { ids, track });
    const page = (extra: boolean) => (
      <>
        <JobClientProvider client={pollingClient(backend)} queryClient={testQueryClient()}>
          <Custom name="a" onIds={onIds} />
        </JobClientProvider>
        <JobClientProvider client={pollingClient(backend)} queryClient={testQueryClient()}>
          <Custom name="b" onIds={onIds} />
        </JobClientProvider>
        {extra && (
          <JobClientProvider client={pollingClient(backend)} queryClient={testQueryClient()}>
            <Custom name="c" onIds={onIds} />
          </JobClientProvider>
        )}
      </>
    );
    const { rerender } = render(page(false));
    await act(async () => seen.a!.track('job-a'));
    expect(seen.a!.ids).toEqual(['job-a']);
    expect(seen.b!.ids).toEqual(['job-a']);
    rerender(page(true));
    expect(seen.c!.ids).toEqual(['job-a']);
  });

  it('notifications under one provider slow hidden polling of that provider only', async () => {
    class FakeNotification {
      static permission: NotificationPermission = 'granted';
      static requestPermission = async () => 'granted' as const;
    }
    vi.stubGlobal('Notification', FakeNotification);
    vi.stubGlobal('BroadcastChannel', undefined);
    const notifying = createMemoryJobBackend();
    const quiet = createMemoryJobBackend();
    notifying.create({ id: 'job-1' });
    quiet.create({ id: 'job-1' });

    function Watch({ notify }: { notify: boolean }) {
      useJobStatus('job-1');
      return notify ? <Notify /> : null;
    }
    function Notify() {
      useJobNotifications();
      return null;
    }
    render(
      <>
        <JobClientProvider client={pollingClient(notifying)} queryClient={testQueryClient()}>
          <Watch notify />
        </JobClientProvider>
        <JobClientProvider client={pollingClient(quiet)} queryClient={testQueryClient()}>
          <Watch notify={false} />
        </JobClientProvider>
      </>,
    );
    await advance(0);
    setVisibility('hidden');
    await advance(2000);
    notifying.clearCalls();
    quiet.clearCalls();
    await advance(60_000);
    expect(statusReads(notifying)).toBe(2);
    expect(statusReads(quiet)).toBe(0);
  });
});
