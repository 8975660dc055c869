import type { Meta, StoryObj } from '@storybook/react-vite';
import { expect, waitFor, within } from 'storybook/test';
import { JobProgress } from '../src/components/JobProgress';
import { JobStatus } from '../src/index';
import type { MemoryJobBackend } from '../src/testing/index';
import { accessibleText, withJobBackend } from './support/jobwatch';

/**
 * What a screen reader hears from `<JobStatus>`: its `role="status"` region is
 * polite and atomic, so every change of its text is read out whole. Without
 * `detailed`, the text must change on state changes only, never on a progress
 * tick; the ticks go to `<JobProgress>` (a progressbar, not a live region).
 */
const meta = {
  title: 'Accessibility/Live region',
  decorators: [withJobBackend],
} satisfies Meta;

export default meta;
type Story = StoryObj<typeof meta>;

const JOB_ID = 'job-live';
/** Above the first poll, with room for a slow, shared CI machine. */
const TIMEOUT = 5000;
const TICKS = [0.1, 0.3, 0.5, 0.7, 0.9];

/** The story's backend, captured by `parameters.jobwatch.setup` when the story mounts (a fresh one per run). */
let backend: MemoryJobBackend | undefined;

/**
 * A job goes pending → processing with 5 progress steps → completed, moved by
 * the play function. A MutationObserver on the status region records each
 * distinct announced text: exactly the three states, no tick.
 */
export const AnnouncesStateChangesOnly: Story = {
  parameters: {
    jobwatch: {
      // No script: the job stays pending until the play function moves it.
      setup: (created: MemoryJobBackend) => {
        created.create({ id: JOB_ID });
        backend = created;
      },
    },
  },
  render: () => (
    <div style={{ maxWidth: '24rem', display: 'grid', gap: '0.75rem', fontFamily: 'system-ui, sans-serif' }}>
      <JobStatus jobId={JOB_ID} detailed={false} pollInterval={1000} />
      <JobProgress jobId={JOB_ID} pollInterval={1000} />
    </div>
  ),
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    const status = canvas.getByRole('status');
    const bar = canvas.getByRole('progressbar');
    if (!backend) throw new Error('the story backend was not created');
    const jobs = backend;

    await waitFor(() => expect(status).toHaveAttribute('data-state', 'pending'), { timeout: TIMEOUT });

    // Every distinct text the region takes from here on, in order.
    const announced = [accessibleText(status)];
    let mutations = 0;
    const observer = new MutationObserver(() => {
      mutations++;
      const text = accessibleText(status);
      if (text !== announced[announced.length - 1]) announced.push(text);
    });
    observer.observe(status, { childList: true, characterData: true, subtree: true });
    try {
      jobs.start(JOB_ID);
      await waitFor(() => expect(status).toHaveAttribute('data-state', 'processing'), { timeout: TIMEOUT });

      // Each tick reaches the page (the progressbar shows it) while the status text stays put.
      for (const fraction of TICKS) {
        jobs.progress(JOB_ID, fraction);
        await waitFor(() => expect(bar).toHaveAttribute('aria-valuenow', String(Math.round(fraction * 100))), {
          timeout: TIMEOUT,
        });
        await expect(accessibleText(status)).toBe('Processing (updating…)');
      }

      jobs.complete(JOB_ID);
      await waitFor(() => expect(status).toHaveAttribute('data-state', 'completed'), { timeout: TIMEOUT });
      await expect(bar).toHaveAttribute('aria-valuenow', '100');
    } finally {
      observer.disconnect();
    }

    await expect(announced).toEqual(['Queued', 'Processing (updating…)', 'Completed']);
    // Two state changes; React may touch the DOM a few times per change, but not once per tick.
    await expect(mutations).toBeGreaterThan(0);
  },
};
