import type { Meta, StoryObj } from '@storybook/react-vite';
import { useState, type ReactNode } from 'react';
import { expect, waitFor, within } from 'storybook/test';
import { JobClientProvider, JobStatus } from '../src/index';
import type { JobStatusState } from '../src/index';
import { createMemoryJobBackend } from '../src/testing/index';
import { accessibleText, seedJob, withJobBackend } from './support/jobwatch';
import { defaultsTable, jobStatusDefaults } from './support/docsDefaults';
import { frenchLabels, themeCss, themed } from './support/jobStatusExamples';

/**
 * `<JobStatus>` shows the live status of one job as text, with an icon: one
 * `role="status"` region that stays mounted and is announced on every change.
 * Below, each of its states, on a fresh in-memory backend per story whose
 * ready-made jobs keep their state, so each story shows one state for as long
 * as it is open. The look is the optional `jobwatch/styles.css`, except in
 * "All states", which themes the component through `data-state` alone.
 */
const meta = {
  title: 'Components/JobStatus',
  component: JobStatus,
  tags: ['autodocs'],
  decorators: [withJobBackend],
  // The docs table's "Default" column (react-docgen cannot see these defaults).
  argTypes: defaultsTable(jobStatusDefaults),
  args: { jobId: 'job-1', pollInterval: 1000 },
} satisfies Meta<typeof JobStatus>;

export default meta;
type Story = StoryObj<typeof meta>;

/** Far longer than any test or visit, and still a valid `setTimeout` delay (2^31 − 1 ms, about 24 days). */
const NEVER_MS = 2 ** 31 - 1;
/** Above the first poll, with room for a slow, shared CI machine. */
const TIMEOUT = 5000;

const UPSTREAM_TIMEOUT = 'The image model did not respond in time (upstream timeout).';

/** Waits until the status region shows `state`, then returns it. */
async function findStatus(canvasElement: HTMLElement, state: JobStatusState, index = 0): Promise<HTMLElement> {
  const status = within(canvasElement).getAllByRole('status')[index];
  if (!status) throw new Error(`no role="status" element #${index}`);
  await waitFor(() => expect(status).toHaveAttribute('data-state', state), { timeout: TIMEOUT });
  return status;
}

/** The region is a polite live region whose text (icons excluded) is `text`, with every icon hidden from assistive technology. */
async function expectAnnounced(status: HTMLElement, text: string) {
  await expect(status).toHaveAttribute('role', 'status');
  await expect(status).toHaveAttribute('aria-live', 'polite');
  await expect(accessibleText(status)).toBe(text);
  for (const icon of status.querySelectorAll('svg, .jobwatch-status__icon')) {
    await expect(icon.closest('[aria-hidden="true"]')).not.toBeNull();
  }
}

/** The state's label is on screen (the default stylesheet hides nothing of JobStatus). */
async function expectLabelVisible(status: HTMLElement, label: string) {
  const labelElement = status.querySelector('.jobwatch-status__label');
  await expect(labelElement).toHaveTextContent(label);
  await expect(labelElement).toBeVisible();
}

/** Running, with the server's progress message in the detailed line (spinner, blue). */
export const Processing: Story = {
  args: { detailed: true },
  parameters: {
    jobwatch: { jobs: [seedJob('job-1', 'processing', { progress: 0.5, progressMessage: 'Upscaling' })] },
  },
  play: async ({ canvasElement }) => {
    const status = await findStatus(canvasElement, 'processing');
    await expectLabelVisible(status, 'Processing');
    await expect(within(status).getByText('Upscaling')).toBeVisible();
    await expectAnnounced(status, 'Processing (updating…) Upscaling');
    // Polled, or pushed when the client can subscribe: either way "(updating…)" is true.
    await expect(status.getAttribute('data-connection')).toMatch(/^(polling|live)$/);
  },
};

