import { act, renderHook, waitFor } from '@testing-library/react';
import { setupServer } from 'msw/node';
import type { ReactNode } from 'react';
import { createFetchJobClient, JobUnauthorizedError, type JobClient } from '../../src/core';
import { createJobHandlers } from '../../src/msw';
import { JobClientProvider } from '../../src/react/JobClientProvider';
import { useJobStatus } from '../../src/react/useJobStatus';
import { createMemoryJobBackend } from '../../src/testing';
import { testQueryClient } from '../helpers';

const baseUrl = 'http://jobs.test/api/jobs';
const server = setupServer();
const requests: URL[] = [];
server.events.on('request:start', ({ request }) => void requests.push(new URL(request.url)));
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => {
  server.resetHandlers();
  requests.length = 0;
});
afterAll(() => server.close());

function wrapperFor(client: JobClient) {
  const queryClient = testQueryClient();
  return ({ children }: { children?: ReactNode }) => (
    <JobClientProvider client={client} queryClient={queryClient}>
      {children}
    </JobClientProvider>
  );
}

describe('useJobStatus over HTTP', () => {
  it('follows a job by push over the event stream, with at most one status read', async () => {
    const backend = createMemoryJobBackend();
    server.use(...createJobHandlers({ backend, baseUrl, owner: 'alice' }));
    const job = backend.create({ owner: 'alice' });
    const client = createFetchJobClient({ baseUrl });
    const { result } = renderHook(() => useJobStatus(job.id), { wrapper: wrapperFor(client) });
    await waitFor(() => expect(result.current.connection).toBe('live'));
    act(() => {
      backend.start(job.id);
      backend.progress(job.id, 0.5, 'Upscaling');
    });
    await waitFor(() => expect(result.current.progress).toBe(0.5));
    act(() => void backend.complete(job.id, { url: '/a.png' }));
    await waitFor(() => expect(result.current.status).toBe('completed'));
    expect(result.current.job?.result).toEqual({ url: '/a.png' });
    // The first state comes by push or by one read, whichever arrives first; never polling.
    expect(requests.filter((u) => u.pathname === `/api/jobs/${job.id}`).length).toBeLessThanOrEqual(1);
    expect(requests.filter((u) => u.pathname === '/api/jobs/events')).toHaveLength(1);
  });

  it('stops watching on 401 and calls onError once with JobUnauthorizedError', async () => {
    const backend = createMemoryJobBackend();
    server.use(...createJobHandlers({ backend, baseUrl, owner: () => null }));
    const job = backend.create({ owner: 'alice' });
    const onError = vi.fn();
    const client = createFetchJobClient({ baseUrl });
    const { result } = renderHook(() => useJobStatus(job.id, { pollInterval: 50, onError }), { wrapper: wrapperFor(client) });
    await waitFor(() => expect(result.current.error).toBeInstanceOf(JobUnauthorizedError));
    const count = requests.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]![0]).toBeInstanceOf(JobUnauthorizedError);
    expect(requests.length).toBe(count);
    expect(result.current.connection).toBe('error');
  });

  it('answers another owner’s job as not found', async () => {
    const backend = createMemoryJobBackend();
    server.use(...createJobHandlers({ backend, baseUrl, owner: 'bob' }));
    const job = backend.create({ owner: 'alice' });
    const onError = vi.fn();
    const client = createFetchJobClient({ baseUrl });
    renderHook(() => useJobStatus(job.id, { onError }), { wrapper: wrapperFor(client) });
    await waitFor(() => expect(onError).toHaveBeenCalledTimes(1));
    expect(onError.mock.calls[0]![0].name).toBe('JobNotFoundError');
  });
});
