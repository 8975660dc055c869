import { dehydrate, HydrationBoundary, QueryClient } from '@tanstack/react-query';
import { act, render, screen } from '@testing-library/react';
import { StrictMode, type ReactNode } from 'react';
import { JobTransportError, type JobClient } from '../../src/core';
import { JobStatus } from '../../src/components/JobStatus';
import { PendingJobsBadge } from '../../src/components/PendingJobsBadge';
import { JobClientProvider } from '../../src/react/JobClientProvider';
import { jobKeys } from '../../src/react/jobKeys';
import { jobStatusQueryOptions } from '../../src/core';
import { useJobs } from '../../src/react/useJobs';
import { useJobStatus } from '../../src/react/useJobStatus';
import { createMemoryJobBackend, type MemoryJobBackend } from '../../src/testing';
import { advance, fire, setVisibility, testQueryClient } from '../helpers';

/** The backend as a client without push; without `getStatuses` too when `batch` is false. */
function pollingClient(backend: MemoryJobBackend, { batch = true } = {}): JobClient {
  const { subscribe: _push, getStatuses, ...rest } = backend;
  return batch ? { ...rest, getStatuses } : rest;
}

/** Status reads the backend saw: `getStatus` and `getStatuses` calls. */
const statusReads = (backend: MemoryJobBackend) =>
  backend.calls.filter((c) => c.method === 'getStatus' || c.method === 'getStatuses');

function Providers({ client, queryClient, children }: { client: JobClient; queryClient: QueryClient; children?: ReactNode }) {
  return (
    <StrictMode>
      <JobClientProvider client={client} queryClient={queryClient}>
        {children}
      </JobClientProvider>
    </StrictMode>
  );
}

/** Finished jobs of project p1, completed by the backend. */
function finishedJobs(backend: MemoryJobBackend, count: number): string[] {
  return Array.from({ length: count }, () => backend.complete(backend.create({ meta: { projectId: 'p1' } }).id).id);
}

/** The README's history example: every listed row rendered with `<JobStatus jobId>`. */
function History({ onSettled }: { onSettled: (job: { id: string }) => void }) {
  const { jobs } = useJobs({ meta: { projectId: 'p1' }, limit: 10 });
  return (
    <ul>
      {jobs.map((job) => (
        <li key={job.id}>
          {job.id}: <JobStatus jobId={job.id} onSettled={onSettled} />
        </li>
      ))}
    </ul>
  );
}

const states = (container: HTMLElement) => [...container.querySelectorAll('[data-state]')].map((el) => el.getAttribute('data-state'));

