import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { dehydrate, HydrationBoundary, QueryClient } from '@tanstack/react-query';
import { act, fireEvent, render, renderHook, screen } from '@testing-library/react';
import type { ReactNode } from 'react';
import { JobClientProvider, JobNotFoundError, JobProgress, JobStatus, useJobStatus } from 'jobwatch';
import { jobStatusQueryOptions } from 'jobwatch/core';
import { createMemoryJobBackend, imageGeneration } from 'jobwatch/testing';
import { ExportStatus } from '../examples/custom-status';
import { ProjectHistory } from '../examples/history';
import { GenerationProgress } from '../examples/progress';
import { Generations } from '../examples/tracked';
import { App } from '../examples/App';
import { Providers } from '../examples/rsc-providers';
import { restJobClient, trpcJobClient } from '../examples/router-client';
import { jobStore } from '../examples/app-deps';
import { GET, POST } from '../examples/next-route';
import { advance, setVisibility, testQueryClient } from './helpers';

// vitest runs from the repository root. The README and the guides (the catalogue's
// stories/guides/*.mdx pages) quote files of examples/, which these tests run.
const doc = (file: string) => readFileSync(path.join(process.cwd(), file), 'utf8');
const readme = doc('README.md');
const guides = readdirSync(path.join(process.cwd(), 'stories/guides'))
  .filter((file) => file.endsWith('.mdx'))
  .map((file) => `stories/guides/${file}`);
const example = (file: string) => readFileSync(path.join(process.cwd(), 'examples', file), 'utf8').trim();

beforeEach(() => {
  vi.useFakeTimers();
  setVisibility('visible');
});
afterEach(() => vi.useRealTimers());

