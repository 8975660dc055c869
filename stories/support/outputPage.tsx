import { useState } from 'react';
import { JobOutput, JobStatus, useTrackedJobs } from '../../src/index';
import type { JobIdStorage } from '../../src/index';
import type { JobSpec } from '../../src/testing/index';
import { useStoryBackend } from './jobwatch';
import { STORY_TEXT } from './output';

/** The `useTrackedJobs` key of the writer page's jobs (stored as `jobwatch:tracked:writer`). */
export const WRITER_KEY = 'writer';

/** The job "Write a story" starts: queued briefly, then the story's tokens over `runningMs`. */
export const writerJob = (runningMs: number): JobSpec => ({
  queuedMs: 300,
  runningMs,
  steps: ['Writing'],
  output: { text: STORY_TEXT },
});

/** Props of {@link WriterPage}. */
export interface WriterPageProps {
  /** The tab's storage (from `ReloadableTab`), given to `useTrackedJobs`. */
  storage: JobIdStorage;
  /** `maxParts` of the page's `<JobOutput>`. Default: jobwatch's. */
  maxParts?: number;
  /** How long the story takes to write, in ms. */
  runningMs: number;
}

/**
 * A page that writes a story: "Write a story" starts a job and tracks its id
 * (`useTrackedJobs`, in the tab's storage), `<JobStatus>` and `<JobOutput>`
 * follow it. After a reload the page reads the id back and follows it again;
 * the output resumes from the parts already shown (the tracked last `seq`).
 */
export function WriterPage({ storage, maxParts, runningMs }: WriterPageProps) {
  const backend = useStoryBackend();
  const tracked = useTrackedJobs(WRITER_KEY, { storage });
  const waitingFor = tracked.ids.at(-1) ?? null;
  // The page keeps showing the last story once its job settled and left the tracked list.
  const [shown, setShown] = useState(waitingFor);
  if (waitingFor !== null && waitingFor !== shown) setShown(waitingFor);
  return (
    <div style={{ display: 'grid', gap: '0.75rem', padding: '1rem', maxWidth: '36rem', fontFamily: 'system-ui, sans-serif' }}>
      <h3 style={{ margin: 0, fontSize: '1rem' }}>Story writer</h3>
      <div>
        <button
          type="button"
          disabled={tracked.ids.length > 0}
          onClick={() => tracked.track(backend.create(writerJob(runningMs)).id)}
        >
          Write a story
        </button>
      </div>
      {shown !== null && (
        <>
          <JobStatus jobId={shown} detailed />
          <JobOutput jobId={shown} {...(maxParts === undefined ? {} : { maxParts })} />
        </>
      )}
    </div>
  );
}