/** Queued: waiting to start (clock icon, amber). */
export const Pending: Story = {
  parameters: { jobwatch: { jobs: [seedJob('job-1', 'pending')] } },
  play: async ({ canvasElement }) => {
    const status = await findStatus(canvasElement, 'pending');
    await expectLabelVisible(status, 'Queued');
    await expectAnnounced(status, 'Queued');
  },
};

/** Done (check, green). Watching has stopped. */
export const Completed: Story = {
  parameters: { jobwatch: { jobs: [seedJob('job-1', 'completed', { progress: 1 })] } },
  play: async ({ canvasElement }) => {
    const status = await findStatus(canvasElement, 'completed');
    await expectLabelVisible(status, 'Completed');
    await expectAnnounced(status, 'Completed');
    await expect(status).toHaveAttribute('data-connection', 'idle');
  },
};

/** Failed (cross, red). The compact view names the state only; `detailed` adds the error message. */
export const Failed: Story = {
  parameters: {
    jobwatch: { jobs: [seedJob('job-1', 'failed', { retryCount: 3, error: { message: UPSTREAM_TIMEOUT } })] },
  },
  play: async ({ canvasElement }) => {
    const status = await findStatus(canvasElement, 'failed');
    await expectLabelVisible(status, 'Failed');
    await expectAnnounced(status, 'Failed');
    await expect(status).not.toHaveTextContent(UPSTREAM_TIMEOUT);
  },
};

/** Cancelled (struck circle, grey). */
export const Cancelled: Story = {
  parameters: { jobwatch: { jobs: [seedJob('job-1', 'cancelled')] } },
  play: async ({ canvasElement }) => {
    const status = await findStatus(canvasElement, 'cancelled');
    await expectLabelVisible(status, 'Cancelled');
    await expectAnnounced(status, 'Cancelled');
  },
};

/**
 * Before the first answer: the backend answers `getStatus` only after
 * `NEVER_MS`. `live={false}` keeps to polling, since the in-memory backend's
 * push (`subscribe`) answers at once, whatever its latency.
 */
export const Loading: Story = {
  args: { live: false },
  parameters: {
    jobwatch: { jobs: [seedJob('job-1', 'pending')], latencyMs: (method: string) => (method === 'getStatus' ? NEVER_MS : 0) },
  },
  play: async ({ canvasElement }) => {
    const status = await findStatus(canvasElement, 'loading');
    // Still loading a while later: the first request is in flight, no answer came.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await expect(status).toHaveAttribute('data-state', 'loading');
    await expectLabelVisible(status, 'Loading job status…');
    await expectAnnounced(status, 'Loading job status…');
    await expect(status.querySelector('.jobwatch-spinner')).not.toBeNull();
  },
};

/** The third attempt of a job that may retry three times, with the error of the previous attempt. */
export const DetailedRetrying: Story = {
  name: 'Detailed: retrying',
  args: { detailed: true },
  parameters: {
    jobwatch: {
      jobs: [
        seedJob('job-1', 'processing', {
          progressMessage: 'Generating image',
          retryCount: 2,
          maxRetries: 3,
          error: { message: 'Upstream timeout' },
        }),
      ],
    },
  },
  play: async ({ canvasElement }) => {
    const status = await findStatus(canvasElement, 'processing');
    await expect(within(status).getByText('Retry 2 of 3')).toBeVisible();
    await expect(within(status).getByText('Last error: Upstream timeout')).toBeVisible();
    await expectAnnounced(status, 'Processing (updating…) Generating image Retry 2 of 3 Last error: Upstream timeout');
  },
};

