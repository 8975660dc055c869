import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect, userEvent, waitFor, within } from 'storybook/test';
import type { Job } from '../src/index';
import projectPageMeta from './ProjectPage.stories';
import { ProjectPage, type ProjectPageProps } from './support/ProjectPage';
import { HTTP_BASE_URL, httpJobBackend, httpStory, type HttpStory } from './support/http';

/**
 * The Project page of "Examples/Project page", this time over HTTP in the
 * browser: the page's `JobClientProvider` gets
 * `createFetchJobClient({ baseUrl: '/api/jobs' })`, whose requests MSW's
 * service worker hands to `createJobHandlers({ backend, baseUrl: '/api/jobs' })`
 * — the real server handler of `jobwatch/server` — in front of the story's
 * in-memory backend. Job statuses come from `GET /api/jobs/{id}` and the push
 * stream `GET /api/jobs/events?ids=…`, the badge from `GET /api/jobs/counts`,
 * the images from `GET /api/jobs?status=completed…`. "Generate" still calls
 * `backend.create(...)`, standing in for the app's own mutation (the REST
 * contract has no "create").
 *
 * Each story gets its own backend, fetch client and QueryClient
 * (./support/http.tsx); only the MSW worker is shared by the page.
 */
const meta = {
  title: 'Examples/Project page over HTTP',
  component: ProjectPage,
  ...httpJobBackend,
  // The same project as "Examples/Project page": an earlier image, and another project's waiting job.
  parameters: { jobwatch: projectPageMeta.parameters.jobwatch },
  args: projectPageMeta.args,
} satisfies Meta<typeof ProjectPage>;

export default meta;
type Story = StoryObj<typeof meta>;

const PROJECT = projectPageMeta.args.projectId;
const EARLIER_ALT = 'Generated image: A lighthouse at dusk';
const NEW_ALT = 'Generated image: A fox in the snow';
const FAILING_MESSAGE = 'The image model did not respond in time (upstream timeout). Please try again later.';

/** Short timings, so a test follows a whole generation over HTTP in a couple of seconds. */
const fast = {
  queuedMs: 400,
  runningMs: 1200,
  failingMaxRetries: 1,
  pollInterval: 200,
  countInterval: 250,
} satisfies Partial<ProjectPageProps>;

/**
 * One time budget for a whole play function (the CI machine is 2 slow cores):
 * every wait gets what is left of it (at least 100 ms), so a failing play
 * function gives up after about 10 s in all rather than 5 s per wait.
 */
function budget(totalMs = 10_000) {
  const end = performance.now() + totalMs;
  return () => ({ timeout: Math.max(100, end - performance.now()) });
}

/** Every `data-state/data-connection` the status region goes through, e.g. `processing/live`. */
function recordStatus(status: HTMLElement) {
  const seen: string[] = [];
  const note = () => {
    const entry = `${status.dataset.state}/${status.dataset.connection}`;
    if (seen.at(-1) !== entry) seen.push(entry);
  };
  note();
  const observer = new MutationObserver(note);
  observer.observe(status, { attributes: true, attributeFilter: ['data-state', 'data-connection'] });
  return {
    seen,
    stop() {
      note();
      observer.disconnect();
    },
  };
}

function page(canvasElement: HTMLElement) {
  const canvas = within(canvasElement);
  const status = canvas.getByRole('status');
  return {
    canvas,
    status,
    jobsLink: canvas.getByRole('link', { name: /^Jobs/ }),
    alts: () =>
      within(canvas.getByRole('region', { name: 'Images' }))
        .queryAllByRole('img')
        .map((img) => img.getAttribute('alt')),
    history: recordStatus(status),
  };
}

/** `GET /api/jobs…` lines of the requests the worker received for this story. */
function sent({ requests }: HttpStory, method = 'GET'): string[] {
  return requests.filter((r) => r.method === method).map((r) => r.url);
}

/** The job "Generate" created: the only one of the project with this prompt. */
function generatedJob({ backend }: HttpStory, prompt: string): Job {
  const job = backend.jobs().find((j) => j.meta?.projectId === PROJECT && j.meta?.prompt === prompt);
  if (!job) throw new Error(`no job with prompt "${prompt}" in the story's backend`);
  return job;
}

const imagesQuery = `${HTTP_BASE_URL}?status=completed&limit=100&meta.projectId=${PROJECT}`;
const countsQuery = `${HTTP_BASE_URL}/counts?meta.projectId=${PROJECT}`;

/**
 * A generation from click to image, over HTTP: Queued → Processing →
 * Completed pushed through the event stream, the badge from the counts
 * route, the new image from the list route.
 */
