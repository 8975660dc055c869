import { act, screen } from '@testing-library/react';
import { createRef } from 'react';
import type { ReactNode } from 'react';
import { PendingJobsBadge } from '../../src/components/PendingJobsBadge';
import type { JobClient } from '../../src/contract/types';
import { createMemoryJobBackend } from '../../src/testing/createMemoryJobBackend';
import { advance, renderWithJobs } from '../helpers';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

/** Lets timers (polls) and the promises they start run, inside act. */
const tick = (ms = 0) => advance(ms);
const renderWith = (client: JobClient, ui: ReactNode) => renderWithJobs(ui, { client });

function badge() {
  return document.querySelector<HTMLElement>('.jobwatch-badge');
}

describe('PendingJobsBadge', () => {
  it('renders nothing while loading and nothing when no job is active', async () => {
    const backend = createMemoryJobBackend({ latencyMs: 200 });
    const { id } = backend.create();
    backend.complete(id);
    const { container } = renderWith(backend, <PendingJobsBadge />);
    expect(container.innerHTML).toBe('');

    await tick(200);
    expect(backend.calls.filter((c) => c.method === 'getPendingCount')).toHaveLength(1);
    expect(container.innerHTML).toBe('');
  });

  it('shows the total, what it counts and the "2 pending, 1 processing" breakdown as text', async () => {
    const backend = createMemoryJobBackend();
    backend.create();
    backend.create();
    backend.start(backend.create().id);
    renderWith(backend, <PendingJobsBadge />);
    await tick();

    const el = badge();
    expect(el?.textContent).toBe('3 active jobs (2 pending, 1 processing)');
    expect(el?.querySelector('.jobwatch-badge__count')?.textContent).toBe('3');
    expect(el?.querySelector('.jobwatch-badge__label')?.textContent).toBe('active jobs');
    expect(el?.querySelector('.jobwatch-badge__breakdown')?.textContent).toBe('(2 pending, 1 processing)');
    expect(el?.getAttribute('data-state')).toBe('processing');
  });

  it('gives a surrounding link an accessible name that says what the number counts', async () => {
    const backend = createMemoryJobBackend();
    backend.create();
    renderWith(
      backend,
      <a href="/jobs">
        Jobs <PendingJobsBadge />
      </a>,
    );
    await tick();
    expect(screen.getByRole('link', { name: 'Jobs 1 active job (1 pending, 0 processing)' })).toBeTruthy();
  });

  it('is not a live region, since it mounts and unmounts', async () => {
    const backend = createMemoryJobBackend();
    backend.create();
    renderWith(backend, <PendingJobsBadge />);
    await tick();
    expect(badge()).not.toBeNull();
    expect(screen.queryByRole('status')).toBeNull();
    expect(badge()?.hasAttribute('aria-live')).toBe(false);
    expect(badge()?.hasAttribute('aria-label')).toBe(false);
  });

  it('has data-state="pending" while every active job waits', async () => {
    const backend = createMemoryJobBackend();
    backend.create();
    backend.create();
    renderWith(backend, <PendingJobsBadge />);
    await tick();
    expect(badge()?.getAttribute('data-state')).toBe('pending');
    expect(badge()?.textContent).toBe('2 active jobs (2 pending, 0 processing)');
  });

  it('appears when a job becomes active and disappears when the last one ends', async () => {
    const backend = createMemoryJobBackend();
    const { container } = renderWith(backend, <PendingJobsBadge pollInterval={1000} />);
    await tick();
    expect(container.innerHTML).toBe('');

    // React Query renders a fetched result on a later timer: allow a little past the interval.
    const { id } = backend.create();
    await tick(1100);
    expect(badge()?.textContent).toBe('1 active job (1 pending, 0 processing)');

    backend.complete(id);
    await tick(1100);
    expect(container.innerHTML).toBe('');
  });

  it('counts only the jobs matching filter.meta', async () => {
    const backend = createMemoryJobBackend();
    backend.create({ meta: { projectId: 'p1' } });
    backend.create({ meta: { projectId: 'p2' } });
    backend.create({ meta: { projectId: 'p2' } });
    renderWith(backend, <PendingJobsBadge filter={{ meta: { projectId: 'p1' } }} />);
    await tick();
    expect(badge()?.querySelector('.jobwatch-badge__count')?.textContent).toBe('1');
  });

  it('replaces labels, and computes className, style and children from the counts', async () => {
    const backend = createMemoryJobBackend();
    backend.create();
    backend.start(backend.create().id);
    const { rerender } = renderWith(
      backend,
      <PendingJobsBadge
        labels={{ activeJobs: (n) => (n === 1 ? 'tâche active' : 'tâches actives'), breakdown: (p, q) => `(${p} en attente, ${q} en cours)` }}
        className={({ state }) => `is-${state}`}
        style={({ total }) => ({ order: total })}
      />,
    );
    await tick();
    expect(badge()?.textContent).toBe('2 tâches actives (1 en attente, 1 en cours)');
    expect(badge()?.className).toBe('jobwatch-badge is-processing');
    expect(badge()?.style.order).toBe('2');

    rerender(<PendingJobsBadge>{({ pending, processing, total }) => `${total} jobs: ${pending}/${processing}`}</PendingJobsBadge>);
    expect(badge()?.textContent).toBe('2 jobs: 1/1');
  });

  it('passes other attributes and the ref to the badge element', async () => {
    const backend = createMemoryJobBackend();
    backend.create();
    const ref = createRef<HTMLSpanElement>();
    renderWith(backend, <PendingJobsBadge id="jobs-badge" ref={ref} />);
    await tick();
    expect(badge()?.id).toBe('jobs-badge');
    expect(ref.current).toBe(badge());
  });
});
