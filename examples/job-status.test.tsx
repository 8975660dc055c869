import { act, render, screen } from '@testing-library/react';
import { JobClientProvider, JobStatus } from 'jobwatch';
import { createMemoryJobBackend, imageGeneration } from 'jobwatch/testing';

test('JobStatus follows an image generation to completion', async () => {
  vi.useFakeTimers(); // the backend's clock follows fake timers (or real time)
  const backend = createMemoryJobBackend();
  const job = backend.create(imageGeneration({ meta: { projectId: 'p1' } })); // queued 1.5 s, runs 8 s

  render(
    <JobClientProvider client={backend}>
      <JobStatus jobId={job.id} />
    </JobClientProvider>,
  );
  await act(() => vi.advanceTimersByTimeAsync(3000));
  expect(screen.getByRole('status').textContent).toBe('Processing (updating…)');

  await act(() => vi.advanceTimersByTimeAsync(7000));
  expect(screen.getByRole('status').textContent).toBe('Completed');
  // The backend pushes every change (it has `subscribe`): no polling at all.
  expect(backend.calls.filter((call) => call.method === 'getStatus')).toHaveLength(0);
  vi.useRealTimers();
});
