import type { Decorator, Meta, StoryObj } from '@storybook/react-vite';
import { QueryClient } from '@tanstack/react-query';
import { useEffect, useState, type ReactNode } from 'react';
import { expect, userEvent, waitFor, within } from 'storybook/test';
import { JobClientProvider, JobStatus, JobTransportError } from '../src/index';
import type { JobClient, JobStatusState } from '../src/index';
import type { MemoryJobBackend } from '../src/testing/index';
import { accessibleText, createStoryBackend, seedJob, StoryBackendProvider, type JobwatchStoryParameters } from './support/jobwatch';
import { defaultsTable, jobStatusDefaults } from './support/docsDefaults';

/**
 * `<JobStatus actions>`: a Cancel button while a job is pending or processing,
 * Retry once it failed, each only when the client has `cancel` / `retry`.
 * The status changes at once (optimistic) and is put back if the server
 * fails. The buttons sit right after the status region, never inside it, so
 * the region still announces the status alone.
 *
 * Each story mounts its own in-memory backend (`parameters.jobwatch`); a
 * story can hand the provider another client built on it
 * (`parameters.client`), e.g. one whose `cancel` fails.
 */
interface CancelRetryParameters {
  jobwatch?: JobwatchStoryParameters;
  /** The provider's client, made from the story's backend. Default: the backend itself. */
  client?: (backend: MemoryJobBackend) => JobClient;
}

function StoryRoot({ parameters, children }: { parameters: CancelRetryParameters; children: ReactNode }) {
  // useState, not module scope: one backend, client and QueryClient per mounted story.
  const [backend] = useState(() => createStoryBackend(parameters.jobwatch));
  const [client] = useState(() => parameters.client?.(backend) ?? backend);
  const [queryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { retry: false } } }));
  useEffect(() => () => queryClient.clear(), [queryClient]);
  return (
    <StoryBackendProvider value={backend}>
      <JobClientProvider client={client} queryClient={queryClient}>
        {children}
      </JobClientProvider>
    </StoryBackendProvider>
  );
}

const withClient: Decorator = (Story, context) => (
  <StoryRoot parameters={context.parameters as CancelRetryParameters}>
    <Story />
  </StoryRoot>
);

const meta = {
  title: 'Components/JobStatus/Cancel and retry',
  component: JobStatus,
  decorators: [withClient],
  argTypes: defaultsTable(jobStatusDefaults),
  args: { jobId: 'job-1', actions: true, detailed: true, pollInterval: 1000 },
} satisfies Meta<typeof JobStatus>;

export default meta;
type Story = StoryObj<typeof meta>;

/** Above the first poll, with room for a slow, shared CI machine. */
const TIMEOUT = 5000;
/** How long the backend takes to answer `cancel` and `retry`, so "Cancelling…" / "Retrying…" can be seen. */
const ACTION_LATENCY_MS = 600;
const slowActions = (method: string) => (method === 'cancel' || method === 'retry' ? ACTION_LATENCY_MS : 0);

/**
 * Why the failed jobs here failed: an error that is not retried by itself (no
 * automatic retry was spent, `retryCount` 0), which a person can fix and then retry.
 */
const OUT_OF_CREDITS = 'Your workspace ran out of generation credits. Top up, then retry.';

async function findStatus(canvasElement: HTMLElement, state: JobStatusState): Promise<HTMLElement> {
  const status = within(canvasElement).getByRole('status');
  await waitFor(() => expect(status).toHaveAttribute('data-state', state), { timeout: TIMEOUT });
  return status;
}

/** The texts of the buttons on the canvas. */
function buttonTexts(canvasElement: HTMLElement): string[] {
  return within(canvasElement)
    .queryAllByRole('button')
    .map((button) => button.textContent ?? '');
}

/** A running job: Cancel shows "Cancelled" at once, the button reads "Cancelling…" until the server confirms. */
export const CancelProcessing: Story = {
  parameters: {
    jobwatch: { jobs: [seedJob('job-1', 'processing', { progress: 0.4, progressMessage: 'Upscaling' })], latencyMs: slowActions },
  },
  play: async ({ canvasElement }) => {
    const status = await findStatus(canvasElement, 'processing');
    const cancel = within(canvasElement).getByRole('button', { name: 'Cancel' });
    await expect(cancel).toHaveAttribute('type', 'button');
    await expect(cancel).toHaveAccessibleDescription('Processing (updating…) Upscaling');
    // The region holds the status alone, not the button's label.
    await expect(within(status).queryByRole('button')).toBeNull();

    await userEvent.click(cancel);
    await expect(status).toHaveAttribute('data-state', 'cancelled');
    await expect(accessibleText(status)).toBe('Cancelled');
    const busy = within(canvasElement).getByRole('button', { name: 'Cancelling…' });
    await expect(busy).toHaveAttribute('aria-disabled', 'true');

    await waitFor(() => expect(buttonTexts(canvasElement)).toEqual([]), { timeout: TIMEOUT });
    await expect(accessibleText(status)).toBe('Cancelled');
  },
};

