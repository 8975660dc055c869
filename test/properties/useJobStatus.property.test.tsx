/**
 * Model-based race tests of `useJobStatus` (renderHook under StrictMode, fake
 * timers): random interleavings of poll answers (in any order), transport and
 * fatal errors, push events, rerenders with another id or `enabled`, and an
 * unmount at a random point.
 *
 * Replay a failure with `FC_SEED=<seed> FC_PATH=<path> npx vitest run --project unit test/properties/useJobStatus.property.test.tsx`.
 */
import { act, renderHook } from '@testing-library/react';
import fc from 'fast-check';
import { StrictMode, type ReactNode } from 'react';
import {
  isTerminal,
  JobFailedError,
  JobNotFoundError,
  JobTransportError,
  type Job,
  type JobClient,
  type JobSubscriptionListener,
} from '../../src/core';
import { JobClientProvider } from '../../src/react/JobClientProvider';
import { useJobStatus } from '../../src/react/useJobStatus';
import { setVisibility, testQueryClient } from '../helpers';
import { fcParams, jobAt, MAX_VERSION, rank, timelineArb, versionOf, type Timeline } from './support';

const IDS = ['a', 'b', 'c'] as const;
const RUNS = 1000;

// ---- the controlled world ---------------------------------------------------

interface Call {
  id: string;
  done: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface Sub {
  id: string;
  listener: JobSubscriptionListener;
  active: boolean;
}

/** A controlled client (answers in any order, chosen by the test) and, optionally, push. */
function world(push: boolean) {
  const calls: Call[] = [];
  const subs: Sub[] = [];
  let clientCalls = 0;
  const client: JobClient = {
    getStatus(id, o) {
      clientCalls += 1;
      return new Promise((resolve, reject) => {
        const call: Call = { id, done: false, resolve: resolve as (v: unknown) => void, reject };
        calls.push(call);
        o?.signal?.addEventListener('abort', () => {
          call.done = true;
          reject(new DOMException('Aborted', 'AbortError'));
        });
      });
    },
    list: async () => {
      clientCalls += 1;
      return { jobs: [], nextCursor: null };
    },
    getPendingCount: async () => {
      clientCalls += 1;
      return { pending: 0, processing: 0 };
    },
  };
  if (push) {
    client.subscribe = (id, listener) => {
      clientCalls += 1;
      const sub: Sub = { id, listener, active: true };
      subs.push(sub);
      return () => {
        sub.active = false;
      };
    };
  }
  return {
    client,
    clientCalls: () => clientCalls,
    open: () => calls.filter((c) => !c.done),
    activeSubs: () => subs.filter((s) => s.active),
  };
}

// ---- commands ---------------------------------------------------------------

type Cmd =
  | { t: 'answer'; call: number; kind: 'job' | 'transport' | 'notFound'; version: number }
  | { t: 'push'; sub: number; version: number }
  | { t: 'pushError'; sub: number }
  | { t: 'rerender'; id: number; enabled: boolean }
  | { t: 'refetch' }
  | { t: 'advance'; ms: number };

const version = fc.integer({ min: 1, max: MAX_VERSION });
const idx = fc.nat({ max: 7 });
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant('answer' as const),
      call: idx,
      kind: fc.constantFrom<'job' | 'transport' | 'notFound'>('job', 'job', 'job', 'job', 'job', 'job', 'job', 'transport', 'transport', 'notFound'),
      version,
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('push' as const), sub: idx, version }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('pushError' as const), sub: idx }) },
  {
    weight: 2,
    arbitrary: fc.record({
      t: fc.constant('rerender' as const),
      id: fc.nat({ max: IDS.length - 1 }),
      enabled: fc.constantFrom(true, true, false),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('refetch' as const) }) },
  { weight: 5, arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.constantFrom(0, 5, 300, 1000, 2000, 5000, 31_000) }) },
);

const scenarioArb = fc.record({
  timelines: fc.tuple(timelineArb, timelineArb, timelineArb),
  push: fc.boolean(),
  /** 2 or 3 ids in play. */
  idCount: fc.integer({ min: 2, max: 3 }),
  initialId: fc.nat({ max: IDS.length - 1 }),
  initialEnabled: fc.constantFrom(true, true, true, false),
  cmds: fc.array(cmdArb, { minLength: 10, maxLength: 40, size: 'max' }),
  /** The hook unmounts after this many commands (the rest still run: late answers, time). */
  unmountAt: fc.integer({ min: 3, max: 50 }),
});

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