/** A job that used up its three retries: the detailed view says so, then gives the last error. */
export const DetailedFailed: Story = {
  name: 'Detailed: failed',
  args: { detailed: true },
  parameters: {
    jobwatch: {
      jobs: [seedJob('job-1', 'failed', { retryCount: 3, maxRetries: 3, error: { message: UPSTREAM_TIMEOUT, code: 'upstream_timeout' } })],
    },
  },
  play: async ({ canvasElement }) => {
    const status = await findStatus(canvasElement, 'failed');
    await expectLabelVisible(status, 'Failed');
    // Retries exhausted: as many as allowed, no more.
    await expect(within(status).getByText('Retry 3 of 3')).toBeVisible();
    await expect(within(status).getByText(UPSTREAM_TIMEOUT)).toBeVisible();
    await expectAnnounced(status, `Failed Retry 3 of 3 ${UPSTREAM_TIMEOUT}`);
  },
};

/** A server error message carrying markup. */
const MARKUP_MESSAGE = `<img src="x" onerror="alert(1)"> ${UPSTREAM_TIMEOUT}`;

/**
 * Test-only: an error message with markup in it is shown as text, never
 * interpreted. Kept out of the sidebar and the docs page (a payload is no
 * showcase); addon-vitest still runs it.
 */
export const DetailedFailedMarkupAsText: Story = {
  name: 'Detailed: failed, markup in the message',
  tags: ['!dev', '!autodocs', 'test'],
  args: { detailed: true },
  parameters: {
    jobwatch: { jobs: [seedJob('job-1', 'failed', { retryCount: 3, maxRetries: 3, error: { message: MARKUP_MESSAGE } })] },
  },
  play: async ({ canvasElement }) => {
    const status = await findStatus(canvasElement, 'failed');
    await expectLabelVisible(status, 'Failed');
    const message = status.querySelector('.jobwatch-status__error');
    await expect(message).toHaveTextContent(MARKUP_MESSAGE);
    await expect(message).toBeVisible();
    await expect(status.querySelector('img')).toBeNull();
    await expectAnnounced(status, `Failed Retry 3 of 3 ${MARKUP_MESSAGE}`);
  },
};

/** An id the backend does not know: the error state, and watching stops. */
export const NotFound: Story = {
  name: 'Not found',
  args: { jobId: 'no-such-job' },
  parameters: { jobwatch: { jobs: [seedJob('job-1', 'pending')] } },
  play: async ({ canvasElement }) => {
    const status = await findStatus(canvasElement, 'error');
    await expectLabelVisible(status, 'Job not found');
    await expectAnnounced(status, 'Job not found');
    await expect(status).toHaveAttribute('data-connection', 'error');
  },
};


function Row({ caption, children }: { caption: string; children: ReactNode }) {
  return (
    <li style={{ display: 'grid', gridTemplateColumns: '9rem 1fr', gap: '0.75rem', alignItems: 'start' }}>
      <code style={{ fontSize: '0.75rem', color: '#4b5563' }}>{caption}</code>
      <div>{children}</div>
    </li>
  );
}

const listStyle = { listStyle: 'none', margin: 0, padding: 0, display: 'grid', gap: '0.75rem', fontFamily: 'system-ui, sans-serif' } as const;

