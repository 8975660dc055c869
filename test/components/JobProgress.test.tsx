import { act, screen } from '@testing-library/react';
import { createRef } from 'react';
import type { ReactNode } from 'react';
import { renderToString } from 'react-dom/server';
import { JobProgress } from '../../src/components/JobProgress';
import { defaultJobProgressLabels } from '../../src/components/progressLabels';
import type { Job, JobClient } from '../../src/contract/types';
import { JobClientProvider } from '../../src/react/JobClientProvider';
import { jobKeys } from '../../src/react/jobKeys';
import { useJobStatus } from '../../src/react/useJobStatus';
import { createMemoryJobBackend } from '../../src/testing/createMemoryJobBackend';
import type { MemoryJobSeed } from '../../src/testing/createMemoryJobBackend';
import { advance, renderWithJobs, testQueryClient } from '../helpers';

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

const tick = (ms = 0) => advance(ms);
const renderWith = (client: JobClient, ui: ReactNode) => renderWithJobs(ui, { client });
const MINUTE = 60_000;

function bar() {
  return screen.getByRole('progressbar');
}

/** A ready-made job (it keeps this state), stamped with the fake clock's time. */
function seed(extra: Partial<Job> & Pick<Job, 'status'>): MemoryJobSeed {
  const at = new Date().toISOString();
  return { id: 'j1', createdAt: at, updatedAt: at, retryCount: 0, version: 1, ...extra };
}

const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();

