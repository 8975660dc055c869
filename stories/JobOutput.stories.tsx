import type { Decorator, Meta, StoryContext, StoryObj } from '@storybook/react-vite';
import { expect, userEvent, waitFor, within } from 'storybook/test';
import { JobOutput, JobStatus } from '../src/index';
import { JobProgress } from '../src/components/JobProgress';
import type { MemoryJobBackend } from '../src/testing/index';
import { DEFAULT_STORED_OUTPUT_PARTS } from '../src/contract/output';
import { defaultsTable } from './support/docsDefaults';
import { accessibleText, seedJob } from './support/jobwatch';
import {
  FINAL_ALT,
  FINAL_URL,
  hostileOutputClient,
  joinedText,
  outputBackend,
  outputStory,
  PREVIEW_ALT,
  PREVIEW_URL,
  serverParts,
  STEP_LOG,
  STORY_TEXT,
  UNSAFE_URLS,
} from './support/output';
import { WRITER_KEY, WriterPage } from './support/outputPage';
import { record } from './support/projectPageQueries';
import { ReloadableTab } from './support/reload';

/**
 * `<JobOutput>`: what a job has produced so far — tokens of a text, log
 * lines, a preview image replaced by the final one — in one `role="log"`
 * element, beside the job's status, on the same connection, on a fresh
 * in-memory backend per story whose scripts emit output while they run
 * (`JobSpec.output`). Text is rendered as text; a screen reader hears whole
 * sentences and lines, not tokens; images are shown only from http(s) and
 * `data:image` URLs, with alt text.
 *
 * The "Generate text", "Step log" and "Preview image" stories are showcases;
 * the others are tests (tagged out of the sidebar and docs).
 */
const meta = {
  title: 'Components/JobOutput',
  component: JobOutput,
  tags: ['autodocs'],
  argTypes: defaultsTable({ maxParts: String(DEFAULT_STORED_OUTPUT_PARTS), labels: 'English texts' }),
  ...outputBackend,
  decorators: [
    ((Story) => (
      <div style={{ maxWidth: '36rem', display: 'grid', gap: '0.75rem', fontFamily: 'system-ui, sans-serif' }}>
        <Story />
      </div>
    )) as Decorator,
    ...outputBackend.decorators,
  ],
  args: { jobId: 'job-1' },
} satisfies Meta<typeof JobOutput>;

export default meta;
type Story = StoryObj<typeof meta>;

/** Above the scripted timings, with room for a slow, shared CI machine. */
const TIMEOUT = 8000;

/** The output log named `name`, once it is on the page. */
async function findLog(canvasElement: HTMLElement, name = 'Job output'): Promise<HTMLElement> {
  return within(canvasElement).findByRole('log', { name }, { timeout: TIMEOUT });
}

/** The text a log shows (its committed and not-yet-announced parts alike). */
const shownText = (log: HTMLElement) => log.textContent ?? '';

/** The log's `data-state`, each time it changes. */
const recordState = (log: HTMLElement) => record(log, () => log.dataset.state ?? '', { attributes: true, attributeFilter: ['data-state'] });

/** The log's shown text and its announced text (without `aria-hidden` parts), each time they change. */
function recordText(log: HTMLElement) {
  const options = { childList: true, characterData: true, subtree: true };
  return { shown: record(log, () => shownText(log), options), announced: record(log, () => accessibleText(log), options) };
}

/** Every value is a prefix of the next: the text only ever grows, never rewrites or repeats what it showed. */
async function expectGrowing(texts: readonly string[], full: string) {
  for (const [i, text] of texts.entries()) {
    await expect(full.startsWith(text), `shown text ${i} is a prefix of the server's text: ${JSON.stringify(text)}`).toBe(true);
    if (i > 0) await expect(text.startsWith(texts[i - 1]!)).toBe(true);
  }
}

/** The story's job, as the play function needs it (the server's parts, its call log). */
const server = (context: Pick<StoryContext, 'loaded'>) => outputStory(context).backend;

/**
 * A language model writing a story: tokens stream into `<JobOutput>` while
 * `<JobStatus>` and `<JobProgress>` of the same job follow its state, all on
 * one watcher. The log's text grows token by token (`data-state="streaming"`);
 * its live region announces whole sentences only; at the end the text is
 * exactly the server's and the state `done`.
 */
