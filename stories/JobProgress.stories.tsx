import type { Decorator, Meta, StoryObj } from '@storybook/react-vite';
import { expect, waitFor, within } from 'storybook/test';
import { JobProgress } from '../src/components/JobProgress';
import type { JobProgressState } from '../src/components/JobProgress';
import type { JobProgressLabels } from '../src/components/progressLabels';
import { JobStatus } from '../src/index';
import { imageGeneration } from '../src/testing/index';
import { defaultsTable, jobProgressDefaults } from './support/docsDefaults';
import { seedJob, withJobBackend } from './support/jobwatch';

/**
 * `<JobProgress>`: one `role="progressbar"` element with an honest time left
 * in its `aria-valuetext`, shown below the track as text too ("45%, about 2
 * minutes left"; `aria-hidden`, so a screen reader hears it once), on a fresh
 * in-memory backend per story (`parameters.jobwatch`). Ready-made jobs keep
 * their state; scripted ones follow real time. The default stylesheet is on
 * (`.storybook/preview.tsx` imports `src/styles.css`): a grey track, a bar as
 * wide as `--jobwatch-progress`, a sweeping segment while the progress is
 * unknown, the value text in the muted colour.
 */
const meta = {
  title: 'Components/JobProgress',
  component: JobProgress,
  tags: ['autodocs'],
  argTypes: defaultsTable(jobProgressDefaults),
  decorators: [
    ((Story) => (
      <div style={{ maxWidth: '24rem', display: 'grid', gap: '0.75rem', fontFamily: 'system-ui, sans-serif' }}>
        <Story />
      </div>
    )) as Decorator,
    withJobBackend,
  ],
  args: { jobId: 'job-1', pollInterval: 1000 },
} satisfies Meta<typeof JobProgress>;

export default meta;
type Story = StoryObj<typeof meta>;

/** Above the first answer, with room for a slow, shared CI machine. */
const TIMEOUT = 5000;

/** Waits until the bar named `name` shows `state`, then returns it. */
async function findBar(canvasElement: HTMLElement, state: JobProgressState, name = 'Job progress'): Promise<HTMLElement> {
  const bar = within(canvasElement).getByRole('progressbar', { name });
  await waitFor(() => expect(bar).toHaveAttribute('data-state', state), { timeout: TIMEOUT });
  return bar;
}

/**
 * What every bar is: 0 to 100, not a live region, one filled part inside its
 * track, and the value text visible below it, saying what `aria-valuetext` says
 * (checked now and, for a changing value, each time the play checks it again).
 */
async function expectProgressbar(bar: HTMLElement) {
  await expect(bar).toHaveAttribute('aria-valuemin', '0');
  await expect(bar).toHaveAttribute('aria-valuemax', '100');
  await expect(bar).not.toHaveAttribute('aria-live');
  await expect(bar.closest('[aria-live]')).toBeNull();
  await expect(bar.querySelectorAll('.jobwatch-progress__track > .jobwatch-progress__bar')).toHaveLength(1);
  await expectValueText(bar);
}

/** The visible value text: shown, muted, below the track, the words of `aria-valuetext`, hidden from screen readers (they hear `aria-valuetext`). */
async function expectValueText(bar: HTMLElement, text = bar.getAttribute('aria-valuetext')) {
  const value = bar.querySelector('.jobwatch-progress__value') as HTMLElement;
  await expect(value).toBeVisible();
  await expect(value.textContent).toBe(text ?? '');
  await expect(value).toHaveAttribute('aria-hidden', 'true');
  await expect(getComputedStyle(value).color).toBe('rgb(75, 85, 99)');
  const track = bar.querySelector('.jobwatch-progress__track') as HTMLElement;
  await expect(value.getBoundingClientRect().top).toBeGreaterThanOrEqual(track.getBoundingClientRect().bottom);
}

/** The filled part is `fraction` of the track's width (once its width transition has run). */
async function expectFilled(bar: HTMLElement, fraction: number) {
  const fill = bar.querySelector('.jobwatch-progress__bar') as HTMLElement;
  const track = bar.querySelector('.jobwatch-progress__track') as HTMLElement;
  await waitFor(
    () => expect(Math.abs(fill.getBoundingClientRect().width - track.clientWidth * fraction)).toBeLessThanOrEqual(1),
    { timeout: TIMEOUT },
  );
}

