import { setupWorker } from 'msw/browser';
import { createFetchJobClient, isTerminal, JobNotFoundError, type Job } from '../../src/core';
import { createJobHandlers } from '../../src/msw';
import { createMemoryJobBackend } from '../../src/testing';

// In this project `msw` is msw 3 (see vitest.config.ts): jobwatch/msw must work with it in the browser.
const backend = createMemoryJobBackend();
const worker = setupWorker(...createJobHandlers({ backend, baseUrl: '/api/jobs' }));

beforeAll(async () => {
  await worker.start({ quiet: true, onUnhandledRequest: 'bypass', serviceWorker: { url: '/mockServiceWorker.js' } });
});
afterAll(() => worker.stop());

describe('jobwatch/msw with msw 3 in the browser', () => {
  it('runs msw 3 and its worker', async () => {
    const script = await (await fetch('/mockServiceWorker.js')).text();
    expect(script).toMatch(/PACKAGE_VERSION = '3\./);
  });

  it('serves status, batch, list, counts and cancel', async () => {
    const client = createFetchJobClient({ baseUrl: '/api/jobs' });
    const a = backend.create({ meta: { projectId: 'p1' } });
    const b = backend.create({ meta: { projectId: 'p1' } });
    backend.start(b.id);
    expect((await client.getStatus(a.id)).status).toBe('pending');
    expect((await client.getStatuses([a.id, 'nope'])).missing).toEqual(['nope']);
    expect((await client.list({ meta: { projectId: 'p1' } })).jobs.map((j) => j.id).sort()).toEqual([a.id, b.id].sort());
    expect(await client.getPendingCount({ meta: { projectId: 'p1' } })).toEqual({ pending: 1, processing: 1 });
    expect((await client.cancel(a.id)).status).toBe('cancelled');
    await expect(client.getStatus('nope')).rejects.toBeInstanceOf(JobNotFoundError);
  });

  it('pushes changes over the event stream', async () => {
    const client = createFetchJobClient({ baseUrl: '/api/jobs' });
    const job = backend.create();
    const seen: string[] = [];
    const done = new Promise<void>((resolve) => {
      client.subscribe!(job.id, {
        next(j: Job) {
          seen.push(j.status);
          if (isTerminal(j)) resolve();
        },
      });
    });
    await vi.waitFor(() => expect(seen).toEqual(['pending']));
    backend.start(job.id);
    backend.complete(job.id);
    await done;
    expect(seen).toEqual(['pending', 'processing', 'completed']);
  });
});
