import type { Meta, StoryObj } from '@storybook/react-vite';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useId, useState } from 'react';
import { expect, userEvent, waitFor, within } from 'storybook/test';
import { JobStatus, PendingJobsBadge, jobKeys, useJobClient } from '../src/index';
import { failingJob, imageGeneration } from '../src/testing/index';
import type { ImageGenerationResult, JobSpec, MemoryJobBackend } from '../src/testing/index';
import { useStoryBackend, withJobBackend } from './support/jobwatch';

/**
 * The original app's project page, live on the in-memory backend in real
 * time: "Generate image" creates a job, `<JobStatus detailed>` follows it
 * (Queued → Processing → Completed), `onComplete` refreshes the images, and
 * the header's `<PendingJobsBadge>` counts the project's active jobs.
 * "Generate (will fail)" runs a job that fails after its retries.
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
  /** `pollInterval` of the JobStatus, in ms (jobwatch's default: 2000). */
  pollInterval: number;
  /** `pollInterval` of the PendingJobsBadge, in ms (jobwatch's default: 5000). */
  countInterval: number;
}

const imagesKey = (projectId: string) => ['story', 'project', projectId, 'images'] as const;

export function ProjectPage({
  projectId,
  projectName,
  prompt: initialPrompt,
  queuedMs,
  runningMs,
  failingMaxRetries,
  pollInterval,
  countInterval,
}: ProjectPageProps) {
  const backend = useStoryBackend();
  const client = useJobClient();
  const queryClient = useQueryClient();
  const [prompt, setPrompt] = useState(initialPrompt);
  const [jobId, setJobId] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const ids = useId();

  // The app's images query: the results of the project's completed generations.
  const images = useQuery({
    queryKey: imagesKey(projectId),
    queryFn: async ({ signal }) => {
      const page = await client.list({ meta: { projectId }, status: 'completed', limit: 100 }, { signal });
      return page.jobs.flatMap((job) => (job.result as ImageGenerationResult | undefined)?.images ?? []);
    },
  });

  function generate(spec: JobSpec) {
    // Stands in for the app's `generate` mutation, which answers with the new job's id.
    const job = backend.create(spec);
    setJobId(job.id);
    setBusy(true);
    // A new job is active now: count it without waiting for the badge's next tick.
    void queryClient.invalidateQueries({ queryKey: jobKeys.counts() });
  }

  const meta = { projectId, prompt };
  return (
    <div style={{ display: 'grid', gap: '1.25rem', maxWidth: '40rem', fontFamily: 'system-ui, sans-serif' }}>
      <header style={{ display: 'flex', alignItems: 'center', justifyContent: 'space-between', gap: '1rem' }}>
        <h1 style={{ margin: 0, fontSize: '1.5rem' }}>{projectName}</h1>
        <nav aria-label="Project">
          <a href="#jobs" style={{ display: 'inline-flex', alignItems: 'center', gap: '0.375rem' }}>
            Jobs <PendingJobsBadge filter={{ meta: { projectId } }} pollInterval={countInterval} />
          </a>
        </nav>
      </header>

      <section aria-labelledby={`${ids}-generate`} style={{ display: 'grid', gap: '0.75rem' }}>
        <h2 id={`${ids}-generate`} style={{ margin: 0, fontSize: '1.125rem' }}>
          Generate
        </h2>
        <label style={{ display: 'grid', gap: '0.25rem' }}>
          Prompt
          <input value={prompt} onChange={(event) => setPrompt(event.target.value)} style={{ padding: '0.375rem' }} />
        </label>
        <div style={{ display: 'flex', gap: '0.5rem' }}>
          <button
            type="button"
            disabled={busy}
            onClick={() => generate(imageGeneration({ meta, queuedMs, runningMs }))}
          >
            Generate image
          </button>
          <button
            type="button"
            disabled={busy}
            onClick={() =>
              generate(failingJob({ meta, queuedMs, runningMs, retryDelayMs: queuedMs, maxRetries: failingMaxRetries }))
            }
          >
            Generate (will fail)
          </button>
        </div>
        <div style={{ minHeight: '3.5rem' }}>
          <JobStatus
            jobId={jobId}
            detailed
            pollInterval={pollInterval}
            onComplete={() => void queryClient.invalidateQueries({ queryKey: imagesKey(projectId) })}
            onSettled={() => setBusy(false)}
          />
        </div>
      </section>

      <section aria-labelledby={`${ids}-images`} style={{ display: 'grid', gap: '0.75rem' }}>
        <h2 id={`${ids}-images`} style={{ margin: 0, fontSize: '1.125rem' }}>
          Images
        </h2>
        {images.isPending ? (
          <p>Loading images…</p>
        ) : images.data && images.data.length > 0 ? (
          <ul
            style={{ display: 'grid', gridTemplateColumns: 'repeat(auto-fill, 6rem)', gap: '0.5rem', listStyle: 'none', margin: 0, padding: 0 }}
          >
            {images.data.map((image) => (
              <li key={image.id}>
                <img src={image.url} alt={image.alt} width={96} height={96} style={{ display: 'block', borderRadius: '0.375rem' }} />
              </li>
            ))}
          </ul>
        ) : (
          <p>No images yet.</p>
        )}
      </section>
    </div>
  );
}

