import { render, screen, waitFor } from '@testing-library/react';
import { setupServer } from 'msw/node';
import { createFetchJobClient } from '../../src/core';
import { JobList } from '../../src/components/JobList';
import { JobStatus } from '../../src/components/JobStatus';
import { createJobHandlers } from '../../src/msw';
import { JobClientProvider } from '../../src/react/JobClientProvider';
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

describe('the README history example over HTTP (semantic 13)', () => {
  it('lists finished jobs with one list request and no status read for their JobStatus rows', async () => {
    const backend = createMemoryJobBackend();
    server.use(...createJobHandlers({ backend, baseUrl }));
    const ids = Array.from({ length: 3 }, () => backend.complete(backend.create({ meta: { projectId: 'p1' } }).id).id);
    const client = createFetchJobClient({ baseUrl });
    render(
      <JobClientProvider client={client} queryClient={testQueryClient()}>
        <JobList filter={{ meta: { projectId: 'p1' }, limit: 10 }}>
          {({ jobs }) => (
            <ul>
              {jobs.map((job) => (
                <li key={job.id}>
                  {job.id}: <JobStatus jobId={job.id} />
                </li>
              ))}
            </ul>
          )}
        </JobList>
      </JobClientProvider>,
    );
    await waitFor(() => expect(screen.getAllByRole('status').map((el) => el.getAttribute('data-state'))).toEqual(ids.map(() => 'completed')));
    // Give a status read (batched or not) every chance to go out.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const paths = requests.map((u) => `${u.pathname}${u.searchParams.has('ids') ? '?ids' : ''}`);
    expect(paths).toEqual(['/api/jobs']);
  });
});
