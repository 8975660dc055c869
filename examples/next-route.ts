// app/api/jobs/[[...path]]/route.ts — one catch-all route serves the whole contract.
import { createJobHandler } from 'jobwatch/server';
import { currentUserId, jobStore } from './app-deps'; // your JobStore and your auth

const handler = createJobHandler({
  store: jobStore,
  basePath: '/api/jobs',
  authorize: async (request) => {
    const userId = await currentUserId(request);
    return userId ? { owner: userId } : null;
  },
});

export { handler as GET, handler as POST };
export const dynamic = 'force-dynamic'; // job status is never cached