export const GenerateText: Story = {
  name: 'Generate text',
  parameters: {
    jobwatch: {
      jobs: [{ id: 'job-1', queuedMs: 800, runningMs: 4500, steps: ['Thinking', 'Writing', 'Writing', 'Checking'], reportEta: true, output: { text: STORY_TEXT } }],
    },
  },
  render: (args) => (
    <>
      <h3 id="generate-title" style={{ margin: 0, fontSize: '1rem' }}>
        Writing a short story
      </h3>
      <JobStatus jobId={args.jobId} detailed />
      <JobProgress jobId={args.jobId} aria-labelledby="generate-title" />
      <JobOutput {...args} />
    </>
  ),
  play: async (context) => {
    const { canvasElement, step } = context;
    const canvas = within(canvasElement);
    const log = await findLog(canvasElement);
    const states = recordState(log);
    const texts = recordText(log);

    await step('One log element, polite, named, beside the status and the progress bar', async () => {
      await expect(log).toHaveAttribute('aria-live', 'polite');
      await expect(canvas.getAllByRole('log')).toHaveLength(1);
      await expect(canvas.getByRole('status')).toBeVisible();
      await expect(canvas.getByRole('progressbar', { name: 'Writing a short story' })).toBeVisible();
    });

    await step('Tokens stream in: the text grows while the job is processing', async () => {
      await waitFor(() => expect(log).toHaveAttribute('data-state', 'streaming'), { timeout: TIMEOUT });
      await waitFor(() => expect(shownText(log).length).toBeGreaterThan(40), { timeout: TIMEOUT });
      await expect(canvas.getByRole('status')).toHaveAttribute('data-state', 'processing');
    });

    await step('Done: the text is the server’s, token for token', async () => {
      await waitFor(() => expect(log).toHaveAttribute('data-state', 'done'), { timeout: TIMEOUT });
      states.stop();
      texts.shown.stop();
      texts.announced.stop();
      const full = joinedText(await serverParts(server(context), 'job-1'));
      await expect(full).toBe(STORY_TEXT);
      await expect(shownText(log)).toBe(full);
      await expect(accessibleText(log)).toBe(full.replace(/\s+/g, ' ').trim());
      await expect(canvas.getByRole('status')).toHaveAttribute('data-state', 'completed');
      await expect(canvas.getByRole('progressbar', { name: 'Writing a short story' })).toHaveAttribute('aria-valuenow', '100');
    });

    await step('It grew token by token, and went streaming → done', async () => {
      const shown = texts.shown.seen.filter((text) => text !== '');
      await expect(shown.length).toBeGreaterThanOrEqual(10);
      await expectGrowing(shown, STORY_TEXT);
      const seen = states.seen;
      await expect(seen.indexOf('streaming')).toBeGreaterThanOrEqual(0);
      await expect(seen.at(-1)).toBe('done');
      await expect(seen.indexOf('done')).toBeGreaterThan(seen.indexOf('streaming'));
    });

    await step('Screen readers hear sentences, not tokens', async () => {
      const sentences = STORY_TEXT.split(/(?<=[.!?])\s+/).length;
      const announced = texts.announced.seen.filter((text) => text !== '');
      // Each announced text ends a sentence (or is the whole text); far fewer of them than tokens.
      for (const text of announced) await expect(text).toMatch(/[.!?…]$/);
      await expect(announced.length).toBeLessThanOrEqual(sentences);
      await expect(announced.length).toBeLessThan(texts.shown.seen.length / 3);
    });
  },
};

