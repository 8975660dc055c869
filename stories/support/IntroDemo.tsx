import { QueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { JobClientProvider, JobProgress, JobStatus, PendingJobsBadge } from '../../src/index';
import { createMemoryJobBackend, imageGeneration } from '../../src/testing/index';

/** The prompts the demo generates, one after the other. */
const PROMPTS = ['A lighthouse at dawn', 'A fox in the snow', 'A harbour at night', 'An old mill by the river'];
/** How long a finished generation stays on screen before the next one starts. */
const PAUSE_MS = 2500;

/**
 * The Introduction page's live sample: jobwatch's components on an in-memory
 * backend, generating one image after another in real time (queued, then
 * processing through its steps with the time left, then completed). Everything
 * (backend, QueryClient, timer) belongs to the mounted component.
 */
export function IntroDemo() {
  const [backend] = useState(() => createMemoryJobBackend());
  const [queryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { retry: false } } }));
  const [run, setRun] = useState<{ id: string; prompt: string } | null>(null);

  // Starts the next generation once the last one settled (and at mount).
  useEffect(() => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const start = (index: number) => {
      const prompt = PROMPTS[index % PROMPTS.length]!;
      const job = backend.create(imageGeneration({ meta: { prompt }, queuedMs: 1500, runningMs: 7000 }));
      setRun({ id: job.id, prompt });
      const unsubscribe = backend.subscribe(job.id, {
        next(next) {
          if (next.status === 'pending' || next.status === 'processing') return;
          unsubscribe();
          timer = setTimeout(() => start(index + 1), PAUSE_MS);
        },
      });
    };
    start(0);
    return () => {
      clearTimeout(timer);
      queryClient.clear();
    };
  }, [backend, queryClient]);

  return (
    <JobClientProvider client={backend} queryClient={queryClient}>
      <div className="jw-intro-demo">
        <div className="jw-intro-demo__head">
          <span className="jw-intro-demo__title">Generations</span>
          <PendingJobsBadge pollInterval={1000} />
        </div>
        <p className="jw-intro-demo__prompt">“{run?.prompt ?? '…'}”</p>
        <JobStatus jobId={run?.id ?? null} detailed pollInterval={1000} />
        <JobProgress jobId={run?.id ?? null} aria-label="Generation progress" pollInterval={1000} />
        <p className="jw-intro-demo__caption">
          Live: <code>&lt;JobStatus detailed&gt;</code>, <code>&lt;JobProgress&gt;</code> and{' '}
          <code>&lt;PendingJobsBadge&gt;</code> on the in-memory backend, with <code>jobwatch/styles.css</code>.
        </p>
      </div>
    </JobClientProvider>
  );
}