describe('JobProgress as a progress bar', () => {
  it('is a role="progressbar" named "Job progress", from 0 to 100, with aria-valuenow and aria-valuetext while progress is known', async () => {
    const backend = createMemoryJobBackend({ jobs: [seed({ status: 'processing', progress: 0.45 })] });
    renderWith(backend, <JobProgress jobId="j1" />);
    await tick();

    const node = screen.getByRole('progressbar', { name: 'Job progress' });
    expect(node.getAttribute('aria-valuemin')).toBe('0');
    expect(node.getAttribute('aria-valuemax')).toBe('100');
    expect(node.getAttribute('aria-valuenow')).toBe('45');
    expect(node.getAttribute('aria-valuetext')).toBe('45%');
    expect(node.getAttribute('data-state')).toBe('processing');
  });

  it('drops aria-valuenow while indeterminate and says what is going on instead', async () => {
    const backend = createMemoryJobBackend({ jobs: [seed({ id: 'run', status: 'processing', progress: null }), seed({ id: 'wait', status: 'pending' })] });
    renderWith(
      backend,
      <>
        <JobProgress jobId="run" aria-label="Running" />
        <JobProgress jobId="wait" aria-label="Waiting" />
      </>,
    );
    await tick();

    const running = screen.getByRole('progressbar', { name: 'Running' });
    expect(running.hasAttribute('aria-valuenow')).toBe(false);
    expect(running.getAttribute('aria-valuetext')).toBe('Processing');
    expect(running.getAttribute('aria-valuemin')).toBe('0');
    expect(running.getAttribute('aria-valuemax')).toBe('100');

    const waiting = screen.getByRole('progressbar', { name: 'Waiting' });
    expect(waiting.hasAttribute('aria-valuenow')).toBe(false);
    expect(waiting.getAttribute('aria-valuetext')).toBe('Queued');
    expect(waiting.getAttribute('data-state')).toBe('pending');
  });

  it('rounds down, so 100 means done: 0.999 is 99%, 0.29 is 29%', async () => {
    const backend = createMemoryJobBackend({
      jobs: [seed({ id: 'a', status: 'processing', progress: 0.999 }), seed({ id: 'b', status: 'processing', progress: 0.29 })],
    });
    renderWith(
      backend,
      <>
        <JobProgress jobId="a" aria-label="a" />
        <JobProgress jobId="b" aria-label="b" />
      </>,
    );
    await tick();
    expect(screen.getByRole('progressbar', { name: 'a' }).getAttribute('aria-valuetext')).toBe('99%');
    expect(screen.getByRole('progressbar', { name: 'b' }).getAttribute('aria-valuenow')).toBe('29');
  });

  it.each([
    ['completed', 'Completed', '100', { progress: null }],
    ['failed', 'Failed', null, { error: { message: 'Out of credits' } }],
    ['cancelled', 'Cancelled', null, {}],
  ] as const)('a %s job reads "%s", with aria-valuenow %s', async (status, text, valueNow, extra) => {
    const backend = createMemoryJobBackend({ jobs: [seed({ status, ...extra })] });
    renderWith(backend, <JobProgress jobId="j1" />);
    await tick();
    expect(bar().getAttribute('data-state')).toBe(status);
    expect(bar().getAttribute('aria-valuenow')).toBe(valueNow);
    expect(bar().getAttribute('aria-valuetext')).toBe(text);
  });

  it('shows loading, then the error state for an unknown job, and nothing for no job', async () => {
    const backend = createMemoryJobBackend({ latencyMs: 500 });
    const { rerender } = renderWith(backend, <JobProgress jobId="nope" live={false} />);
    await tick(100);
    expect(bar().getAttribute('data-state')).toBe('loading');
    expect(bar().getAttribute('aria-valuetext')).toBe('Loading job status…');
    expect(bar().hasAttribute('aria-valuenow')).toBe(false);

    await tick(500);
    expect(bar().getAttribute('data-state')).toBe('error');
    expect(bar().getAttribute('aria-valuetext')).toBe('Job not found');

    rerender(<JobProgress jobId={null} />);
    expect(bar().getAttribute('data-state')).toBe('idle');
    expect(bar().hasAttribute('aria-valuetext')).toBe(false);
    expect(bar().hasAttribute('aria-valuenow')).toBe(false);
    expect(screen.getByRole('progressbar', { name: 'Job progress' })).toBe(bar());
  });

  it('stays one element, never a live region, from loading through queued and running to completed', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    const { container } = renderWith(backend, <JobProgress jobId={id} />);
    const node = bar();
    const seen: string[] = [];
    const check = () => {
      expect(bar()).toBe(node);
      expect(container.querySelectorAll('[role="progressbar"]')).toHaveLength(1);
      expect(node.hasAttribute('aria-live')).toBe(false);
      expect(node.closest('[aria-live]')).toBeNull();
      expect(node.querySelectorAll('.jobwatch-progress__track > .jobwatch-progress__bar')).toHaveLength(1);
      expect(node.querySelector('.jobwatch-progress__value')?.textContent).toBe(node.getAttribute('aria-valuetext'));
      seen.push(`${node.getAttribute('data-state')}: ${node.getAttribute('aria-valuetext')}`);
    };
    check();
    await tick();
    check();
    act(() => void backend.start(id));
    await tick();
    check();
    act(() => void backend.progress(id, 0.3));
    await tick();
    check();
    act(() => void backend.complete(id));
    await tick();
    check();
    expect(seen).toEqual([
      'loading: Loading job status…',
      'pending: Queued',
      'processing: Processing',
      'processing: 30%',
      'completed: Completed',
    ]);
  });
});

