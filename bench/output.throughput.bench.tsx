import { performance as nodePerformance } from 'node:perf_hooks';
import { QueryClient } from '@tanstack/react-query';
import { createRoot } from 'react-dom/client';
import { Profiler, useEffect, useState } from 'react';
import * as React from 'react';
import { JobClientProvider, JobOutput, JobStatus, type JobClient, type JobOutputPart } from 'jobwatch';
import { createMemoryJobBackend, type MemoryJobBackend } from 'jobwatch/testing';
import { waitFor, type BenchRow } from './shared';

/**
 * Throughput of streamed output: one job gets PARTS_PER_SECOND text parts a
 * second (one part per millisecond, each in its own task, as separate network
 * messages arrive) while OTHER_JOBS other jobs are mounted, a `<JobStatus>`
 * each. Measured over DURATION_MS of real time in jsdom, whose
 * `requestAnimationFrame` runs at 60 Hz (vitest's jsdom has
 * `pretendToBeVisual`):
 *
 * - React commits of the output per second (a `Profiler` around it; React's
 *   development build, where `Profiler` reports) against the frames that ran;
 * - commits of the other jobs' `<JobStatus>` (none should happen);
 * - main-thread ms per second (the event loop's active time,
 *   `performance.eventLoopUtilization`), also for the producer alone, so
 *   what rendering costs is the difference;
 * - at the end the log's DOM text against the server's parts.
 *
 * Side by side: `<JobOutput>` and a naive component that subscribes itself
 * and sets state on every part (React batches what arrives in one task, not
 * across tasks).
 */

const OTHER_JOBS = 100;
const PARTS_PER_SECOND = 1000;
const DURATION_MS = 4000;
/** This file runs in both projects; React's production build has no `act` (and its Profiler reports nothing). */
const build = typeof (React as { act?: unknown }).act === 'function' ? 'development' : 'production';

type Variant = 'producer alone' | 'naive setState per part' | 'jobwatch JobOutput';

/** The naive design: its own subscription, a state update per delivered batch. */
function NaiveOutput({ client, jobId }: { client: JobClient; jobId: string }) {
  const [text, setText] = useState('');
  useEffect(
    () =>
      client.subscribeOutput!(jobId, { after: 0 }, {
        next: (parts) => setText((current) => current + parts.map((part) => part.text ?? '').join('')),
      }),
    [client, jobId],
  );
  return (
    <div role="log" aria-label="Job output">
      {text}
    </div>
  );
}

async function serverText(backend: MemoryJobBackend, id: string): Promise<{ text: string; parts: number }> {
  const parts: JobOutputPart[] = [];
  for (;;) {
    const page = await backend.readOutput(id, { after: parts.at(-1)?.seq ?? 0 });
    parts.push(...page.parts);
    if (page.parts.length === 0 || page.done) break;
  }
  return { text: parts.map((part) => part.text ?? '').join(''), parts: parts.length };
}

interface Outcome {
  variant: Variant;
  parts: number;
  seconds: number;
  frames: number;
  outputCommits: number;
  otherCommits: number;
  mainThreadMsPerSecond: number;
  domEqualsServer: boolean;
}

