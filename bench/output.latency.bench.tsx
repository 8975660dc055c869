import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueryClient } from '@tanstack/react-query';
import { createRoot } from 'react-dom/client';
import * as React from 'react';
import { createFetchJobClient, JobClientProvider, JobOutput } from 'jobwatch';
import { createJobHandler } from '../src/server/index';
import { createMemoryJobBackend } from 'jobwatch/testing';
import { toNodeListener } from '../src/server/node';
import { ms, percentile, waitFor } from './shared';

/**
 * Latency of streamed output over real HTTP on 127.0.0.1: a part appended to
 * the store → its text in `<JobOutput>`'s DOM. The whole path runs:
 *
 *   backend.appendOutput → createJobHandler's event stream (`output=` on
 *   `GET /api/jobs/events`) → toNodeListener → node:http → fetch →
 *   createFetchJobClient's one multiplexed stream → the output watcher
 *   (at most one notification per animation frame) → React → DOM
 *
 * One part at a time, each from an idle page (parts spaced GAP_MS apart, as
 * tokens arrive from a model), timed with a `MutationObserver` on the log.
 * The frame batching is part of the figure: up to one frame (16.7 ms) of it.
 */

const PARTS = 300;
const WARM_UP = 30;
const GAP_MS = 20;
/** A part whose text has not shown after this long counts as missed. */
const GIVE_UP_MS = 2000;
const build = typeof (React as { act?: unknown }).act === 'function' ? 'development' : 'production';

describe(`output latency (${build}): part appended → DOM, over HTTP on 127.0.0.1`, () => {
  it(`${PARTS} parts, one at a time`, async ({ task }) => {
    const backend = createMemoryJobBackend();
    const id = backend.create({ owner: 'bench' }).id;
    backend.start(id);
    const handler = createJobHandler({ store: backend, basePath: '/api/jobs', authorize: () => ({ owner: 'bench' }), onError: () => {} });
    const server = http.createServer(toNodeListener(handler, { onError: () => {} }));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const client = createFetchJobClient({ baseUrl: `http://127.0.0.1:${port}/api/jobs` });

    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const container = document.createElement('div');
    document.body.append(container);
    const root = createRoot(container);
    root.render(
      <JobClientProvider client={client} queryClient={queryClient}>
        <JobOutput jobId={id} />
      </JobClientProvider>,
    );
    const log = () => container.querySelector('[role="log"]') as HTMLElement | null;
    await waitFor(() => log() !== null, 'the log mounted');
    // Connected: a first part has made it through.
    backend.appendOutput(id, { kind: 'text', text: 'ready' });
    await waitFor(() => (log()!.textContent ?? '').includes('ready'), 'the first part over HTTP', 15_000);

    let waiting: { token: string; resolve: (at: number) => void } | null = null;
    const observer = new MutationObserver(() => {
      if (waiting && (log()!.textContent ?? '').endsWith(waiting.token)) {
        const { resolve } = waiting;
        waiting = null;
        resolve(performance.now());
      }
    });
    observer.observe(container, { subtree: true, childList: true, characterData: true });

    const latencies: number[] = [];
    let missed = 0;
    for (let i = 1; i <= WARM_UP + PARTS; i++) {
      const token = ` t${i}`;
      const shown = new Promise<number | null>((resolve) => {
        waiting = { token, resolve };
        setTimeout(() => resolve(null), GIVE_UP_MS);
      });
      const start = performance.now();
      backend.appendOutput(id, { kind: 'text', text: token });
      const at = await shown;
      waiting = null;
      if (i > WARM_UP) {
        if (at === null) missed++;
        else latencies.push(at - start);
      }
      await new Promise((resolve) => setTimeout(resolve, GAP_MS));
    }
    observer.disconnect();
    root.unmount();
    queryClient.clear();
    container.remove();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));

    latencies.sort((a, b) => a - b);
    const round = (value: number) => Math.round(value * 1000) / 1000;
    const stats = {
      medianMs: round(percentile(latencies, 50)),
      p95Ms: round(percentile(latencies, 95)),
      maxMs: round(latencies.at(-1) ?? NaN),
    };
    task.meta.bench = {
      section: 'output',
      key: `latency-${build}`,
      rows: [
        {
          measurement: 'output latency, appended → DOM over HTTP',
          variant: `fetch client + createJobHandler, React ${build} build`,
          figure: `p50 ${ms(stats.medianMs)} · p95 ${ms(stats.p95Ms)} · max ${ms(stats.maxMs)}${missed > 0 ? ` · ${missed} never showed` : ''}`,
          target: 'p95 < 50 ms',
          pass: missed === 0 && stats.p95Ms < 50,
        },
      ],
      data: { parts: PARTS, warmUpParts: WARM_UP, gapMs: GAP_MS, reactBuild: build, missed, ...stats },
    };
  });
});
