import type { Decorator, StoryContext } from '@storybook/react-vite';
import { setupWorker, type SetupWorker } from 'msw/browser';
import { createFetchJobClient } from '../../src/index';
import type { FetchJobClient } from '../../src/index';
import { createJobHandlers } from '../../src/msw/index';
import type { MemoryJobBackend } from '../../src/testing/index';
import { createStoryBackend, StoryJobRoot, type JobwatchStoryParameters } from './jobwatch';

/**
 * Stories over real HTTP in the browser:
 *
 *   createFetchJobClient({ baseUrl: '/api/jobs' })
 *     → fetch → MSW's service worker (public/mockServiceWorker.js)
 *     → createJobHandlers({ backend, baseUrl: '/api/jobs' }) → createJobHandler (jobwatch/server)
 *     → the story's in-memory backend
 *
 * so the page reads jobs, counts and the `GET /api/jobs/events?ids=…` push
 * stream through the same REST contract an app's server serves.
 *
 * Spread {@link httpJobBackend} into a meta: its loader creates a fresh backend
 * (configured by `parameters.jobwatch`, as with `withJobBackend`), makes the
 * page's one worker serve it and creates the story's fetch client; its
 * decorator mounts the backend (`useStoryBackend()`, for "Generate" buttons) and
 * a `JobClientProvider` with the fetch client and a fresh QueryClient; its
 * `beforeEach` cleanup takes the handlers down when the story goes away.
 * A play function reads the story's backend, client and request log with
 * {@link httpStory}.
 */

/** Where the stories' REST contract is served (and where their fetch client points). */
export const HTTP_BASE_URL = '/api/jobs';

/** One request the worker saw under {@link HTTP_BASE_URL}. */
export interface RecordedRequest {
  method: string;
  /** Path and query as sent, e.g. `/api/jobs/events?ids=job_2`. */
  url: string;
  /** The request's `accept` header (`text/event-stream` for the push stream). */
  accept: string | null;
  /** `performance.now()` when the worker handed the request to the page. */
  at: number;
}

/** What a story served over HTTP gets, as `loaded.jobwatchHttp`. */
export interface HttpStory {
  /** The story's own backend, behind the handlers. */
  backend: MemoryJobBackend;
  /** The fetch client the page uses, pointed at {@link HTTP_BASE_URL}. */
  client: FetchJobClient;
  /** Every request under {@link HTTP_BASE_URL} the worker received for this story, in order. */
  requests: readonly RecordedRequest[];
}

interface PageWorker {
  worker: SetupWorker;
  /** Disposes the story whose handlers are installed, if any. */
  active: (() => void) | null;
}

/** Per story: stops recording and, while its handlers are the worker's, removes them. */
const disposers = new WeakMap<HttpStory, () => void>();

/**
 * The page's one MSW worker, created and started on first use and reused by
 * every story rendered in this page (Storybook's preview iframe, or one
 * Vitest browser test file).
 *
 * Why one per page and not one per story: the service worker registration
 * belongs to the origin, and `setupWorker()` answers the worker's messages for
 * the whole page through `navigator.serviceWorker`; two instances in one page
 * would both answer the same intercepted request. Starting it is also the slow
 * part (registering and activating the service worker). So the worker lives as
 * long as the page, while everything with state — the backend, the handlers
 * serving it, the fetch client, the QueryClient — is per story.
 *
 * Kept on `globalThis` rather than in a module variable so that a hot update
 * of this file in `npm start` reuses the running worker instead of starting a
 * second one. A failed start is forgotten, so the next story tries again.
 */
function pageWorker(): Promise<PageWorker> {
  const key = Symbol.for('jobwatch.stories.pageWorker');
  const slot = globalThis as typeof globalThis & { [key]?: Promise<PageWorker> };
  slot[key] ??= (async () => {
    const worker = setupWorker();
    await worker.start({
      // The service worker is served from public/ (Storybook's staticDirs, also in Vitest and in storybook-static/).
      serviceWorker: { url: '/mockServiceWorker.js' },
      // No console line per request, and Vite's/Storybook's own requests (modules, assets) go to the network untouched.
      quiet: true,
      onUnhandledRequest: 'bypass',
    });
    return { worker, active: null };
  })().catch((error: unknown) => {
    delete slot[key];
    throw error;
  });
  return slot[key];
}

function isUnderBase(url: URL): boolean {
  return url.pathname === HTTP_BASE_URL || url.pathname.startsWith(`${HTTP_BASE_URL}/`);
}

/**
 * Loader: a fresh backend served over HTTP for this story. Waits for the
 * worker, so the page's first request is already mocked.
 */
export async function loadHttpJobBackend(context: Pick<StoryContext, 'parameters'>): Promise<{ jobwatchHttp: HttpStory }> {
  const page = await pageWorker();
  // A story still installed (its cleanup did not run, e.g. a failed render) gives way.
  page.active?.();

  const backend = createStoryBackend(context.parameters.jobwatch as JobwatchStoryParameters | undefined);
  const requests: RecordedRequest[] = [];
  const recording = new AbortController();
  page.worker.events.on(
    'request:start',
    ({ request }) => {
      const url = new URL(request.url);
      if (!isUnderBase(url)) return;
      requests.push({ method: request.method, url: url.pathname + url.search, accept: request.headers.get('accept'), at: performance.now() });
    },
    { signal: recording.signal },
  );
  // resetHandlers, not use(): the previous story's handlers (and backend) must not answer for this one.
  // So one HTTP story at a time per page: were two rendered at once (a docs page), the last one
  // loaded would answer for both. This project's stories have no autodocs.
  page.worker.resetHandlers(...createJobHandlers({ backend, baseUrl: HTTP_BASE_URL }));

  const story: HttpStory = { backend, client: createFetchJobClient({ baseUrl: HTTP_BASE_URL }), requests };
  const dispose = () => {
    recording.abort();
    if (page.active !== dispose) return;
    page.active = null;
    page.worker.resetHandlers();
  };
  page.active = dispose;
  disposers.set(story, dispose);
  return { jobwatchHttp: story };
}

/** The story's HTTP setup (from {@link loadHttpJobBackend}), for play functions and the decorator. */
export function httpStory(context: Pick<StoryContext, 'loaded'>): HttpStory {
  const story = (context.loaded as { jobwatchHttp?: HttpStory }).jobwatchHttp;
  if (!story) throw new Error('httpStory: spread `httpJobBackend` into the meta (it adds the loader)');
  return story;
}

/** Decorator: the story's backend (for `useStoryBackend`) and a JobClientProvider with its fetch client. */
export const withHttpJobBackend = ((Story, context) => (
  <StoryJobRoot backend={httpStory(context).backend} client={httpStory(context).client}>
    <Story />
  </StoryJobRoot>
)) satisfies Decorator;

/**
 * Spread into a meta: the loader, the decorator and the cleanup that together
 * serve the story's backend over HTTP. Configure the backend with
 * `parameters.jobwatch`, as for `withJobBackend`.
 */
export const httpJobBackend = {
  loaders: [loadHttpJobBackend],
  decorators: [withHttpJobBackend],
  // Runs after the loader; its cleanup runs when the story goes away (another story, or the next test).
  beforeEach: (context: Pick<StoryContext, 'loaded'>) => {
    const story = httpStory(context);
    return () => disposers.get(story)?.();
  },
};
