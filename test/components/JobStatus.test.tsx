import { act, screen } from '@testing-library/react';
import { createRef } from 'react';
import type { ReactNode } from 'react';
import { JobStatus } from '../../src/components/JobStatus';
import { JobNotFoundError, JobTransportError } from '../../src/contract/errors';
import type { Job, JobClient } from '../../src/contract/types';
import { createMemoryJobBackend } from '../../src/testing/createMemoryJobBackend';
import type { MemoryJobBackend } from '../../src/testing/createMemoryJobBackend';
import { advance, renderWithJobs } from '../helpers';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** Lets timers (polls) and the promises they start run, inside act. */
const tick = (ms = 0) => advance(ms);
const renderWith = (client: JobClient, ui: ReactNode) => renderWithJobs(ui, { client });

function region() {
  return screen.getByRole('status');
}

function stateOf(element: HTMLElement) {
  return element.getAttribute('data-state');
}

describe('JobStatus states', () => {
  it('shows "Loading job status…" with data-state="loading" before the first answer', async () => {
    const backend = createMemoryJobBackend({ latencyMs: 500 });
    const { id } = backend.create();
    renderWith(backend, <JobStatus jobId={id} live={false} />);
    await tick(100);

    expect(stateOf(region())).toBe('loading');
    expect(region().textContent).toBe('Loading job status…');

    await tick(500);
    expect(stateOf(region())).toBe('pending');
    expect(region().textContent).toBe('Queued');
  });

  it.each([
    ['pending', 'Queued', (_b: MemoryJobBackend, _id: string) => {}],
    ['processing', 'Processing (updating…)', (b: MemoryJobBackend, id: string) => void b.start(id)],
    ['completed', 'Completed', (b: MemoryJobBackend, id: string) => void b.complete(id)],
    ['failed', 'Failed', (b: MemoryJobBackend, id: string) => void b.fail(id, 'Out of credits')],
    ['cancelled', 'Cancelled', (b: MemoryJobBackend, id: string) => void b.cancel(id)],
  ])('a %s job reads "%s" and has data-state="%s"', async (state, text, move) => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    move(backend, id);
    renderWith(backend, <JobStatus jobId={id} />);
    await tick();

    expect(stateOf(region())).toBe(state);
    expect(region().textContent).toBe(text);
  });

  it('keeps the same role="status" element, polite and atomic, from loading through pending and processing to completed', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    renderWith(backend, <JobStatus jobId={id} pollInterval={100} />);
    const node = region();
    expect(stateOf(node)).toBe('loading');
    expect(node.getAttribute('aria-live')).toBe('polite');
    expect(node.getAttribute('aria-atomic')).toBe('true');

    await tick();
    expect(region()).toBe(node);
    expect(stateOf(node)).toBe('pending');
    expect(node.textContent).toBe('Queued');

    act(() => void backend.start(id));
    await tick(100);
    expect(region()).toBe(node);
    expect(stateOf(node)).toBe('processing');
    expect(node.textContent).toBe('Processing (updating…)');

    act(() => void backend.complete(id));
    await tick(100);
    expect(region()).toBe(node);
    expect(stateOf(node)).toBe('completed');
    expect(node.textContent).toBe('Completed');
  });

  it('stays mounted but empty, with data-state="idle", when jobId becomes null', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    const { rerender } = renderWith(backend, <JobStatus jobId={id} />);
    await tick();
    const node = region();
    expect(node.textContent).toBe('Queued');

    rerender(<JobStatus jobId={null} />);
    await tick();
    expect(region()).toBe(node);
    expect(stateOf(node)).toBe('idle');
    expect(node.textContent).toBe('');
    expect(node.getAttribute('data-connection')).toBe('idle');
  });

  it('renders an empty idle region and makes no request when jobId is undefined', async () => {
    const backend = createMemoryJobBackend();
    renderWith(backend, <JobStatus jobId={undefined} />);
    await tick(5000);
    expect(stateOf(region())).toBe('idle');
    expect(region().textContent).toBe('');
    expect(backend.calls).toHaveLength(0);
  });

  it('shows "Job not found" with data-state="error" for an unknown job and calls onError once with JobNotFoundError', async () => {
    const backend = createMemoryJobBackend();
    const onError = vi.fn();
    renderWith(backend, <JobStatus jobId="nope" onError={onError} />);
    await tick();

    expect(stateOf(region())).toBe('error');
    expect(region().textContent).toBe('Job not found');
    expect(region().querySelector('.jobwatch-status__icon')).not.toBeNull();
    await tick(10_000);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[0]).toBeInstanceOf(JobNotFoundError);
  });

  it('keeps the last job through a transient error, replacing "(updating…)" with a connection notice until a poll succeeds', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    backend.start(id);
    let failing = false;
    const client: JobClient = {
      ...backend,
      getStatus: (jobId, options) =>
        failing ? Promise.reject(new JobTransportError('503', { status: 503 })) : backend.getStatus(jobId, options),
    };
    const onError = vi.fn();
    renderWith(client, <JobStatus jobId={id} pollInterval={100} live={false} onError={onError} />);
    await tick();
    expect(region().textContent).toBe('Processing (updating…)');

    failing = true;
    await tick(100);
    expect(stateOf(region())).toBe('processing');
    expect(region().getAttribute('data-connection')).toBe('error');
    expect(region().textContent).toBe('Processing Connection problem, retrying…');
    expect(onError).not.toHaveBeenCalled();

    failing = false;
    await tick(30_000);
    expect(region().textContent).toBe('Processing (updating…)');
    expect(region().getAttribute('data-connection')).toBe('polling');
  });
});

