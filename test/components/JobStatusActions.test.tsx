import { act, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { JobStatus } from '../../src/components/JobStatus';
import { JobTransportError, type Job, type JobClient } from '../../src/core';
import { createMemoryJobBackend, type MemoryJobBackend } from '../../src/testing';
import { advance, renderWithJobs } from '../helpers';

const region = () => screen.getByRole('status');
const buttons = () => screen.queryAllByRole('button').map((b) => b.textContent);

/** A promise the test settles by hand. */
function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

function jobIn(state: 'pending' | 'processing' | 'completed' | 'failed' | 'cancelled', backend: MemoryJobBackend): string {
  const { id } = backend.create();
  if (state === 'processing') backend.start(id);
  if (state === 'completed') backend.complete(id);
  if (state === 'failed') backend.fail(id, 'Out of credits');
  if (state === 'cancelled') void backend.cancel(id);
  return id;
}

describe('JobStatus actions: which buttons', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it.each([
    ['pending', ['Cancel']],
    ['processing', ['Cancel']],
    ['failed', ['Retry']],
    ['completed', []],
    ['cancelled', []],
  ] as const)('a %s job offers %j', async (state, expected) => {
    const backend = createMemoryJobBackend();
    const id = jobIn(state, backend);
    renderWithJobs(<JobStatus jobId={id} actions />, { client: backend });
    await advance(10);
    expect(region().getAttribute('data-state')).toBe(state);
    expect(buttons()).toEqual(expected);
  });

  it('offers only the actions asked for', async () => {
    const backend = createMemoryJobBackend();
    const pending = jobIn('pending', backend);
    const failed = jobIn('failed', backend);
    renderWithJobs(
      <>
        <JobStatus jobId={pending} actions={{ retry: true }} />
        <JobStatus jobId={failed} actions={{ retry: true }} />
      </>,
      { client: backend },
    );
    await advance(10);
    expect(buttons()).toEqual(['Retry']);
  });

  it('renders no buttons unless asked, and only the region', async () => {
    const backend = createMemoryJobBackend();
    const id = jobIn('pending', backend);
    const { container } = renderWithJobs(<JobStatus jobId={id} />, { client: backend });
    await advance(10);
    expect(buttons()).toEqual([]);
    expect(container.children).toHaveLength(1);
    expect(region().hasAttribute('tabindex')).toBe(false);
  });

  it('renders no buttons when the client lacks cancel and retry', async () => {
    const backend = createMemoryJobBackend();
    const pending = jobIn('pending', backend);
    const failed = jobIn('failed', backend);
    const { getStatus, list, getPendingCount } = backend;
    renderWithJobs(
      <>
        <JobStatus jobId={pending} actions />
        <JobStatus jobId={failed} actions />
      </>,
      { client: { getStatus, list, getPendingCount } },
    );
    await advance(10);
    expect(screen.getAllByRole('status').map((s) => s.textContent)).toEqual(['Queued', 'Failed']);
    expect(buttons()).toEqual([]);
  });

  it('keeps the buttons out of the status region: one region, its text the status alone, buttons described by it', async () => {
    const backend = createMemoryJobBackend();
    const id = jobIn('processing', backend);
    renderWithJobs(<JobStatus jobId={id} actions detailed />, { client: backend });
    await advance(10);
    expect(screen.getAllByRole('status')).toHaveLength(1);
    expect(within(region()).queryByRole('button')).toBeNull();
    expect(region().textContent).toBe('Processing (updating…)');
    const cancel = screen.getByRole('button', { name: 'Cancel' });
    expect(cancel.getAttribute('type')).toBe('button');
    expect(cancel.getAttribute('data-action')).toBe('cancel');
    expect(cancel.closest('.jobwatch-actions')?.getAttribute('data-state')).toBe('processing');
    expect(cancel.getAttribute('aria-describedby')).toBe(region().id);
    expect(region().id).not.toBe('');
    // The description is the status: "Cancel, button, Processing (updating…)".
    expect(document.getElementById(cancel.getAttribute('aria-describedby')!)?.textContent).toBe('Processing (updating…)');
  });

  it('keeps an id given to the component', async () => {
    const backend = createMemoryJobBackend();
    const id = jobIn('pending', backend);
    renderWithJobs(<JobStatus jobId={id} actions id="export-status" />, { client: backend });
    await advance(10);
    expect(region().id).toBe('export-status');
    expect(screen.getByRole('button').getAttribute('aria-describedby')).toBe('export-status');
  });

});

