import { QueryClient } from '@tanstack/react-query';
import { createRoot } from 'react-dom/client';
import { JobClientProvider, JobOutput } from 'jobwatch';
import { createMemoryJobBackend } from 'jobwatch/testing';
import { bytes, settledHeap, waitFor } from './shared';

/**
 * Memory of streamed output: one `<JobOutput maxParts={500}>` (with its jsdom
 * DOM) follows a job that produces TOTAL text parts, pushed by the in-memory
 * backend (which keeps 500 parts too, `maxOutputParts`, so the server side is
 * bounded as well). The heap is read after full collections (`global.gc`)
 * at 10,000 parts and every 10,000 after, up to 100,000.
 *
 * The bound: what is kept is 500 parts, the same 500-part window at every
 * reading, so the heap should not grow at all between 10,000 and 100,000.
 * Were trimmed parts kept (by the watcher, its text, or the DOM), the 90,000
 * extra parts would hold at least ~100 bytes each (a part object with its
 * `seq`, `kind`, `at` and text, plus its share of the joined text): about
 * 9 MB. (Measured: the same run with `maxParts={100000}`, nothing trimmed on
 * the page, grows by about 400 bytes a part, 35 MB.) The target, under 1 MB
 * of growth, is well below that (it catches a leak of more than ~11 bytes a
 * part) and above what warm-up adds between the first readings (JIT, inline
 * caches, jsdom's tables: about 0.5 MB, all of it before 40,000 parts; the
 * figure shows the second half, 50,000 → 100,000, on its own).
 */

const MAX_PARTS = 500;
const TOTAL = 100_000;
const FIRST_READING = 10_000;
const EVERY = 10_000;
/** Parts appended per task; each batch is followed by a frame, so the page keeps up as it would. */
const BATCH = 1000;
const BOUND_BYTES = 1024 * 1024;

describe('output memory (React production build)', () => {
  it(`maxParts ${MAX_PARTS}: heap from ${FIRST_READING.toLocaleString('en')} to ${TOTAL.toLocaleString('en')} parts`, async ({ task }) => {
    const backend = createMemoryJobBackend({ maxOutputParts: MAX_PARTS });
    const id = backend.create().id;
    backend.start(id);
    const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
    const container = document.createElement('div');
    document.body.append(container);
    const root = createRoot(container);
    root.render(
      <JobClientProvider client={backend} queryClient={queryClient}>
        <JobOutput jobId={id} maxParts={MAX_PARTS} />
      </JobClientProvider>,
    );
    const log = () => container.querySelector('[role="log"]') as HTMLElement | null;
    await waitFor(() => log() !== null, 'the log mounted');

    const readings: Array<{ parts: number; heap: number }> = [];
    let appended = 0;
    while (appended < TOTAL) {
      for (let i = 0; i < BATCH; i++) {
        appended++;
        backend.appendOutput(id, { kind: 'text', text: ` token-${appended}` });
      }
      const last = ` token-${appended}`;
      await waitFor(() => (log()!.textContent ?? '').endsWith(last), `part ${appended} shown`);
      if (appended >= FIRST_READING && appended % EVERY === 0) {
        backend.clearCalls();
        readings.push({ parts: appended, heap: await settledHeap() });
      }
    }
    // The window is what the page shows: the newest MAX_PARTS parts, exactly.
    const expected = Array.from({ length: MAX_PARTS }, (_, i) => ` token-${TOTAL - MAX_PARTS + 1 + i}`).join('');
    const windowShown = log()!.textContent === expected;
    root.unmount();
    queryClient.clear();
    container.remove();

    const first = readings[0]!;
    const final = readings.at(-1)!;
    const growth = final.heap - first.heap;
    const max = Math.max(...readings.map((r) => r.heap)) - first.heap;
    // The second half alone: what growth remains once warm-up (JIT, inline caches, jsdom's own tables) is over.
    const middle = readings.find((r) => r.parts === TOTAL / 2) ?? first;
    const secondHalf = final.heap - middle.heap;
    task.meta.bench = {
      section: 'output',
      key: 'memory',
      rows: [
        {
          measurement: `output heap, maxParts ${MAX_PARTS}, ${TOTAL.toLocaleString('en')} parts`,
          variant: 'JobOutput, with its jsdom DOM',
          figure:
            `${bytes(final.heap)} at ${TOTAL.toLocaleString('en')} vs ${bytes(first.heap)} at ${FIRST_READING.toLocaleString('en')}: ` +
            `${growth >= 0 ? '+' : ''}${bytes(growth)} (${(growth / (TOTAL - FIRST_READING)).toFixed(1)} B/part; highest reading +${bytes(max)}; ` +
            `${(middle.parts / 1000).toFixed(0)}k → ${(TOTAL / 1000).toFixed(0)}k ${secondHalf >= 0 ? '+' : ''}${bytes(secondHalf)})` +
            `${windowShown ? '' : ' · the shown window is NOT the newest parts'}`,
          target: `growth < ${bytes(BOUND_BYTES)}`,
          pass: windowShown && growth < BOUND_BYTES,
        },
      ],
      data: { maxParts: MAX_PARTS, total: TOTAL, boundBytes: BOUND_BYTES, readings, growthBytes: growth, secondHalfGrowthBytes: secondHalf, windowShown },
    };
  });
});