describe('JobStatus icons', () => {
  it('puts each default icon in an aria-hidden wrapper so only the text is announced', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    renderWith(backend, <JobStatus jobId={id} />);
    await tick();

    const icon = region().querySelector('.jobwatch-status__icon');
    expect(icon?.getAttribute('aria-hidden')).toBe('true');
    expect(icon?.querySelector('svg')).not.toBeNull();
    expect(region().textContent).toBe('Queued');
  });

  it('marks the processing icon as the spinner the stylesheet animates', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    backend.start(id);
    renderWith(backend, <JobStatus jobId={id} />);
    await tick();
    expect(region().querySelector('.jobwatch-status__icon svg.jobwatch-spinner')).not.toBeNull();
    expect(region().querySelector('[style*="animation"]')).toBeNull();
  });

  it('replaces the icon of one state with the icons prop and hides it with null', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    const { rerender } = renderWith(backend, <JobStatus jobId={id} icons={{ pending: <b data-testid="mine">⏳</b> }} />);
    await tick();
    expect(screen.getByTestId('mine').closest('.jobwatch-status__icon')?.getAttribute('aria-hidden')).toBe('true');

    rerender(<JobStatus jobId={id} icons={{ pending: null }} />);
    expect(region().querySelector('.jobwatch-status__icon')).toBeNull();
    expect(region().textContent).toBe('Queued');
  });
});

describe('JobStatus detailed view', () => {
  it('shows the retry count and the last error while a retried job runs, then the error message once it failed', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ maxRetries: 3 });
    backend.fail(id, 'Timeout');
    await backend.retry(id);
    backend.fail(id, 'Timeout');
    await backend.retry(id);
    backend.start(id);
    backend.progress(id, 0.5, 'Upscaling');
    renderWith(backend, <JobStatus jobId={id} detailed pollInterval={100} />);
    await tick();

    expect(region().hasAttribute('data-detailed')).toBe(true);
    expect(region().querySelector('.jobwatch-status__message')?.textContent).toBe('Upscaling');
    expect(region().querySelector('.jobwatch-status__retry')?.textContent).toBe('Retry 2 of 3');
    expect(region().querySelector('.jobwatch-status__error')?.textContent).toBe('Last error: Timeout');
    expect(region().textContent).toBe('Processing (updating…) Upscaling Retry 2 of 3 Last error: Timeout');

    act(() => void backend.fail(id, 'Model overloaded'));
    await tick(100);
    expect(stateOf(region())).toBe('failed');
    expect(region().textContent).toBe('Failed Retry 2 of 3 Model overloaded');
  });

  it('renders an error message containing HTML as literal text', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    const message = '<img src=x onerror=alert(1)>';
    backend.fail(id, message);
    renderWith(backend, <JobStatus jobId={id} detailed />);
    await tick();

    expect(region().querySelector('.jobwatch-status__error')?.textContent).toBe(message);
    expect(region().querySelector('img')).toBeNull();
    expect(document.querySelector('img')).toBeNull();
  });

  it('writes "Retry 2" when the job has no retry limit', async () => {
    const now = new Date().toISOString();
    const backend = createMemoryJobBackend({
      jobs: [{ id: 'j1', status: 'pending', retryCount: 2, maxRetries: null, createdAt: now, updatedAt: now }],
    });
    renderWith(backend, <JobStatus jobId="j1" detailed />);
    await tick();
    expect(region().querySelector('.jobwatch-status__retry')?.textContent).toBe('Retry 2');
  });

  it('shows neither retry count nor error without detailed', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ maxRetries: 3 });
    backend.fail(id, 'Timeout');
    await backend.retry(id);
    backend.fail(id, 'Boom');
    renderWith(backend, <JobStatus jobId={id} />);
    await tick();
    expect(region().textContent).toBe('Failed');
    expect(region().hasAttribute('data-detailed')).toBe(false);
  });
});

