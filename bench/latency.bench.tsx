import { QueryClient } from '@tanstack/react-query';
import { createRoot } from 'react-dom/client';
import { JobClientProvider, JobStatus, type JobClient } from 'jobwatch';
import { createMemoryJobBackend } from 'jobwatch/testing';
import * as React from 'react';
import { ms, percentile, waitFor } from './shared';

const N = 1000;
const UPDATES = 1000;
const WARM_UP = 100;
/** An update whose text has not changed after this long counts as missed. */
const GIVE_UP_MS = 1000;
/** This file runs in both projects; React's production build has no `act`. */
const build = typeof (React as { act?: unknown }).act === 'function' ? 'development' : 'production';

describe(`latency (${build}): push update → DOM committed, ${N} mounted JobStatus, real timers`, () => {
  it(`${UPDATES} progress updates`, async ({ task }) => {
    const backend = createMemoryJobBackend();
    const ids = Array.from({ length: N }, () => backend.create().id);
    for (const id of ids) backend.start(id);
    // When the push reached the watcher: separates the in-memory backend's own work from jobwatch + React.
    const pushedAt = new Map<string, number>();
    const client: JobClient = {
      ...backend,
      subscribe: (id, listener) =>
        backend.subscribe(id, {
          ...listener,
          next(job) {
            pushedAt.set(id, performance.now());
            listener.next(job);
          },
        }),
    };
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const container = document.createElement('div');
    document.body.append(container);
    const root = createRoot(container);
    root.render(
      <JobClientProvider client={client} queryClient={queryClient}>
        {ids.map((id) => (
          <JobStatus key={id} jobId={id} detailed />
        ))}
      </JobClientProvider>,
    );
    await waitFor(() => container.querySelectorAll('[data-connection="live"]').length === N, `${N} live JobStatus`);
    const regions = [...container.children] as HTMLElement[];

    let waiting: { el: HTMLElement; before: string | null; resolve: (at: number) => void } | null = null;
    const observer = new MutationObserver(() => {
      if (waiting && waiting.el.textContent !== waiting.before) {
        const { resolve } = waiting;
        waiting = null;
        resolve(performance.now());
      }
    });
    observer.observe(container, { subtree: true, childList: true, characterData: true, attributes: true });

    const total: number[] = [];
    const afterPush: number[] = [];
    let missed = 0;
    for (let i = 0; i < WARM_UP + UPDATES; i++) {
      const index = i % N;
      const id = ids[index]!;
      const el = regions[index]!;
      const committed = new Promise<number | null>((resolve) => {
        waiting = { el, before: el.textContent, resolve };
        setTimeout(() => resolve(null), GIVE_UP_MS);
      });
      const start = performance.now();
      backend.progress(id, (i % 100) / 100, `Step ${i}`);
      const at = await committed;
      waiting = null;
      if (i >= WARM_UP) {
        if (at === null) missed += 1;
        else {
          total.push(at - start);
          afterPush.push(at - (pushedAt.get(id) ?? start));
        }
      }
      // Start every update from an idle page, as sporadic pushes would.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
    observer.disconnect();
    root.unmount();
    queryClient.clear();
    container.remove();

    total.sort((a, b) => a - b);
    afterPush.sort((a, b) => a - b);
    const round = (value: number) => Math.round(value * 1000) / 1000;
    const stats = (sorted: number[]) => ({
      medianMs: round(percentile(sorted, 50)),
      p95Ms: round(percentile(sorted, 95)),
      maxMs: round(sorted[sorted.length - 1] ?? NaN),
    });
    const controlToDom = stats(total);
    const pushToDom = stats(afterPush);
    const p95 = missed > 0 ? Infinity : controlToDom.p95Ms;
    task.meta.bench = {
      section: 'latency',
      key: build,
      rows: [
        {
          measurement: `latency, N=${N} JobStatus`,
          variant: `push, React ${build} build`,
          figure:
            `median ${ms(controlToDom.medianMs)} · p95 ${ms(controlToDom.p95Ms)} · max ${ms(controlToDom.maxMs)}` +
            ` (push → DOM p95 ${ms(pushToDom.p95Ms)})${missed > 0 ? ` · ${missed} never showed` : ''}`,
          target: 'p95 < 16 ms',
          pass: p95 < 16,
        },
      ],
      data: { N, updates: UPDATES, warmUpUpdates: WARM_UP, reactBuild: build, missed, controlToDom, pushToDom },
    };
  });
});