/** A job's log: one line per `log` part, in order, as the steps run. */
export const StepLog: Story = {
  name: 'Step log',
  args: { labels: { label: 'Generation log' } },
  parameters: {
    jobwatch: {
      jobs: [
        {
          id: 'job-1',
          queuedMs: 300,
          runningMs: 3200,
          steps: 4,
          output: STEP_LOG.map((text, i) => ({ atMs: i * 400, part: { kind: 'log' as const, text } })),
        },
      ],
    },
  },
  render: (args) => (
    <>
      <JobStatus jobId={args.jobId} detailed />
      <JobOutput {...args} />
    </>
  ),
  play: async (context) => {
    const { canvasElement } = context;
    const log = await findLog(canvasElement, 'Generation log');
    const lines = () => log.innerText.split('\n').filter((line) => line !== '');
    const seen = record(log, () => String(lines().length), { childList: true, characterData: true, subtree: true });
    await waitFor(() => expect(lines().length).toBeGreaterThanOrEqual(2), { timeout: TIMEOUT });
    // Each line shown is the next line of the log, whole.
    await expect(STEP_LOG.slice(0, lines().length)).toEqual(lines());
    await waitFor(() => expect(log).toHaveAttribute('data-state', 'done'), { timeout: TIMEOUT });
    seen.stop();
    const parts = await serverParts(server(context), 'job-1');
    await expect(parts.map((part) => part.kind)).toEqual(STEP_LOG.map(() => 'log'));
    await expect(lines()).toEqual(parts.map((part) => part.text));
    await expect(lines()).toEqual(STEP_LOG);
    // The lines arrived over time, not all at once.
    await expect(seen.seen.length).toBeGreaterThanOrEqual(4);
    await expect(within(canvasElement).getByRole('status')).toHaveAttribute('data-state', 'completed');
  },
};

/** The log's one image (a newer image part replaces the earlier preview), or null. */
const shownImage = (log: HTMLElement) => {
  const images = log.querySelectorAll('img');
  if (images.length > 1) throw new Error(`the log shows ${images.length} images, not one`);
  return images[0] ?? null;
};

/**
 * An image generation: a low-resolution preview while it runs, replaced by
 * the final image when it is ready, both with alt text (both are `data:`
 * URLs here, so nothing leaves the page).
 */
export const PreviewImage: Story = {
  name: 'Preview image',
  args: { labels: { label: 'Image preview' } },
  parameters: {
    jobwatch: {
      jobs: [
        {
          id: 'job-1',
          queuedMs: 300,
          runningMs: 3000,
          steps: ['Sampling', 'Upscaling'],
          output: [
            { atMs: 200, part: { kind: 'image' as const, url: PREVIEW_URL, alt: PREVIEW_ALT } },
            { atMs: 2600, part: { kind: 'image' as const, url: FINAL_URL, alt: FINAL_ALT } },
          ],
        },
      ],
    },
  },
  render: (args) => (
    <>
      <JobStatus jobId={args.jobId} detailed />
      <JobOutput {...args} style={{ maxWidth: '16rem' }} />
    </>
  ),
  play: async ({ canvasElement }) => {
    const log = await findLog(canvasElement, 'Image preview');
    const sources = record(log, () => shownImage(log)?.getAttribute('src') ?? '', { childList: true, subtree: true, attributes: true });
    await waitFor(() => expect(shownImage(log)).toHaveAttribute('src', PREVIEW_URL), { timeout: TIMEOUT });
    await expect(shownImage(log)).toHaveAttribute('alt', PREVIEW_ALT);
    await expect(within(log).getByRole('img', { name: PREVIEW_ALT })).toBeVisible();
    await waitFor(() => expect(shownImage(log)).toHaveAttribute('src', FINAL_URL), { timeout: TIMEOUT });
    await expect(within(log).getByRole('img', { name: FINAL_ALT })).toBeVisible();
    await waitFor(() => expect(log).toHaveAttribute('data-state', 'done'), { timeout: TIMEOUT });
    sources.stop();
    // Preview, then the final image in its place: never both, never anything else.
    await expect(sources.seen.filter((src) => src !== '')).toEqual([PREVIEW_URL, FINAL_URL]);
    const img = shownImage(log)!;
    await waitFor(() => expect(img.complete && img.naturalWidth > 0).toBe(true), { timeout: TIMEOUT });
  },
};

/**
 * A server that sends image parts with `javascript:` and `data:text/html`
 * URLs after a safe preview: the page never renders them (no element points
 * at them), the preview stays, and the log reports the broken part.
 */