describe('JobProgress time left', () => {
  it('adds the server\'s estimate: "45%, about 2 minutes left"', async () => {
    const backend = createMemoryJobBackend({ jobs: [seed({ status: 'processing', progress: 0.45, estimatedCompletionAt: inMs(2 * MINUTE) })] });
    renderWith(backend, <JobProgress jobId="j1" />);
    await tick();
    expect(bar().getAttribute('aria-valuetext')).toBe('45%, about 2 minutes left');
  });

  it('gives a queued or indeterminate job the server\'s estimate too', async () => {
    const backend = createMemoryJobBackend({
      jobs: [
        seed({ id: 'q', status: 'pending', estimatedCompletionAt: inMs(5 * MINUTE) }),
        seed({ id: 'p', status: 'processing', progress: null, estimatedCompletionAt: inMs(65 * MINUTE) }),
      ],
    });
    renderWith(
      backend,
      <>
        <JobProgress jobId="q" aria-label="q" />
        <JobProgress jobId="p" aria-label="p" />
      </>,
    );
    await tick();
    expect(screen.getByRole('progressbar', { name: 'q' }).getAttribute('aria-valuetext')).toBe('Queued, about 5 minutes left');
    expect(screen.getByRole('progressbar', { name: 'p' }).getAttribute('aria-valuetext')).toBe('Processing, about 1 hour left');
  });

  it('reads a server time already past as "less than a minute left", never a negative time', async () => {
    const backend = createMemoryJobBackend({ jobs: [seed({ status: 'processing', progress: 0.9, estimatedCompletionAt: inMs(-10 * MINUTE) })] });
    renderWith(backend, <JobProgress jobId="j1" />);
    await tick();
    expect(bar().getAttribute('aria-valuetext')).toBe('90%, less than a minute left');
  });

  it('lets the time left run down while the job sends nothing new, and stops its clock at the end', async () => {
    const backend = createMemoryJobBackend({ jobs: [seed({ status: 'processing', progress: 0.5, estimatedCompletionAt: inMs(2 * MINUTE) })] });
    const { unmount } = renderWith(backend, <JobProgress jobId="j1" />);
    await tick();
    expect(bar().getAttribute('aria-valuetext')).toBe('50%, about 2 minutes left');

    await tick(MINUTE);
    expect(bar().getAttribute('aria-valuetext')).toBe('50%, about 1 minute left');
    await tick(15_000);
    expect(bar().getAttribute('aria-valuetext')).toBe('50%, less than a minute left');

    unmount();
    expect(vi.getTimerCount()).toBe(0);
  });

  it('estimates from the observed pace once it is steady, and hides the estimate while progress stalls', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    backend.start(id);
    renderWith(backend, <JobProgress jobId={id} />);
    await tick();
    const texts: string[] = [];
    // 2% every 2 s: 100 s in all.
    for (let i = 1; i <= 5; i++) {
      act(() => void backend.progress(id, i * 0.02));
      await tick(2000);
      texts.push(bar().getAttribute('aria-valuetext')!);
    }
    // Timed from the first change: three changes over 4 s and 4% make the warm-up.
    // Done at 100 s; the last change (10%) came at 8 s: 90 s left then, rounded to 2 minutes.
    expect(texts).toEqual(['2%', '4%', '6%, about 2 minutes left', '8%, about 2 minutes left', '10%, about 2 minutes left']);

    // No change for 3 × 2 s: stalled, the estimate goes, with no new answer needed.
    await tick(3999);
    expect(bar().getAttribute('aria-valuetext')).toBe('10%, about 2 minutes left');
    await tick(1);
    expect(bar().getAttribute('aria-valuetext')).toBe('10%');
    expect(bar().getAttribute('aria-valuenow')).toBe('10');
  });
});