beforeEach(() => {
  vi.useFakeTimers();
  setVisibility('visible');
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('a job already terminal in the cache is never read again (semantic 13)', () => {
  it.each([
    ['a plain client (getStatus per row)', false],
    ['a batch client (getStatuses of the finished rows)', true],
  ])('history rows rendered with JobStatus make no status read, with %s', async (_name, batch) => {
    const backend = createMemoryJobBackend();
    const ids = finishedJobs(backend, 4);
    const onSettled = vi.fn();
    const { container } = render(
      <Providers client={pollingClient(backend, { batch })} queryClient={testQueryClient()}>
        <History onSettled={onSettled} />
      </Providers>,
    );
    await advance(0);
    await advance(10_000);
    expect(states(container)).toEqual(ids.map(() => 'completed'));
    expect(backend.calls.map((c) => c.method)).toEqual(['list']);
    // Semantic 2: callbacks still fire on the first observation, once per row.
    expect(onSettled.mock.calls.map(([job]) => job.id).sort()).toEqual([...ids].sort());
  });

  it('history rows show their finished state from their first render, never "loading"', async () => {
    const backend = createMemoryJobBackend();
    finishedJobs(backend, 3);
    const seen: string[] = [];
    function Row({ id }: { id: string }) {
      seen.push(useJobStatus(id).status ?? 'loading');
      return null;
    }
    function Rows() {
      const { jobs } = useJobs({ meta: { projectId: 'p1' } });
      return jobs.map((job) => <Row key={job.id} id={job.id} />);
    }
    render(
      <Providers client={pollingClient(backend)} queryClient={testQueryClient()}>
        <Rows />
      </Providers>,
    );
    await advance(0);
    await advance(100);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set(['completed']));
    expect(statusReads(backend)).toHaveLength(0);
  });

  it('a JobStatus mounted for a job that finished by push makes no status read', async () => {
    const backend = createMemoryJobBackend();
    const id = backend.create().id;
    const queryClient = testQueryClient();
    const first = render(
      <Providers client={backend} queryClient={queryClient}>
        <JobStatus jobId={id} />
      </Providers>,
    );
    await advance(0);
    act(() => void backend.complete(id));
    await advance(0);
    expect(first.container.querySelector('[data-state]')?.getAttribute('data-state')).toBe('completed');
    backend.clearCalls();
    // Another JobStatus for it, beside the first; then alone after the first unmounts.
    const onComplete = vi.fn();
    first.rerender(
      <Providers client={backend} queryClient={queryClient}>
        <JobStatus jobId={id} />
        <JobStatus jobId={id} onComplete={onComplete} />
      </Providers>,
    );
    await advance(5000);
    first.unmount();
    const again = render(
      <Providers client={backend} queryClient={queryClient}>
        <JobStatus jobId={id} onComplete={onComplete} />
      </Providers>,
    );
    await advance(5000);
    expect(states(again.container)).toEqual(['completed']);
    expect(backend.calls).toEqual([]);
    expect(onComplete).toHaveBeenCalledTimes(2);
  });

  it('a JobStatus for SSR-hydrated data (jobStatusQueryOptions, dehydrate, HydrationBoundary) makes no status read', async () => {
    const backend = createMemoryJobBackend();
    const id = finishedJobs(backend, 1)[0]!;
    const server = new QueryClient();
    await server.prefetchQuery(jobStatusQueryOptions(backend, id));
    const state = dehydrate(server);
    server.clear();
    backend.clearCalls();
    const onSettled = vi.fn();
    const { container } = render(
      <Providers client={pollingClient(backend)} queryClient={testQueryClient()}>
        <HydrationBoundary state={state}>
          <JobStatus jobId={id} onSettled={onSettled} />
        </HydrationBoundary>
      </Providers>,
    );
    expect(states(container)).toEqual(['completed']);
    await advance(10_000);
    expect(backend.calls).toEqual([]);
    expect(onSettled).toHaveBeenCalledTimes(1);
  });

  it('a watched job that SSR data (HydrationBoundary) shows finished settles at once and is not read again', async () => {
    const backend = createMemoryJobBackend();
    const id = backend.create().id;
    const queryClient = testQueryClient();
    const onComplete = vi.fn();
    const page = (state?: ReturnType<typeof dehydrate>) => (
      <Providers client={pollingClient(backend)} queryClient={queryClient}>
        <HydrationBoundary state={state}>
          <JobStatus jobId={id} pollInterval={60_000} onComplete={onComplete} />
        </HydrationBoundary>
      </Providers>
    );
    const view = render(page());
    await advance(0);
    expect(states(view.container)).toEqual(['pending']);
    // A newer server render (e.g. after navigation) knows the job finished.
    await advance(1000);
    backend.complete(id);
    const server = new QueryClient();
    await server.prefetchQuery(jobStatusQueryOptions(backend, id));
    const state = dehydrate(server);
    server.clear();
    backend.clearCalls();
    view.rerender(page(state));
    await advance(0);
    expect(states(view.container)).toEqual(['completed']);
    expect(onComplete).toHaveBeenCalledTimes(1);
    await advance(120_000);
    expect(backend.calls).toEqual([]);
  });

  it('a JobStatus for a job prefetched into the same QueryClient, or written with setQueryData after mount, makes no status read', async () => {
    const backend = createMemoryJobBackend();
    const [prefetched, written] = finishedJobs(backend, 2);
    const queryClient = testQueryClient();
    await queryClient.prefetchQuery(jobStatusQueryOptions(backend, prefetched!));
    const job = await backend.getStatus(written!);
    backend.clearCalls();
    const { container } = render(
      <Providers client={pollingClient(backend)} queryClient={queryClient}>
        <JobStatus jobId={prefetched!} />
      </Providers>,
    );
    await advance(0);
    expect(states(container)).toEqual(['completed']);
    // Data arriving the same way for a job a list has already shown.
    act(() => void queryClient.setQueryData(jobKeys.status(written!), job));
    const more = render(
      <Providers client={pollingClient(backend)} queryClient={queryClient}>
        <JobStatus jobId={written!} />
      </Providers>,
    );
    await advance(10_000);
    expect(states(more.container)).toEqual(['completed']);
    expect(backend.calls).toEqual([]);
  });
});

describe('Retry-After outranks every trigger in React (semantic 11)', () => {
  /** A JobStatus whose first read answers 429 with Retry-After 60 s; later reads succeed. */
  async function throttled() {
    const backend = createMemoryJobBackend();
    const id = backend.create().id;
    let first = true;
    const client: JobClient = {
      ...pollingClient(backend),
      getStatus: async (jobId, o) => {
        const job = await backend.getStatus(jobId, o);
        if (!first) return job;
        first = false;
        throw new JobTransportError('Too Many Requests', { status: 429, retryAfterMs: 60_000 });
      },
    };
    const queryClient = testQueryClient();
    const ui = (shown: boolean) => (
      <Providers client={client} queryClient={queryClient}>
        {shown && <JobStatus jobId={id} />}
      </Providers>
    );
    const view = render(ui(true));
    await advance(0);
    expect(statusReads(backend)).toHaveLength(1);
    const t0 = Date.now();
    const at = (ms: number) => advance(t0 + ms - Date.now());
    return { backend, view, ui, at };
  }

  it('sends nothing before Retry-After has passed: hidden and shown, offline and online, focus, remount', async () => {
    const { backend, view, ui, at } = await throttled();
    await at(1000);
    setVisibility('hidden');
    await at(2000);
    setVisibility('visible');
    await at(8000);
    fire('offline');
    await at(9000);
    fire('online');
    await at(15_000);
    act(() => void window.dispatchEvent(new Event('focus')));
    await at(20_000);
    // The JobStatus unmounts and mounts again under the same provider.
    view.rerender(ui(false));
    await at(21_000);
    view.rerender(ui(true));
    await at(59_999);
    expect(statusReads(backend)).toHaveLength(1);
    await at(60_000);
    expect(statusReads(backend)).toHaveLength(2);
    view.unmount();
  });
});

describe('the first answer does not wait for the shared clock in React (semantic 12)', () => {
  it('shows a JobStatus mounted beside a polling one within 50 ms, then polls both in one round', async () => {
    const backend = createMemoryJobBackend();
    const [a, b] = [backend.create().id, backend.create().id];
    const queryClient = testQueryClient();
    const ui = (ids: string[]) => (
      <Providers client={pollingClient(backend)} queryClient={queryClient}>
        {ids.map((id) => (
          <JobStatus key={id} jobId={id} />
        ))}
      </Providers>
    );
    const view = render(ui([a!]));
    await advance(0);
    await advance(700);
    view.rerender(ui([a!, b!]));
    await advance(50);
    expect(states(view.container)).toEqual(['pending', 'pending']);
    backend.clearCalls();
    await advance(4000);
    expect(statusReads(backend).map((c) => [...(c.args[0] as string[])].sort())).toEqual([
      [a, b].sort(),
      [a, b].sort(),
    ]);
  });
});

describe('PendingJobsBadge sees a job that was just started', () => {
  it('shows "1 pending" within a moment of JobStatus mounting for the new job, well before the 5 s counts interval', async () => {
    const backend = createMemoryJobBackend();
    const queryClient = testQueryClient();
    const view = render(
      <Providers client={pollingClient(backend)} queryClient={queryClient}>
        <PendingJobsBadge />
      </Providers>,
    );
    await advance(100);
    expect(view.container.textContent).toBe('');
    // The app starts a job and shows its status; the badge has been mounted all along.
    await advance(1000);
    const id = backend.create().id;
    view.rerender(
      <Providers client={pollingClient(backend)} queryClient={queryClient}>
        <PendingJobsBadge />
        <JobStatus jobId={id} />
      </Providers>,
    );
    await advance(500);
    expect(screen.getByText(/1 pending/)).toBeTruthy();
  });
});