// ---- the property -----------------------------------------------------------

interface Counts {
  complete: number;
  failedError: number;
  fatalError: number;
  settled: number;
}

async function step(fn: () => void, ms = 0): Promise<void> {
  await act(async () => {
    fn();
    await vi.advanceTimersByTimeAsync(ms);
  });
}

async function runScenario(s: Scenario) {
  vi.clearAllTimers();
  const ids = IDS.slice(0, s.idCount);
  const timelines = Object.fromEntries(IDS.map((id, i) => [id, s.timelines[i]!])) as Record<string, Timeline>;
  const w = world(s.push);
  const queryClient = testQueryClient();
  const problems: string[] = [];
  let mounted = true;

  const counts = new Map<string, Counts>(ids.map((id) => [id, { complete: 0, failedError: 0, fatalError: 0, settled: 0 }]));
  /** The terminal status shown for an id while mounted and enabled for it: callbacks are owed. */
  const delivered = new Map<string, string>();
  const late = (what: string) => {
    if (!mounted) problems.push(`${what} after unmount`);
  };
  const options = {
    onComplete: (job: Job) => {
      late(`onComplete(${job.id})`);
      if (job.status !== 'completed') problems.push(`onComplete(${job.id}) with ${job.status}`);
      counts.get(job.id)!.complete += 1;
    },
    onError: (error: Error, job?: Job) => {
      late(`onError(${job?.id})`);
      // Without a job, only the hook's current id can be meant.
      const id = job?.id ?? currentId;
      if (error instanceof JobFailedError) {
        if (job?.status !== 'failed') problems.push(`onError(JobFailedError) for ${id} with ${job?.status}`);
        counts.get(id)!.failedError += 1;
      } else counts.get(id)!.fatalError += 1;
    },
    onSettled: (job: Job) => {
      late(`onSettled(${job.id})`);
      if (!isTerminal(job)) problems.push(`onSettled(${job.id}) with ${job.status}`);
      counts.get(job.id)!.settled += 1;
    },
  };

  // (a) every rendered job, per id, never goes backwards while mounted.
  const lastSeen = new Map<string, Job>();
  const observe = (id: string, job: Job | undefined) => {
    if (!job) return;
    if (job.id !== id) problems.push(`hook for ${id} returned job ${job.id}`);
    const previous = lastSeen.get(id);
    if (previous && previous !== job) {
      if (isTerminal(previous) && !isTerminal(job)) problems.push(`${id}: terminal ${previous.status}@${versionOf(previous)} -> ${job.status}@${versionOf(job)}`);
      if (rank(job) < rank(previous)) problems.push(`${id}: rank went down`);
      if (versionOf(job) < versionOf(previous)) problems.push(`${id}: version ${versionOf(previous)} -> ${versionOf(job)}`);
    }
    lastSeen.set(id, job);
  };

  const wrapper = ({ children }: { children?: ReactNode }) => (
    <StrictMode>
      <JobClientProvider client={w.client} queryClient={queryClient}>
        {children}
      </JobClientProvider>
    </StrictMode>
  );
  let currentId: string = ids[s.initialId % ids.length]!;
  let enabled = s.initialEnabled;
  const { result, rerender, unmount } = renderHook(
    ({ id, on }: { id: string; on: boolean }) => {
      const r = useJobStatus(id, { ...options, enabled: on });
      observe(id, r.job);
      return r;
    },
    { wrapper, initialProps: { id: currentId, on: enabled } },
  );

  const pick = <T,>(list: T[], i: number): T | undefined => (list.length === 0 ? undefined : list[i % list.length]);

  const checkStep = (label: string) => {
    if (mounted) {
      const job = result.current.job;
      observe(currentId, job);
      if (enabled && job && isTerminal(job)) delivered.set(currentId, job.status);
    }
    for (const id of ids) {
      // (b) callbacks exactly once per id iff a terminal job was shown while mounted and enabled.
      const c = counts.get(id)!;
      const status = delivered.get(id);
      const want = { complete: status === 'completed' ? 1 : 0, failedError: status === 'failed' ? 1 : 0, settled: status ? 1 : 0 };
      if (c.complete !== want.complete) problems.push(`${id}: onComplete ${c.complete} times, want ${want.complete} (delivered ${status})`);
      if (c.failedError !== want.failedError) problems.push(`${id}: onError(JobFailedError) ${c.failedError} times, want ${want.failedError} (delivered ${status})`);
      if (c.settled !== want.settled) problems.push(`${id}: onSettled ${c.settled} times, want ${want.settled} (delivered ${status})`);
      if (c.fatalError > 1) problems.push(`${id}: fatal onError ${c.fatalError} times`);
    }
    if (problems.length > 0) throw new Error(`after ${label}:\n${problems.join('\n')}`);
  };

  const refetchedWhileDisabled = new Set<string>();
  let callsAtUnmount = -1;
  const doUnmount = async () => {
    callsAtUnmount = w.clientCalls();
    unmount();
    mounted = false;
    queryClient.clear();
    await act(async () => {
      for (let i = 0; i < 5; i += 1) await Promise.resolve();
    });
    // (c)/(d) nothing in flight, subscribed or scheduled once unmounted and cleared.
    // A disabled hook's refetch is a one-off read of an unwatched job, by design not cancelled.
    const stray = w.open().filter((c) => !refetchedWhileDisabled.has(c.id));
    if (stray.length > 0) problems.push(`${stray.length} reads in flight after unmount (${stray.map((c) => c.id).join()})`);
    if (w.activeSubs().length > 0) problems.push(`${w.activeSubs().length} subscriptions left after unmount`);
    if (vi.getTimerCount() !== 0) problems.push(`${vi.getTimerCount()} timers left after unmount + queryClient.clear()`);
    checkStep('unmount');
  };

  checkStep('mount');
  for (const [i, cmd] of s.cmds.entries()) {
    if (mounted && i === s.unmountAt) await doUnmount();
    switch (cmd.t) {
      case 'answer': {
        const call = pick(w.open(), cmd.call);
        if (!call) break;
        call.done = true;
        await step(() => {
          if (cmd.kind === 'transport') call.reject(new JobTransportError('down', { status: 503 }));
          else if (cmd.kind === 'notFound') call.reject(new JobNotFoundError(call.id));
          else call.resolve(jobAt(call.id, timelines[call.id]!, cmd.version));
        });
        break;
      }
      case 'push': {
        const sub = pick(w.activeSubs(), cmd.sub);
        if (sub) await step(() => sub.listener.next(jobAt(sub.id, timelines[sub.id]!, cmd.version)));
        break;
      }
      case 'pushError': {
        const sub = pick(w.activeSubs(), cmd.sub);
        if (sub) await step(() => sub.listener.error?.(new JobTransportError('stream failed')));
        break;
      }
      case 'rerender':
        if (!mounted) break;
        currentId = ids[cmd.id % ids.length]!;
        enabled = cmd.enabled;
        await step(() => rerender({ id: currentId, on: enabled }));
        break;
      case 'refetch':
        // An explicit read: a second request may overtake the first.
        if (!mounted) break;
        if (!enabled) refetchedWhileDisabled.add(currentId);
        await step(() => void result.current.refetch());
        break;
      case 'advance':
        await step(() => {}, cmd.ms);
        break;
    }
    checkStep(`step ${i} (${JSON.stringify(cmd)})`);
  }
  if (mounted) await doUnmount();

  // (b)/(c)/(d) long after unmount: no callback, no client call, no timer.
  await step(() => {}, 120_000);
  queryClient.clear();
  checkStep('120 s after unmount');
  if (w.clientCalls() !== callsAtUnmount) throw new Error(`${w.clientCalls() - callsAtUnmount} client calls after unmount`);
  if (vi.getTimerCount() !== 0) throw new Error(`${vi.getTimerCount()} timers 120 s after unmount`);
}

describe('useJobStatus: model-based races (fast-check)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    setVisibility('visible');
    // Deterministic jitter, so a seed replays the same timings.
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
  });
  afterEach(() => vi.useRealTimers());

  it(`never goes backwards, calls back once per delivered ending, and leaves no call or timer after unmount (${RUNS} runs)`, async () => {
    await fc.assert(fc.asyncProperty(scenarioArb, runScenario), fcParams(RUNS));
  }, 120_000);
});
