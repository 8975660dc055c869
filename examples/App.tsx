// App.tsx — your page; main.tsx below renders it.
import { useState } from 'react';
import { JobClientProvider, JobStatus, PendingJobsBadge, type JobClient } from 'jobwatch';
import 'jobwatch/styles.css';

// Your API: anything that starts a job and returns its id.
interface Api {
  generateImage(input: { prompt: string }): Promise<{ jobId: string }>;
  refreshImages(): void;
}

function ProjectPage({ api }: { api: Api }) {
  const [jobId, setJobId] = useState<string | null>(null);

  return (
    <div>
      <h1>
        My project <PendingJobsBadge />
      </h1>
      <button onClick={async () => setJobId((await api.generateImage({ prompt: 'A lighthouse at dawn' })).jobId)}>
        Generate image
      </button>
      <JobStatus
        jobId={jobId}
        detailed
        onComplete={() => api.refreshImages()}
        onError={(error) => console.error(error.message)}
      />
    </div>
  );
}

export function App({ client, api }: { client: JobClient; api: Api }) {
  return (
    <JobClientProvider client={client}>
      <ProjectPage api={api} />
    </JobClientProvider>
  );
}
