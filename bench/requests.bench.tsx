import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, render } from '@testing-library/react';
import { JobClientProvider, JobStatus, type JobClient } from 'jobwatch';
import { createMemoryJobBackend, type MemoryBackendCall } from 'jobwatch/testing';
import { MountLater, NaiveJobStatus, percentile, seededRandom, withoutPush, type BenchRow } from './shared';

const DURATION_MS = 60_000;
const INTERVAL_MS = 2000;
const MOUNT_WINDOW_MS = 2000;
const RUN_UNTIL_MS = DURATION_MS + MOUNT_WINDOW_MS + 4000;
/** Reads within this many ms of the first read of a round belong to that round (the watcher coalesces 10 ms). */
const ROUND_MS = 10;
/** Semantic 12: a newly watched job is read within one batching window. */
const FIRST_ANSWER_TARGET_MS = 50;
/** The mount spread: mounts happen in [0, MOUNT_WINDOW_MS); the last one is read by its end plus one batching window. */
const SPREAD_END_MS = MOUNT_WINDOW_MS + FIRST_ANSWER_TARGET_MS;

type Variant = 'naive' | 'poll' | 'push';

interface Outcome {
  getStatus: number;
  getStatuses: number;
  subscribe: number;
  reads: number;
  rounds: number;
  /** When each round happened, in ms after the mount window opened (left out for naive: one per component and tick). */
  roundTimes?: number[];
  /** From a component's mount to its job's first read (or, with push, its subscription), in ms. */
  firstAnswerMedianMs: number;
  firstAnswerP95Ms: number;
  firstAnswerMaxMs: number;
  /** Components showing "Completed" at the end: all N, or jobwatch missed the end. */
  completedShown: number;
  /** Wall-clock time of the simulation, in ms. */
  wallMs: number;
}

const realNow = performance.now.bind(performance);

function roundsOf(calls: readonly MemoryBackendCall[], t0: number): number[] {
  const times = calls
    .filter((call) => call.method === 'getStatus' || call.method === 'getStatuses')
    .map((call) => call.at - t0)
    .sort((a, b) => a - b);
  const rounds: number[] = [];
  for (const t of times) if (rounds.length === 0 || t - rounds[rounds.length - 1]! > ROUND_MS) rounds.push(t);
  return rounds;
}

/** Per job, the first moment the client was asked about it. */
function firstAnswers(calls: readonly MemoryBackendCall[], t0: number): Map<string, number> {
  const first = new Map<string, number>();
  for (const call of calls) {
    const ids = call.method === 'getStatuses' ? (call.args[0] as string[]) : call.method === 'getStatus' || call.method === 'subscribe' ? [call.args[0] as string] : [];
    for (const id of ids) if (!first.has(id)) first.set(id, call.at - t0);
  }
  return first;
}

/** Advances fake time in steps, each inside act so React renders (and mounts) as time passes. */
async function advanceTo(target: number, t0: number): Promise<void> {
  while (Date.now() - t0 < target) {
    const step = Date.now() - t0 < MOUNT_WINDOW_MS + INTERVAL_MS + 500 ? 10 : 250;
    await act(() => vi.advanceTimersByTimeAsync(Math.min(step, target - (Date.now() - t0))));
  }
}

async function simulate(variant: Variant, n: number): Promise<Outcome> {
  const wallStart = realNow();
  vi.useFakeTimers();
  vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
  const t0 = Date.now();
  const backend = createMemoryJobBackend();
  // Processing from creation, completed 60 s later by the backend's script.
  const ids = Array.from({ length: n }, () => backend.create({ runningMs: DURATION_MS }).id);
  const random = seededRandom(20260101 + n); // the same moments for every variant of one N
  const delays = ids.map(() => Math.floor(random() * MOUNT_WINDOW_MS));

  const client: JobClient = variant === 'push' ? backend : withoutPush(backend);
  const queryClient = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const slots = ids.map((id, i) => (
    <MountLater key={id} delayMs={delays[i]!}>
      {variant === 'naive' ? <NaiveJobStatus client={client} jobId={id} /> : <JobStatus jobId={id} />}
    </MountLater>
  ));
  const view = render(
    variant === 'naive' ? (
      <QueryClientProvider client={queryClient}>{slots}</QueryClientProvider>
    ) : (
      <JobClientProvider client={client} queryClient={queryClient}>
        {slots}
      </JobClientProvider>
    ),
  );
  await advanceTo(RUN_UNTIL_MS, t0);

  const completedShown = view.container.querySelectorAll('[data-state="completed"]').length;
  const calls = [...backend.calls];
  view.unmount();
  queryClient.clear();
  vi.useRealTimers();

  const count = (method: MemoryBackendCall['method']) => calls.filter((call) => call.method === method).length;
  const roundTimes = roundsOf(calls, t0);
  const first = firstAnswers(calls, t0);
  const waits = ids.map((id, i) => (first.get(id) ?? Infinity) - delays[i]!).sort((a, b) => a - b);
  return {
    getStatus: count('getStatus'),
    getStatuses: count('getStatuses'),
    subscribe: count('subscribe'),
    reads: count('getStatus') + count('getStatuses'),
    rounds: roundTimes.length,
    ...(variant === 'naive' ? {} : { roundTimes }),
    firstAnswerMedianMs: percentile(waits, 50),
    firstAnswerP95Ms: percentile(waits, 95),
    firstAnswerMaxMs: waits[waits.length - 1]!,
    completedShown,
    wallMs: Math.round(realNow() - wallStart),
  };
}