export const UnsafeImageUrl: Story = {
  name: 'Unsafe image URL',
  tags: ['!dev', '!autodocs', 'test'],
  args: { labels: { label: 'Image preview' } },
  parameters: {
    jobwatch: {
      jobs: [seedJob('job-1', 'processing', { progress: 0.5 })],
      client: (backend: MemoryJobBackend) =>
        hostileOutputClient(backend, 'job-1', [
          { seq: 1, kind: 'image', url: PREVIEW_URL, alt: PREVIEW_ALT, at: new Date().toISOString() },
          ...UNSAFE_URLS.map((url, i) => ({ seq: i + 2, kind: 'image', url, alt: 'A harmless picture', at: new Date().toISOString() })),
        ]),
    },
  },
  render: (args) => <JobOutput {...args} />,
  play: async ({ canvasElement }) => {
    const log = await findLog(canvasElement, 'Image preview');
    await waitFor(() => expect(shownImage(log)).toHaveAttribute('src', PREVIEW_URL), { timeout: TIMEOUT });
    // The unsafe parts arrive 300 ms and 600 ms later; the log reports the one that broke the contract.
    await waitFor(() => expect(log).toHaveAttribute('data-state', 'error'), { timeout: TIMEOUT });
    await new Promise((resolve) => setTimeout(resolve, 700));
    await expect(shownImage(log)).toHaveAttribute('src', PREVIEW_URL);
    await expect(shownImage(log)).toHaveAttribute('alt', PREVIEW_ALT);
    const html = canvasElement.innerHTML.toLowerCase();
    await expect(html).not.toContain('javascript:');
    await expect(html).not.toContain('data:text/html');
    await expect(within(canvasElement).queryByRole('img', { name: 'A harmless picture' })).toBeNull();
  },
};

/** Story texts shown by the writer page, each time they change. */
const writerLog = (canvasElement: HTMLElement) => within(canvasElement).getByRole('log', { name: 'Job output' });

/**
 * A reload while the story is being written: "Reload page" mounts the page
 * again (new provider, new watcher, new QueryClient; same server and tab
 * storage). The page reads the tracked id back, and the output goes on from
 * where it was: every text shown after the reload is a prefix of the
 * server's, so no token is shown twice, and it ends equal to the server's parts.
 */
export const ReloadMidStream: Story = {
  name: 'Reload mid-stream',
  tags: ['!dev', '!autodocs', 'test'],
  render: () => <ReloadableTab frame="instrumented">{(storage) => <WriterPage storage={storage} runningMs={4000} />}</ReloadableTab>,
  play: async (context) => {
    const { canvasElement, step } = context;
    const canvas = within(canvasElement);
    let before = '';
    await step('Write a story: tokens stream in, the id is tracked in the tab’s storage', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Write a story' }));
      await waitFor(() => expect(shownText(writerLog(canvasElement)).length).toBeGreaterThan(60), { timeout: TIMEOUT });
      // The id is kept, and (about once a second) the last part shown with it.
      await waitFor(() => expect(canvas.getByTestId('tab-storage')).toHaveTextContent(new RegExp(`jobwatch:tracked:${WRITER_KEY} = \\["job_1",\\{"seq":\\{"job_1":\\d+\\}\\}\\]`)), { timeout: TIMEOUT });
      before = shownText(writerLog(canvasElement));
      await expect(STORY_TEXT.startsWith(before)).toBe(true);
      // Mid-stream: part of the story is shown, the job still writing.
      await expect(before.length).toBeLessThan(STORY_TEXT.length);
      await expect(canvas.getByRole('status')).toHaveAttribute('data-state', 'processing');
    });

    const first = writerLog(canvasElement);
    await step('Reload page, mid-stream', async () => {
      await userEvent.click(canvas.getByRole('button', { name: 'Reload page' }));
      await waitFor(() => expect(canvas.getByTestId('page-load')).toHaveTextContent('Page load 2'), { timeout: TIMEOUT });
      await expect(first.isConnected).toBe(false);
    });

    await step('It resumes: the text only grows, no token twice, and ends equal to the server’s', async () => {
      const log = await findLog(canvasElement);
      const texts = record(log, () => shownText(log), { childList: true, characterData: true, subtree: true });
      await waitFor(() => expect(log).toHaveAttribute('data-state', 'done'), { timeout: TIMEOUT });
      texts.stop();
      const parts = await serverParts(server(context), server(context).jobs()[0]!.id);
      const full = joinedText(parts);
      await expect(full).toBe(STORY_TEXT);
      await expectGrowing(texts.seen.filter((text) => text !== ''), full);
      await expect(shownText(log)).toBe(full);
      // The job is still followed after the reload: it finished under the second page load.
      await expect(canvas.getByRole('status')).toHaveAttribute('data-state', 'completed');
      await expect(new Set(parts.map((part) => part.seq)).size).toBe(parts.length);
    });
  },
};

