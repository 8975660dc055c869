// @vitest-environment node
import { renderToString } from 'react-dom/server';
import type { JobClient } from '../../src/core';
import { JobClientProvider, jobKeys, jobStatusQueryOptions, useJobStatus, usePendingJobsCount } from '../../src/index';
import { createMemoryJobBackend } from '../../src/testing';
import { testQueryClient } from '../helpers';

function Page({ jobId }: { jobId: string }) {
  const { status, connection } = useJobStatus(jobId);
  const { total } = usePendingJobsCount();
  return (
    <p>{`status=${status ?? 'unknown'} connection=${connection} active=${total}`}</p>
  );
}

describe('semantic 9: server rendering', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('renders with no window, no request and no timer', () => {
    expect(typeof window).toBe('undefined');
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const html = renderToString(
      <JobClientProvider client={backend}>
        <Page jobId={job.id} />
      </JobClientProvider>,
    );
    expect(html).toContain('status=unknown');
    expect(html).toContain('connection=idle');
    expect(backend.calls).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('renders a prefetched job from the QueryClient', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    backend.start(job.id);
    const queryClient = testQueryClient();
    await queryClient.prefetchQuery(jobStatusQueryOptions(backend as JobClient, job.id));
    expect(queryClient.getQueryData(jobKeys.status(job.id))).toMatchObject({ status: 'processing' });
    backend.clearCalls();
    const html = renderToString(
      <JobClientProvider client={backend} queryClient={queryClient}>
        <Page jobId={job.id} />
      </JobClientProvider>,
    );
    expect(html).toContain('status=processing');
    expect(backend.calls).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});
