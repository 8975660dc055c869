import type { Meta, StoryObj } from '@storybook/react-vite';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { memo, useId, useState, type CSSProperties } from 'react';
import { expect, userEvent, waitFor, within } from 'storybook/test';
import {
  JobProgress,
  JobStatus,
  PendingJobsBadge,
  jobKeys,
  useJobClient,
  useJobNotifications,
  useJobs,
  useTrackedJobs,
} from '../src/index';
import type { Job, JobIdStorage, JobState } from '../src/index';
import { failingJob, imageGeneration } from '../src/testing/index';
import type { ImageGenerationResult, JobSpec, MemoryJobBackend } from '../src/testing/index';
import { accessibleText, useStoryBackend, withJobBackend } from './support/jobwatch';
import { ReloadableTab } from './support/reload';
import './support/demo.css';

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
 * same storage (./support/reload.tsx), and the page follows the running
 * generation again. The storage is an in-memory one per mounted story (not
 * `localStorage`, so stories and test runs never share ids); the tab's bar
 * shows what it holds.
 *
 * The backend stands in for the app's API: `backend.create(...)` for the
 * generate mutation; the images query lists completed jobs with the
 * provider's client (the backend itself here, `createFetchJobClient` in
 * ProjectPageOverHttp.stories.tsx). Each story mounts its own backend and QueryClient.
 */
