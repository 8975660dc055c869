// app/api/jobs/[[...path]]/route.ts — the REST contract over the BullMQ queue.
import { createJobHandler } from 'jobwatch/server';
import { currentUserId } from './app-deps'; // your auth
import { jobStore } from './bullmq-queue';

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
export const runtime = 'nodejs'; // BullMQ needs Node, not the edge runtime
