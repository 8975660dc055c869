import { JobStatus, useJobNotifications, useTrackedJobs } from 'jobwatch';

export function Generations({ start }: { start: () => Promise<{ jobId: string }> }) {
  // Kept in localStorage: a reload mid-generation resumes following it.
  const { ids, track } = useTrackedJobs('generations', {
    onComplete: (job) => console.log(`${job.id} is ready`),
  });
  const notifications = useJobNotifications({ when: 'hidden' });

  return (
    <div>
      <button onClick={async () => track((await start()).jobId)}>Generate</button>
      {notifications.supported && notifications.permission === 'default' && (
        <button onClick={() => notifications.requestPermission()}>Notify me when done</button>
      )}
      {ids.map((id) => (
        <JobStatus key={id} jobId={id} />
      ))}
    </div>
  );
}
