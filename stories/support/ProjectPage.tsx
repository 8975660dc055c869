import { useQuery, useQueryClient } from '@tanstack/react-query';
import { memo, useId, useState, type CSSProperties } from 'react';
import {
  JobProgress,
  JobStatus,
  PendingJobsBadge,
  jobKeys,
  useJobClient,
  useJobNotifications,
  useJobs,
  useTrackedJobs,
} from '../../src/index';
import type { Job, JobIdStorage, JobState } from '../../src/index';
import { failingJob, imageGeneration } from '../../src/testing/index';
import type { ImageGenerationResult, JobSpec } from '../../src/testing/index';
import { useStoryBackend } from './jobwatch';
import { ReloadableTab } from './reload';
import './demo.css';

/**
 * The original app's project page, live on the in-memory backend in real
 * time: "Generate image" creates a job, `<JobStatus detailed>` follows it
 * (Queued → Processing → Completed) with a Cancel button beside it
 * (`actions`), `<JobProgress>` shows how far it is and the time left, the
 * images are read again once it completes, the header's `<PendingJobsBadge>`
 * counts the project's active jobs, and the "Job history" panel (`useJobs`)
 * lists the project's jobs, a page at a time, their rows updating live.
 * "Generate (will fail)" runs a job that fails after its retries.
 *
 * The generations the page waits for are kept with
 * `useTrackedJobs('project:<id>', { storage })`, not in component state, so
 * they survive a reload: the page sits in a tab whose "Reload page" button
 * remounts it with a new provider and QueryClient, the same backend and the
 * same storage (./reload.tsx), and the page follows the running
 * generation again. The storage is an in-memory one per mounted story (not
 * `localStorage`, so stories and test runs never share ids); the
 * instrumented frame (test-only stories) shows what it holds.
 *
 * The backend stands in for the app's API: `backend.create(...)` for the
 * generate mutation; the images query lists completed jobs with the
 * provider's client (the backend itself here, `createFetchJobClient` in
 * ProjectPageOverHttp.stories.tsx). Each story mounts its own backend and QueryClient.
 */
export interface ProjectPageProps {
  /** `meta.projectId` of the project's jobs. */
  projectId: string;
  /** The page's heading. */
  projectName: string;
  /** The prompt field's initial text; the image's alt text follows it. */
  prompt: string;
  /** How long a generation waits in the queue, in ms (the preset: 1500). */
  queuedMs: number;
  /** How long each attempt runs, in ms (the preset: 8000 for a success, 3000 for a failure). */
  runningMs: number;
  /** Retries of the failing generation before it gives up (the preset: 2). */
  failingMaxRetries: number;
  /** `pollInterval` of the JobStatus, JobProgress, tracked jobs and history rows, in ms (jobwatch's default: 2000). */
  pollInterval: number;
  /** `pollInterval` of the PendingJobsBadge, in ms (jobwatch's default: 5000). */
  countInterval: number;
  /** Jobs per page of the job history (`limit`); "Load more" reads the next page. */
  historyPageSize: number;
}

const imagesKey = (projectId: string) => ['story', 'project', projectId, 'images'] as const;

/** The `useTrackedJobs` key of a project's generations (stored as `jobwatch:tracked:project:<id>`). */
const trackedKey = (projectId: string) => `project:${projectId}`;