/**
 * Running, with a time left estimated from the pace the browser observes (the
 * job sends no estimate): 1% every 1.2 s, two minutes in all. The estimate
 * appears once the pace is steady (three changes over 3 s and 2%).
 */
export const EstimatedTimeLeft: Story = {
  name: 'Estimated time left',
  parameters: { jobwatch: { jobs: [{ id: 'job-1', runningMs: 120_000, steps: 100 }] } },
  play: async ({ canvasElement }) => {
    const bar = await findBar(canvasElement, 'processing');
    await expectProgressbar(bar);
    await waitFor(() => expect(bar.getAttribute('aria-valuetext')).toMatch(/^\d+%$/), { timeout: TIMEOUT });
    await waitFor(() => expect(bar.getAttribute('aria-valuetext')).toMatch(/^\d+%, about 2 minutes left$/), { timeout: 8000 });
    const percent = Number(bar.getAttribute('aria-valuenow'));
    await expect(bar.getAttribute('aria-valuetext')).toBe(`${percent}%, about 2 minutes left`);
    await expectValueText(bar, `${percent}%, about 2 minutes left`);
    await expect(Number(bar.style.getPropertyValue('--jobwatch-progress'))).toBeCloseTo(percent / 100, 1);
  },
};

/** Running, with the server's own estimate (`estimatedCompletionAt`), shown at once. */
export const ServerEstimate: Story = {
  name: 'Server estimate',
  parameters: { jobwatch: { jobs: [{ id: 'job-1', runningMs: 120_000, steps: [{ progress: 0.45 }], reportEta: true }] } },
  play: async ({ canvasElement }) => {
    const bar = await findBar(canvasElement, 'processing');
    await expectProgressbar(bar);
    await expect(bar).toHaveAttribute('aria-valuenow', '45');
    await expect(bar).toHaveAttribute('aria-valuetext', '45%, about 2 minutes left');
    await expectValueText(bar, '45%, about 2 minutes left');
    await expect(bar.style.getPropertyValue('--jobwatch-progress')).toBe('0.45');
    await expectFilled(bar, 0.45);
  },
};

/**
 * Running, amount unknown: no `aria-valuenow` (as React Aria does), the state
 * as text, a segment sweeping across the track (held still, striped, under
 * `prefers-reduced-motion`).
 */
export const Indeterminate: Story = {
  parameters: { jobwatch: { jobs: [seedJob('job-1', 'processing', { progress: null })] } },
  play: async ({ canvasElement }) => {
    const bar = await findBar(canvasElement, 'processing');
    await expectProgressbar(bar);
    await expect(bar).not.toHaveAttribute('aria-valuenow');
    await expect(bar).toHaveAttribute('aria-valuetext', 'Processing');
    await expect(bar.style.getPropertyValue('--jobwatch-progress')).toBe('');
    const fill = bar.querySelector('.jobwatch-progress__bar') as HTMLElement;
    await expect(getComputedStyle(fill).animationName).toBe('jobwatch-progress-sweep');
    // The stylesheet holds it still for reduced motion, and draws the bar in system colours when forced.
    const still = mediaStyles('prefers-reduced-motion: reduce', 'aria-valuenow');
    await expect(still.map((style) => style.animationName)).toContain('none');
    const forced = mediaStyles('forced-colors: active', 'jobwatch-progress__bar');
    await expect(forced.map((style) => style.backgroundColor.toLowerCase())).toContain('highlight');
  },
};

/** The declarations of the stylesheet rules under `@media (<condition>)` whose selector mentions `text`. */
function mediaStyles(condition: string, text: string): CSSStyleDeclaration[] {
  const found: CSSStyleDeclaration[] = [];
  for (const sheet of Array.from(document.styleSheets)) {
    for (const rule of Array.from(sheet.cssRules)) {
      if (!(rule instanceof CSSMediaRule) || !rule.conditionText.includes(condition)) continue;
      for (const inner of Array.from(rule.cssRules)) {
        if (inner instanceof CSSStyleRule && inner.selectorText.includes(text)) found.push(inner.style);
      }
    }
  }
  return found;
}