/** Every text replaced through `labels` (here French), including the ones built from numbers and server text. */
export const CustomLabels: Story = {
  name: 'Custom labels (French)',
  parameters: {
    jobwatch: {
      jobs: [
        seedJob('fr-pending', 'pending'),
        seedJob('fr-retrying', 'processing', {
          progressMessage: 'Génération de l’image',
          retryCount: 1,
          maxRetries: 3,
          error: { message: 'Délai dépassé' },
        }),
        seedJob('fr-completed', 'completed'),
        seedJob('fr-failed', 'failed', { retryCount: 3, error: { message: 'Le modèle ne répond pas.' } }),
      ],
    },
  },
  render: (args) => (
    <ul lang="fr" style={listStyle}>
      <Row caption="pending">
        <JobStatus {...args} jobId="fr-pending" labels={frenchLabels} />
      </Row>
      <Row caption="processing, detailed">
        <JobStatus {...args} jobId="fr-retrying" labels={frenchLabels} detailed />
      </Row>
      <Row caption="completed">
        <JobStatus {...args} jobId="fr-completed" labels={frenchLabels} />
      </Row>
      <Row caption="failed, detailed">
        <JobStatus {...args} jobId="fr-failed" labels={frenchLabels} detailed />
      </Row>
      <Row caption="unknown id">
        <JobStatus {...args} jobId="fr-missing" labels={frenchLabels} />
      </Row>
    </ul>
  ),
  play: async ({ canvasElement }) => {
    const pending = await findStatus(canvasElement, 'pending', 0);
    await expectLabelVisible(pending, 'En attente');
    await expectAnnounced(pending, 'En attente');

    const retrying = await findStatus(canvasElement, 'processing', 1);
    await expectLabelVisible(retrying, 'En cours');
    await expectAnnounced(
      retrying,
      'En cours (mise à jour…) Génération de l’image Nouvelle tentative 1 sur 3 Dernière erreur : Délai dépassé',
    );

    const completed = await findStatus(canvasElement, 'completed', 2);
    await expectAnnounced(completed, 'Terminé');

    const failed = await findStatus(canvasElement, 'failed', 3);
    await expectAnnounced(failed, 'Échec Nouvelle tentative 3 sur 3 Le modèle ne répond pas.');

    const missing = await findStatus(canvasElement, 'error', 4);
    await expectAnnounced(missing, 'Tâche introuvable');

    await expect(canvasElement).not.toHaveTextContent(/Queued|Processing|Completed|Failed|Retry|not found/);
  },
};

/** The original app's emoji as icons, and `null` for no icon. Icons stay decoration: hidden from screen readers. */
export const CustomIcons: Story = {
  name: 'Custom icons',
  parameters: {
    jobwatch: {
      jobs: [seedJob('icon-completed', 'completed'), seedJob('icon-failed', 'failed'), seedJob('icon-pending', 'pending')],
    },
  },
  render: (args) => {
    const icons = { pending: '⏰', processing: '🔄', completed: '✅', failed: '❌' };
    return (
      <ul style={listStyle}>
        <Row caption="completed: ✅">
          <JobStatus {...args} jobId="icon-completed" icons={icons} />
        </Row>
        <Row caption="failed: ❌">
          <JobStatus {...args} jobId="icon-failed" icons={icons} />
        </Row>
        <Row caption="pending: null">
          <JobStatus {...args} jobId="icon-pending" icons={{ ...icons, pending: null }} />
        </Row>
      </ul>
    );
  },
  play: async ({ canvasElement }) => {
    const completed = await findStatus(canvasElement, 'completed', 0);
    const check = completed.querySelector('.jobwatch-status__icon');
    await expect(check).toHaveTextContent('✅');
    await expect(check).toHaveAttribute('aria-hidden', 'true');
    await expect(completed.querySelector('svg')).toBeNull();
    await expectAnnounced(completed, 'Completed');

    const failed = await findStatus(canvasElement, 'failed', 1);
    await expect(failed.querySelector('.jobwatch-status__icon')).toHaveTextContent('❌');
    await expectAnnounced(failed, 'Failed');

    const pending = await findStatus(canvasElement, 'pending', 2);
    await expect(pending.querySelector('.jobwatch-status__icon')).toBeNull();
    await expectAnnounced(pending, 'Queued');
  },
};

/** `children` as a function of the state: your own content in the same status region, which keeps `data-state`. */
export const RenderFunctionChildren: Story = {
  name: 'Children as a render function',
  parameters: {
    jobwatch: { jobs: [seedJob('job-1', 'processing', { progress: 0.45, progressMessage: 'Upscaling' })] },
  },
  args: {
    className: ({ state }) => `my-job my-job--${state}`,
    children: ({ state, label, job }) =>
      state === 'processing' && typeof job?.progress === 'number'
        ? `${label}: ${Math.round(job.progress * 100)}% (${job.progressMessage ?? '…'})`
        : label,
  },
  play: async ({ canvasElement }) => {
    const status = await findStatus(canvasElement, 'processing');
    await expect(status).toHaveTextContent('Processing: 45% (Upscaling)');
    await expect(status).toBeVisible();
    await expect(status).toHaveClass('jobwatch-status', 'my-job', 'my-job--processing');
    // The function replaced the default content: no icon, no "(updating…)".
    await expect(status.querySelector('.jobwatch-status__icon')).toBeNull();
    await expectAnnounced(status, 'Processing: 45% (Upscaling)');
  },
};

