import { QueryClient } from '@tanstack/react-query';
import { createRoot } from 'react-dom/client';
import { flushSync } from 'react-dom';
import { JobClientProvider, JobStatus, jobKeys, useJobStatus, type JobClient } from 'jobwatch';
import { createMemoryJobBackend } from 'jobwatch/testing';
import type { ReactNode } from 'react';
import { bytes, settledHeap, waitFor, withoutPush } from './shared';

/** useJobStatus alone: the cost of watching, without JobStatus's DOM. */
function HookOnly({ jobId }: { jobId: string }) {
  useJobStatus(jobId);
  return null;
}

interface Page {
  render(children: ReactNode): void;
  close(): void;
}

function mountProvider(client: JobClient, queryClient: QueryClient): Page {
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  const render = (children: ReactNode) =>
    flushSync(() =>
      root.render(
        <JobClientProvider client={client} queryClient={queryClient}>
          {children}
        </JobClientProvider>,
      ),
    );
  render(null);
  return {
    render,
    close() {
      root.unmount();
      container.remove();
    },
  };
}

const loaded = (queryClient: QueryClient, ids: string[]) => () =>
  ids.every((id) => queryClient.getQueryData(jobKeys.status(id)) !== undefined);

async function heapPerJob(n: number, component: 'JobStatus' | 'useJobStatus') {
  const backend = createMemoryJobBackend();
  const ids = Array.from({ length: n }, () => backend.create().id);
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const page = mountProvider(withoutPush(backend), queryClient);
  const before = await settledHeap();
  const start = performance.now();
  page.render(ids.map((id) => (component === 'JobStatus' ? <JobStatus key={id} jobId={id} /> : <HookOnly key={id} jobId={id} />)));
  const mountedMs = performance.now() - start;
  await waitFor(loaded(queryClient, ids), `${n} jobs loaded`);
  const loadedMs = performance.now() - start;
  backend.clearCalls(); // the backend's call log is not the watcher's memory
  const after = await settledHeap();
  page.close();
  queryClient.clear();
  return {
    jobs: n,
    component,
    heapBefore: before,
    heapAfter: after,
    bytesPerJob: Math.round((after - before) / n),
    mountMs: Math.round(mountedMs),
    mountAndFirstReadMs: Math.round(loadedMs),
  };
}

async function mountUnmountCycles(n: number, cycles: number) {
  const backend = createMemoryJobBackend();
  const ids = Array.from({ length: n }, () => backend.create().id);
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const page = mountProvider(backend, queryClient);
  const cycle = async () => {
    page.render(ids.map((id) => <JobStatus key={id} jobId={id} />));
    await waitFor(() => document.querySelectorAll('[data-connection="live"]').length === n, `${n} live JobStatus`);
    page.render(null);
    await new Promise((resolve) => setTimeout(resolve, 50));
    backend.clearCalls(); // the log keeps every subscribe's listener
    return settledHeap();
  };
  const baseline = await cycle(); // warm-up: caches, JIT, the QueryClient's entries for these jobs
  const heaps: number[] = [];
  for (let i = 0; i < cycles; i++) heaps.push(await cycle());
  page.close();
  queryClient.clear();
  const final = heaps[heaps.length - 1]!;
  return {
    jobs: n,
    cycles,
    baseline,
    heaps,
    final,
    growthBytes: final - baseline,
    growthPercent: ((final - baseline) / baseline) * 100,
  };
}

describe('memory (React production build)', () => {
  it('heap per watched job at 10,000 jobs', async ({ task }) => {
    await heapPerJob(1000, 'useJobStatus'); // warm-up: JIT and one-off allocations stay out of the figures
    const hook = await heapPerJob(10_000, 'useJobStatus');
    const full = await heapPerJob(10_000, 'JobStatus');
    const figure = (o: typeof hook) =>
      `${bytes(o.bytesPerJob)}/job (${bytes(o.heapAfter - o.heapBefore)}) · mount ${o.mountMs} ms, all read at ${o.mountAndFirstReadMs} ms`;
    task.meta.bench = {
      section: 'memory',
      key: 'perJob',
      rows: [
        {
          measurement: 'heap per job, N=10,000',
          variant: 'useJobStatus, rendering null',
          figure: figure(hook),
          target: 'none set',
          pass: null,
        },
        {
          measurement: 'heap per job, N=10,000',
          variant: 'JobStatus, with its jsdom DOM',
          figure: figure(full),
          target: 'none set',
          pass: null,
        },
      ],
      data: { client: 'batch client without push', hook, jobStatus: full },
    };
  });

  it('mount and unmount 1,000 JobStatus 10 times', async ({ task }) => {
    const cycles = await mountUnmountCycles(1000, 10);
    task.meta.bench = {
      section: 'memory',
      key: 'mountUnmount',
      rows: [
        {
          measurement: `heap, mount+unmount N=${cycles.jobs} ×${cycles.cycles}`,
          variant: 'JobStatus, push, same jobs',
          figure: `${bytes(cycles.final)} vs ${bytes(cycles.baseline)} after warm-up: ${cycles.growthBytes >= 0 ? '+' : ''}${bytes(cycles.growthBytes)} (${cycles.growthPercent >= 0 ? '+' : ''}${cycles.growthPercent.toFixed(2)}%)`,
          target: 'within 5%',
          pass: Math.abs(cycles.growthPercent) <= 5,
        },
      ],
      data: { client: 'memory backend with push', ...cycles },
    };
  });
});