export interface ProjectPageProps {
  /** `meta.projectId` of the project's jobs. */
  projectId: string;
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

const PROJECT = 'autumn';
const EARLIER_ALT = 'Generated image: A lighthouse at dusk';
const NEW_ALT = 'Generated image: A fox in the snow';
const FAILING_MESSAGE = 'The image model did not respond in time (upstream timeout). Please try again later.';
const DECLINED_MESSAGE = 'The prompt was declined by the content filter.';
/** Comfortably above the scripted timings of the tested stories, for a slow, shared CI machine. */
const TIMEOUT = 5000;
const MINUTE = 60_000;

const meta = {
  title: 'Examples/Project page',
  component: ProjectPage,
  // Not stories: the page (and its instrumented variant), reused by ProjectPageOverHttp.stories.tsx.
  excludeStories: ['ProjectPage', 'InstrumentedProjectPage'],
  decorators: [withJobBackend],
  parameters: {
    jobwatch: {
      setup(backend: MemoryJobBackend) {
        const now = backend.now();
        // The project's history: older jobs that left no image (two failed, one cancelled).
        const inProject = (prompt: string) => ({ projectId: PROJECT, prompt });
        backend.create({ id: 'old-mill', meta: inProject('An old mill by the river'), createdAt: now - 24 * 60 * MINUTE });
        backend.fail('old-mill', DECLINED_MESSAGE);
        backend.create({ id: 'forest-in-fog', meta: inProject('A forest in fog'), createdAt: now - 3 * 60 * MINUTE });
        void backend.cancel('forest-in-fog');
        backend.create({ id: 'harbour-at-night', meta: inProject('A harbour at night'), createdAt: now - 60 * MINUTE });
        backend.fail('harbour-at-night', FAILING_MESSAGE);
        // An image generated a minute ago: already completed at the first read.
        backend.create(
          imageGeneration({
            // Its own id, so its colour differs from the next generated job's (the preset's colour follows the id).
            id: 'lighthouse-at-dusk',
            meta: inProject('A lighthouse at dusk'),
            createdAt: now - MINUTE,
          }),
        );
        // Another project's job, waiting: the page's badge and history must not count it.
        backend.create({ meta: { projectId: 'other-project' } });
      },
    },
  },
  args: {
    projectId: PROJECT,
    projectName: 'Autumn campaign',
    prompt: 'A fox in the snow',
    // The presets' realistic timings and jobwatch's default intervals, for people trying the page.
    queuedMs: 1500,
    runningMs: 8000,
    failingMaxRetries: 2,
    pollInterval: 2000,
    countInterval: 5000,
    historyPageSize: 3,
  },
} satisfies Meta<typeof ProjectPage>;

export default meta;
type Story = StoryObj<typeof meta>;

/** Short timings, so a test follows a whole generation in a couple of seconds. */
const fast = {
  queuedMs: 400,
  runningMs: 1200,
  failingMaxRetries: 1,
  pollInterval: 200,
  countInterval: 250,
} satisfies Partial<ProjectPageProps>;

/** A history row's text content: the prompt, then what the row says (the two are separate elements). */
function rowText(prompt: string, says: string): string {
  return prompt + says;
}

/** The history as the page first shows it (3 a page), then the page "Load more" adds. */
const FIRST_PAGE = [
  rowText('A lighthouse at dusk', 'Completed'),
  rowText('A harbour at night', `Failed · ${FAILING_MESSAGE}`),
  rowText('A forest in fog', 'Cancelled'),
];
const SECOND_PAGE = [rowText('An old mill by the river', `Failed · ${DECLINED_MESSAGE}`)];

/** The stored ids line of the tab bar for this project: `jobwatch:tracked:project:autumn = ["job_2"]`. */
const STORED_ID = /^jobwatch:tracked:project:autumn = \["(job_\d+)"\]$/;

/**
 * The page's parts, looked up now: call it again after "Reload page", which
 * mounts new elements.
 */
function page(canvasElement: HTMLElement) {
  const canvas = within(canvasElement);
  const images = () => within(canvas.getByRole('region', { name: 'Images' })).queryAllByRole('img');
  const history = () => within(canvas.getByRole('list', { name: 'Project jobs' })).queryAllByRole('listitem');
  return {
    canvas,
    status: canvas.getByRole('status'),
    /** The progress bar; hidden (`display: none`, without an accessible name) while idle, so looked up with `hidden`. */
    progress: canvas.getByRole('progressbar', { hidden: true }),
    jobsLink: canvas.getByRole('link', { name: /^Jobs/ }),
    images,
    alts: () => images().map((img) => img.getAttribute('alt')),
    history,
    historyTexts: () => history().map((row) => row.textContent),
    /** What the tab's storage holds, as the tab bar shows it. */
    stored: () => canvas.getByTestId('tab-storage').textContent,
    /** Waits for the images query's first answer: the earlier image. */
    async imagesLoaded() {
      await waitFor(() => expect(images().map((img) => img.getAttribute('alt'))).toEqual([EARLIER_ALT]), { timeout: TIMEOUT });
    },
  };
}

/** Every distinct value of `read()` as `target` changes (by a MutationObserver), until `stop()`. */
function record(target: Node, read: () => string, options: MutationObserverInit) {
  const seen: string[] = [];
  const note = () => {
    const value = read();
    if (seen.at(-1) !== value) seen.push(value);
  };
  note();
  const observer = new MutationObserver(note);
  observer.observe(target, options);
  return {
    seen,
    stop() {
      note();
      observer.disconnect();
    },
  };
}

/** The progress bar's `data-state|aria-valuenow|aria-valuetext`, each time it changes. */
function recordProgress(bar: HTMLElement) {
  return record(
    bar,
    () => `${bar.dataset.state}|${bar.getAttribute('aria-valuenow') ?? ''}|${bar.getAttribute('aria-valuetext') ?? ''}`,
    { attributes: true, attributeFilter: ['data-state', 'aria-valuenow', 'aria-valuetext'] },
  );
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Realistic timings (1.5 s queued, 8 s processing): try it. The test only
 * checks the page at rest, so opening the story starts nothing by itself.
 */
export const Interactive: Story = {
  name: 'Try it',
  play: async ({ canvasElement }) => {
    const { canvas, status, progress, jobsLink, historyTexts, imagesLoaded } = page(canvasElement);
    await expect(canvas.getByRole('heading', { level: 1, name: 'Autumn campaign' })).toBeVisible();
    await imagesLoaded();
    await expect(status).toHaveAttribute('data-state', 'idle');
    await expect(status).toHaveTextContent(/^$/);
    // No Cancel button while nothing runs; the progress bar is out of sight while it shows nothing.
    await expect(canvas.queryByRole('button', { name: 'Cancel generation' })).toBeNull();
    await expect(progress).toHaveAttribute('data-state', 'idle');
    await expect(progress).not.toBeVisible();
    await expect(canvas.queryByRole('progressbar')).toBeNull();
    // The other project's pending job is not this project's: no badge.
    await expect(jobsLink).toHaveAccessibleName('Jobs');
    await expect(canvas.getByRole('button', { name: 'Generate image' })).toBeEnabled();
    await expect(canvas.getByRole('button', { name: 'Generate (will fail)' })).toBeEnabled();
    // The history's first page, and nothing tracked yet.
    await waitFor(() => expect(historyTexts()).toEqual(FIRST_PAGE), { timeout: TIMEOUT });
    await expect(canvas.getByRole('button', { name: 'Load more' })).toBeEnabled();
    // A showcase: the page as an app shows it, without the test-only instrumentation.
    await expect(canvas.queryByTestId('page-load')).toBeNull();
    await expect(canvas.queryByTestId('tab-storage')).toBeNull();
    await expect(canvasElement).not.toHaveTextContent(/Page load|Tab storage/);
    await expect(canvas.getByRole('button', { name: 'Reload page' })).toBeEnabled();
    // "Notify me" is offered while the browser has not been asked (the prompt itself cannot be answered here).
    const notifications = canvas.getByTestId('notifications');
    const reported = typeof Notification === 'function' ? Notification.permission : 'unsupported';
    await expect(notifications).toHaveAttribute('data-notifications', reported);
    if (reported === 'default') {
      await expect(canvas.getByRole('button', { name: 'Notify me when a generation finishes' })).toBeEnabled();
    } else {
      await expect(canvas.queryByRole('button', { name: /^Notify me/ })).toBeNull();
    }
  },
};

/**
 * The page while an image is being generated, at realistic timings: opening
 * the story clicks "Generate image", and the page shows the job as it runs —
 * the status with its step and a Cancel button, the progress bar with the
 * time left, the header's badge counting it, its row heading the history —
 * then the new image once it completes, about 10 s later.
 */
export const Generating: Story = {
  name: 'Generating an image',
  play: async ({ canvasElement }) => {
    const { canvas, status, progress, jobsLink, history, imagesLoaded } = page(canvasElement);
    await imagesLoaded();
    await userEvent.click(canvas.getByRole('button', { name: 'Generate image' }));
    await waitFor(() => expect(status).toHaveAttribute('data-state', 'pending'), { timeout: TIMEOUT });
    await expect(accessibleText(status)).toBe('Queued');
    await waitFor(() => expect(jobsLink).toHaveAccessibleName(/^Jobs 1 active job/), { timeout: TIMEOUT });
    await waitFor(() => expect(history()[0]).toHaveTextContent(/^A fox in the snow(Queued|Processing)/), { timeout: TIMEOUT });
    // Queued for 1.5 s, then running through its steps.
    await waitFor(() => expect(status).toHaveAttribute('data-state', 'processing'), { timeout: TIMEOUT });
    await expect(canvas.getByRole('button', { name: 'Cancel generation' })).toBeVisible();
    await expect(progress).toBeVisible();
    await expect(canvas.getByRole('progressbar', { name: 'Generation progress' })).toBe(progress);
    // Nothing of the test-only instrumentation.
    await expect(canvasElement).not.toHaveTextContent(/Page load|Tab storage/);
  },
};

/**
 * A generation from click to image: Queued → Processing → Completed, the
 * progress bar with the time left while it runs, the badge, the id kept in
 * storage until it completes, the new image after.
 */
export const GenerateImage: Story = {
  // Test-only: instrumented (page loads, tab storage), so out of the sidebar and docs; still run by addon-vitest.
  tags: ['!dev', '!autodocs', 'test'],
  render: (args) => <InstrumentedProjectPage {...args} />,
  name: 'Generate an image',
  args: fast,
  play: async ({ canvasElement, step }) => {
    const { canvas, status, progress, jobsLink, alts, stored, imagesLoaded } = page(canvasElement);
    await imagesLoaded();
    await expect(jobsLink).toHaveAccessibleName('Jobs');
    const bar = recordProgress(progress);

    await step('Generate: the job is queued, then processing, and counted in the badge', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Generate image' }));
      await waitFor(() => expect(status).toHaveTextContent(/Queued|Processing/), { timeout: TIMEOUT });
      await expect(canvas.getByRole('button', { name: 'Generate image' })).toBeDisabled();
      // The page waits for it in storage, not in component state.
      await expect(stored()).toMatch(STORED_ID);
      await waitFor(() => expect(jobsLink).toHaveAccessibleName(/^Jobs 1 active job \((1 pending, 0|0 pending, 1) processing\)$/), {
        timeout: TIMEOUT,
      });
      await waitFor(() => expect(status).toHaveAttribute('data-state', 'processing'), { timeout: TIMEOUT });
      await expect(status).toHaveTextContent(/^Processing \(updating…\) (Preparing prompt|Generating image|Upscaling|Saving)$/);
    });

    await step('Processing: the progress bar moves and tells the time left', async () => {
      await expect(progress).toBeVisible();
      await expect(canvas.getByRole('progressbar', { name: 'Generation progress' })).toBe(progress);
      await waitFor(() => expect(progress).toHaveAttribute('aria-valuenow', expect.stringMatching(/^\d+$/)), { timeout: TIMEOUT });
      await expect(progress.getAttribute('aria-valuetext')).toMatch(/^\d+%, less than a minute left$/);
      // The same sentence shows under the bar.
      await expect(progress).toHaveTextContent(progress.getAttribute('aria-valuetext')!);
    });

    await step('Completed: the images are read again, the badge goes away, the id leaves storage', async () => {
      await waitFor(() => expect(status).toHaveAttribute('data-state', 'completed'), { timeout: TIMEOUT });
      await expect(status).toHaveTextContent(/^Completed$/);
      await waitFor(() => expect(alts()).toEqual([NEW_ALT, EARLIER_ALT]), { timeout: TIMEOUT });
      await expect(canvas.getByRole('img', { name: NEW_ALT })).toBeVisible();
      await waitFor(() => expect(jobsLink).toHaveAccessibleName('Jobs'), { timeout: TIMEOUT });
      await expect(jobsLink.querySelector('.jobwatch-badge')).toBeNull();
      await expect(canvas.getByRole('button', { name: 'Generate image' })).toBeEnabled();
      await expect(stored()).toBe('empty');
    });

    await step('The bar went through the steps while processing, then read 100%', async () => {
      bar.stop();
      await expect(progress).toHaveAttribute('data-state', 'completed');
      await expect(progress).toHaveAttribute('aria-valuenow', '100');
      await expect(progress).toHaveAttribute('aria-valuetext', 'Completed');
      const running = bar.seen.filter((entry) => entry.startsWith('processing|'));
      const values = new Set(running.map((entry) => entry.split('|')[1]).filter((value) => value !== ''));
      // Steps at 0, 25, 50 and 75%, pushed live: at least two of them seen.
      await expect(values.size).toBeGreaterThanOrEqual(2);
      for (const value of values) await expect(['0', '25', '50', '75']).toContain(value);
      await expect(running.some((entry) => /\|\d+%, less than a minute left$/.test(entry))).toBe(true);
    });
  },
};

/** A generation that fails after one retry: the error message shows, the images stay as they were. */
export const GenerationFails: Story = {
  // Test-only: instrumented (page loads, tab storage), so out of the sidebar and docs; still run by addon-vitest.
  tags: ['!dev', '!autodocs', 'test'],
  render: (args) => <InstrumentedProjectPage {...args} />,
  name: 'Generation fails',
  args: { ...fast, queuedMs: 300, runningMs: 600 },
  play: async ({ canvasElement, step }) => {
    const { canvas, status, progress, jobsLink, images, stored, imagesLoaded } = page(canvasElement);
    await imagesLoaded();
    const before = images().map((img) => img.getAttribute('src'));

    await step('Generate (will fail): the job is active and counted', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Generate (will fail)' }));
      await waitFor(() => expect(status).toHaveTextContent(/Queued|Processing/), { timeout: TIMEOUT });
      await waitFor(() => expect(jobsLink).toHaveAccessibleName(/^Jobs 1 active job/), { timeout: TIMEOUT });
    });

    await step('Failed: the error message as text, the retry count, no new image', async () => {
      await waitFor(() => expect(status).toHaveAttribute('data-state', 'failed'), { timeout: TIMEOUT });
      await expect(within(status).getByText(FAILING_MESSAGE)).toBeVisible();
      await expect(status).toHaveTextContent(`Failed Retry 1 of 1 ${FAILING_MESSAGE}`);
      await expect(progress).toHaveAttribute('data-state', 'failed');
      await expect(progress).toHaveAttribute('aria-valuetext', 'Failed');
      await waitFor(() => expect(jobsLink).toHaveAccessibleName('Jobs'), { timeout: TIMEOUT });
      await expect(canvas.getByRole('button', { name: 'Generate image' })).toBeEnabled();
      await expect(stored()).toBe('empty');
      await expect(images().map((img) => img.getAttribute('src'))).toEqual(before);
      await expect(images().map((img) => img.getAttribute('alt'))).toEqual([EARLIER_ALT]);
    });
  },
};

