import { QueryClient } from '@tanstack/react-query';
import { act, render, type RenderOptions } from '@testing-library/react';
import { StrictMode, type ReactNode } from 'react';
import { JobNotFoundError, type Job, type JobClient, type JobState } from '../src/core';
import { JobClientProvider } from '../src/react/JobClientProvider';

/** A QueryClient for one test: no retries, no GC timers (so timer counts see only jobwatch's). */
export function testQueryClient(): QueryClient {
  return new QueryClient({ defaultOptions: { queries: { retry: false, gcTime: Infinity } } });
}

/** Renders under StrictMode inside a JobClientProvider with a fresh QueryClient. */
export function renderWithJobs(
  ui: ReactNode,
  { client, queryClient = testQueryClient(), ...options }: { client: JobClient; queryClient?: QueryClient } & RenderOptions,
) {
  const wrapper = ({ children }: { children?: ReactNode }) => (
    <StrictMode>
      <JobClientProvider client={client} queryClient={queryClient}>
        {children}
      </JobClientProvider>
    </StrictMode>
  );
  return { queryClient, ...render(ui, { wrapper, ...options }) };
}

/** Advances fake timers (and the promises they release) inside act. */
export async function advance(ms: number): Promise<void> {
  await act(() => vi.advanceTimersByTimeAsync(ms));
}

let seq = 0;
/** A valid job; later versions get later timestamps. */
export function makeJob(overrides: Partial<Job> & { status?: JobState } = {}): Job {
  const version = overrides.version ?? 1;
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, version)).toISOString();
  return {
    id: overrides.id ?? `job-${++seq}`,
    status: 'pending',
    createdAt: at,
    updatedAt: at,
    retryCount: 0,
    version,
    ...overrides,
  };
}

/** One getStatus call of a {@link controlledClient}, answered by the test. */
export interface PendingCall {
  id: string;
  signal: AbortSignal | undefined;
  resolve(job: unknown): void;
  reject(error: unknown): void;
}

/**
 * A client whose getStatus answers only when the test says so: for slow
 * servers, out-of-order answers and errors.
 */
export function controlledClient() {
  const calls: PendingCall[] = [];
  const client: JobClient = {
    getStatus(id, options) {
      return new Promise((resolve, reject) => {
        const signal = options?.signal;
        calls.push({ id, signal, resolve: resolve as (job: unknown) => void, reject });
        signal?.addEventListener('abort', () => reject(new DOMException('Aborted', 'AbortError')));
      });
    },
    list: async () => ({ jobs: [], nextCursor: null }),
    getPendingCount: async () => ({ pending: 0, processing: 0 }),
  };
  return {
    client,
    calls,
    /** Calls not aborted and not yet answered. */
    inFlight: () => calls.filter((c) => !c.signal?.aborted && !(c as { done?: boolean }).done).length,
    answer(index: number, value: unknown) {
      const call = calls[index]!;
      (call as { done?: boolean }).done = true;
      call.resolve(value);
    },
    fail(index: number, error: unknown) {
      const call = calls[index]!;
      (call as { done?: boolean }).done = true;
      call.reject(error);
    },
  };
}

/** A client serving fixed jobs (unknown ids: JobNotFoundError). */
export function staticClient(jobs: Job[]): JobClient & { getStatus: ReturnType<typeof vi.fn> } {
  const byId = new Map(jobs.map((j) => [j.id, j]));
  return {
    getStatus: vi.fn(async (id: string) => {
      const job = byId.get(id);
      if (!job) throw new JobNotFoundError(id);
      return structuredClone(job);
    }),
    list: async () => ({ jobs, nextCursor: null }),
    getPendingCount: async () => ({ pending: 0, processing: 0 }),
  };
}

/** Sets document.visibilityState and fires visibilitychange (inside act: hooks update). */
export function setVisibility(state: 'visible' | 'hidden'): void {
  Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
  act(() => {
    document.dispatchEvent(new Event('visibilitychange', { bubbles: true }));
  });
}

/** Fires a window event inside act. */
export function fire(event: 'online' | 'offline'): void {
  act(() => {
    window.dispatchEvent(new Event(event));
  });
}
