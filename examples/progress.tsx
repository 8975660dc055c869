import { JobProgress, JobStatus } from 'jobwatch';

export function GenerationProgress({ jobId }: { jobId: string }) {
  return (
    <div>
      <JobStatus jobId={jobId} detailed actions />
      <JobProgress jobId={jobId} aria-label="Image generation" />
    </div>
  );
}