const PROJECT = 'autumn';
const EARLIER_ALT = 'Generated image: A lighthouse at dusk';
const FAILING_MESSAGE = 'The image model did not respond in time (upstream timeout). Please try again later.';
/** Comfortably above the scripted timings of the tested stories, for a slow, shared CI machine. */
const TIMEOUT = 5000;

const meta = {
  title: 'Examples/Project page',
  component: ProjectPage,
  // Not a story: the page, reused by ProjectPageOverHttp.stories.tsx.
  excludeStories: ['ProjectPage'],
  decorators: [withJobBackend],
  parameters: {
    jobwatch: {
      setup(backend: MemoryJobBackend) {
        // An image generated a minute ago: already completed at the first read.
        backend.create(
          imageGeneration({
            // Its own id, so its colour differs from the next generated job's (the preset's colour follows the id).
            id: 'lighthouse-at-dusk',
            meta: { projectId: PROJECT, prompt: 'A lighthouse at dusk' },
            createdAt: backend.now() - 60_000,
          }),
        );
        // Another project's job, waiting: the page's badge must not count it.
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

function page(canvasElement: HTMLElement) {
  const canvas = within(canvasElement);
  const images = () => within(canvas.getByRole('region', { name: 'Images' })).queryAllByRole('img');
  return {
    canvas,
    status: canvas.getByRole('status'),
    jobsLink: canvas.getByRole('link', { name: /^Jobs/ }),
    images,
    /** Waits for the images query's first answer: the earlier image. */
    async imagesLoaded() {
      await waitFor(() => expect(images().map((img) => img.getAttribute('alt'))).toEqual([EARLIER_ALT]), { timeout: TIMEOUT });
    },
  };
}

/**
 * Realistic timings (1.5 s queued, 8 s processing): try it. The test only
 * checks the page at rest, so opening the story starts nothing by itself.
 */
export const Interactive: Story = {
  play: async ({ canvasElement }) => {
    const { canvas, status, jobsLink, imagesLoaded } = page(canvasElement);
    await expect(canvas.getByRole('heading', { level: 1, name: 'Autumn campaign' })).toBeVisible();
    await imagesLoaded();
    await expect(status).toHaveAttribute('data-state', 'idle');
    await expect(status).toHaveTextContent(/^$/);
    // The other project's pending job is not this project's: no badge.
    await expect(jobsLink).toHaveAccessibleName('Jobs');
    await expect(canvas.getByRole('button', { name: 'Generate image' })).toBeEnabled();
    await expect(canvas.getByRole('button', { name: 'Generate (will fail)' })).toBeEnabled();
  },
};

/** A generation from click to image: Queued → Processing → Completed, the badge while it runs, the new image after. */
export const GenerateImage: Story = {
  name: 'Generate an image',
  args: fast,
  play: async ({ canvasElement, step }) => {
    const { canvas, status, jobsLink, images, imagesLoaded } = page(canvasElement);
    await imagesLoaded();
    await expect(jobsLink).toHaveAccessibleName('Jobs');

    await step('Generate: the job is queued, then processing, and counted in the badge', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Generate image' }));
      await waitFor(() => expect(status).toHaveTextContent(/Queued|Processing/), { timeout: TIMEOUT });
      await expect(canvas.getByRole('button', { name: 'Generate image' })).toBeDisabled();
      await waitFor(() => expect(jobsLink).toHaveAccessibleName(/^Jobs 1 active job \((1 pending, 0|0 pending, 1) processing\)$/), {
        timeout: TIMEOUT,
      });
      await waitFor(() => expect(status).toHaveAttribute('data-state', 'processing'), { timeout: TIMEOUT });
      await expect(status).toHaveTextContent(/^Processing \(updating…\) (Preparing prompt|Generating image|Upscaling|Saving)$/);
    });

    await step('Completed: onComplete refreshes the images, the badge goes away', async () => {
      await waitFor(() => expect(status).toHaveAttribute('data-state', 'completed'), { timeout: TIMEOUT });
      await expect(status).toHaveTextContent(/^Completed$/);
      await waitFor(
        () => expect(images().map((img) => img.getAttribute('alt'))).toEqual(['Generated image: A fox in the snow', EARLIER_ALT]),
        { timeout: TIMEOUT },
      );
      await expect(canvas.getByRole('img', { name: 'Generated image: A fox in the snow' })).toBeVisible();
      await waitFor(() => expect(jobsLink).toHaveAccessibleName('Jobs'), { timeout: TIMEOUT });
      await expect(jobsLink.querySelector('.jobwatch-badge')).toBeNull();
      await expect(canvas.getByRole('button', { name: 'Generate image' })).toBeEnabled();
    });
  },
};

/** A generation that fails after one retry: the error message shows, the images stay as they were. */
export const GenerationFails: Story = {
  name: 'Generation fails',
  args: { ...fast, queuedMs: 300, runningMs: 600 },
  play: async ({ canvasElement, step }) => {
    const { canvas, status, jobsLink, images, imagesLoaded } = page(canvasElement);
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
      await waitFor(() => expect(jobsLink).toHaveAccessibleName('Jobs'), { timeout: TIMEOUT });
      await expect(canvas.getByRole('button', { name: 'Generate image' })).toBeEnabled();
      await expect(images().map((img) => img.getAttribute('src'))).toEqual(before);
      await expect(images().map((img) => img.getAttribute('alt'))).toEqual([EARLIER_ALT]);
    });
  },
};