/** Queued: no value, nothing moves, the state as text. */
export const Queued: Story = {
  parameters: { jobwatch: { jobs: [seedJob('job-1', 'pending')] } },
  play: async ({ canvasElement }) => {
    const bar = await findBar(canvasElement, 'pending');
    await expectProgressbar(bar);
    await expect(bar).not.toHaveAttribute('aria-valuenow');
    await expect(bar).toHaveAttribute('aria-valuetext', 'Queued');
    const fill = bar.querySelector('.jobwatch-progress__bar') as HTMLElement;
    await expect(getComputedStyle(fill).animationName).toBe('none');
  },
};

/**
 * Progress that stops: 1% every 250 ms up to 16%, then nothing. The estimate
 * ("less than a minute left") shows once the pace is steady and goes away
 * 5 s after the last change, since it would no longer be honest; the percent stays.
 */
export const Stalled: Story = {
  parameters: {
    jobwatch: {
      jobs: [
        {
          id: 'job-1',
          runningMs: 60_000,
          steps: Array.from({ length: 240 }, (_, i) => ({ progress: Math.min(i, 16) / 100 })),
        },
      ],
    },
  },
  play: async ({ canvasElement }) => {
    const bar = await findBar(canvasElement, 'processing');
    await expectProgressbar(bar);
    await waitFor(() => expect(bar.getAttribute('aria-valuetext')).toMatch(/^\d+%, less than a minute left$/), { timeout: 6000 });
    await waitFor(() => expect(bar).toHaveAttribute('aria-valuetext', '16%'), { timeout: 8000 });
    await expect(bar).toHaveAttribute('aria-valuenow', '16');
    await expectValueText(bar, '16%');
  },
};

/** Done: 100, the bar full and green. */
export const Completed: Story = {
  parameters: { jobwatch: { jobs: [seedJob('job-1', 'completed', { progress: 1 })] } },
  play: async ({ canvasElement }) => {
    const bar = await findBar(canvasElement, 'completed');
    await expectProgressbar(bar);
    await expect(bar).toHaveAttribute('aria-valuenow', '100');
    await expect(bar).toHaveAttribute('aria-valuetext', 'Completed');
    await expect(bar.style.getPropertyValue('--jobwatch-progress')).toBe('1');
    await expectFilled(bar, 1);
    const fill = bar.querySelector('.jobwatch-progress__bar') as HTMLElement;
    await expect(getComputedStyle(fill).backgroundColor).toBe('rgb(21, 128, 61)');
  },
};

/** Failed at 60%: the bar stays where it stopped, red; the text says it failed. */
export const Failed: Story = {
  parameters: {
    jobwatch: { jobs: [seedJob('job-1', 'failed', { progress: 0.6, retryCount: 3, maxRetries: 3, error: { message: 'The image model did not answer within 2 minutes.' } })] },
  },
  play: async ({ canvasElement }) => {
    const bar = await findBar(canvasElement, 'failed');
    await expectProgressbar(bar);
    await expect(bar).toHaveAttribute('aria-valuenow', '60');
    await expect(bar).toHaveAttribute('aria-valuetext', 'Failed');
    await expectFilled(bar, 0.6);
    const fill = bar.querySelector('.jobwatch-progress__bar') as HTMLElement;
    await expect(getComputedStyle(fill).backgroundColor).toBe('rgb(220, 38, 38)');
  },
};

/**
 * A live image generation (`imageGeneration()`: queued 1.5 s, then 8 s in four
 * steps, with the server's estimate), named by its visible heading, beside a
 * `<JobStatus>`: the status region announces each change of state, the
 * progress bar (not a live region) is read when the user gets to it.
 */