const STATE_LABELS: Record<JobState, string> = {
  pending: 'Queued',
  processing: 'Processing',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/** What a history row says after its prompt: the state, progress and step while running, the error once failed. */
function historyText(job: Job): string {
  let text = STATE_LABELS[job.status];
  if (job.status === 'processing' && typeof job.progress === 'number') text += ` ${Math.round(job.progress * 100)}%`;
  if (job.status === 'processing' && job.progressMessage) text += ` · ${job.progressMessage}`;
  if (job.status === 'failed' && job.error) text += ` · ${job.error.message}`;
  return text;
}

/** One row of the job history. Memoized and keyed by id: a row whose job did not change does not render again. */
const HistoryRow = memo(function HistoryRow({ job }: { job: Job }) {
  const prompt = typeof job.meta?.prompt === 'string' ? job.meta.prompt : job.id;
  return (
    <li data-state={job.status} className="jw-history__row">
      <span className="jw-history__prompt">{prompt}</span>
      <span className="jw-history__state">{historyText(job)}</span>
    </li>
  );
});

/**
 * "Notify me": browser notifications when a generation finishes while the
 * tab is in the background (`useJobNotifications`). The permission prompt
 * only ever opens from the click. `data-notifications` says what the browser
 * reported: `unsupported`, or the permission.
 */
function NotifyMe() {
  const { supported, permission, requestPermission } = useJobNotifications();
  return (
    <p data-testid="notifications" data-notifications={supported ? permission : 'unsupported'} className="jw-notify">
      {supported && permission === 'default' && (
        <button type="button" className="jw-button jw-button--quiet" onClick={() => void requestPermission()}>
          Notify me when a generation finishes
        </button>
      )}
      {supported && permission === 'granted' && 'You will be notified when a generation finishes in the background.'}
      {supported && permission === 'denied' && 'Notifications are blocked for this page.'}
    </p>
  );
}

/**
 * The progress bar's look: out of sight while idle (no generation yet);
 * otherwise no track of its own, since its content (below) draws one and
 * shows the time left as text under it.
 */
const progressStyle = ({ state }: { state: string }): CSSProperties =>
  state === 'idle'
    ? { display: 'none' }
    : { display: 'grid', gap: '0.25rem', height: 'auto', overflow: 'visible', background: 'none', border: 'none', borderRadius: 0 };
/** The track inside the bar; the transparent border outlines it under forced colours, as the stylesheet's track does. */
const trackStyle: CSSProperties = {
  boxSizing: 'border-box',
  height: '0.5rem',
  overflow: 'hidden',
  border: '1px solid transparent',
  borderRadius: '999px',
  background: 'var(--jobwatch-progress-track-color, #e5e7eb)',
};

/** The page as one page load renders it; `storage` is where it keeps the ids of the generations it waits for. */
function ProjectPageView({
  projectId,
  projectName,
  prompt: initialPrompt,
  queuedMs,
  runningMs,
  failingMaxRetries,
  pollInterval,
  countInterval,
  historyPageSize,
  storage,
}: ProjectPageProps & { storage: JobIdStorage }) {
  const backend = useStoryBackend();
  const client = useJobClient();
  const queryClient = useQueryClient();
  const [prompt, setPrompt] = useState(initialPrompt);
  const ids = useId();

  // The app's images query: the results of the project's completed generations.
  const images = useQuery({
    queryKey: imagesKey(projectId),
    queryFn: async ({ signal }) => {
      const page = await client.list({ meta: { projectId }, status: 'completed', limit: 100 }, { signal });
      return page.jobs.flatMap((job) => (job.result as ImageGenerationResult | undefined)?.images ?? []);
    },
  });

  // The generations the page waits for, kept in storage: after a reload they are still here and still
  // followed. Once one completes, the images are read again (also for one that completed while the page
  // was away); once it settles, its id is removed.
  const tracked = useTrackedJobs(trackedKey(projectId), {
    storage,
    pollInterval,
    onComplete: () => void queryClient.invalidateQueries({ queryKey: imagesKey(projectId) }),
  });
  const waitingFor = tracked.ids.at(-1) ?? null;
  // The status shows the latest generation, and keeps showing it once it settled and left the list.
  const [shown, setShown] = useState(waitingFor);
  if (waitingFor !== null && waitingFor !== shown) setShown(waitingFor);
  const busy = tracked.ids.length > 0;

  // The project's job history, newest first, a page at a time; active rows follow the shared watcher.
  const history = useJobs({ meta: { projectId }, limit: historyPageSize }, { pollInterval });

  function generate(spec: JobSpec) {
    // Stands in for the app's `generate` mutation, which answers with the new job's id.
    const job = backend.create(spec);
    tracked.track(job.id);
    // The new job heads the history once the list is read again.
    void history.refetch();
    // A new job is active now: count it without waiting for the badge's next tick.
    void queryClient.invalidateQueries({ queryKey: jobKeys.counts() });
  }

  const meta = { projectId, prompt };
  const generateImage = () => generate(imageGeneration({ meta, queuedMs, runningMs }));
  const generateFailing = () =>
    generate(failingJob({ meta, queuedMs, runningMs, retryDelayMs: queuedMs, maxRetries: failingMaxRetries }));
  return (
    <div className="jw-app">
      <header className="jw-app__header">
        <div className="jw-app__brand">
          <span className="jw-app__logo" aria-hidden="true">
            {projectName.charAt(0)}
          </span>
          <div>
            <p className="jw-app__eyebrow">Project</p>
            <h1 className="jw-app__title">{projectName}</h1>
          </div>
        </div>
        <nav aria-label="Project" className="jw-app__nav">
          <a href="#generate" aria-current="page">
            Overview
          </a>
          <a href="#jobs">
            Jobs <PendingJobsBadge filter={{ meta: { projectId } }} pollInterval={countInterval} />
          </a>
        </nav>
      </header>

      <div className="jw-app__main">
        <div className="jw-app__column">
          <section id="generate" aria-labelledby={`${ids}-generate`} className="jw-card">
            <div className="jw-card__head">
              <h2 id={`${ids}-generate`} className="jw-card__title">
                Generate
              </h2>
              <NotifyMe />
            </div>
            <label className="jw-field">
              Prompt
              <input className="jw-input" value={prompt} onChange={(event) => setPrompt(event.target.value)} />
            </label>
            <div className="jw-actions">
              <button type="button" className="jw-button jw-button--primary" disabled={busy} onClick={generateImage}>
                Generate image
              </button>
              <button type="button" className="jw-button" disabled={busy} onClick={generateFailing}>
                Generate (will fail)
              </button>
            </div>
            <div className="jw-job">
              {shown === null && <p className="jw-job__idle">Nothing is generating. Start one above.</p>}
              <div className="jw-job__status">
                <JobStatus
                  jobId={shown}
                  detailed
                  actions={{ cancel: true }}
                  labels={{ cancelAction: 'Cancel generation' }}
                  pollInterval={pollInterval}
                />
              </div>
              <JobProgress jobId={shown} aria-label="Generation progress" pollInterval={pollInterval} style={progressStyle}>
                {/* The time left, e.g. "50%, less than a minute left": the bar's aria-valuetext, shown as text too. */}
                {({ valueText }) => (
                  <>
                    <div style={trackStyle}>
                      <div className="jobwatch-progress__bar" />
                    </div>
                    <span className="jw-job__eta">{valueText}</span>
                  </>
                )}
              </JobProgress>
            </div>
          </section>

          <section aria-labelledby={`${ids}-images`} className="jw-card">
            <div className="jw-card__head">
              <h2 id={`${ids}-images`} className="jw-card__title">
                Images
              </h2>
              <p className="jw-card__hint">Read again when a generation completes</p>
            </div>
            {images.isPending ? (
              <p className="jw-empty">Loading images…</p>
            ) : images.data && images.data.length > 0 ? (
              <ul className="jw-gallery">
                {images.data.map((image) => (
                  <li key={image.id}>
                    <figure>
                      <img src={image.url} alt={image.alt} width={120} height={120} />
                      <figcaption aria-hidden="true">{image.alt.replace(/^Generated image: /, '')}</figcaption>
                    </figure>
                  </li>
                ))}
              </ul>
            ) : (
              <p className="jw-empty">No images yet.</p>
            )}
          </section>
        </div>

        <section id="jobs" aria-labelledby={`${ids}-history`} className="jw-card">
          <div className="jw-card__head">
            <h2 id={`${ids}-history`} className="jw-card__title">
              Job history
            </h2>
            <p className="jw-card__hint">Newest first, live while running</p>
          </div>
          {history.isLoading && <p className="jw-empty">Loading jobs…</p>}
          {history.error && <p role="alert">Could not load the job history: {history.error.message}</p>}
          <ul aria-label="Project jobs" className="jw-history">
            {history.jobs.map((job) => (
              <HistoryRow key={job.id} job={job} />
            ))}
          </ul>
          {history.hasNextPage && (
            <div>
              <button
                type="button"
                className="jw-button"
                onClick={() => void history.fetchNextPage()}
                disabled={history.isFetchingNextPage}
              >
                {history.isFetchingNextPage ? 'Loading more…' : 'Load more'}
              </button>
            </div>
          )}
        </section>
      </div>
    </div>
  );
}

/** What the browser's address bar shows above the page. */
const address = (projectId: string) => `app.example.com/projects/${projectId}`;

/**
 * The project page in a browser-like, reloadable tab (./support/reload.tsx):
 * what the showcase stories of "Examples/Project page" and "Examples/Project
 * page over HTTP" render. Needs the story's backend and `JobClientProvider`
 * around it (a decorator).
 */
export function ProjectPage(props: ProjectPageProps) {
  return (
    <ReloadableTab address={address(props.projectId)}>{(storage) => <ProjectPageView {...props} storage={storage} />}</ReloadableTab>
  );
}

/**
 * The same page with what play functions read: the number of the page load
 * and what the tab's storage holds. Only test-only stories render it.
 */
export function InstrumentedProjectPage(props: ProjectPageProps) {
  return (
    <ReloadableTab frame="instrumented" address={address(props.projectId)}>
      {(storage) => <ProjectPageView {...props} storage={storage} />}
    </ReloadableTab>
  );
}
