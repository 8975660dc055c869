import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect, userEvent, waitFor, within } from 'storybook/test';
import { imageGeneration } from '../src/testing/index';
import type { MemoryJobBackend } from '../src/testing/index';
import { accessibleText, withJobBackend } from './support/jobwatch';
import { InstrumentedProjectPage, ProjectPage, type ProjectPageProps } from './support/ProjectPage';
import { EARLIER_ALT, TIMEOUT, projectPage as page, record, recordProgress } from './support/projectPageQueries';

/**
 * The original app's project page (./support/ProjectPage.tsx), live on the
 * in-memory backend in real time: "Generate image" creates a job,
 * `<JobStatus detailed>` follows it with a Cancel button beside it,
 * `<JobProgress>` shows how far it is and the time left, the images are read
 * again once it completes, the header's `<PendingJobsBadge>` counts the
 * project's active jobs, and the "Job history" panel lists the project's jobs.
 * The browser frame's reload button remounts the page, which follows the
 * running generation again (`useTrackedJobs`).
 *
 * The showcases ("Try it", "Generating an image") render the page as an app
 * shows it. The other stories are tests: they render the instrumented page
 * (page loads, tab storage) and are tagged out of the sidebar and docs.
 */

const PROJECT = 'autumn';
const NEW_ALT = 'Generated image: A fox in the snow';
const FAILING_MESSAGE = 'The image model did not respond in time (upstream timeout). Please try again later.';
const DECLINED_MESSAGE = 'The prompt was declined by the content filter.';
const MINUTE = 60_000;

const meta = {
  title: 'Examples/Project page',
  component: ProjectPage,
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
