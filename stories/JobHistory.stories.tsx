import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect, userEvent, waitFor, within } from 'storybook/test';
import { imageGeneration } from '../src/testing/index';
import type { MemoryJobBackend } from '../src/testing/index';
import { withJobBackend } from './support/jobwatch';
import { AllActiveJobs, ProjectJobHistory, RequestLog } from './support/JobHistoryPanels';

/**
 * `useJobs` through `<JobList>` (./support/JobHistoryPanels.tsx): a project's
 * job history, paged with the server's cursor, and every active job of every
 * project, their active rows updating live. The showcases render the panels
 * alone; the test-only variants add the backend's request log under them.
 */
const PROJECT = 'autumn';
/** Comfortably above the scripted timings, for a slow, shared CI machine. */
const TIMEOUT = 5000;
const MINUTE = 60_000;

/** Finished jobs of the history, oldest first: never read again once listed. */
const FINISHED = [
  { id: 'harbour-at-noon', prompt: 'A harbour at noon', end: 'completed' },
  { id: 'winter-forest', prompt: 'A winter forest', end: 'failed' },
  { id: 'city-at-night', prompt: 'A city at night', end: 'completed' },
  { id: 'desert-road', prompt: 'A desert road', end: 'cancelled' },
  { id: 'mountain-lake', prompt: 'A mountain lake', end: 'completed' },
  { id: 'lighthouse-at-dusk', prompt: 'A lighthouse at dusk', end: 'completed' },
] as const;

function seedHistory(backend: MemoryJobBackend, runningMs: number) {
  FINISHED.forEach(({ id, prompt, end }, i) => {
    backend.create({ id, meta: { projectId: PROJECT, prompt }, createdAt: backend.now() - (FINISHED.length - i + 1) * MINUTE });
    if (end === 'completed') backend.complete(id, { url: `/images/${id}.png` });
    else if (end === 'failed') backend.fail(id, 'The image model did not respond in time (upstream timeout).');
    else backend.cancel(id);
  });
  // Another project's job: not in this history.
  backend.create({ id: 'other-project-job', meta: { projectId: 'other-project', prompt: 'A harvest moon' } });
  // Two active jobs, the newest of the history: one waits, one runs through its steps.
  backend.create({ id: 'queued-poster', meta: { projectId: PROJECT, prompt: 'A poster, waiting its turn' }, createdAt: backend.now() - MINUTE });
  backend.create(
    imageGeneration({ id: 'falling-leaves', meta: { projectId: PROJECT, prompt: 'Falling leaves' }, queuedMs: 300, runningMs }),
  );
}

/**
 * Every project's jobs for "All active jobs": two finished (never listed), one
 * waiting, two running for `scale` × the showcase's timings (1 for people, less for tests).
 */
function seedActiveJobs(backend: MemoryJobBackend, scale: number) {
  const old = backend.now() - 10 * MINUTE;
  backend.create({ id: 'finished-autumn', meta: { projectId: 'autumn', prompt: 'An old autumn job' }, createdAt: old });
  backend.complete('finished-autumn');
  backend.create({ id: 'finished-winter', meta: { projectId: 'winter', prompt: 'An old winter job' }, createdAt: old });
  backend.fail('finished-winter', 'Your workspace ran out of generation credits.');
  backend.create({ id: 'waiting', meta: { projectId: 'winter', prompt: 'A job that waits' }, createdAt: backend.now() - MINUTE });
  backend.create(
    imageGeneration({ id: 'quick', meta: { projectId: 'autumn', prompt: 'A quick sketch' }, queuedMs: 1200 * scale, runningMs: 6000 * scale }),
  );
  backend.create(
    imageGeneration({ id: 'slow', meta: { projectId: 'winter', prompt: 'A detailed render' }, queuedMs: 1200 * scale, runningMs: 14000 * scale }),
  );
}

const meta = {
  title: 'Examples/Job history',
  component: ProjectJobHistory,
  decorators: [
    withJobBackend,
    // The demo app's look (./support/demo.css), at the width of a side panel.
    (Story) => (
      <div className="jw-demo" style={{ maxWidth: '36rem' }}>
        <Story />
      </div>
    ),
  ],
  args: {
    projectId: PROJECT,
    limit: 4,
    refetchInterval: false,
    queuedMs: 400,
    runningMs: 3000,
  },
} satisfies Meta<typeof ProjectJobHistory>;

