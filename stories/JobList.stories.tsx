import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect, userEvent, waitFor, within } from 'storybook/test';
import { JobList } from '../src/components/JobList';
import type { Job, JobListProps } from '../src/index';
import { seedJob, withJobBackend } from './support/jobwatch';
import { defaultsTable, jobListDefaults } from './support/docsDefaults';
import './support/demo.css';

/**
 * `<JobList>` is headless: it renders exactly what its `children` function
 * returns, from `useJobs`'s state (`jobs`, `isLoading`, `error`,
 * `hasNextPage`, `fetchNextPage`…). The markup here (a card with a list and a
 * "Load more" button) is the story's; "Examples/Job history" shows it in a
 * project page, live.
 */
const meta = {
  title: 'Components/JobList',
  component: JobList,
  tags: ['autodocs'],
  decorators: [
    withJobBackend,
    (Story) => (
      <div className="jw-demo" style={{ maxWidth: '32rem' }}>
        <Story />
      </div>
    ),
  ],
  // The docs table's "Default" column (react-docgen cannot see these defaults).
  argTypes: { ...defaultsTable(jobListDefaults), children: { control: false } },
  args: {
    filter: { meta: { projectId: 'autumn' }, limit: 3 },
    children: (list) => <HistoryCard {...list} />,
  },
} satisfies Meta<typeof JobList>;

export default meta;
type Story = StoryObj<typeof meta>;

const TIMEOUT = 5000;
const MINUTE = 60_000;

const LABELS: Record<Job['status'], string> = {
  pending: 'Queued',
  processing: 'Processing',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

/** What a `children` function of JobList might render: a titled list, and "Load more" while there is a next page. */
function HistoryCard({ jobs, isLoading, error, hasNextPage, fetchNextPage, isFetchingNextPage }: Parameters<JobListProps['children']>[0]) {
  return (
    <div className="jw-card">
      <h2 className="jw-card__title">Job history</h2>
      {isLoading && <p className="jw-empty">Loading jobs…</p>}
      {error && <p role="alert">Could not load jobs: {error.message}</p>}
      {!isLoading && jobs.length === 0 && <p className="jw-empty">No jobs yet.</p>}
      <ul aria-label="Jobs" className="jw-history">
        {jobs.map((job) => (
          <li key={job.id} data-state={job.status} className="jw-history__row">
            <span className="jw-history__prompt">{String(job.meta?.prompt ?? job.id)}</span>
            <span className="jw-history__state">
              {LABELS[job.status]}
              {job.status === 'failed' && job.error ? ` · ${job.error.message}` : ''}
            </span>
          </li>
        ))}
      </ul>
      {hasNextPage && (
        <div>
          <button type="button" className="jw-button" onClick={() => void fetchNextPage()} disabled={isFetchingNextPage}>
            {isFetchingNextPage ? 'Loading more…' : 'Load more'}
          </button>
        </div>
      )}
    </div>
  );
}

/** A ready-made job of the autumn project, `minutesAgo` old. */
const projectJob = (id: string, status: Job['status'], prompt: string, minutesAgo: number, extra: Partial<Job> = {}) => {
  const at = new Date(Date.now() - minutesAgo * MINUTE).toISOString();
  return seedJob(id, status, { meta: { projectId: 'autumn', prompt }, createdAt: at, updatedAt: at, ...extra });
};

const HISTORY = [
  projectJob('fox', 'processing', 'A fox in the snow', 1, { progress: 0.5, progressMessage: 'Upscaling' }),
  projectJob('lighthouse', 'completed', 'A lighthouse at dusk', 5),
  projectJob('harbour', 'failed', 'A harbour at night', 60, {
    retryCount: 3,
    error: { message: 'The image model did not respond in time (upstream timeout).' },
  }),
  projectJob('forest', 'cancelled', 'A forest in fog', 180),
  projectJob('mill', 'completed', 'An old mill by the river', 24 * 60),
  // Another project's job: not in this list.
  seedJob('other', 'pending', { meta: { projectId: 'winter', prompt: 'A harvest moon' } }),
];

const rows = (canvasElement: HTMLElement) =>
  within(within(canvasElement).getByRole('list', { name: 'Jobs' })).queryAllByRole('listitem');

/** A project's jobs, newest first, three a page (`filter.limit`); "Load more" reads the next page. */
export const ProjectHistory: Story = {
  name: 'A project’s jobs, paged',
  parameters: { jobwatch: { jobs: HISTORY } },
  play: async ({ canvasElement }) => {
    await waitFor(() => expect(rows(canvasElement)).toHaveLength(3), { timeout: TIMEOUT });
    await expect(rows(canvasElement).map((row) => row.dataset.state)).toEqual(['processing', 'completed', 'failed']);
    await userEvent.click(within(canvasElement).getByRole('button', { name: 'Load more' }));
    await waitFor(() => expect(rows(canvasElement)).toHaveLength(5), { timeout: TIMEOUT });
    await expect(within(canvasElement).queryByRole('button', { name: /Load more/ })).toBeNull();
    await expect(canvasElement).not.toHaveTextContent('A harvest moon');
  },
};

/** Nothing matches the filter: the children function gets an empty `jobs` and renders its own empty state. */
export const Empty: Story = {
  name: 'No jobs',
  parameters: { jobwatch: { jobs: [seedJob('other', 'pending', { meta: { projectId: 'winter' } })] } },
  play: async ({ canvasElement }) => {
    await waitFor(() => expect(within(canvasElement).getByText('No jobs yet.')).toBeVisible(), { timeout: TIMEOUT });
    await expect(rows(canvasElement)).toHaveLength(0);
  },
};
