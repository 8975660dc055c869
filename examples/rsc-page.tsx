// app/jobs/[id]/page.tsx — a server component: the job is in the first HTML, and a finished one costs no request.
import { dehydrate, HydrationBoundary, QueryClient } from '@tanstack/react-query';
import { JobProgress, JobStatus } from 'jobwatch'; // client components, rendered from here
import { jobStatusQueryOptions } from 'jobwatch/core'; // no "use client": callable on the server
import { jobStore, sessionUserId } from './app-deps'; // your JobStore and your auth

export default async function JobPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  const owner = await sessionUserId();
  const queryClient = new QueryClient();
  if (owner) {
    // Read the store directly, as the signed-in user (a job they may not see is not prefetched).
    await queryClient.prefetchQuery(
      jobStatusQueryOptions({ getStatus: (jobId, o) => jobStore.getStatus(jobId, { ...o, owner }) }, id),
    );
  }
  return (
    <HydrationBoundary state={dehydrate(queryClient)}>
      <h1 id="job-title">Job {id}</h1>
      <JobStatus jobId={id} detailed />
      <JobProgress jobId={id} aria-labelledby="job-title" />
    </HydrationBoundary>
  );
}
