import { QueryClient } from '@tanstack/react-query';
import type { Decorator } from '@storybook/react-vite';
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';
import { JobClientProvider } from '../../src/index';
import type { Job, JobClient, JobState } from '../../src/index';
import { createMemoryJobBackend } from '../../src/testing/index';
import type { JobSpec, MemoryJobBackend, MemoryJobBackendOptions, MemoryJobSeed } from '../../src/testing/index';

/**
 * `parameters.jobwatch` of a story: how its in-memory backend starts.
 * The backend (and the QueryClient) are created when the story mounts, so
 * every story, and every test run of a story, starts from a clean slate.
 */
export interface JobwatchStoryParameters {
  /** Jobs to start with: scripted specs (they follow real time) or ready jobs (they stay as they are). */
  jobs?: Array<JobSpec | MemoryJobSeed>;
  /** Simulated answer time of the backend's client methods. */
  latencyMs?: MemoryJobBackendOptions['latencyMs'];
  /** Anything else to do with the fresh backend before the story renders. */
  setup?: (backend: MemoryJobBackend) => void;
}

const BackendContext = createContext<MemoryJobBackend | null>(null);

/** The story's own backend, for stories that create jobs (e.g. a "Generate" button). */
export function useStoryBackend(): MemoryJobBackend {
  const backend = useContext(BackendContext);
  if (!backend) throw new Error('useStoryBackend: add `decorators: [withJobBackend]` to the story');
  return backend;
}

/** Gives `useStoryBackend()` a backend, for decorators that mount their own (see ./http.tsx). */
export const StoryBackendProvider = BackendContext.Provider;

/** A fresh backend as `parameters.jobwatch` describes it. */
export function createStoryBackend(options: JobwatchStoryParameters | undefined): MemoryJobBackend {
  const created = createMemoryJobBackend({ jobs: options?.jobs, latencyMs: options?.latencyMs });
  options?.setup?.(created);
  return created;
}

/**
 * A story's providers: its backend for `useStoryBackend`, and a JobClientProvider with
 * `client` on a QueryClient of its own (one per mounted story, cleared on unmount).
 */
export function StoryJobRoot({ backend, client, children }: { backend: MemoryJobBackend; client: JobClient; children: ReactNode }) {
  // useState, not module scope: one QueryClient per mounted story.
  const [queryClient] = useState(() => new QueryClient({ defaultOptions: { queries: { retry: false } } }));
  useEffect(() => () => queryClient.clear(), [queryClient]);
  return (
    <BackendContext.Provider value={backend}>
      <JobClientProvider client={client} queryClient={queryClient}>
        {children}
      </JobClientProvider>
    </BackendContext.Provider>
  );
}

function JobwatchStoryRoot({ options, children }: { options: JobwatchStoryParameters | undefined; children: ReactNode }) {
  // useState, not module scope: one backend per mounted story.
  const [backend] = useState(() => createStoryBackend(options));
  return (
    <StoryJobRoot backend={backend} client={backend}>
      {children}
    </StoryJobRoot>
  );
}

/** Decorator: a fresh in-memory backend and JobClientProvider per story, configured by `parameters.jobwatch`. */
export const withJobBackend: Decorator = (Story, context) => (
  <JobwatchStoryRoot options={context.parameters.jobwatch as JobwatchStoryParameters | undefined}>
    <Story />
  </JobwatchStoryRoot>
);

/** A ready-made job (a seed): it keeps this state, since it has no script. */
export function seedJob(id: string, status: JobState, extra: Partial<Job> = {}): MemoryJobSeed {
  const at = new Date().toISOString();
  return { id, status, createdAt: at, updatedAt: at, retryCount: 0, maxRetries: 3, version: 1, ...extra };
}

/**
 * The text of an element as assistive technology gets it: its text content
 * without `aria-hidden` parts (the icons), whitespace collapsed.
 */
export function accessibleText(element: Element): string {
  const clone = element.cloneNode(true) as Element;
  for (const hidden of clone.querySelectorAll('[aria-hidden="true"]')) hidden.remove();
  return (clone.textContent ?? '').replace(/\s+/g, ' ').trim();
}
