import { createServer } from 'node:http';
import { createJobHandler, type JobStore } from 'jobwatch/server';
import { toNodeListener } from 'jobwatch/server/node';

/** A server answering the contract under /api/jobs (404 elsewhere); the caller is named by an x-user-id header (use your auth). */
export function createJobServer(store: JobStore) {
  const handler = createJobHandler({
    store,
    basePath: '/api/jobs',
    authorize: (request) => {
      const userId = request.headers.get('x-user-id');
      return userId ? { owner: userId } : null;
    },
  });
  // Streams the event stream with backpressure, answers 400 to requests it cannot serve, never crashes.
  return createServer(toNodeListener(handler));
}
