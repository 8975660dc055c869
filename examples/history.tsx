import { JobList, JobStatus } from 'jobwatch';

export function ProjectHistory({ projectId }: { projectId: string }) {
  return (
    <JobList filter={{ meta: { projectId }, limit: 10 }}>
      {({ jobs, isLoading, hasNextPage, fetchNextPage, isFetchingNextPage }) => (
        <section aria-label="Job history">
          {isLoading && <p>Loading…</p>}
          <ul>
            {jobs.map((job) => (
              <li key={job.id}>
                {job.id}: <JobStatus jobId={job.id} />
              </li>
            ))}
          </ul>
          {hasNextPage && (
            <button onClick={() => fetchNextPage()} disabled={isFetchingNextPage}>
              Load more
            </button>
          )}
        </section>
      )}
    </JobList>
  );
}