export default meta;
type Story = StoryObj<typeof meta>;

function rowsOf(canvasElement: HTMLElement): HTMLElement[] {
  return within(within(canvasElement).getByRole('list', { name: 'Jobs' })).queryAllByRole('listitem');
}

function rowOf(canvasElement: HTMLElement, prompt: string): HTMLElement | undefined {
  return rowsOf(canvasElement).find((row) => row.textContent?.startsWith(prompt));
}

/**
 * A project's history, 4 jobs a page: the newest two are active (one queued,
 * one running), the rest finished. "Load more" reads the next page with the
 * cursor; the running job updates in place until it completes; the finished
 * rows are never read again; "Generate image" adds a job at the top.
 */
export const ProjectHistory: Story = {
  name: 'Job history for a project',
  parameters: { jobwatch: { setup: (backend: MemoryJobBackend) => seedHistory(backend, 8000) } },
  play: async ({ canvasElement }) => {
    await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(4), { timeout: TIMEOUT });
    await expect(rowOf(canvasElement, 'Falling leaves')?.dataset.state).toMatch(/^(pending|processing)$/);
    await expect(within(canvasElement).getByRole('button', { name: 'Load more' })).toBeEnabled();
    // A showcase: no test-only request log.
    await expect(within(canvasElement).queryByRole('definition')).toBeNull();
    await expect(canvasElement).not.toHaveTextContent(/List reads|read or followed/);
  },
};

/**
 * Test-only: the history with the backend's request log under it, to check
 * that finished rows are never read again. Out of the sidebar and docs; run by addon-vitest.
 */
export const ProjectHistoryRequests: Story = {
  name: 'Job history for a project: requests made',
  tags: ['!dev', '!autodocs', 'test'],
  render: (args) => (
    <div className="jw-app__column">
      <ProjectJobHistory {...args} />
      <RequestLog />
    </div>
  ),
  parameters: { jobwatch: { setup: (backend: MemoryJobBackend) => seedHistory(backend, 3000) } },
  play: async ({ canvasElement, step }) => {
    const canvas = within(canvasElement);

    await step('The first page: the newest 4 jobs of the project, active ones first', async () => {
      await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(4), { timeout: TIMEOUT });
      const rows = rowsOf(canvasElement);
      await expect(rows.map((row) => row.textContent?.split(/Queued|Processing|Completed|Failed|Cancelled/)[0])).toEqual([
        'Falling leaves',
        'A poster, waiting its turn',
        'A lighthouse at dusk',
        'A mountain lake',
      ]);
      await expect(rows[0]!.dataset.state).toMatch(/^(pending|processing)$/);
      await expect(rows[1]).toHaveAttribute('data-state', 'pending');
      await expect(rows[2]).toHaveAttribute('data-state', 'completed');
      await expect(canvas.queryByText(/A harvest moon/)).toBeNull();
    });

    await step('Load more: the next page, read with the cursor, until there is none', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Load more' }));
      await waitFor(() => expect(rowsOf(canvasElement)).toHaveLength(8), { timeout: TIMEOUT });
      await expect(rowsOf(canvasElement).slice(4).map((row) => row.dataset.state)).toEqual([
        'cancelled',
        'completed',
        'failed',
        'completed',
      ]);
      await expect(rowOf(canvasElement, 'A winter forest')).toHaveTextContent(/Failed · The image model did not respond in time/);
      await expect(canvas.queryByRole('button', { name: /Load more/ })).toBeNull();
      // The log re-reads the backend's calls every 250 ms.
      await waitFor(() => expect(canvas.getByTestId('list-reads')).toHaveTextContent(/^2$/), { timeout: TIMEOUT });
    });

    await step('The running job updates in place, then completes', async () => {
      await waitFor(() => expect(rowOf(canvasElement, 'Falling leaves')).toHaveTextContent(/Processing \d+% · \w+/), {
        timeout: TIMEOUT,
      });
      await waitFor(() => expect(rowOf(canvasElement, 'Falling leaves')).toHaveAttribute('data-state', 'completed'), {
        timeout: TIMEOUT,
      });
      await expect(rowOf(canvasElement, 'Falling leaves')).toHaveTextContent(/Completed$/);
    });

    await step('Finished rows were never read again: only the active jobs were followed', async () => {
      await waitFor(() => expect(canvas.getByTestId('followed')).toHaveTextContent(/^falling-leaves, queued-poster$/), {
        timeout: TIMEOUT,
      });
      await expect(canvas.getByTestId('list-reads')).toHaveTextContent(/^2$/);
      await expect(rowOf(canvasElement, 'A poster, waiting its turn')).toHaveAttribute('data-state', 'pending');
    });

    await step('Generate image: the list is read again and the new job shows at the top', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Generate image' }));
      await waitFor(() => expect(rowsOf(canvasElement)[0]).toHaveTextContent(/^A fox in the snow(Queued|Processing)/), {
        timeout: TIMEOUT,
      });
    });
  },
};