describe('JobProgress texts', () => {
  it.each([
    [-5000, 'less than a minute left'],
    [0, 'less than a minute left'],
    [59_999, 'less than a minute left'],
    [60_000, 'about 1 minute left'],
    [89_999, 'about 1 minute left'],
    [90_000, 'about 2 minutes left'],
    [59 * MINUTE, 'about 59 minutes left'],
    [59.6 * MINUTE, 'about 1 hour left'],
    [89 * MINUTE, 'about 1 hour left'],
    [90 * MINUTE, 'about 2 hours left'],
    [23.4 * 60 * MINUTE, 'about 23 hours left'],
    [23.6 * 60 * MINUTE, 'about 1 day left'],
    [36 * 60 * MINUTE, 'about 2 days left'],
  ])('%i ms left reads "%s"', (ms, text) => {
    expect(defaultJobProgressLabels.timeLeft(ms)).toBe(text);
  });

  it('translates through labels: the percent and the time left in the default sentence', async () => {
    const backend = createMemoryJobBackend({ jobs: [seed({ status: 'processing', progress: 0.45, estimatedCompletionAt: inMs(2 * MINUTE) })] });
    renderWith(
      backend,
      <JobProgress
        jobId="j1"
        aria-label="Progression"
        labels={{ percent: (n) => `${n} %`, timeLeft: (ms) => `environ ${Math.round(ms / MINUTE)} minutes restantes` }}
      />,
    );
    await tick();
    expect(screen.getByRole('progressbar', { name: 'Progression' }).getAttribute('aria-valuetext')).toBe('45 %, environ 2 minutes restantes');
  });

  it('replaces the whole aria-valuetext with labels.valueText, given progress, eta, now and state', async () => {
    const backend = createMemoryJobBackend({ jobs: [seed({ status: 'processing', progress: 0.25, estimatedCompletionAt: inMs(3 * MINUTE) })] });
    const valueText = vi.fn(
      ({ state, progress, eta, now }: { state: string; progress: number | null; eta: Date | null; now: number }) =>
        `${state} ${progress} ${eta ? Math.round((eta.getTime() - now) / 1000) : '-'}s`,
    );
    renderWith(backend, <JobProgress jobId="j1" labels={{ valueText }} />);
    await tick();
    expect(bar().getAttribute('aria-valuetext')).toBe('processing 0.25 180s');
    expect(valueText.mock.lastCall?.[0]).toMatchObject({ percent: 25, label: 'Processing' });
  });

  it('keeps markup in texts as text', async () => {
    const backend = createMemoryJobBackend({ jobs: [seed({ status: 'processing', progress: 0.5 })] });
    const { container } = renderWith(
      backend,
      <JobProgress jobId="j1" labels={{ percent: (n) => `<b>${n}</b>` }}>
        {({ valueText }) => <span className="value">{valueText}</span>}
      </JobProgress>,
    );
    await tick();
    expect(bar().getAttribute('aria-valuetext')).toBe('<b>50</b>');
    expect(container.querySelector('.value')?.textContent).toBe('<b>50</b>');
    expect(container.querySelector('b')).toBeNull();
  });
});