export const LiveGeneration: Story = {
  name: 'Live image generation',
  parameters: { jobwatch: { jobs: [imageGeneration({ id: 'job-1' })] } },
  render: (args) => (
    <>
      <h3 id="generation-title" style={{ margin: 0, fontSize: '1rem' }}>
        Generating your image
      </h3>
      <JobProgress {...args} aria-labelledby="generation-title" />
      <JobStatus jobId={args.jobId} detailed />
    </>
  ),
  play: async ({ canvasElement }) => {
    const name = 'Generating your image';
    const bar = await findBar(canvasElement, 'pending', name);
    await expectProgressbar(bar);
    await expect(bar).not.toHaveAttribute('aria-label');
    await expect(bar).toHaveAttribute('aria-valuetext', 'Queued');

    await waitFor(() => expect(bar).toHaveAttribute('data-state', 'processing'), { timeout: TIMEOUT });
    await expect(bar.getAttribute('aria-valuetext')).toMatch(/^\d+%, less than a minute left$/);
    await waitFor(() => expect(bar).toHaveAttribute('aria-valuetext', '50%, less than a minute left'), { timeout: 8000 });

    await waitFor(() => expect(bar).toHaveAttribute('data-state', 'completed'), { timeout: 8000 });
    await expect(bar).toHaveAttribute('aria-valuetext', 'Completed');
    await expectValueText(bar, 'Completed');
    await expect(bar).toHaveAttribute('aria-valuenow', '100');
    await expect(within(canvasElement).getByRole('status')).toHaveTextContent('Completed');
    await expect(within(canvasElement).getAllByRole('progressbar')).toHaveLength(1);
  },
};

const frenchLabels: Partial<JobProgressLabels> = {
  pending: 'En attente',
  processing: 'En cours',
  completed: 'Terminé',
  failed: 'Échec',
  cancelled: 'Annulé',
  percent: (percent) => `${percent} %`,
  timeLeft: (ms) => {
    const minutes = Math.round(ms / 60_000);
    return ms < 60_000 ? 'moins d’une minute restante' : `environ ${minutes} minute${minutes > 1 ? 's' : ''} restante${minutes > 1 ? 's' : ''}`;
  },
};

/** Every text replaced through `labels` (here French), the accessible name through `aria-label`. */
export const CustomLabels: Story = {
  name: 'Custom labels (French)',
  args: { 'aria-label': 'Génération de l’image', labels: frenchLabels },
  parameters: { jobwatch: { jobs: [{ id: 'job-1', runningMs: 300_000, steps: [{ progress: 0.45 }], reportEta: true }] } },
  render: (args) => (
    <div lang="fr">
      <JobProgress {...args} />
    </div>
  ),
  play: async ({ canvasElement }) => {
    const bar = await findBar(canvasElement, 'processing', 'Génération de l’image');
    await expectProgressbar(bar);
    await expect(bar).toHaveAttribute('aria-valuetext', '45 %, environ 5 minutes restantes');
    await expectValueText(bar, '45 %, environ 5 minutes restantes');
  },
};

/** `showValueText={false}`: a bare bar, for a layout that shows the value elsewhere; `aria-valuetext` stays. */
export const WithoutValueText: Story = {
  name: 'Without value text',
  args: { showValueText: false },
  parameters: { jobwatch: { jobs: [{ id: 'job-1', runningMs: 120_000, steps: [{ progress: 0.45 }], reportEta: true }] } },
  play: async ({ canvasElement }) => {
    const bar = await findBar(canvasElement, 'processing');
    await expect(bar).toHaveAttribute('aria-valuetext', '45%, about 2 minutes left');
    await expect(bar.querySelector('.jobwatch-progress__value')).toBeNull();
    await expect(bar.textContent).toBe('');
    await expectFilled(bar, 0.45);
  },
};

/**
 * `valueLabel` replaces what is shown (here the percent alone, and the job's own
 * progress message), not what is heard: screen readers still get the
 * `aria-valuetext` sentence.
 */
export const CustomValueLabel: Story = {
  name: 'Custom value label',
  args: {
    valueLabel: ({ percent, job }) => (percent === null ? 'Working…' : `${percent} / 100 — ${job?.progressMessage ?? ''}`),
  },
  parameters: { jobwatch: { jobs: [seedJob('job-1', 'processing', { progress: 0.3, progressMessage: 'Upscaling' })] } },
  play: async ({ canvasElement }) => {
    const bar = await findBar(canvasElement, 'processing');
    await expect(bar).toHaveAttribute('aria-valuetext', '30%');
    await expectValueText(bar, '30 / 100 — Upscaling');
  },
};
