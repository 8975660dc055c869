import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, render, screen } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createJobKeys, JobClientProvider, jobKeys, jobStatusQueryOptions, JobStatus, usePendingJobsCount } from '../../src';
import type { Job } from '../../src/contract/types';
import { createMemoryJobBackend } from '../../src/testing';

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

const advance = (ms: number) => act(async () => void (await vi.advanceTimersByTimeAsync(ms)));

function Count({ label }: { label: string }) {
  const { total } = usePendingJobsCount();
  return <p>{`${label}: ${total ?? '…'} active`}</p>;
}

/** Two backends numbering their jobs alike (as two BullMQ queues do), under one QueryClient. */
function setup() {
  const images = createMemoryJobBackend();
  const exports = createMemoryJobBackend();
  images.create({ id: '1' });
  images.start('1');
  exports.create({ id: '1' });
  exports.create({ id: '2' });
  exports.fail('1', 'Disk full');
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  // Images are polled (no push), so a change shows only through a read.
  const { subscribe: _push, ...polledImages } = images;
  render(
    <QueryClientProvider client={queryClient}>
      <JobClientProvider client={polledImages} scope="images">
        <section aria-label="images">
          <JobStatus jobId="1" />
          <Count label="images" />
        </section>
      </JobClientProvider>
      <JobClientProvider client={exports} scope="exports">
        <section aria-label="exports">
          <JobStatus jobId="1" />
          <Count label="exports" />
        </section>
      </JobClientProvider>
    </QueryClientProvider>,
  );
  return { images, exports, queryClient };
}

describe('JobClientProvider scope', () => {
  it('keeps two backends apart under one QueryClient, even for the same job id', async () => {
    const { queryClient } = setup();
    await advance(10);
    const [imagesStatus, exportsStatus] = screen.getAllByRole('status');
    expect(imagesStatus!.getAttribute('data-state')).toBe('processing');
    expect(exportsStatus!.getAttribute('data-state')).toBe('failed');
    expect(screen.getByText('images: 1 active')).toBeTruthy();
    expect(screen.getByText('exports: 1 active')).toBeTruthy();
    expect(queryClient.getQueryData<Job>(createJobKeys('images').status('1'))?.status).toBe('processing');
    expect(queryClient.getQueryData<Job>(createJobKeys('exports').status('1'))?.status).toBe('failed');
    expect(queryClient.getQueryData(jobKeys.status('1'))).toBeUndefined();
  });

  it('takes setQueryData and invalidation under the scope’s keys only', async () => {
    const { images, queryClient } = setup();
    await advance(10);
    images.complete('1', { url: '/1.png' });
    await act(() => queryClient.invalidateQueries({ queryKey: createJobKeys('exports').statuses() }));
    await advance(0);
    expect(screen.getAllByRole('status')[0]!.getAttribute('data-state')).toBe('processing');
    await act(() => queryClient.invalidateQueries({ queryKey: createJobKeys('images').statuses() }));
    await advance(10);
    expect(screen.getAllByRole('status')[0]!.getAttribute('data-state')).toBe('completed');
    expect(screen.getAllByRole('status')[1]!.getAttribute('data-state')).toBe('failed');
  });

  it('jobStatusQueryOptions(client, id, { scope }) prefetches into the scope', async () => {
    const backend = createMemoryJobBackend();
    backend.create({ id: '7' });
    backend.complete('7', 'done');
    const queryClient = new QueryClient();
    await queryClient.prefetchQuery(jobStatusQueryOptions(backend, '7', { scope: 'images' }));
    expect(queryClient.getQueryData<Job>(createJobKeys('images').status('7'))?.status).toBe('completed');
    expect(jobStatusQueryOptions(backend, '7').queryKey).toEqual(['jobwatch', 'status', '7']);
  });
});
