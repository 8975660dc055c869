import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type ReactNode } from 'react';
import { defaultJobStatusLabels, isTerminal, type Job, type JobClient } from 'jobwatch';
import type { MemoryJobBackend } from 'jobwatch/testing';

/** One line of the printed table. `pass` is null where no target is set. */
export interface BenchRow {
  measurement: string;
  variant: string;
  figure: string;
  target: string;
  pass: boolean | null;
}

/** What one bench test hands the reporter (through `task.meta`, so it reaches the main process). */
export interface BenchSection {
  /** `requests`, `renders`, `latency`, `memory` or `size`: the key in results.json. */
  section: string;
  /** The key inside the section, e.g. `N=100`; sections with one test use `all`. */
  key: string;
  rows: BenchRow[];
  data: Record<string, unknown>;
}

declare module '@vitest/runner' {
  interface TaskMeta {
    bench?: BenchSection;
  }
}

/** mulberry32: a small seeded PRNG, so every run mounts at the same moments. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The backend as a batch-capable client without push (methods use no `this`, so spreading is safe). */
export function withoutPush(backend: MemoryJobBackend): JobClient {
  const { subscribe: _subscribe, ...client } = backend;
  return client;
}

export const ms = (value: number, digits = 2) => `${value.toFixed(digits)} ms`;
export const bytes = (value: number) =>
  Math.abs(value) >= 1024 * 1024 ? `${(value / 1024 / 1024).toFixed(2)} MB` : `${(value / 1024).toFixed(1)} KB`;

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** Resolves once `condition()` holds, checking every `everyMs` on real timers; rejects after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 30_000, everyMs = 5): Promise<void> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > timeoutMs) throw new Error(`bench: timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** heapUsed after several full collections (needs node --expose-gc). */
export async function settledHeap(): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('bench: global.gc is missing; the bench config passes --expose-gc to its workers');
  for (let i = 0; i < 6; i++) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return process.memoryUsage().heapUsed;
}

// ---- the original app's design, for comparison ------------------------------

/** The text JobStatus shows (label, "(updating…)", the progress message), in one status span. */
export function JobText({ job }: { job: Job | undefined }) {
  const labels = defaultJobStatusLabels;
  const state = job ? job.status : 'loading';
  return (
    <span role="status" aria-live="polite" data-state={state}>
      <span>{job ? labels[job.status] : labels.loading}</span>
      {job?.status === 'processing' && <> <span>{labels.updating}</span></>}
      {job?.status === 'processing' && job.progressMessage && <> <span>{job.progressMessage}</span></>}
    </span>
  );
}

/** Naive (a): each component polls its own job with its own query, as the original app did. */
export function NaiveJobStatus({ client, jobId }: { client: JobClient; jobId: string }) {
  const { data } = useQuery({
    queryKey: ['job', jobId],
    queryFn: () => client.getStatus(jobId),
    refetchInterval: (query) => (isTerminal(query.state.data) ? false : 2000),
  });
  return <JobText job={data} />;
}

/** An un-memoized row of the naive list: re-renders whenever the list does. */
export function NaiveRow({ job }: { job: Job | undefined }) {
  return <JobText job={job} />;
}

/** Reads `ids` in batches of 100 (the REST contract's limit), in `ids` order. */
async function readAll(client: JobClient, ids: string[]): Promise<Job[]> {
  const chunks: Promise<Job[]>[] = [];
  for (let i = 0; i < ids.length; i += 100) chunks.push(client.getStatuses!(ids.slice(i, i + 100)).then((batch) => batch.jobs));
  return (await Promise.all(chunks)).flat();
}

/**
 * Naive shared state: one query of the whole list, polled every 2 s, each job
 * passed to an un-memoized child. With `push`, each job's subscription writes
 * the changed job into that list, as an app bolting push onto it would.
 */
export function NaiveJobList({
  client,
  ids,
  push,
  renderRow,
}: {
  client: JobClient;
  ids: string[];
  push: boolean;
  renderRow: (id: string, job: Job | undefined) => ReactNode;
}) {
  const queryClient = useQueryClient();
  const queryKey = ['jobs', ids.length];
  const { data } = useQuery({
    queryKey,
    queryFn: () => readAll(client, ids),
    refetchInterval: (query) => (query.state.data?.every((job) => isTerminal(job)) ? false : 2000),
  });
  useEffect(() => {
    if (!push || !client.subscribe) return;
    const stops = ids.map((id) =>
      client.subscribe!(id, {
        next: (job) =>
          queryClient.setQueryData<Job[]>(queryKey, (list) => list?.map((current) => (current.id === job.id ? job : current))),
      }),
    );
    return () => stops.forEach((stop) => stop());
    // `ids` and the key are fixed for the life of one measurement.
  }, [client, push, queryClient]);
  const byId = new Map(data?.map((job) => [job.id, job]));
  return <>{ids.map((id) => renderRow(id, byId.get(id)))}</>;
}

/** Renders `children` only from `delayMs` after mount: a component appearing at its own moment. */
export function MountLater({ delayMs, children }: { delayMs: number; children: ReactNode }) {
  const [shown, setShown] = useState(false);
  useEffect(() => {
    const timer = setTimeout(() => setShown(true), delayMs);
    return () => clearTimeout(timer);
  }, [delayMs]);
  return shown ? <>{children}</> : null;
}
