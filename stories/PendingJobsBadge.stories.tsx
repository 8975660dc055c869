import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect, waitFor, within } from 'storybook/test';
import { PendingJobsBadge, usePendingJobsCount } from '../src/index';
import type { PendingJobsBadgeProps } from '../src/index';
import { seedJob, withJobBackend } from './support/jobwatch';
import { defaultsTable, pendingJobsBadgeDefaults } from './support/docsDefaults';

/**
 * `<PendingJobsBadge>` as apps use it: inside a link, whose accessible name
 * then says what the number counts ("Jobs 3 active jobs (2 pending, 1
 * processing)"). The default stylesheet shows the number and the breakdown
 * and hides "active jobs" visually. Each story has its own in-memory backend
 * with ready-made jobs that keep their state.
 */
const meta = {
  title: 'Components/PendingJobsBadge',
  component: PendingJobsBadge,
  tags: ['autodocs'],
  decorators: [withJobBackend],
  // The docs table's "Default" column (react-docgen cannot see these defaults).
  argTypes: defaultsTable(pendingJobsBadgeDefaults),
  args: { pollInterval: 1000 },
  render: (args) => <JobsLink label="Jobs" {...args} />,
} satisfies Meta<typeof PendingJobsBadge>;

export default meta;
type Story = StoryObj<typeof meta>;

const TIMEOUT = 5000;

/**
 * A nav link with the badge, and a caption that reads the same count with
 * `usePendingJobsCount` (one shared query), so a test can tell "answered,
 * nothing active" from "no answer yet": the badge renders nothing in both.
 */
function JobsLink({ label, ...badgeProps }: PendingJobsBadgeProps & { label: string }) {
  const { total, isLoading } = usePendingJobsCount({ filter: badgeProps.filter, pollInterval: badgeProps.pollInterval });
  return (
    <p style={{ display: 'flex', gap: '1rem', alignItems: 'center', margin: 0, fontFamily: 'system-ui, sans-serif' }}>
      <a href="#jobs" style={{ display: 'inline-flex', gap: '0.375rem', alignItems: 'center' }}>
        {label} <PendingJobsBadge {...badgeProps} />
      </a>
      <small style={{ color: '#4b5563' }} data-testid={`count-${label}`}>
        {isLoading ? 'Counting…' : `usePendingJobsCount: ${total} active`}
      </small>
    </p>
  );
}

/** The badge and its parts, once the count has been answered. */
async function findBadge(link: HTMLElement, text: string): Promise<HTMLElement> {
  await waitFor(() => expect(link.querySelector('.jobwatch-badge')).toHaveTextContent(text), { timeout: TIMEOUT });
  return link.querySelector<HTMLElement>('.jobwatch-badge') as HTMLElement;
}

/** No job is active (only finished ones): the badge renders nothing at all, and the link is just "Jobs". */
export const NoActiveJobs: Story = {
  name: 'No active jobs',
  parameters: {
    jobwatch: { jobs: [seedJob('done', 'completed'), seedJob('broken', 'failed'), seedJob('stopped', 'cancelled')] },
  },
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    // Wait for the answer, so "nothing" is the answer and not the loading state.
    await waitFor(() => expect(canvas.getByTestId('count-Jobs')).toHaveTextContent('usePendingJobsCount: 0 active'), {
      timeout: TIMEOUT,
    });
    const link = canvas.getByRole('link', { name: 'Jobs' });
    await expect(link.querySelector('.jobwatch-badge')).toBeNull();
    await expect(link).toHaveTextContent(/^Jobs\s*$/);
    await expect(canvasElement.querySelector('[data-state]')).toBeNull();
  },
};

/** Every active job waits: `data-state="pending"` (amber count). */
export const PendingOnly: Story = {
  name: 'Pending only',
  parameters: { jobwatch: { jobs: [seedJob('a', 'pending'), seedJob('b', 'pending'), seedJob('c', 'completed')] } },
  play: async ({ canvasElement }) => {
    const link = within(canvasElement).getByRole('link');
    const badge = await findBadge(link, '2 active jobs (2 pending, 0 processing)');
    await expect(badge).toHaveAttribute('data-state', 'pending');
    await expect(within(badge).getByText('2')).toBeVisible();
    await expect(within(badge).getByText('(2 pending, 0 processing)')).toBeVisible();
    await expect(link).toHaveAccessibleName('Jobs 2 active jobs (2 pending, 0 processing)');
  },
};

