// @vitest-environment node
import { QueryClient } from '@tanstack/react-query';
import { renderToString } from 'react-dom/server';
import { JobStatus } from '../../src/components/JobStatus';
import { PendingJobsBadge } from '../../src/components/PendingJobsBadge';
import { JobClientProvider } from '../../src/react/JobClientProvider';
import { createMemoryJobBackend } from '../../src/testing/createMemoryJobBackend';

describe('components on the server', () => {
  it('render the status region in its loading state and no badge, without window or requests', () => {
    expect(typeof window).toBe('undefined');
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });

    const html = renderToString(
      <JobClientProvider client={backend} queryClient={queryClient}>
        <JobStatus jobId={id} />
        <PendingJobsBadge />
      </JobClientProvider>,
    );

    expect(html).toContain('role="status"');
    expect(html).toContain('data-state="loading"');
    expect(html).toContain('Loading job status…');
    expect(html).not.toContain('jobwatch-badge');
    expect(backend.calls).toHaveLength(0);
    queryClient.clear();
  });
});