describe('README and guides', () => {
  it('shows the set-up commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
    expect(doc('CONTRIBUTING.md')).toContain('npm ci && npm start');
  });

  it('links to CONTRIBUTING.md, every guide and the API reference', () => {
    expect(readme).toContain('](CONTRIBUTING.md)');
    for (const guide of guides) expect(readme).toContain(`](${guide})`);
    expect(readme).toContain('npm run docs:api');
  });

  it.each([
    ['App.tsx', 'README.md'],
    ['main.tsx', 'README.md'],
    ['main-msw.tsx', 'stories/guides/testing.mdx'],
    ['rsc-page.tsx', 'stories/guides/server.mdx'],
    ['rsc-providers.tsx', 'stories/guides/server.mdx'],
    ['custom-status.tsx', 'stories/guides/recipes.mdx'],
    ['router-client.ts', 'stories/guides/connect-your-api.mdx'],
    ['job-status.test.tsx', 'stories/guides/testing.mdx'],
    ['next-route.ts', 'stories/guides/server.mdx'],
    ['node-server.ts', 'stories/guides/server.mdx'],
    ['msw-consumer.test.tsx', 'stories/guides/testing.mdx'],
    ['progress.tsx', 'stories/guides/recipes.mdx'],
    ['history.tsx', 'stories/guides/recipes.mdx'],
    ['tracked.tsx', 'stories/guides/recipes.mdx'],
    ['bullmq-queue.ts', 'stories/guides/bullmq.mdx'],
    ['bullmq-route.ts', 'stories/guides/bullmq.mdx'],
    ['bullmq-start-route.ts', 'stories/guides/bullmq.mdx'],
    ['bullmq-worker.ts', 'stories/guides/bullmq.mdx'],
  ])('quotes examples/%s verbatim in %s', (file, where) => {
    expect(doc(where)).toContain(example(file));
  });

  it('quick start: main.tsx runs as it is — Generate starts a scripted job on the in-memory backend, followed to Completed', async () => {
    const container = document.createElement('div');
    container.id = 'root';
    document.body.append(container);
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    try {
      await act(async () => {
        await import('../examples/main');
      });
      const status = screen.getByRole('status');
      expect(container.contains(status)).toBe(true);
      expect(status.textContent).toBe('');

      fireEvent.click(screen.getByRole('button', { name: 'Generate image' }));
      await advance(0);
      expect(status.getAttribute('data-state')).toBe('pending');
      await advance(3000);
      expect(status.textContent).toContain('Processing (updating…)');
      await advance(8000);
      expect(status.getAttribute('data-state')).toBe('completed');
      expect(log).toHaveBeenCalledWith('Image ready: refresh the gallery here');
      expect(log).toHaveBeenCalledTimes(1);
    } finally {
      container.remove();
    }
  });

  it('quick start: Generate creates a job that JobStatus follows to completion, then the images refresh', async () => {
    const backend = createMemoryJobBackend();
    const refreshImages = vi.fn();
    const api = {
      generateImage: async ({ prompt }: { prompt: string }) => ({
        jobId: backend.create(imageGeneration({ meta: { prompt } })).id,
      }),
      refreshImages,
    };
    render(<App client={backend} api={api} />);
    const status = screen.getByRole('status');
    expect(status).toHaveProperty('textContent', '');

    fireEvent.click(screen.getByRole('button', { name: 'Generate image' }));
    await advance(0);
    expect(status.getAttribute('data-state')).toBe('pending');
    expect(status.textContent).toContain('Queued');
    await advance(5000);
    expect(status.getAttribute('data-state')).toBe('processing');
    expect(status.textContent).toContain('(updating…)');
    await advance(100); // the badge's 5 s refresh reaches the screen on React Query's next tick
    expect(screen.getByRole('heading').textContent).toBe('My project 1 active job (0 pending, 1 processing)');

    await advance(10_000);
    expect(status.getAttribute('data-state')).toBe('completed');
    expect(status.textContent).toContain('Completed');
    expect(refreshImages).toHaveBeenCalledTimes(1);
    expect(screen.getByRole('heading').textContent).toBe('My project ');
  });

  it('custom markup: the hook drives an export status with a per-state interval', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const { subscribe: _push, ...client } = backend; // polling only, to see the intervals
    const onDone = vi.fn();
    render(
      <JobClientProvider client={client} queryClient={testQueryClient()}>
        <ExportStatus jobId={job.id} onDone={onDone} />
      </JobClientProvider>,
    );
    expect(screen.getByText('Loading…')).toBeTruthy();
    await advance(0);
    expect(screen.getByText('Export pending')).toBeTruthy();
    backend.start(job.id);
    backend.progress(job.id, 0.25);
    await advance(5000);
    expect(screen.getByText('Export processing — 25%')).toBeTruthy();
    const calls = backend.calls.length;
    await advance(1000);
    expect(backend.calls.length).toBe(calls + 1);
    backend.complete(job.id, { url: '/exports/1.csv' });
    await advance(1000);
    expect(onDone).toHaveBeenCalledWith('/exports/1.csv');
  });

  it('progress: a progress bar beside the status, and Cancel', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    backend.start(job.id);
    backend.progress(job.id, 0.4, 'Generating image');
    render(
      <JobClientProvider client={backend} queryClient={testQueryClient()}>
        <GenerationProgress jobId={job.id} />
      </JobClientProvider>,
    );
    await advance(0);
    const bar = screen.getByRole('progressbar', { name: 'Image generation' });
    expect(bar.getAttribute('aria-valuenow')).toBe('40');
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await advance(0);
    expect(screen.getByRole('status').textContent).toBe('Cancelled');
    expect(backend.get(job.id)?.status).toBe('cancelled');
  });

  it('history: a project’s jobs, ten at a time', async () => {
    const backend = createMemoryJobBackend();
    for (let i = 0; i < 12; i++) backend.create({ meta: { projectId: 'p1' } });
    backend.create({ meta: { projectId: 'p2' } });
    render(
      <JobClientProvider client={backend} queryClient={testQueryClient()}>
        <ProjectHistory projectId="p1" />
      </JobClientProvider>,
    );
    await advance(10);
    expect(screen.getAllByRole('listitem')).toHaveLength(10);
    fireEvent.click(screen.getByRole('button', { name: 'Load more' }));
    await advance(10);
    expect(screen.getAllByRole('listitem')).toHaveLength(12);
    expect(screen.queryByRole('button', { name: 'Load more' })).toBeNull();
  });

  it('tracked jobs: a generation is followed until it completes, then forgotten', async () => {
    const backend = createMemoryJobBackend();
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    localStorage.clear();
    render(
      <JobClientProvider client={backend} queryClient={testQueryClient()}>
        <Generations start={async () => ({ jobId: backend.create({ runningMs: 1000 }).id })} />
      </JobClientProvider>,
    );
    fireEvent.click(screen.getByRole('button', { name: 'Generate' }));
    await advance(0);
    expect(JSON.parse(localStorage.getItem('jobwatch:tracked:generations') ?? '[]')).toHaveLength(1);
    expect(screen.getByRole('status').textContent).toContain('Processing');
    await advance(2000);
    expect(log).toHaveBeenCalledWith(expect.stringMatching(/is ready$/));
    expect(JSON.parse(localStorage.getItem('jobwatch:tracked:generations') ?? '[]')).toEqual([]);
  });

  it('router mapping: a tRPC router becomes a JobClient', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    backend.start(job.id);
    const trpc = {
      job: {
        getStatus: { query: ({ jobId }: { jobId: string }, o?: { signal?: AbortSignal }) => backend.getStatus(jobId, o) },
        list: { query: (filter: object, o?: { signal?: AbortSignal }) => backend.list(filter, o) },
        getPendingCount: { query: (filter: object, o?: { signal?: AbortSignal }) => backend.getPendingCount(filter, o) },
        cancel: { mutate: ({ jobId }: { jobId: string }) => backend.cancel(jobId) },
      },
    };
    const client = trpcJobClient(trpc);
    const queryClient = testQueryClient();
    const wrapper = ({ children }: { children?: ReactNode }) => (
      <JobClientProvider client={client} queryClient={queryClient}>
        {children}
      </JobClientProvider>
    );
    const { result } = renderHook(() => useJobStatus(job.id), { wrapper });
    await advance(0);
    expect(result.current.status).toBe('processing');
    await client.cancel!(job.id);
    await advance(2000);
    expect(result.current.status).toBe('cancelled');
  });

  it('Next.js route: one catch-all handler serves status and cancel, scoped to the signed-in user', async () => {
    const job = jobStore.create({ owner: 'u1' });
    const as = (user?: string) => (user ? { headers: { 'x-user-id': user } } : {});
    const status = await GET(new Request(`http://localhost/api/jobs/${job.id}`, as('u1')));
    expect(status.status).toBe(200);
    expect(await status.json()).toMatchObject({ id: job.id, status: 'pending' });
    expect((await GET(new Request(`http://localhost/api/jobs/${job.id}`, as('u2')))).status).toBe(404);
    expect((await GET(new Request(`http://localhost/api/jobs/${job.id}`))).status).toBe(401);
    const cancel = await POST(new Request(`http://localhost/api/jobs/${job.id}/cancel`, { method: 'POST', ...as('u1') }));
    expect(await cancel.json()).toMatchObject({ status: 'cancelled' });
  });

  it('SSR recipe: Providers and HydrationBoundary show a prefetched finished job at once, and the browser never asks for it', async () => {
    const backend = createMemoryJobBackend();
    backend.create({ id: 'done', owner: 'u1' });
    backend.complete('done', { url: '/images/done.png' });
    const server = new QueryClient();
    await server.prefetchQuery(jobStatusQueryOptions({ getStatus: (id, o) => backend.getStatus(id, { ...o, owner: 'u1' }) }, 'done'));
    const state = JSON.parse(JSON.stringify(dehydrate(server))); // what crosses the wire
    server.clear();

    const fetch = vi.fn(async () => new Response('{}', { status: 500 }));
    vi.stubGlobal('fetch', fetch);
    try {
      const { unmount } = render(
        <Providers>
          <HydrationBoundary state={state}>
            <JobStatus jobId="done" detailed />
            <JobProgress jobId="done" />
          </HydrationBoundary>
        </Providers>,
      );
      expect(screen.getByRole('status').textContent).toBe('Completed');
      expect(screen.getByRole('progressbar').getAttribute('aria-valuenow')).toBe('100');
      await advance(10_000);
      expect(fetch).not.toHaveBeenCalled();
      unmount();
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('router mapping: the REST client passes the signal on, builds the list query, and reads its own routes', async () => {
    const fetch = vi.fn(async (_url: string, _init?: RequestInit) => Response.json({ jobs: [], nextCursor: null }));
    vi.stubGlobal('fetch', fetch);
    try {
      const client = restJobClient('https://api.example.test');
      const controller = new AbortController();
      await client.list({ status: ['pending', 'processing'], limit: 10 }, { signal: controller.signal });
      expect(fetch).toHaveBeenLastCalledWith('https://api.example.test/jobs?status=pending%2Cprocessing&limit=10', { signal: controller.signal });
      await client.list();
      expect(fetch).toHaveBeenLastCalledWith('https://api.example.test/jobs?', { signal: null });
      await client.getPendingCount();
      expect(fetch).toHaveBeenLastCalledWith('https://api.example.test/jobs/pending-count', { signal: null });
      await client.getStatus('a/b');
      expect(fetch).toHaveBeenLastCalledWith('https://api.example.test/jobs/a%2Fb', { signal: null });
    } finally {
      vi.unstubAllGlobals();
    }
  });

  it('router mapping: the REST client turns a 404 into JobNotFoundError', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => new Response('{}', { status: 404 })));
    try {
      const error = await restJobClient('https://api.example.test').getStatus('gone/1').catch((e: unknown) => e);
      expect(error).toBeInstanceOf(JobNotFoundError);
      expect(error).toMatchObject({ jobId: 'gone/1' });
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