// Real timers: user-event waits on them between keystrokes.
describe('JobStatus actions: acting', () => {
  const user = () => userEvent.setup();
  const loaded = () => waitFor(() => expect(region().getAttribute('data-state')).not.toBe('loading'));

  it('cancels on click: "Cancelled" at once, "Cancelling…" (aria-disabled) until the server answers', async () => {
    const backend = createMemoryJobBackend({ latencyMs: (method) => (method === 'cancel' ? 500 : 0) });
    const id = jobIn('processing', backend);
    renderWithJobs(<JobStatus jobId={id} actions />, { client: backend });
    await loaded();
    const node = region();

    await user().click(screen.getByRole('button', { name: 'Cancel' }));
    expect(region()).toBe(node);
    expect(node.getAttribute('data-state')).toBe('cancelled');
    expect(node.textContent).toBe('Cancelled');
    const pending = screen.getByRole('button', { name: 'Cancelling…' });
    expect(pending.getAttribute('aria-disabled')).toBe('true');
    // A second click while in flight sends nothing.
    await user().click(pending);
    await waitFor(() => expect(buttons()).toEqual([]));
    expect(backend.calls.filter((c) => c.method === 'cancel')).toHaveLength(1);
    expect(backend.get(id)?.status).toBe('cancelled');
    expect(buttons()).toEqual([]);
    expect(node.textContent).toBe('Cancelled');
  });

  it('works from the keyboard, and hands focus to the region when the button goes away', async () => {
    const backend = createMemoryJobBackend({ latencyMs: (method) => (method === 'cancel' ? 200 : 0) });
    const id = jobIn('pending', backend);
    renderWithJobs(<JobStatus jobId={id} actions />, { client: backend });
    await loaded();
    const u = user();

    // The region is focusable from script only: Tab goes straight to the button.
    await u.tab();
    const cancel = screen.getByRole('button', { name: 'Cancel' });
    expect(document.activeElement).toBe(cancel);
    await u.keyboard('{Enter}');
    expect(region().textContent).toBe('Cancelled');
    // Still focused while "Cancelling…" (aria-disabled keeps focus where `disabled` would drop it).
    expect(document.activeElement).toBe(cancel);
    await waitFor(() => expect(buttons()).toEqual([]));
    expect(document.activeElement).toBe(region());
  });

  it('retries with Space: a failed job is queued again and offers Cancel', async () => {
    const backend = createMemoryJobBackend();
    const id = jobIn('failed', backend);
    renderWithJobs(<JobStatus jobId={id} actions detailed />, { client: backend });
    await loaded();
    expect(region().textContent).toBe('Failed Out of credits');
    const u = user();
    await u.tab();
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Retry' }));
    await u.keyboard(' ');
    await waitFor(() => expect(buttons()).toEqual(['Cancel']));
    expect(region().getAttribute('data-state')).toBe('pending');
    expect(region().textContent).toBe('Queued Retry 1 of 3 Last error: Out of credits');
    expect(backend.get(id)?.status).toBe('pending');
    expect(buttons()).toEqual(['Cancel']);
    expect(document.activeElement).toBe(region());
  });

  it('says so when a cancel fails, puts the job back and keeps focus on the button', async () => {
    const backend = createMemoryJobBackend();
    const id = jobIn('processing', backend);
    const answer = deferred<Job>();
    const client: JobClient = { ...backend, cancel: () => answer.promise };
    renderWithJobs(<JobStatus jobId={id} actions />, { client });
    await loaded();
    const u = user();
    await u.tab();
    await u.keyboard('{Enter}');
    expect(region().textContent).toBe('Cancelled');

    answer.reject(new JobTransportError('Internal Server Error', { status: 500 }));
    // The job is put back, then the mutation's error state brings the notice.
    await waitFor(() => expect(region().textContent).toBe('Processing (updating…) Could not cancel the job'));
    expect(region().getAttribute('data-state')).toBe('processing');
    const cancel = screen.getByRole('button', { name: 'Cancel' });
    expect(cancel.hasAttribute('aria-disabled')).toBe(false);
    expect(document.activeElement).toBe(cancel);

    // The notice belongs to that state: it goes once the job moves on.
    act(() => void backend.complete(id));
    await waitFor(() => expect(region().textContent).toBe('Completed'));
  });

  it('reports no failure when the job finished before the cancel reached the server (409)', async () => {
    const backend = createMemoryJobBackend();
    const id = jobIn('processing', backend);
    renderWithJobs(<JobStatus jobId={id} actions live={false} pollInterval={60_000} />, { client: backend });
    await loaded();
    backend.complete(id);
    await user().click(screen.getByRole('button', { name: 'Cancel' }));
    await waitFor(() => expect(region().textContent).toBe('Completed'));
    expect(buttons()).toEqual([]);
  });

  it('takes its texts from labels', async () => {
    const backend = createMemoryJobBackend({ latencyMs: (method) => (method === 'retry' ? 100 : 0) });
    const pending = jobIn('pending', backend);
    const failed = jobIn('failed', backend);
    const labels = { cancelAction: 'Annuler', retryAction: 'Relancer', retrying: 'Relance…' };
    renderWithJobs(
      <>
        <JobStatus jobId={pending} actions labels={labels} />
        <JobStatus jobId={failed} actions labels={labels} />
      </>,
      { client: backend },
    );
    await waitFor(() => expect(buttons()).toEqual(['Annuler', 'Relancer']));
    await user().click(screen.getByRole('button', { name: 'Relancer' }));
    await waitFor(() => expect(buttons()).toEqual(['Annuler', 'Annuler', 'Relance…']));
  });
});