describe('JobProgress value text (visible)', () => {
  const valueOf = (node: HTMLElement) => node.querySelector('.jobwatch-progress__value');

  it('shows the aria-valuetext as text below the track by default: "45%, about 2 minutes left", running down with the clock', async () => {
    const backend = createMemoryJobBackend({ jobs: [seed({ status: 'processing', progress: 0.45, estimatedCompletionAt: inMs(2 * MINUTE) })] });
    renderWith(backend, <JobProgress jobId="j1" />);
    await tick();
    const value = valueOf(bar());
    expect(value?.textContent).toBe('45%, about 2 minutes left');
    expect(value?.tagName).toBe('SPAN');
    expect(bar().lastElementChild).toBe(value);
    expect(bar().firstElementChild?.className).toBe('jobwatch-progress__track');

    await tick(75_000);
    expect(valueOf(bar())?.textContent).toBe('45%, less than a minute left');
    expect(valueOf(bar())?.textContent).toBe(bar().getAttribute('aria-valuetext'));
  });

  it('is heard once: the text is aria-hidden, the name stays "Job progress" and the value comes from aria-valuetext alone', async () => {
    const backend = createMemoryJobBackend({ jobs: [seed({ status: 'processing', progress: 0.45 })] });
    renderWith(backend, <JobProgress jobId="j1" />);
    await tick();
    const node = screen.getByRole('progressbar', { name: 'Job progress' });
    expect(valueOf(node)?.getAttribute('aria-hidden')).toBe('true');
    expect(node.hasAttribute('aria-describedby')).toBe(false);
    expect(node.getAttribute('aria-valuetext')).toBe('45%');
    // Not reachable as text of its own by assistive technology.
    expect(screen.queryByText('45%')).toBe(valueOf(node));
    expect(valueOf(node)?.closest('[aria-hidden="true"]')).toBe(valueOf(node));
  });

  it('says the same words as aria-valuetext in every state, and shows nothing while idle', async () => {
    const backend = createMemoryJobBackend({
      jobs: [seed({ id: 'q', status: 'pending' }), seed({ id: 'run', status: 'processing', progress: null }), seed({ id: 'done', status: 'completed' })],
    });
    const { container } = renderWith(
      backend,
      <>
        <JobProgress jobId="q" aria-label="q" />
        <JobProgress jobId="run" aria-label="run" />
        <JobProgress jobId="done" aria-label="done" />
        <JobProgress jobId="missing" aria-label="missing" />
        <JobProgress jobId={null} aria-label="idle" />
      </>,
    );
    const text = (name: string) => valueOf(screen.getByRole('progressbar', { name }))?.textContent ?? null;
    expect(text('q')).toBe('Loading job status…');
    await tick();
    expect([text('q'), text('run'), text('done'), text('missing'), text('idle')]).toEqual([
      'Queued',
      'Processing',
      'Completed',
      'Job not found',
      null,
    ]);
    for (const node of container.querySelectorAll<HTMLElement>('[role="progressbar"]')) {
      expect(valueOf(node)?.textContent ?? undefined).toBe(node.getAttribute('aria-valuetext') ?? undefined);
    }
  });

  it('showValueText={false} leaves a bare bar; aria-valuetext stays', async () => {
    const backend = createMemoryJobBackend({ jobs: [seed({ status: 'processing', progress: 0.45 })] });
    renderWith(backend, <JobProgress jobId="j1" showValueText={false} />);
    await tick();
    expect(valueOf(bar())).toBeNull();
    expect(bar().textContent).toBe('');
    expect(bar().querySelector('.jobwatch-progress__bar')).not.toBeNull();
    expect(bar().getAttribute('aria-valuetext')).toBe('45%');
  });

  it('valueLabel replaces the visible text only (a node, or a function of the render props); null shows nothing', async () => {
    const backend = createMemoryJobBackend({ jobs: [seed({ status: 'processing', progress: 0.6, estimatedCompletionAt: inMs(90_000) })] });
    const { rerender } = renderWith(
      backend,
      <JobProgress jobId="j1" valueLabel={({ percent, eta, state }) => `${state}: ${percent} of 100, done at ${eta?.toISOString()}`} />,
    );
    await tick();
    expect(valueOf(bar())?.textContent).toBe(`processing: 60 of 100, done at ${new Date(Date.now() + 90_000).toISOString()}`);
    expect(bar().getAttribute('aria-valuetext')).toBe('60%, about 2 minutes left');

    rerender(<JobProgress jobId="j1" valueLabel={<strong className="mine">60 %</strong>} />);
    expect(valueOf(bar())?.querySelector('strong.mine')?.textContent).toBe('60 %');

    rerender(<JobProgress jobId="j1" valueLabel={null} />);
    expect(valueOf(bar())).toBeNull();

    rerender(<JobProgress jobId="j1" valueLabel="hidden" showValueText={false} />);
    expect(valueOf(bar())).toBeNull();
  });

  it('labels change the words for everyone: the visible text and aria-valuetext together, markup kept as text', async () => {
    const backend = createMemoryJobBackend({ jobs: [seed({ status: 'processing', progress: 0.45, estimatedCompletionAt: inMs(2 * MINUTE) })] });
    const { container } = renderWith(
      backend,
      <JobProgress jobId="j1" labels={{ percent: (n) => `<b>${n} %</b>`, timeLeft: (ms) => `encore ${Math.round(ms / MINUTE)} min` }} />,
    );
    await tick();
    expect(bar().getAttribute('aria-valuetext')).toBe('<b>45 %</b>, encore 2 min');
    expect(valueOf(bar())?.textContent).toBe('<b>45 %</b>, encore 2 min');
    expect(container.querySelector('b')).toBeNull();
  });
});

