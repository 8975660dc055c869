import { render, screen } from '@testing-library/react';
import { setupServer } from 'msw/node';
import { createFetchJobClient, JobClientProvider, JobStatus } from 'jobwatch';
import { createJobHandlers } from 'jobwatch/msw';
import { createMemoryJobBackend } from 'jobwatch/testing';

const backend = createMemoryJobBackend();
const server = setupServer(...createJobHandlers({ backend, baseUrl: 'http://localhost/api/jobs' }));
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterAll(() => server.close());

test('shows a generation from queued to completed', async () => {
  const job = backend.create({ meta: { projectId: 'p1' } });
  const client = createFetchJobClient({ baseUrl: 'http://localhost/api/jobs' });
  render(
    <JobClientProvider client={client}>
      <JobStatus jobId={job.id} detailed />
    </JobClientProvider>,
  );
  expect(await screen.findByText('Queued')).toBeTruthy();

  backend.start(job.id);
  backend.progress(job.id, 0.5, 'Upscaling');
  expect(await screen.findByText('Upscaling')).toBeTruthy();

  backend.complete(job.id, { url: '/images/1.png' });
  expect(await screen.findByText('Completed')).toBeTruthy();
});
