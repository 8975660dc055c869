import type { Meta, StoryObj } from '@storybook/react-vite';
import { QueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useState } from 'react';
import { expect, userEvent, waitFor, within } from 'storybook/test';
import { JobClientProvider, JobStatus, PendingJobsBadge, defaultJobStatusLabels, useJobStatus } from '../src/index';
import type { Job } from '../src/index';
import { createMemoryJobBackend } from '../src/testing/index';
import './support/demo.css';

/**
 * Toasts from `JobClientProvider`'s `onJobSettled`: it fires once per job id
 * for the whole app, however many components watch the job, so the toast
 * code lives in one place and never doubles up.
 *
 * Here each job is watched three times (the jobs table, the detail panel and
 * a header summary), and the app shows one toast per settled job. The toast
 * list is one `role="log"` live region that stays mounted: a log is a live
 * region whose new entries are read out in order (polite, only the
 * additions), which is what a stack of toasts is. `role="status"` would
 * re-read the whole list on every toast (it is atomic), and `role="alert"`
 * would interrupt the user for news that can wait, failures included: the
 * failure is in the toast's text. No toast vanishes on a timer (people read
 * at different speeds); "Clear notifications" empties the list.
 */
const meta = {
  title: 'Examples/Toasts',
  parameters: { layout: 'padded' },
} satisfies Meta;

export default meta;
type Story = StoryObj<typeof meta>;

/** Above the jobs' scripted lifetimes (≤ 1.5 s), with room for a slow, shared CI machine. */
const TIMEOUT = 8000;

const JOBS = [
  { id: 'export-csv', name: 'CSV export' },
  { id: 'import-photos', name: 'Photo import' },
  { id: 'render-video', name: 'Video render' },
] as const;

const nameOf = (id: string) => JOBS.find((job) => job.id === id)?.name ?? id;

/** The toast's text: job name and outcome, in words. */
function toastText(job: Job): string {
  const outcome = job.status === 'failed' ? `failed: ${job.error?.message ?? 'unknown error'}` : defaultJobStatusLabels[job.status].toLowerCase();
  return `${nameOf(job.id)} ${outcome}`;
}

interface Toast {
  key: number;
  jobId: string;
  /** The job's end state, for the toast's colour (the text says it too). */
  state: Job['status'];
  text: string;
}

function Toaster({ toasts, onClear }: { toasts: Toast[]; onClear: () => void }) {
  return (
    <aside className="jw-demo jw-toaster">
      {/* Mounted even while empty, so the first toast is announced too. The log
          wraps the list: role="log" on the <ol> itself would strip its list
          semantics (axe: aria-allowed-role, listitem). */}
      <div role="log" aria-label="Notifications">
        <ol className="jw-toaster__list">
          {toasts.map((toast) => (
            <li key={toast.key} data-job-id={toast.jobId} data-state={toast.state} className="jw-toast">
              {toast.text}
            </li>
          ))}
        </ol>
      </div>
      {toasts.length > 0 && (
        <button type="button" className="jw-button" onClick={onClear}>
          Clear notifications
        </button>
      )}
    </aside>
  );
}

/** A third observer of each job: a one-line summary in the page header. */
function Summary() {
  const states = [useJobStatus(JOBS[0].id).status, useJobStatus(JOBS[1].id).status, useJobStatus(JOBS[2].id).status];
  const done = states.filter((state) => state === 'completed' || state === 'failed' || state === 'cancelled').length;
  return (
    <p className="jw-card__hint">
      {done} of {JOBS.length} jobs settled <PendingJobsBadge pollInterval={1000} />
    </p>
  );
}

function ToastsDemo() {
  // useState, not module scope: one backend and QueryClient per mounted story.
  const [backend] = useState(() => {
    const created = createMemoryJobBackend();
    created.create({ id: 'export-csv', queuedMs: 300, runningMs: 600 });
    created.create({ id: 'import-photos', queuedMs: 300, runningMs: 900, failures: 1, maxRetries: 0, errorMessage: 'Disk quota exceeded' });
    // Runs until someone cancels it.
    created.create({ id: 'render-video', queuedMs: 300 });
    return created;
  });
  const [queryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { retry: false } } }));
  useEffect(() => () => queryClient.clear(), [queryClient]);

  const [toasts, setToasts] = useState<Toast[]>([]);
  // One toast per call: the provider calls this once per job id.
  const onJobSettled = useCallback((job: Job) => {
    setToasts((list) => [...list, { key: list.length + Math.random(), jobId: job.id, state: job.status, text: toastText(job) }]);
  }, []);

  return (
    <JobClientProvider client={backend} queryClient={queryClient} onJobSettled={onJobSettled}>
      <div className="jw-demo jw-app__column" style={{ maxWidth: '36rem' }}>
        <div className="jw-card">
          <div className="jw-card__head">
            <h2 className="jw-card__title">Exports and imports</h2>
            <Summary />
          </div>
          <table className="jw-table">
            <caption className="jw-sr-only">Jobs</caption>
            <tbody>
              {JOBS.map(({ id, name }) => (
                <tr key={id}>
                  <th scope="row">{name}</th>
                  <td>
                    <JobStatus jobId={id} pollInterval={500} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        <section aria-label="Details" className="jw-card">
          <h2 className="jw-card__title">Details</h2>
          {JOBS.map(({ id, name }) => (
            <div key={id} className="jw-job">
              <span className="jw-history__prompt">{name}</span>
              <div className="jw-job__status">
                <JobStatus jobId={id} detailed actions={{ cancel: true }} pollInterval={500} />
              </div>
            </div>
          ))}
        </section>
      </div>
      <Toaster toasts={toasts} onClear={() => setToasts([])} />
    </JobClientProvider>
  );
}

/** Toasts per job, counted: one each, whatever number of components watch it. */
function toastsByJob(log: HTMLElement): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of within(log).queryAllByRole('listitem')) {
    const id = item.getAttribute('data-job-id') ?? '';
    counts[id] = (counts[id] ?? 0) + 1;
  }
  return counts;
}

/**
 * Three jobs, each watched by three components: one completes, one fails,
 * and one runs until you press its Cancel button. Exactly one toast per job.
 */
export const OneToastPerJob: Story = {
  render: () => <ToastsDemo />,
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    const log = canvas.getByRole('log', { name: 'Notifications' });
    await expect(log).toHaveAttribute('role', 'log');

    await waitFor(() => expect(toastsByJob(log)).toEqual({ 'export-csv': 1, 'import-photos': 1 }), { timeout: TIMEOUT });
    await expect(within(log).getByText('CSV export completed')).toBeVisible();
    await expect(within(log).getByText('Photo import failed: Disk quota exceeded')).toBeVisible();

    // Both regions of the render job show it running; cancel it from the detail panel.
    await waitFor(() => expect(canvas.getAllByRole('status').filter((s) => s.dataset.state === 'processing')).toHaveLength(2), {
      timeout: TIMEOUT,
    });
    await userEvent.click(canvas.getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(toastsByJob(log)).toEqual({ 'export-csv': 1, 'import-photos': 1, 'render-video': 1 }), {
      timeout: TIMEOUT,
    });
    await expect(within(log).getByText('Video render cancelled')).toBeVisible();

    // A while later (the server confirmed the cancel, polls and pushes came in): still one each.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await expect(toastsByJob(log)).toEqual({ 'export-csv': 1, 'import-photos': 1, 'render-video': 1 });
    await expect(canvas.getByText('3 of 3 jobs settled')).toBeVisible();
  },
};