/** A failed job: Retry queues it again at once ("Retry 1 of 3", its last error kept) and offers Cancel. */
export const RetryFailed: Story = {
  parameters: {
    jobwatch: {
      jobs: [seedJob('job-1', 'failed', { error: { message: OUT_OF_CREDITS, code: 'out_of_credits' } })],
      latencyMs: slowActions,
    },
  },
  play: async ({ canvasElement }) => {
    const status = await findStatus(canvasElement, 'failed');
    await expect(accessibleText(status)).toBe(`Failed ${OUT_OF_CREDITS}`);
    await expect(buttonTexts(canvasElement)).toEqual(['Retry']);

    await userEvent.click(within(canvasElement).getByRole('button', { name: 'Retry' }));
    await expect(status).toHaveAttribute('data-state', 'pending');
    await expect(accessibleText(status)).toBe(`Queued Retry 1 of 3 Last error: ${OUT_OF_CREDITS}`);
    // While the retry is in flight both buttons wait.
    await waitFor(() => expect(buttonTexts(canvasElement)).toEqual(['Cancel', 'Retrying…']));
    for (const button of within(canvasElement).getAllByRole('button')) {
      await expect(button).toHaveAttribute('aria-disabled', 'true');
    }

    await waitFor(() => expect(buttonTexts(canvasElement)).toEqual(['Cancel']), { timeout: TIMEOUT });
    await expect(within(canvasElement).getByRole('button', { name: 'Cancel' })).not.toHaveAttribute('aria-disabled');
    await expect(status).toHaveAttribute('data-state', 'pending');
  },
};

/**
 * From the keyboard: Tab reaches Cancel (the region itself is not in the tab
 * order), Enter cancels. Focus stays on the button while it reads
 * "Cancelling…" (`aria-disabled`, not `disabled`), then moves to the region
 * when the button goes away, instead of falling back to the page.
 */
export const Keyboard: Story = {
  parameters: { jobwatch: { jobs: [seedJob('job-1', 'pending')], latencyMs: slowActions } },
  play: async ({ canvasElement }) => {
    const status = await findStatus(canvasElement, 'pending');
    const cancel = within(canvasElement).getByRole('button', { name: 'Cancel' });
    await userEvent.tab();
    await expect(cancel).toHaveFocus();

    await userEvent.keyboard('{Enter}');
    await expect(status).toHaveAttribute('data-state', 'cancelled');
    await expect(cancel).toHaveFocus();
    await expect(cancel).toHaveTextContent('Cancelling…');

    await waitFor(() => expect(status).toHaveFocus(), { timeout: TIMEOUT });
    await expect(buttonTexts(canvasElement)).toEqual([]);
  },
};

/** Retry with the Space key; the new attempt offers Cancel. */
export const KeyboardRetry: Story = {
  parameters: {
    jobwatch: { jobs: [seedJob('job-1', 'failed', { error: { message: OUT_OF_CREDITS, code: 'out_of_credits' } })], latencyMs: slowActions },
  },
  play: async ({ canvasElement }) => {
    const status = await findStatus(canvasElement, 'failed');
    await userEvent.tab();
    await expect(within(canvasElement).getByRole('button', { name: 'Retry' })).toHaveFocus();
    await userEvent.keyboard(' ');
    await expect(status).toHaveAttribute('data-state', 'pending');
    await waitFor(() => expect(buttonTexts(canvasElement)).toEqual(['Cancel']), { timeout: TIMEOUT });
    await expect(status).toHaveFocus();
  },
};

/**
 * The server fails the cancel (500): the job is put back as it was, the
 * region adds "Could not cancel the job", and the button can be used again.
 */
export const CancelFails: Story = {
  parameters: {
    jobwatch: { jobs: [seedJob('job-1', 'processing')] },
    client: (backend: MemoryJobBackend): JobClient => ({
      ...backend,
      cancel: () =>
        new Promise((_, reject) =>
          setTimeout(() => reject(new JobTransportError('Internal Server Error', { status: 500 })), ACTION_LATENCY_MS),
        ),
    }),
  },
  play: async ({ canvasElement }) => {
    const status = await findStatus(canvasElement, 'processing');
    await userEvent.click(within(canvasElement).getByRole('button', { name: 'Cancel' }));
    await expect(status).toHaveAttribute('data-state', 'cancelled');

    await waitFor(() => expect(status).toHaveAttribute('data-state', 'processing'), { timeout: TIMEOUT });
    await expect(accessibleText(status)).toBe('Processing (updating…) Could not cancel the job');
    const cancel = within(canvasElement).getByRole('button', { name: 'Cancel' });
    await expect(cancel).not.toHaveAttribute('aria-disabled');
  },
};

/** A client without `cancel` and `retry`: no buttons, whatever `actions` asks for. */
export const Unsupported: Story = {
  parameters: {
    jobwatch: { jobs: [seedJob('job-1', 'processing')] },
    client: ({ getStatus, list, getPendingCount, subscribe }: MemoryJobBackend): JobClient => ({
      getStatus,
      list,
      getPendingCount,
      subscribe,
    }),
  },
  play: async ({ canvasElement }) => {
    await findStatus(canvasElement, 'processing');
    await expect(buttonTexts(canvasElement)).toEqual([]);
  },
};