/**
 * Cancel while it runs: "Cancelled" at once (optimistic), the badge goes,
 * the id leaves storage, the buttons come back, and no image ever arrives —
 * the backend stopped the job's script.
 */
export const CancelGeneration: Story = {
  // Test-only: instrumented (page loads, tab storage), so out of the sidebar and docs; still run by addon-vitest.
  tags: ['!dev', '!autodocs', 'test'],
  render: (args) => <InstrumentedProjectPage {...args} />,
  name: 'Cancel a generation',
  args: { ...fast, runningMs: 2000 },
  play: async ({ canvasElement, step }) => {
    const { canvas, status, progress, jobsLink, alts, history, stored, imagesLoaded } = page(canvasElement);
    await imagesLoaded();

    await step('Generate: processing, counted, with a Cancel button beside the status', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Generate image' }));
      await waitFor(() => expect(status).toHaveAttribute('data-state', 'processing'), { timeout: TIMEOUT });
      await waitFor(() => expect(jobsLink).toHaveAccessibleName(/^Jobs 1 active job/), { timeout: TIMEOUT });
      const cancel = canvas.getByRole('button', { name: 'Cancel generation' });
      // Beside the live region, not in it; described by it.
      await expect(within(status).queryByRole('button')).toBeNull();
      await expect(cancel).toHaveAccessibleDescription(/^Processing \(updating…\)/);
    });

    await step('Cancel: "Cancelled" at once, the badge and the Cancel button go, the page stops waiting', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Cancel generation' }));
      await waitFor(() => expect(status).toHaveAttribute('data-state', 'cancelled'), { timeout: TIMEOUT });
      await expect(accessibleText(status)).toBe('Cancelled');
      await expect(progress).toHaveAttribute('data-state', 'cancelled');
      await expect(progress).not.toHaveAttribute('aria-valuenow');
      await expect(progress).toHaveAttribute('aria-valuetext', 'Cancelled');
      await waitFor(() => expect(jobsLink).toHaveAccessibleName('Jobs'), { timeout: TIMEOUT });
      await expect(jobsLink.querySelector('.jobwatch-badge')).toBeNull();
      await waitFor(() => expect(canvas.queryByRole('button', { name: /^(Cancel generation|Cancelling…)$/ })).toBeNull(), {
        timeout: TIMEOUT,
      });
      await expect(canvas.getByRole('button', { name: 'Generate image' })).toBeEnabled();
      await expect(stored()).toBe('empty');
      // The history row says so too (the server's answer, kept by the shared watcher).
      await waitFor(() => expect(history()[0]).toHaveTextContent(/^A fox in the snowCancelled$/), { timeout: TIMEOUT });
    });

    await step('No new image, even once the job would have finished', async () => {
      // The scripted run (2 s) would have ended by now, had the backend not stopped it.
      await pause(2000);
      await expect(status).toHaveAttribute('data-state', 'cancelled');
      await expect(history()[0]).toHaveAttribute('data-state', 'cancelled');
      await expect(alts()).toEqual([EARLIER_ALT]);
    });
  },
};