describe('JobStatus customisation', () => {
  it('replaces only the labels given, including functions of the numbers', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ maxRetries: 5 });
    backend.fail(id, 'x');
    await backend.retry(id);
    backend.start(id);
    renderWith(
      backend,
      <JobStatus
        jobId={id}
        detailed
        labels={{ processing: 'En cours', updating: '(mise à jour…)', retry: (n, max) => `Essai ${n}/${max}`, lastError: (m) => `Erreur : ${m}` }}
      />,
    );
    await tick();
    expect(region().textContent).toBe('En cours (mise à jour…) Essai 1/5 Erreur : x');
  });

  it('keeps the default label when an override is undefined', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    renderWith(backend, <JobStatus jobId={id} labels={{ pending: undefined }} />);
    await tick();
    expect(region().textContent).toBe('Queued');
  });

  it('computes className and style from the render state, keeping the base class', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    renderWith(
      backend,
      <JobStatus
        jobId={id}
        className={({ state, isTerminal }) => `is-${state}${isTerminal ? ' done' : ''}`}
        style={({ state }) => ({ outlineColor: state === 'pending' ? 'orange' : 'green' })}
      />,
    );
    expect(region().className).toBe('jobwatch-status is-loading');

    await tick();
    expect(region().className).toBe('jobwatch-status is-pending');
    expect(region().style.outlineColor).toBe('orange');
  });

  it('accepts plain className and style values', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    renderWith(backend, <JobStatus jobId={id} className="mine" style={{ color: 'purple' }} />);
    await tick();
    expect(region().className).toBe('jobwatch-status mine');
    expect(region().style.color).toBe('purple');
  });

  it('replaces the content with a children function, still inside the same status region', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    renderWith(
      backend,
      <JobStatus jobId={id} pollInterval={100} live={false}>
        {({ state, label, job, connection }) => `${label} [${state}] ${job?.id ?? '-'} ${connection}`}
      </JobStatus>,
    );
    const node = region();
    expect(node.textContent).toBe(`Loading job status… [loading] - polling`);

    await tick();
    expect(region()).toBe(node);
    expect(node.textContent).toBe(`Queued [pending] ${id} polling`);
    expect(stateOf(node)).toBe('pending');
  });

  it('replaces the content with plain children', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    renderWith(backend, <JobStatus jobId={id}>Working on it</JobStatus>);
    await tick();
    expect(region().textContent).toBe('Working on it');
    expect(stateOf(region())).toBe('pending');
  });

  it('passes other attributes and the ref to the status element', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    const ref = createRef<HTMLSpanElement>();
    renderWith(backend, <JobStatus jobId={id} id="gen-status" title="Generation" ref={ref} />);
    await tick();
    expect(region().id).toBe('gen-status');
    expect(region().title).toBe('Generation');
    expect(ref.current).toBe(region());
  });
});

describe('JobStatus callbacks', () => {
  it('calls onComplete, onSettled and onStatusChange through to the hook, onComplete once', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    const onComplete = vi.fn<(job: Job<{ url: string }>) => void>();
    const onSettled = vi.fn();
    const onStatusChange = vi.fn();
    renderWith(
      backend,
      <JobStatus<{ url: string }>
        jobId={id}
        pollInterval={100}
        onComplete={onComplete}
        onSettled={onSettled}
        onStatusChange={onStatusChange}
      />,
    );
    await tick();
    act(() => void backend.start(id));
    await tick(100);
    act(() => void backend.complete(id, { url: '/a.png' }));
    await tick(100);
    await tick(10_000);

    expect(onComplete).toHaveBeenCalledTimes(1);
    expect(onComplete.mock.calls[0]?.[0].result).toEqual({ url: '/a.png' });
    expect(onSettled).toHaveBeenCalledTimes(1);
    expect(onStatusChange.mock.calls.map(([job, previous]) => [previous, job.status])).toEqual([
      [undefined, 'pending'],
      ['pending', 'processing'],
      ['processing', 'completed'],
    ]);
  });

  it('calls onError once with the failed job', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    backend.fail(id, 'Out of credits');
    const onError = vi.fn();
    renderWith(backend, <JobStatus jobId={id} onError={onError} />);
    await tick();
    await tick(10_000);
    expect(onError).toHaveBeenCalledTimes(1);
    expect(onError.mock.calls[0]?.[0].message).toBe('Out of credits');
    expect(onError.mock.calls[0]?.[1]?.status).toBe('failed');
  });

  it('stops watching with enabled={false}: no "(updating…)" and no more requests', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    backend.start(id);
    const { rerender } = renderWith(backend, <JobStatus jobId={id} pollInterval={100} />);
    await tick();
    expect(region().textContent).toBe('Processing (updating…)');

    rerender(<JobStatus jobId={id} pollInterval={100} enabled={false} />);
    await tick();
    backend.clearCalls();
    await tick(1000);
    expect(backend.calls).toHaveLength(0);
    expect(region().getAttribute('data-connection')).toBe('idle');
    expect(region().textContent).toBe('Processing');
  });
});
