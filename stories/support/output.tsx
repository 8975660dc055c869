import type { Decorator, StoryContext } from '@storybook/react-vite';
import type { JobClient, JobOutputPart } from '../../src/index';
import { createMemoryJobBackend } from '../../src/testing/index';
import type { MemoryJobBackend } from '../../src/testing/index';
import { StoryJobRoot, type JobwatchStoryParameters } from './jobwatch';

/**
 * Stories of streamed output (`<JobOutput>`), on a fresh in-memory backend per
 * story as with `withJobBackend`, plus what those stories need:
 *
 * - the backend is created by a loader, so a play function can read the
 *   server's side (`outputStory(context).backend`: its parts, its call log);
 * - `parameters.jobwatch.maxOutputParts` bounds what the backend keeps;
 * - `parameters.jobwatch.client` puts another `JobClient` in front of the
 *   backend (e.g. a server that sends a part the contract forbids).
 *
 * Spread {@link outputBackend} into a meta.
 */

/** `parameters.jobwatch` of an output story. */
export interface OutputStoryParameters extends JobwatchStoryParameters {
  /** Parts the backend keeps per job (older ones are trimmed). Default: the backend's own (10,000). */
  maxOutputParts?: number;
  /** The client the page uses, made from the backend. Default: the backend itself. */
  client?: (backend: MemoryJobBackend) => JobClient;
}

/** What an output story's loader makes, as `loaded.jobwatchOutput`. */
export interface OutputStory {
  /** The story's backend: the server the page reads. */
  backend: MemoryJobBackend;
  /** The client the page's `JobClientProvider` gets. */
  client: JobClient;
}

/** Loader: a fresh backend (and client) for this story run, as `parameters.jobwatch` describes it. */
export function loadOutputBackend(context: Pick<StoryContext, 'parameters'>): { jobwatchOutput: OutputStory } {
  const options = context.parameters.jobwatch as OutputStoryParameters | undefined;
  const backend = createMemoryJobBackend({
    jobs: options?.jobs,
    latencyMs: options?.latencyMs,
    ...(options?.maxOutputParts === undefined ? {} : { maxOutputParts: options.maxOutputParts }),
  });
  options?.setup?.(backend);
  return { jobwatchOutput: { backend, client: options?.client?.(backend) ?? backend } };
}

/** The story's backend and client (from {@link loadOutputBackend}), for play functions and the decorator. */
export function outputStory(context: Pick<StoryContext, 'loaded'>): OutputStory {
  const story = (context.loaded as { jobwatchOutput?: OutputStory }).jobwatchOutput;
  if (!story) throw new Error('outputStory: spread `outputBackend` into the meta (it adds the loader)');
  return story;
}

/** Decorator: the story's backend (for `useStoryBackend`) and a JobClientProvider with its client. */
export const withOutputBackend = ((Story, context) => (
  <StoryJobRoot backend={outputStory(context).backend} client={outputStory(context).client}>
    <Story />
  </StoryJobRoot>
)) satisfies Decorator;

/** Spread into a meta: the loader and the decorator of output stories. */
export const outputBackend = { loaders: [loadOutputBackend], decorators: [withOutputBackend] };

/** Every part the server keeps for `id`, read page by page as a client would. */
export async function serverParts(backend: MemoryJobBackend, id: string): Promise<JobOutputPart[]> {
  const parts: JobOutputPart[] = [];
  for (;;) {
    const page = await backend.readOutput(id, { after: parts.at(-1)?.seq ?? 0 });
    parts.push(...page.parts);
    if (page.parts.length === 0 || page.done) return parts;
  }
}

/** The text parts of `parts`, joined: what a log shows as its text. */
export const joinedText = (parts: readonly JobOutputPart[]): string =>
  parts.map((part) => (part.kind === 'text' ? (part.text ?? '') : '')).join('');

/**
 * A job that writes a short story: queued `queuedMs`, then `runningMs` of
 * tokens spread evenly, four progress steps, the server's estimate.
 */
