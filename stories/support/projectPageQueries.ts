import { expect, waitFor, within } from 'storybook/test';

/** The earlier image the Project page stories' backend starts with. */
export const EARLIER_ALT = 'Generated image: A lighthouse at dusk';
/** Comfortably above the scripted timings of the tested stories, for a slow, shared CI machine. */
export const TIMEOUT = 5000;

/**
 * The page's parts, looked up now: call it again after "Reload page", which
 * mounts new elements.
 */
export function projectPage(canvasElement: HTMLElement) {
  const canvas = within(canvasElement);
  const images = () => within(canvas.getByRole('region', { name: 'Images' })).queryAllByRole('img');
  const history = () => within(canvas.getByRole('list', { name: 'Project jobs' })).queryAllByRole('listitem');
  return {
    canvas,
    status: canvas.getByRole('status'),
    /** The progress bar; hidden (`display: none`, without an accessible name) while idle, so looked up with `hidden`. */
    progress: canvas.getByRole('progressbar', { hidden: true }),
    jobsLink: canvas.getByRole('link', { name: /^Jobs/ }),
    images,
    alts: () => images().map((img) => img.getAttribute('alt')),
    history,
    historyTexts: () => history().map((row) => row.textContent),
    /** What the tab's storage holds, as the tab bar shows it. */
    stored: () => canvas.getByTestId('tab-storage').textContent,
    /** Waits for the images query's first answer: the earlier image. */
    async imagesLoaded() {
      await waitFor(() => expect(images().map((img) => img.getAttribute('alt'))).toEqual([EARLIER_ALT]), { timeout: TIMEOUT });
    },
  };
}

/** Every distinct value of `read()` as `target` changes (by a MutationObserver), until `stop()`. */
export function record(target: Node, read: () => string, options: MutationObserverInit) {
  const seen: string[] = [];
  const note = () => {
    const value = read();
    if (seen.at(-1) !== value) seen.push(value);
  };
  note();
  const observer = new MutationObserver(note);
  observer.observe(target, options);
  return {
    seen,
    stop() {
      note();
      observer.disconnect();
    },
  };
}

/** The progress bar's `data-state|aria-valuenow|aria-valuetext`, each time it changes. */
export function recordProgress(bar: HTMLElement) {
  return record(
    bar,
    () => `${bar.dataset.state}|${bar.getAttribute('aria-valuenow') ?? ''}|${bar.getAttribute('aria-valuetext') ?? ''}`,
    { attributes: true, attributeFilter: ['data-state', 'aria-valuenow', 'aria-valuetext'] },
  );
}