export const GenerateImageOverHttp: Story = {
  name: 'Generate an image over HTTP',
  args: fast,
  play: async ({ canvasElement, loaded, step }) => {
    const http = httpStory({ loaded });
    const wait = budget();
    const { canvas, status, jobsLink, alts, history } = page(canvasElement);

    await step('The page loads over HTTP: the earlier image, no badge', async () => {
      await waitFor(() => expect(alts()).toEqual([EARLIER_ALT]), wait());
      await expect(sent(http)).toContain(imagesQuery);
      await waitFor(() => expect(sent(http)).toContain(countsQuery), wait());
      // The other project's pending job is not this project's: no badge.
      await expect(jobsLink).toHaveAccessibleName('Jobs');
    });

    await step('Generate: queued, then processing, pushed live; counted in the badge', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Generate image' }));
      await waitFor(() => expect(status).toHaveTextContent(/Queued|Processing/), wait());
      await expect(canvas.getByRole('button', { name: 'Generate image' })).toBeDisabled();
      await waitFor(() => expect(jobsLink).toHaveAccessibleName(/^Jobs 1 active job \((1 pending, 0|0 pending, 1) processing\)$/), wait());
      await waitFor(() => expect(status).toHaveAttribute('data-state', 'processing'), wait());
      await expect(status).toHaveTextContent(/^Processing \(updating…\) (Preparing prompt|Generating image|Upscaling|Saving)$/);
    });

    await step('Completed: onComplete refreshes the images, the badge goes away', async () => {
      await waitFor(() => expect(status).toHaveAttribute('data-state', 'completed'), wait());
      await expect(status).toHaveTextContent(/^Completed$/);
      await waitFor(() => expect(alts()).toEqual([NEW_ALT, EARLIER_ALT]), wait());
      await expect(canvas.getByRole('img', { name: NEW_ALT })).toBeVisible();
      await waitFor(() => expect(jobsLink).toHaveAccessibleName('Jobs'), wait());
      await expect(jobsLink.querySelector('.jobwatch-badge')).toBeNull();
      await expect(canvas.getByRole('button', { name: 'Generate image' })).toBeEnabled();
    });

    await step('It went over HTTP: the event stream, the job, the counts and the images routes', async () => {
      history.stop();
      const job = generatedJob(http, 'A fox in the snow');
      const gets = sent(http);
      // Push: one stream for the job, asked for as an event stream.
      await expect(gets).toContain(`${HTTP_BASE_URL}/events?ids=${job.id}`);
      const stream = http.requests.find((r) => r.url === `${HTTP_BASE_URL}/events?ids=${job.id}`);
      await expect(stream?.accept).toBe('text/event-stream');
      // The first read of the job, the badge's counts, and the images read again after onComplete.
      await expect(gets).toContain(`${HTTP_BASE_URL}/${job.id}`);
      // Push carried the changes: once live, polling drops to the 30 s safety interval. Polling
      // every 200 ms alone would have read the job about 8 times in its 1.6 s.
      await expect(gets.filter((url) => url === `${HTTP_BASE_URL}/${job.id}`).length).toBeLessThan(4);
      await expect(gets).toContain(countsQuery);
      await expect(gets.filter((url) => url === imagesQuery).length).toBeGreaterThanOrEqual(2);
      // The status was pushed live while the job ran, and went Queued/Processing → Completed.
      await expect(history.seen).toContainEqual(expect.stringMatching(/^(pending|processing)\/live$/));
      const firstActive = history.seen.findIndex((entry) => /^(pending|processing)\//.test(entry));
      const completed = history.seen.findIndex((entry) => entry.startsWith('completed/'));
      await expect(firstActive).toBeGreaterThanOrEqual(0);
      await expect(completed).toBeGreaterThan(firstActive);
      // Nothing but the contract's routes, and only reads: the page never wrote over HTTP.
      await expect(sent(http, 'POST')).toEqual([]);
    });
  },
};

/** A generation that fails after one retry, over HTTP: the error message arrives through the event stream. */
export const GenerationFailsOverHttp: Story = {
  name: 'Failure over HTTP',
  args: { ...fast, queuedMs: 300, runningMs: 600 },
  play: async ({ canvasElement, loaded, step }) => {
    const http = httpStory({ loaded });
    const wait = budget();
    const { canvas, status, jobsLink, alts, history } = page(canvasElement);
    await waitFor(() => expect(alts()).toEqual([EARLIER_ALT]), wait());

    await step('Generate (will fail): the job is active and counted', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Generate (will fail)' }));
      await waitFor(() => expect(status).toHaveTextContent(/Queued|Processing/), wait());
      await waitFor(() => expect(jobsLink).toHaveAccessibleName(/^Jobs 1 active job/), wait());
    });

    await step('Failed: the error message as text, the retry count, no new image', async () => {
      await waitFor(() => expect(status).toHaveAttribute('data-state', 'failed'), wait());
      await expect(within(status).getByText(FAILING_MESSAGE)).toBeVisible();
      await expect(status).toHaveTextContent(`Failed Retry 1 of 1 ${FAILING_MESSAGE}`);
      await waitFor(() => expect(jobsLink).toHaveAccessibleName('Jobs'), wait());
      await expect(canvas.getByRole('button', { name: 'Generate image' })).toBeEnabled();
      await expect(alts()).toEqual([EARLIER_ALT]);
    });

    await step('It went over HTTP, pushed live', async () => {
      history.stop();
      const job = generatedJob(http, 'A fox in the snow');
      await expect(job.status).toBe('failed');
      const gets = sent(http);
      await expect(gets).toContain(`${HTTP_BASE_URL}/events?ids=${job.id}`);
      await expect(gets).toContain(countsQuery);
      // Two attempts and a retry delay (1.8 s) came by push, not by polling every 200 ms.
      await expect(gets.filter((url) => url === `${HTTP_BASE_URL}/${job.id}`).length).toBeLessThan(4);
      await expect(history.seen).toContainEqual(expect.stringMatching(/^(pending|processing)\/live$/));
      await expect(history.seen.at(-1)).toMatch(/^failed\//);
    });
  },
};