// ---- All states, themed through data-state only --------------------------------------------------

const allStates = Object.keys(themed) as JobStatusState[];

/**
 * A provider of its own whose backend never answers, so its JobStatus (with
 * `live={false}`: push would answer at once) stays `loading` beside the others.
 */
function NeverAnswering({ children }: { children: ReactNode }) {
  const [backend] = useState(() =>
    createMemoryJobBackend({ jobs: [seedJob('job-loading', 'pending')], latencyMs: NEVER_MS }),
  );
  return <JobClientProvider client={backend}>{children}</JobClientProvider>;
}

/** Every state side by side, themed by an app stylesheet that only uses `[data-state]` selectors. */
export const AllStates: Story = {
  name: 'All states (themed by data-state)',
  parameters: {
    jobwatch: {
      jobs: [
        seedJob('job-pending', 'pending'),
        seedJob('job-processing', 'processing', { progress: 0.25 }),
        seedJob('job-completed', 'completed'),
        seedJob('job-failed', 'failed', { retryCount: 3, error: { message: UPSTREAM_TIMEOUT } }),
        seedJob('job-cancelled', 'cancelled'),
      ],
    },
  },
  render: (args) => (
    <>
      <style>{themeCss}</style>
      <ul className="jobwatch-theme-demo">
        {allStates.map((state) => (
          <li key={state}>
            <code>[data-state="{state}"]</code>
            {state === 'idle' ? (
              <JobStatus {...args} jobId={null} />
            ) : state === 'loading' ? (
              <NeverAnswering>
                <JobStatus {...args} jobId="job-loading" live={false} />
              </NeverAnswering>
            ) : state === 'error' ? (
              <JobStatus {...args} jobId="job-unknown" />
            ) : (
              <JobStatus {...args} jobId={`job-${state}`} />
            )}
          </li>
        ))}
      </ul>
    </>
  ),
  play: async ({ canvasElement }) => {
    const canvas = within(canvasElement);
    const regions = canvas.getAllByRole('status');
    await expect(regions).toHaveLength(allStates.length);

    // Each region, in order, reaches its state (the five jobs and the unknown id after one answer).
    await waitFor(
      () => expect(regions.map((region) => region.getAttribute('data-state'))).toEqual(allStates),
      { timeout: TIMEOUT },
    );

    for (const region of regions) {
      const state = region.getAttribute('data-state') as JobStatusState;
      const expected = themed[state];
      await expect(accessibleText(region)).toBe(expected.text);
      const style = getComputedStyle(region);
      await expect(style.backgroundColor).toBe(expected.background);
      if (expected.color) {
        await expect(style.color).toBe(expected.color);
        // The parts take the state's colour too: `[data-state] *` overrides the default sheet's part colours.
        const label = region.querySelector('.jobwatch-status__label');
        if (label) await expect(getComputedStyle(label).color).toBe(expected.color);
      }
    }

    // Nothing of this comes from the default sheet: its amber for pending is rgb(161, 98, 7), it draws
    // no border, and its spinner animation is `jobwatch-spin`.
    const pending = canvasElement.querySelector('[data-state="pending"]') as HTMLElement;
    await expect(getComputedStyle(pending).color).not.toBe('rgb(161, 98, 7)');
    await expect(getComputedStyle(pending).borderInlineStartWidth).toBe('6px');
    const spinner = canvasElement.querySelector('[data-state="processing"] svg') as SVGElement;
    await expect(getComputedStyle(spinner).animationName).toBe('jobwatch-theme-demo-spin');
  },
};