/**
 * The job history: the project's jobs, newest first, 3 a page ("Load more"
 * reads the next with the cursor); a new generation is listed once the page
 * calls `refetch()`, and its row then updates live until it completes.
 */
export const JobHistory: Story = {
  // Test-only: instrumented (page loads, tab storage), so out of the sidebar and docs; still run by addon-vitest.
  tags: ['!dev', '!autodocs', 'test'],
  render: (args) => <InstrumentedProjectPage {...args} />,
  name: 'Job history',
  args: fast,
  play: async ({ canvasElement, step }) => {
    const { canvas, history, historyTexts, imagesLoaded } = page(canvasElement);
    const list = canvas.getByRole('list', { name: 'Project jobs' });
    await imagesLoaded();

    await step('The first page: the 3 newest jobs of the project, not the other project’s', async () => {
      await waitFor(() => expect(historyTexts()).toEqual(FIRST_PAGE), { timeout: TIMEOUT });
      await expect(history().map((row) => row.dataset.state)).toEqual(['completed', 'failed', 'cancelled']);
    });

    await step('Load more: the next page, until there is none', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Load more' }));
      await waitFor(() => expect(historyTexts()).toEqual([...FIRST_PAGE, ...SECOND_PAGE]), { timeout: TIMEOUT });
      await expect(canvas.queryByRole('button', { name: /^Load(ing)? more/ })).toBeNull();
    });

    await step('Generate: the list is read again, the new job heads it, and its row updates live', async () => {
      const row = record(list, () => history()[0]?.textContent ?? '', { subtree: true, childList: true, characterData: true });
      await userEvent.click(canvas.getByRole('button', { name: 'Generate image' }));
      await waitFor(() => expect(history()[0]).toHaveTextContent(/^A fox in the snow(Queued|Processing)/), { timeout: TIMEOUT });
      await waitFor(() => expect(history()[0]).toHaveTextContent(/^A fox in the snowProcessing \d+% · \w+/), { timeout: TIMEOUT });
      await waitFor(() => expect(history()[0]).toHaveAttribute('data-state', 'completed'), { timeout: TIMEOUT });
      await expect(history()[0]).toHaveTextContent(/^A fox in the snowCompleted$/);
      row.stop();
      const running = new Set(row.seen.filter((text) => text.startsWith('A fox in the snowProcessing')));
      await expect(running.size).toBeGreaterThanOrEqual(2);
      // Both loaded pages were read again: every job is still listed, under the new one.
      await expect(historyTexts()).toEqual([rowText('A fox in the snow', 'Completed'), ...FIRST_PAGE, ...SECOND_PAGE]);
      await expect(canvas.queryByRole('button', { name: /^Load(ing)? more/ })).toBeNull();
    });
  },
};

