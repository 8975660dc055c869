// @vitest-environment node
import { setupServer } from 'msw/node';
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