const ratio = (a: number, b: number) => (b === 0 ? Infinity : Math.round((a / b) * 10) / 10);
const plural = (count: number, word: string) => `${count} ${word}${count === 1 ? '' : 's'}`;
const readsText = (o: Outcome) =>
  `${plural(o.reads, 'read')} / ${plural(o.rounds, 'round')}` + (o.getStatuses > 0 ? ` (${o.getStatuses} batched)` : '');
const firstText = (o: Outcome) => `1st answer ≤ ${o.firstAnswerMaxMs} ms`;
const endText = (o: Outcome, n: number) => (o.completedShown === n ? '' : ` · only ${o.completedShown}/${n} show Completed`);

describe('requests: N JobStatus mounted over 2 s, jobs processing 60 s, 2 s interval', () => {
  it.for([10, 100, 500])('N = %i', async (n, { task }) => {
    const naive = await simulate('naive', n);
    const poll = await simulate('poll', n);
    const push = await simulate('push', n);

    const maxRounds = Math.floor(1.1 * (DURATION_MS / INTERVAL_MS));
    // Poll: first reads during the mount spread come at most one per batching window (plus the
    // clock's own rounds in it); after the spread, the rounds per interval are judged as before.
    const spreadRounds = poll.roundTimes!.filter((t) => t < SPREAD_END_MS).length;
    const steadyRounds = poll.rounds - spreadRounds;
    const maxSpreadRounds = Math.ceil(MOUNT_WINDOW_MS / FIRST_ANSWER_TARGET_MS) + 1 + Math.ceil(SPREAD_END_MS / INTERVAL_MS);
    const initialEnd = MOUNT_WINDOW_MS + INTERVAL_MS;
    const initialRounds = push.roundTimes!.filter((t) => t < initialEnd).length;
    const safetyRounds = push.rounds - initialRounds;
    const maxSafetyRounds = 2 * Math.ceil(DURATION_MS / 60_000);
    const measurement = `requests, N=${n}`;
    const rows: BenchRow[] = [
      {
        measurement,
        variant: '(a) naive useQuery per component',
        figure: `${readsText(naive)} · ${firstText(naive)}${endText(naive, n)}`,
        target: 'baseline',
        pass: naive.completedShown === n ? null : false,
      },
      {
        measurement,
        variant: '(b) jobwatch, batch client, no push',
        figure: `${readsText(poll)}: ${spreadRounds} in the mount spread + ${steadyRounds} after · naive ${ratio(naive.reads, poll.reads)}× · ${firstText(poll)}${endText(poll, n)}`,
        target: `≤ ${maxRounds} rounds after the spread, ≤ ${maxSpreadRounds} in it`,
        pass: steadyRounds <= maxRounds && spreadRounds <= maxSpreadRounds && poll.completedShown === n,
      },
      {
        measurement,
        variant: '(c) jobwatch with push',
        figure: `${readsText(push)}: ${initialRounds} initial + ${safetyRounds} safety, ${push.subscribe} subscribe · naive ${ratio(naive.reads, push.reads)}× · ${firstText(push)}${endText(push, n)}`,
        target: `initial + ≤ ${maxSafetyRounds} safety rounds`,
        pass: safetyRounds <= maxSafetyRounds && push.completedShown === n,
      },
    ];
    const answers = (o: Outcome) => `median ${o.firstAnswerMedianMs} ms · p95 ${o.firstAnswerP95Ms} ms`;
    rows.push(
      {
        measurement: `first answer, N=${n}`,
        variant: '(a) naive useQuery per component',
        figure: answers(naive),
        target: 'baseline',
        pass: null,
      },
      {
        measurement: `first answer, N=${n}`,
        variant: '(b) jobwatch, batch client, no push',
        figure: answers(poll),
        target: `≤ ${FIRST_ANSWER_TARGET_MS} ms (p95)`,
        pass: poll.firstAnswerP95Ms <= FIRST_ANSWER_TARGET_MS,
      },
    );
    task.meta.bench = {
      section: 'requests',
      key: `N=${n}`,
      rows,
      data: {
        N: n,
        durationMs: DURATION_MS,
        intervalMs: INTERVAL_MS,
        mountWindowMs: MOUNT_WINDOW_MS,
        naive,
        poll: { ...poll, spreadRounds, steadyRounds },
        push: { ...push, initialRounds, safetyRounds },
        ratios: { naiveOverPollReads: ratio(naive.reads, poll.reads), naiveOverPushReads: ratio(naive.reads, push.reads) },
        targets: {
          pollMaxRounds: maxRounds,
          pollMaxSpreadRounds: maxSpreadRounds,
          pollFirstAnswerP95Ms: FIRST_ANSWER_TARGET_MS,
          pushMaxSafetyRounds: maxSafetyRounds,
        },
      },
    };
  });
});
