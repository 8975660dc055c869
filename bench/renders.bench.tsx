import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, render } from '@testing-library/react';
import { Profiler } from 'react';
import { JobClientProvider, JobStatus, type JobClient } from 'jobwatch';
import { createMemoryJobBackend } from 'jobwatch/testing';
import { NaiveJobList, NaiveRow, withoutPush, type BenchRow } from './shared';

const N = 1000;

type Design = 'jobwatch' | 'naive';
type Change = 'push' | 'poll';

interface Outcome {
  /** JobStatus components that committed at least once after the change. */
  componentsCommitted: number;
  /** Commits in total (a component may commit more than once). */
  commits: number;
  /** Whether the changed job's component was among them (a correctness check). */
  changedCommitted: boolean;
}

async function advance(msToAdvance: number): Promise<void> {
  await act(() => vi.advanceTimersByTimeAsync(msToAdvance));
}

/** 1,000 mounted status components; one job starts; which components commit over the next 2 s? */
async function measure(design: Design, change: Change): Promise<Outcome> {
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
  const backend = createMemoryJobBackend();
  const ids = Array.from({ length: N }, () => backend.create().id);
  const client: JobClient = change === 'push' ? backend : withoutPush(backend);
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const commits = new Map<string, number>();
  const onRender = (id: string) => commits.set(id, (commits.get(id) ?? 0) + 1);

  const view = render(
    design === 'jobwatch' ? (
      <JobClientProvider client={client} queryClient={queryClient}>
        {ids.map((id) => (
          <Profiler key={id} id={id} onRender={onRender}>
            <JobStatus jobId={id} />
          </Profiler>
        ))}
      </JobClientProvider>
    ) : (
      <QueryClientProvider client={queryClient}>
        <NaiveJobList
          client={client}
          ids={ids}
          push={change === 'push'}
          renderRow={(id, job) => (
            <Profiler key={id} id={id} onRender={onRender}>
              <NaiveRow job={job} />
            </Profiler>
          )}
        />
      </QueryClientProvider>
    ),
  );
  // Settle: first reads, subscriptions, a couple of poll rounds.
  await advance(0);
  await advance(2000);
  await advance(2000);
  commits.clear();

  const changed = ids[Math.floor(N / 2)]!;
  act(() => void backend.start(changed));
  // The next poll round, plus a moment for React Query's batched notifications (a 0 ms timer).
  await advance(2000);
  await advance(100);

  const outcome = {
    componentsCommitted: commits.size,
    commits: [...commits.values()].reduce((a, b) => a + b, 0),
    changedCommitted: commits.has(changed),
  };
  view.unmount();
  queryClient.clear();
  vi.useRealTimers();
  return outcome;
}

describe(`renders: ${N} mounted status components, one job changes`, () => {
  it('by push and by a poll, jobwatch vs naive shared state', async ({ task }) => {
    const rows: BenchRow[] = [];
    const data: Record<string, unknown> = { N };
    for (const change of ['push', 'poll'] as const) {
      const naive = await measure('naive', change);
      const jobwatch = await measure('jobwatch', change);
      data[change] = { naive, jobwatch };
      const measurement = `renders, N=${N}, change by ${change}`;
      const figure = (o: Outcome) =>
        `${o.componentsCommitted} committed (${o.commits} commit${o.commits === 1 ? '' : 's'})${o.changedCommitted ? '' : ' · NOT the changed one'}`;
      rows.push(
        {
          measurement,
          variant: 'naive list query, un-memoized rows',
          figure: figure(naive),
          target: `= N (the model's premise)`,
          pass: naive.componentsCommitted === N,
        },
        {
          measurement,
          variant: 'jobwatch JobStatus',
          figure: figure(jobwatch),
          target: 'exactly 1',
          pass: jobwatch.componentsCommitted === 1 && jobwatch.changedCommitted,
        },
      );
    }
    task.meta.bench = { section: 'renders', key: 'all', rows, data };
  });
});