export const STORY_TEXT =
  'The lighthouse keeper counted the ships as they passed. One carried salt, one carried letters, and one carried nothing but ' +
  'a lantern that burned green. He wrote each of them down in his book. When the fog came in, he lit the lamp and waited. ' +
  'By morning the green lantern was moored below his window.';

/** Log lines of a scripted image generation, one part each. */
export const STEP_LOG = [
  'Loading model sdxl-turbo (fp16)',
  'Encoding prompt: “a lighthouse at dusk”',
  'Sampling step 1 of 4',
  'Sampling step 2 of 4',
  'Sampling step 3 of 4',
  'Sampling step 4 of 4',
  'Decoding latents to 1024×1024',
  'Saved image.png',
];

/** An SVG as a `data:` URL (nothing leaves the page). */
const svgUrl = (svg: string) => `data:image/svg+xml,${encodeURIComponent(svg)}`;

/** A blurry 8×8 preview of the final image: four coloured blocks. */
export const PREVIEW_URL = svgUrl(
  '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 8 8" shape-rendering="crispEdges">' +
    '<rect width="8" height="5" fill="#f59e0b"/><rect y="5" width="8" height="3" fill="#1e3a8a"/>' +
    '<rect x="3" y="2" width="2" height="4" fill="#e5e7eb"/></svg>',
);

/** The final image: a lighthouse at dusk. */
export const FINAL_URL = svgUrl(
  '<svg xmlns="http://www.w3.org/2000/svg" width="256" height="256" viewBox="0 0 256 256">' +
    '<defs><linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="#7c3aed"/>' +
    '<stop offset="1" stop-color="#f59e0b"/></linearGradient></defs>' +
    '<rect width="256" height="170" fill="url(#sky)"/><rect y="170" width="256" height="86" fill="#1e3a8a"/>' +
    '<polygon points="112,170 144,170 136,70 120,70" fill="#f3f4f6"/><rect x="116" y="56" width="24" height="14" fill="#fde68a"/>' +
    '<rect x="120" y="100" width="16" height="10" fill="#dc2626"/><rect x="118" y="135" width="20" height="10" fill="#dc2626"/></svg>',
);

/** Alt texts of the two images. */
export const PREVIEW_ALT = 'Preview: a lighthouse at dusk (low resolution)';
export const FINAL_ALT = 'A lighthouse at dusk, its lamp lit, over a dark blue sea';

/** Image URLs the contract forbids (`isSafeOutputUrl` refuses them): a page must never render them. */
export const UNSAFE_URLS = ['javascript:alert(document.domain)', 'data:text/html,<script>alert(1)</script>'];

/**
 * A client in front of `backend` whose output for `id` is `raw`, as a broken
 * or hostile server would send it (parts are not checked on the way out):
 * `subscribeOutput` sends the first part at once and each next one `everyMs`
 * later; `readOutput` answers what has been "sent" so far. Status comes from
 * the backend.
 */
export function hostileOutputClient(backend: MemoryJobBackend, id: string, raw: readonly Record<string, unknown>[], everyMs = 300): JobClient {
  const startedAt = Date.now();
  const sent = () => Math.min(raw.length, 1 + Math.floor((Date.now() - startedAt) / everyMs));
  const { readOutput: _read, subscribeOutput: _subscribe, ...rest } = backend;
  return {
    ...rest,
    async readOutput(jobId, options) {
      if (jobId !== id) return { parts: [], done: true };
      const after = options?.after ?? 0;
      return { parts: raw.slice(after, sent()) as unknown as JobOutputPart[], done: false };
    },
    subscribeOutput(jobId, options, listener) {
      if (jobId !== id) return () => {};
      let next = options.after ?? 0;
      const timers: ReturnType<typeof setTimeout>[] = [];
      for (let i = next; i < raw.length; i++) {
        timers.push(
          setTimeout(() => {
            if (i < next) return;
            next = i + 1;
            listener.next([raw[i]] as unknown as JobOutputPart[]);
          }, (i - (options.after ?? 0)) * everyMs),
        );
      }
      return () => timers.forEach(clearTimeout);
    },
  };
}