/**
 * The same reload with `maxParts={12}`: the page keeps the newest 12 parts,
 * so after the reload it asks the server only for parts from 12 before the
 * last one it had shown (the tracked last `seq`), not for the whole output.
 */
export const ReloadMidStreamBounded: Story = {
  name: 'Reload mid-stream, 12 parts kept',
  tags: ['!dev', '!autodocs', 'test'],
  render: () => <ReloadableTab frame="instrumented">{(storage) => <WriterPage storage={storage} runningMs={4000} maxParts={12} />}</ReloadableTab>,
  play: async (context) => {
    const { canvasElement } = context;
    const canvas = within(canvasElement);
    const backend = server(context);
    await userEvent.click(canvas.getByRole('button', { name: 'Write a story' }));
    await waitFor(() => expect(backend.jobs()[0]?.status).toBe('processing'), { timeout: TIMEOUT });
    const id = backend.jobs()[0]!.id;
    // The tab's storage keeps, with the tracked id, the last part shown (written about once a second): past 20 before reloading.
    const storedSeq = () => Number(new RegExp(`"seq":\\{"${id}":(\\d+)\\}`).exec(canvas.getByTestId('tab-storage').textContent ?? '')?.[1] ?? 0);
    await waitFor(() => expect(storedSeq()).toBeGreaterThan(20), { timeout: TIMEOUT });
    const shownBefore = storedSeq();
    await expect(canvas.getByRole('status')).toHaveAttribute('data-state', 'processing');
    const callsBefore = backend.calls.length;
    await userEvent.click(canvas.getByRole('button', { name: 'Reload page' }));
    await waitFor(() => expect(canvas.getByTestId('page-load')).toHaveTextContent('Page load 2'), { timeout: TIMEOUT });

    const log = await findLog(canvasElement);
    await waitFor(() => expect(log).toHaveAttribute('data-state', 'done'), { timeout: TIMEOUT });
    // What the second page load asked for: output after a resume point, never from the start.
    const asked = backend.calls
      .slice(callsBefore)
      .filter((call) => call.method === 'subscribeOutput' || call.method === 'readOutput')
      .map((call) => (call.args[1] as { after?: number } | undefined)?.after ?? 0);
    await expect(asked.length).toBeGreaterThan(0);
    await expect(Math.min(...asked)).toBeGreaterThanOrEqual(shownBefore - 12);
    const parts = await serverParts(backend, id);
    await expect(shownText(log)).toBe(joinedText(parts.slice(-12)));
  },
};

/**
 * A log longer than the log's height (the stylesheet's
 * `--jobwatch-output-max-height`, 20rem): it scrolls, so it must be reachable
 * by keyboard to be scrolled without a mouse (axe: scrollable-region-focusable).
 * `<JobOutput>` is focusable (`tabIndex={0}`) for that; the play checks it.
 */
export const LongLog: Story = {
  name: 'Long log (scrolls)',
  tags: ['!dev', '!autodocs', 'test'],
  args: { labels: { label: 'Build log' } },
  parameters: {
    jobwatch: {
      jobs: [
        {
          id: 'job-1',
          runningMs: 1500,
          output: Array.from({ length: 60 }, (_, i) => ({ atMs: i * 20, part: { kind: 'log' as const, text: `Step ${i + 1} of 60: ok` } })),
        },
      ],
    },
  },
  render: (args) => <JobOutput {...args} />,
  play: async ({ canvasElement }) => {
    const log = await findLog(canvasElement, 'Build log');
    await waitFor(() => expect(log).toHaveAttribute('data-state', 'done'), { timeout: TIMEOUT });
    await expect(log.innerText.split('\n').filter((line) => line !== '')).toEqual(Array.from({ length: 60 }, (_, i) => `Step ${i + 1} of 60: ok`));
    await expect(log.scrollHeight).toBeGreaterThan(log.clientHeight);
    await userEvent.tab();
    await expect(log).toHaveFocus();
  },
};