describe('JobProgress styling and customisation', () => {
  it('sets --jobwatch-progress to the fraction done while known, 1 once completed, and leaves it out while indeterminate', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    backend.start(id);
    renderWith(backend, <JobProgress jobId={id} />);
    await tick();
    expect(bar().style.getPropertyValue('--jobwatch-progress')).toBe('');
    expect(bar().getAttribute('style')).toBeNull();

    act(() => void backend.progress(id, 0.45));
    await tick();
    expect(bar().style.getPropertyValue('--jobwatch-progress')).toBe('0.45');

    act(() => void backend.complete(id));
    await tick();
    expect(bar().style.getPropertyValue('--jobwatch-progress')).toBe('1');
  });

  it('draws nothing and animates nothing by itself: no inline width, transform or animation', async () => {
    const backend = createMemoryJobBackend({ jobs: [seed({ status: 'processing', progress: null })] });
    const { container } = renderWith(backend, <JobProgress jobId="j1" />);
    await tick();
    expect(container.querySelector('[style*="width"], [style*="animation"], [style*="transform"]')).toBeNull();
  });

  it('computes className and style from the render state, keeping the base class and the variable', async () => {
    const backend = createMemoryJobBackend({ jobs: [seed({ status: 'processing', progress: 0.2 })] });
    renderWith(
      backend,
      <JobProgress
        jobId="j1"
        className={({ state, progress }) => `is-${state}${progress !== null ? ' known' : ''}`}
        style={({ state }) => ({ outlineColor: state === 'processing' ? 'blue' : 'grey' })}
      />,
    );
    expect(bar().className).toBe('jobwatch-progress is-loading');
    await tick();
    expect(bar().className).toBe('jobwatch-progress is-processing known');
    expect(bar().style.outlineColor).toBe('blue');
    expect(bar().style.getPropertyValue('--jobwatch-progress')).toBe('0.2');
  });

  it('replaces the bar with children, a node or a function of percent and valueText, inside the same progressbar', async () => {
    const backend = createMemoryJobBackend({ jobs: [seed({ status: 'processing', progress: 0.6, estimatedCompletionAt: inMs(90_000) })] });
    const { rerender } = renderWith(
      backend,
      <JobProgress jobId="j1">{({ percent, valueText, state }) => `${state} ${percent} (${valueText})`}</JobProgress>,
    );
    await tick();
    expect(bar().textContent).toBe('processing 60 (60%, about 2 minutes left)');
    expect(bar().querySelector('.jobwatch-progress__bar')).toBeNull();

    rerender(<JobProgress jobId="j1"><i className="mine" /></JobProgress>);
    expect(bar().querySelector('.mine')).not.toBeNull();
  });

  it('takes aria-labelledby instead of the default name, and passes other attributes and the ref', async () => {
    const backend = createMemoryJobBackend({ jobs: [seed({ status: 'processing', progress: 0.1 })] });
    const ref = createRef<HTMLDivElement>();
    renderWith(
      backend,
      <>
        <h2 id="gen-title">Generating your image</h2>
        <JobProgress jobId="j1" aria-labelledby="gen-title" id="gen-bar" title="Generation" ref={ref} />
      </>,
    );
    await tick();
    const node = screen.getByRole('progressbar', { name: 'Generating your image' });
    expect(node.hasAttribute('aria-label')).toBe(false);
    expect(node.id).toBe('gen-bar');
    expect(node.title).toBe('Generation');
    expect(ref.current).toBe(node);
  });

  it('passes the hook options through: pollInterval, live and the callbacks', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    backend.start(id);
    const onComplete = vi.fn();
    const onStatusChange = vi.fn();
    renderWith(backend, <JobProgress jobId={id} live={false} pollInterval={100} onComplete={onComplete} onStatusChange={onStatusChange} />);
    await tick();
    backend.clearCalls();
    backend.complete(id);
    await tick(100);
    await tick(10_000);
    expect(bar().getAttribute('aria-valuetext')).toBe('Completed');
    expect(backend.calls.filter((c) => c.method === 'getStatus')).toHaveLength(1);
    expect(backend.calls.some((c) => c.method === 'subscribe')).toBe(false);
    expect(onComplete).toHaveBeenCalledTimes(1);
    expect(onStatusChange.mock.calls.map(([job]) => job.status)).toEqual(['processing', 'completed']);
  });
});

