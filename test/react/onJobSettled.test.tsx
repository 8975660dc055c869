import type { QueryClient } from '@tanstack/react-query';
import { act, render, screen } from '@testing-library/react';
import { StrictMode } from 'react';
import { JobStatus } from '../../src/components/JobStatus';
import type { Job, JobClient } from '../../src/core';
import { JobClientProvider } from '../../src/react/JobClientProvider';
import { useJobStatus } from '../../src/react/useJobStatus';
import { createMemoryJobBackend } from '../../src/testing';
import { advance, testQueryClient } from '../helpers';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

function Observer({ id }: { id: string }) {
  const { status } = useJobStatus(id, { live: false, pollInterval: 1000 });
  return <p>{status ?? 'unknown'}</p>;
}

interface AppProps {
  client: JobClient;
  queryClient: QueryClient;
  ids: string[];
  onJobSettled: (job: Job) => void;
}

/** Each job shown by three observers: two JobStatus components and a hook. */
function App({ client, queryClient, ids, onJobSettled }: AppProps) {
  return (
    <StrictMode>
      <JobClientProvider client={client} queryClient={queryClient} onJobSettled={onJobSettled}>
        {ids.map((id) => (
          <div key={id}>
            <JobStatus jobId={id} live={false} pollInterval={1000} />
            <Observer id={id} />
            <JobStatus jobId={id} detailed pollInterval={500} />
          </div>
        ))}
      </JobClientProvider>
    </StrictMode>
  );
}

describe('JobClientProvider onJobSettled', () => {
  it('fires once per job id with three observers of each job, under StrictMode, through re-renders and remounts', async () => {
    const backend = createMemoryJobBackend();
    const a = backend.create();
    const b = backend.create();
    const queryClient = testQueryClient();
    const settled = vi.fn();
    const { rerender } = render(<App client={backend} queryClient={queryClient} ids={[a.id, b.id]} onJobSettled={settled} />);
    await advance(10);
    expect(screen.getAllByRole('status')).toHaveLength(4);

    act(() => void backend.complete(a.id));
    await advance(1000);
    expect(settled).toHaveBeenCalledTimes(1);
    expect(settled).toHaveBeenLastCalledWith(expect.objectContaining({ id: a.id, status: 'completed' }));

    act(() => void backend.fail(b.id, 'Out of credits'));
    await advance(1000);
    expect(settled).toHaveBeenCalledTimes(2);
    expect(settled).toHaveBeenLastCalledWith(expect.objectContaining({ id: b.id, status: 'failed' }));

    // A new callback identity, then the observers of a go away and come back: no second call.
    const latest = vi.fn();
    rerender(<App client={backend} queryClient={queryClient} ids={[b.id]} onJobSettled={latest} />);
    await advance(10);
    rerender(<App client={backend} queryClient={queryClient} ids={[a.id, b.id]} onJobSettled={latest} />);
    await advance(5000);
    expect(settled).toHaveBeenCalledTimes(2);
    expect(latest).not.toHaveBeenCalled();
  });

  it('calls the latest callback', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const first = vi.fn();
    const second = vi.fn();
    const queryClient = testQueryClient();
    const { rerender } = render(<App client={backend} queryClient={queryClient} ids={[job.id]} onJobSettled={first} />);
    await advance(10);
    rerender(<App client={backend} queryClient={queryClient} ids={[job.id]} onJobSettled={second} />);
    act(() => void backend.cancel(job.id));
    await advance(1000);
    expect(first).not.toHaveBeenCalled();
    expect(second).toHaveBeenCalledTimes(1);
    expect(second).toHaveBeenCalledWith(expect.objectContaining({ id: job.id, status: 'cancelled' }));
  });
});
