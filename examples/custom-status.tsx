import { useJobStatus } from 'jobwatch';

export function ExportStatus({ jobId, onDone }: { jobId: string; onDone: (url: string) => void }) {
  const { status, progress, error, connection } = useJobStatus<{ url: string }>(jobId, {
    // Slower while queued, faster while running.
    pollInterval: (job) => (job?.status === 'pending' ? 5000 : 1000),
    onComplete: (job) => onDone(job.result!.url),
  });

  if (!status) return <p>Loading…</p>;
  return (
    <p>
      Export {status}
      {progress !== null && ` — ${Math.round(progress * 100)}%`}
      {connection === 'error' && error && ` (${error.message}, retrying)`}
    </p>
  );
}