describe('useJobStatus eta (what JobProgress shows)', () => {
  function Probe({ jobId, seen }: { jobId: string; seen: Array<Date | null> }) {
    const { eta } = useJobStatus(jobId);
    seen.push(eta);
    return null;
  }

  it('keeps the same Date while the estimate hardly moves, and a new one when it does', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    backend.start(id);
    const seen: Array<Date | null> = [];
    renderWith(backend, <Probe jobId={id} seen={seen} />);
    await tick();
    for (let i = 1; i <= 8; i++) {
      act(() => void backend.progress(id, i * 0.02));
      await tick(2000);
    }
    const dates = seen.filter((d): d is Date => d !== null);
    expect(dates.length).toBeGreaterThan(5);
    // A steady pace: one estimate, one object, however many renders.
    expect(new Set(dates).size).toBe(1);

    // Twice as slow for a while: the estimate moves by far more than 5% of the time left.
    for (let i = 9; i <= 12; i++) {
      act(() => void backend.progress(id, i * 0.02));
      await tick(4000);
    }
    const later = seen.filter((d): d is Date => d !== null);
    expect(new Set(later).size).toBeGreaterThan(1);
    expect(later.at(-1)!.getTime()).toBeGreaterThan(dates[0]!.getTime() + 5000);
  });

  it("keeps the server's Date through changes that do not touch it", async () => {
    const eta = inMs(5 * MINUTE);
    const backend = createMemoryJobBackend({ jobs: [seed({ status: 'processing', progress: 0.1, estimatedCompletionAt: eta })] });
    const seen: Array<Date | null> = [];
    const { queryClient } = renderWith(backend, <Probe jobId="j1" seen={seen} />);
    await tick();
    const first = seen.at(-1);
    expect(first?.toISOString()).toBe(eta);

    const renders = seen.length;
    await tick(30_000);
    const newer = { ...backend.get('j1')!, progress: 0.2, progressMessage: 'Upscaling', version: 2, updatedAt: new Date().toISOString() };
    act(() => queryClient.setQueryData(jobKeys.status('j1'), newer));
    await tick();
    expect(seen.length).toBeGreaterThan(renders);
    expect(seen.at(-1)).toBe(first);
  });
});

describe('JobProgress on the server', () => {
  it('renders a prefetched job with its value, time left and variable, starting no timer and making no request', () => {
    const backend = createMemoryJobBackend();
    const queryClient = testQueryClient();
    queryClient.setQueryData(jobKeys.status('j1'), seed({ status: 'processing', progress: 0.45, estimatedCompletionAt: inMs(2 * MINUTE) }));

    const html = renderToString(
      <JobClientProvider client={backend} queryClient={queryClient}>
        <JobProgress jobId="j1" />
      </JobClientProvider>,
    );

    expect(html).toContain('role="progressbar"');
    expect(html).toContain('aria-valuenow="45"');
    expect(html).toContain('aria-valuetext="45%, about 2 minutes left"');
    expect(html).toContain('--jobwatch-progress:0.45');
    expect(html).toContain('data-state="processing"');
    expect(html).toContain('<span class="jobwatch-progress__value" aria-hidden="true">45%, about 2 minutes left</span>');
    expect(vi.getTimerCount()).toBe(0);
    expect(backend.calls).toHaveLength(0);
  });
});