/** Some wait, one runs: "2 pending, 1 processing", `data-state="processing"` (blue count). */
export const Mixed: Story = {
  name: 'Mixed: 2 pending, 1 processing',
  parameters: {
    jobwatch: {
      jobs: [
        seedJob('a', 'pending'),
        seedJob('b', 'pending'),
        seedJob('c', 'processing', { progress: 0.3 }),
        seedJob('d', 'completed'),
        seedJob('e', 'failed'),
      ],
    },
  },
  play: async ({ canvasElement }) => {
    const link = within(canvasElement).getByRole('link');
    const badge = await findBadge(link, '3 active jobs (2 pending, 1 processing)');
    await expect(badge).toHaveAttribute('data-state', 'processing');
    await expect(within(badge).getByText('3')).toBeVisible();
    await expect(within(badge).getByText('(2 pending, 1 processing)')).toBeVisible();
    // "active jobs" is hidden from sight by the stylesheet, yet part of the accessible name.
    await expect(within(badge).getByText('active jobs')).toBeInTheDocument();
    await expect(link).toHaveAccessibleName('Jobs 3 active jobs (2 pending, 1 processing)');
    // It is not a live region: it mounts and unmounts with the count.
    await expect(badge).not.toHaveAttribute('aria-live');
    await expect(within(canvasElement).queryByRole('status')).toBeNull();
  },
};

/** One badge per project: `filter.meta` counts only that project's jobs. */
export const ScopedByProject: Story = {
  name: 'Scoped by project (filter.meta)',
  parameters: {
    jobwatch: {
      jobs: [
        seedJob('a1', 'pending', { meta: { projectId: 'autumn' } }),
        seedJob('b1', 'pending', { meta: { projectId: 'lighthouse' } }),
        seedJob('b2', 'processing', { meta: { projectId: 'lighthouse' } }),
        seedJob('b3', 'processing', { meta: { projectId: 'lighthouse' } }),
        seedJob('c1', 'completed', { meta: { projectId: 'harbour' } }),
      ],
    },
  },
  render: (args) => (
    <div style={{ display: 'grid', gap: '0.75rem' }}>
      <JobsLink label="Autumn campaign" {...args} filter={{ meta: { projectId: 'autumn' } }} />
      <JobsLink label="Lighthouse" {...args} filter={{ meta: { projectId: 'lighthouse' } }} />
      <JobsLink label="Harbour" {...args} filter={{ meta: { projectId: 'harbour' } }} />
      <JobsLink label="All projects" {...args} />
    </div>
  ),
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    const autumn = await findBadge(canvas.getByRole('link', { name: /^Autumn campaign/ }), '1 active job (1 pending, 0 processing)');
    await expect(autumn).toHaveAttribute('data-state', 'pending');
    await expect(canvas.getByRole('link', { name: /^Autumn campaign/ })).toHaveAccessibleName(
      'Autumn campaign 1 active job (1 pending, 0 processing)',
    );

    const lighthouse = await findBadge(canvas.getByRole('link', { name: /^Lighthouse/ }), '3 active jobs (1 pending, 2 processing)');
    await expect(lighthouse).toHaveAttribute('data-state', 'processing');
    await expect(canvas.getByRole('link', { name: /^Lighthouse/ })).toHaveAccessibleName(
      'Lighthouse 3 active jobs (1 pending, 2 processing)',
    );

    await findBadge(canvas.getByRole('link', { name: /^All projects/ }), '4 active jobs (2 pending, 2 processing)');

    // Harbour's only job is finished: answered, and nothing shown.
    await waitFor(() => expect(canvas.getByTestId('count-Harbour')).toHaveTextContent('usePendingJobsCount: 0 active'), {
      timeout: TIMEOUT,
    });
    await expect(canvas.getByRole('link', { name: 'Harbour' }).querySelector('.jobwatch-badge')).toBeNull();
  },
};
