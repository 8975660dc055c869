// @vitest-environment node
import { setupServer } from 'msw/node';
import { createFetchJobClient } from '../../src/core';
import { createJobHandlers } from '../../src/msw';
import { createMemoryJobBackend } from '../../src/testing';
import { clientSuite, type ServedBackend } from './clientSuite';

const server = setupServer();
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }));
afterEach(() => server.resetHandlers());
afterAll(() => server.close());

clientSuite('MSW handlers', async (): Promise<ServedBackend> => {
  const backend = createMemoryJobBackend();
  const baseUrl = 'http://jobs.test/api/jobs';
  const requests: ServedBackend['requests'] = [];
  const log = ({ request }: { request: Request }) => {
    requests.push({ method: request.method, url: new URL(request.url), headers: request.headers });
  };
  server.events.on('request:start', log);
  server.use(
    ...createJobHandlers({ backend, baseUrl, owner: (request) => request.headers.get('x-user-id') }),
  );
  return {
    backend,
    baseUrl,
    requests,
    close: async () => {
      server.events.removeListener('request:start', log);
    },
  };
});

// Semantic 14 end to end: createFetchJobClient → MSW createJobHandlers → createJobHandler → memory backend.
// `.` and `..` cannot travel as path segments (URL parsers remove them), so they go in the query form.
describe('createFetchJobClient over MSW handlers: dot-segment ids round-trip', () => {
  const baseUrl = 'http://jobs.test/api/jobs';

  function serve() {
    const backend = createMemoryJobBackend();
    const urls: URL[] = [];
    const log = ({ request }: { request: Request }) => {
      urls.push(new URL(request.url));
    };
    server.events.on('request:start', log);
    server.use(...createJobHandlers({ backend, baseUrl }));
    return {
      backend,
      client: createFetchJobClient({ baseUrl }),
      urls,
      close: () => server.events.removeListener('request:start', log),
    };
  }

  it.each(['.', '..'])('%j: getStatus, getStatuses, retry and cancel reach that job and no other', async (id) => {
    const s = serve();
    try {
      // Neighbours a client that mixes up dots and their encodings would reach instead.
      for (const neighbour of ['...', '%2E', '%2E%2E', '.', '..'].filter((other) => other !== id)) s.backend.create({ id: neighbour });
      s.backend.create({ id });

      expect(await s.client.getStatus(id)).toMatchObject({ id, status: 'pending' });
      expect((await s.client.getStatuses([id, 'nope'])).jobs.map((job) => job.id)).toEqual([id]);

      s.backend.start(id);
      s.backend.fail(id, 'Boom');
      expect(await s.client.retry(id)).toMatchObject({ id, status: 'pending', retryCount: 1 });
      expect(s.backend.get(id)).toMatchObject({ status: 'pending', retryCount: 1 });

      expect(await s.client.cancel(id)).toMatchObject({ id, status: 'cancelled' });
      expect(s.backend.get(id)?.status).toBe('cancelled');
      // Nothing else was touched.
      for (const other of s.backend.jobs().filter((job) => job.id !== id)) expect(other).toMatchObject({ status: 'pending', version: 1 });
      // Every request stayed under the base path.
      for (const url of s.urls) expect(url.pathname.startsWith('/api/jobs')).toBe(true);
    } finally {
      s.close();
    }
  });
});