async function measure(variant: Variant): Promise<Outcome> {
  const backend = createMemoryJobBackend();
  const others = Array.from({ length: OTHER_JOBS }, () => backend.create().id);
  for (const id of others) backend.start(id);
  const target = backend.create().id;
  backend.start(target);
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const container = document.createElement('div');
  document.body.append(container);
  const root = createRoot(container);
  let outputCommits = 0;
  let otherCommits = 0;
  const client: JobClient = backend;
  root.render(
    <JobClientProvider client={client} queryClient={queryClient}>
      <Profiler id="others" onRender={() => void otherCommits++}>
        {others.map((id) => (
          <JobStatus key={id} jobId={id} />
        ))}
      </Profiler>
      {variant !== 'producer alone' && (
        <Profiler id="output" onRender={() => void outputCommits++}>
          {variant === 'jobwatch JobOutput' ? <JobOutput jobId={target} /> : <NaiveOutput client={client} jobId={target} />}
        </Profiler>
      )}
    </JobClientProvider>,
  );
  await waitFor(() => container.querySelectorAll('[data-connection="live"]').length === OTHER_JOBS, `${OTHER_JOBS} live JobStatus`);
  // Settled: the output's first (empty) answer is in before counting starts.
  await new Promise((resolve) => setTimeout(resolve, 200));
  outputCommits = 0;
  otherCommits = 0;

  let frames = 0;
  let counting = true;
  const frame = () => {
    if (!counting) return;
    frames++;
    requestAnimationFrame(frame);
  };
  requestAnimationFrame(frame);

  let appended = 0;
  const started = performance.now();
  const elu = nodePerformance.eventLoopUtilization();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(Math.floor(((performance.now() - started) * PARTS_PER_SECOND) / 1000), (DURATION_MS * PARTS_PER_SECOND) / 1000);
      // Usually one part per tick; a late tick catches up, so the rate holds.
      while (appended < due) {
        appended++;
        backend.appendOutput(target, { kind: 'text', text: ` w${appended}` });
      }
      if (performance.now() - started >= DURATION_MS) resolve();
      else setTimeout(tick, 1);
    };
    setTimeout(tick, 1);
  });
  // One more frame, so the last parts are drawn inside the window.
  await new Promise((resolve) => setTimeout(resolve, 40));
  const used = nodePerformance.eventLoopUtilization(elu);
  const seconds = (performance.now() - started) / 1000;
  counting = false;
  const counts = { frames, outputCommits, otherCommits };

  let domEqualsServer = true;
  if (variant !== 'producer alone') {
    backend.complete(target);
    const log = container.querySelector('[role="log"]') as HTMLElement;
    const expected = await serverText(backend, target);
    if (variant === 'jobwatch JobOutput') await waitFor(() => log.dataset.state === 'done', 'the output done');
    await waitFor(() => log.textContent === expected.text, 'the DOM text to equal the server’s', 5000).catch(() => undefined);
    domEqualsServer = log.textContent === expected.text && expected.parts === appended;
  }
  root.unmount();
  queryClient.clear();
  container.remove();
  return {
    variant,
    parts: appended,
    seconds,
    ...counts,
    mainThreadMsPerSecond: (used.active / (used.idle + used.active)) * 1000,
    domEqualsServer,
  };
}

describe(`output throughput (${build}): ${PARTS_PER_SECOND} parts/s to one job, ${OTHER_JOBS} other JobStatus mounted`, () => {
  it(`${DURATION_MS / 1000} s of parts, naive vs JobOutput`, async ({ task }) => {
    await measure('jobwatch JobOutput'); // warm-up: JIT, jsdom, React's first renders
    const outcomes: Outcome[] = [];
    for (const variant of ['producer alone', 'naive setState per part', 'jobwatch JobOutput'] as const) outcomes.push(await measure(variant));
    const [alone, naive, jobwatch] = outcomes as [Outcome, Outcome, Outcome];
    const perSecond = (value: number, o: Outcome) => (value / o.seconds).toFixed(1);
    const profiled = build === 'development';
    const rows: BenchRow[] = [];
    const measurement = `output throughput, ${PARTS_PER_SECOND} parts/s + ${OTHER_JOBS} JobStatus (React ${build})`;
    for (const o of [naive, jobwatch]) {
      const figure = profiled
        ? `${perSecond(o.outputCommits, o)} commits/s over ${perSecond(o.frames, o)} frames/s · others ${o.otherCommits} commits · ` +
          `${o.mainThreadMsPerSecond.toFixed(0)} ms/s main thread (+${(o.mainThreadMsPerSecond - alone.mainThreadMsPerSecond).toFixed(0)} over the producer) · ` +
          `DOM ${o.domEqualsServer ? '=' : '≠'} server (${o.parts} parts)`
        : `${o.mainThreadMsPerSecond.toFixed(0)} ms/s main thread (+${(o.mainThreadMsPerSecond - alone.mainThreadMsPerSecond).toFixed(0)} over the producer's ` +
          `${alone.mainThreadMsPerSecond.toFixed(0)}) · DOM ${o.domEqualsServer ? '=' : '≠'} server (${o.parts} parts)`;
      const isJobwatch = o === jobwatch;
      rows.push({
        measurement,
        variant: o.variant,
        figure,
        target: isJobwatch ? (profiled ? '≤ 1 commit/frame, others 0, DOM = server' : 'DOM = server') : 'none (comparison)',
        pass: isJobwatch ? o.domEqualsServer && (!profiled || (o.outputCommits <= o.frames + 1 && o.otherCommits === 0)) : null,
      });
    }
    task.meta.bench = {
      section: 'output',
      key: `throughput-${build}`,
      rows,
      data: { otherJobs: OTHER_JOBS, partsPerSecond: PARTS_PER_SECOND, durationMs: DURATION_MS, reactBuild: build, outcomes },
    };
  });
});