/**
 * A reload while the image is being generated: the tab's "Reload page"
 * mounts the page again (new provider, new QueryClient, same backend and
 * storage). The page reads the id it waits for back from storage, follows the
 * job again (Processing → Completed) and shows the new image.
 */
export const ReloadMidGeneration: Story = {
  // Test-only: instrumented (page loads, tab storage), so out of the sidebar and docs; still run by addon-vitest.
  tags: ['!dev', '!autodocs', 'test'],
  render: (args) => <InstrumentedProjectPage {...args} />,
  name: 'Reload mid-generation',
  args: { ...fast, runningMs: 3000 },
  play: async ({ canvasElement, step }) => {
    const first = page(canvasElement);
    const { canvas } = first;
    await first.imagesLoaded();
    let jobId = '';

    await step('Generate: processing, its id kept in the tab’s storage', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Generate image' }));
      await waitFor(() => expect(first.status).toHaveAttribute('data-state', 'processing'), { timeout: TIMEOUT });
      await expect(first.stored()).toMatch(STORED_ID);
      jobId = STORED_ID.exec(first.stored() ?? '')![1]!;
    });

    let second = first;
    let seen: ReturnType<typeof record> | undefined;
    await step('Reload page: a new page load, waiting for the same job', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Reload page' }));
      await waitFor(() => expect(canvas.getByTestId('page-load')).toHaveTextContent('Page load 2'), { timeout: TIMEOUT });
      // Every element of the page is new; only the storage stayed.
      await expect(first.status.isConnected).toBe(false);
      second = page(canvasElement);
      seen = record(second.status, () => second.status.dataset.state ?? '', { attributes: true, attributeFilter: ['data-state'] });
      await expect(second.stored()).toBe(`jobwatch:tracked:project:autumn = ["${jobId}"]`);
      await expect(canvas.getByRole('button', { name: 'Generate image' })).toBeDisabled();
    });

    await step('It resumes: Processing, with its progress and a Cancel button, then Completed', async () => {
      await waitFor(() => expect(second.status).toHaveAttribute('data-state', 'processing'), { timeout: TIMEOUT });
      await expect(second.status).toHaveTextContent(/^Processing \(updating…\) (Preparing prompt|Generating image|Upscaling|Saving)$/);
      await expect(canvas.getByRole('button', { name: 'Cancel generation' })).toBeVisible();
      await waitFor(() => expect(second.progress).toHaveAttribute('aria-valuenow', expect.stringMatching(/^\d+$/)), { timeout: TIMEOUT });
      await expect(second.progress).toBeVisible();
      await waitFor(() => expect(second.status).toHaveAttribute('data-state', 'completed'), { timeout: TIMEOUT });
      seen!.stop();
      await expect(seen!.seen.indexOf('processing')).toBeGreaterThanOrEqual(0);
      await expect(seen!.seen.indexOf('completed')).toBeGreaterThan(seen!.seen.indexOf('processing'));
    });

    await step('The images are read again, the storage is empty, the page can generate again', async () => {
      await waitFor(() => expect(second.alts()).toEqual([NEW_ALT, EARLIER_ALT]), { timeout: TIMEOUT });
      await expect(second.stored()).toBe('empty');
      await expect(canvas.getByRole('button', { name: 'Generate image' })).toBeEnabled();
      await waitFor(() => expect(second.jobsLink).toHaveAccessibleName('Jobs'), { timeout: TIMEOUT });
    });
  },
};