/**
 * Every active job, across projects (`status: ['pending', 'processing']`),
 * read again every second (`refetchInterval`). Jobs settle in place, are
 * announced under "Just finished", and leave the list at the next read.
 */
export const ActiveJobs: Story = {
  name: 'All active jobs',
  render: (args) => <AllActiveJobs {...args} />,
  args: { limit: 20, refetchInterval: 1000 },
  parameters: { jobwatch: { setup: (backend: MemoryJobBackend) => seedActiveJobs(backend, 1) } },
  play: async ({ canvasElement }) => {
    await waitFor(() => expect(rowsOf(canvasElement).length).toBeGreaterThanOrEqual(2), { timeout: TIMEOUT });
    await expect(within(canvasElement).getByText('A job that waits')).toBeVisible();
    await expect(canvasElement).not.toHaveTextContent(/List reads|read or followed/);
  },
};

/** Test-only: "All active jobs" at test timings, with the backend's request log under it. */
export const ActiveJobsRequests: Story = {
  name: 'All active jobs: requests made',
  tags: ['!dev', '!autodocs', 'test'],
  render: (args) => (
    <div className="jw-app__column">
      <AllActiveJobs {...args} />
      <RequestLog />
    </div>
  ),
  args: { limit: 20, refetchInterval: 1000 },
  parameters: { jobwatch: { setup: (backend: MemoryJobBackend) => seedActiveJobs(backend, 0.25) } },
  play: async ({ canvasElement, step }) => {
    const canvas = within(canvasElement);
    const log = canvas.getByRole('log', { name: 'Just finished jobs' });

    await step('Every active job of every project; no finished one', async () => {
      await waitFor(() => expect(rowsOf(canvasElement).length).toBeGreaterThanOrEqual(2), { timeout: TIMEOUT });
      await expect(canvas.getByText('A job that waits')).toBeVisible();
      await expect(canvas.queryByText(/An old (autumn|winter) job/)).toBeNull();
      await expect(rowOf(canvasElement, 'A job that waits')).toHaveTextContent(/· winter/);
      for (const row of rowsOf(canvasElement)) await expect(row.dataset.state).toMatch(/^(pending|processing|completed)$/);
    });

    await step('A running row updates in place', async () => {
      await waitFor(() => expect(rowOf(canvasElement, 'A detailed render')).toHaveTextContent(/Processing \d+%/), {
        timeout: TIMEOUT,
      });
    });

    await step('A job that finishes settles, is announced, and leaves the list', async () => {
      await waitFor(() => expect(log).toHaveTextContent('A quick sketch: Completed'), { timeout: TIMEOUT });
      await waitFor(() => expect(rowOf(canvasElement, 'A quick sketch')).toBeUndefined(), { timeout: TIMEOUT });
      await waitFor(() => expect(log).toHaveTextContent('A detailed render: Completed'), { timeout: TIMEOUT });
      await waitFor(() => expect(rowsOf(canvasElement).map((row) => row.textContent)).toEqual(['A job that waits · winterQueued']), {
        timeout: TIMEOUT,
      });
      await expect(canvas.getByRole('heading', { name: 'Active jobs (1)' })).toBeVisible();
    });

    await step('Finished jobs were never read: only the active ones were followed', async () => {
      await expect(canvas.getByTestId('followed')).not.toHaveTextContent(/finished-/);
    });
  },
};
