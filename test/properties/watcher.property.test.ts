/**
 * Model-based race tests of the job watcher: random interleavings of poll
 * answers (in any order), push events, transport errors, disconnects,
 * watch/release and id changes, on fake timers.
 *
 * Replay a failure with `FC_SEED=<seed> FC_PATH=<path> npx vitest run --project unit test/properties`.
 */
import fc from 'fast-check';
import {
  createJobWatcher,
  isTerminal,
  JobNotFoundError,
  JobTransportError,
  parseJob,
  type Job,
  type JobClient,
  type JobSubscriptionListener,
  type JobWatcherEnvironment,
  type WatchHandle,
  type WatchOptions,
} from '../../src/core';
import { fcParams, jobAt, MAX_VERSION, rank, timelineArb, versionOf, type Timeline } from './support';

const IDS = ['a', 'b', 'c'] as const;

// ---- the controlled world ---------------------------------------------------

interface Call {
  ids: string[];
  batch: boolean;
  signal: AbortSignal | undefined;
  done: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface Sub {
  id: string;
  listener: JobSubscriptionListener;
  active: boolean;
}

function world(config: { batch: boolean; push: boolean; throwOnSubscribe: boolean }) {
  const calls: Call[] = [];
  const subs: Sub[] = [];
  let clientCalls = 0;
  const pending = <T>(ids: string[], batch: boolean, signal: AbortSignal | undefined) =>
    new Promise<T>((resolve, reject) => {
      clientCalls += 1;
      const call: Call = { ids, batch, signal, done: false, resolve: resolve as (v: unknown) => void, reject };
      calls.push(call);
      signal?.addEventListener('abort', () => {
        call.done = true;
        reject(new DOMException('Aborted', 'AbortError'));
      });
    });
  let subscribeCount = 0;
  const client: JobClient = {
    getStatus: (id, o) => pending<Job>([id], false, o?.signal),
    list: async () => {
      clientCalls += 1;
      return { jobs: [], nextCursor: null };
    },
    getPendingCount: async () => {
      clientCalls += 1;
      return { pending: 0, processing: 0 };
    },
  };
  if (config.batch) client.getStatuses = (ids, o) => pending([...ids], true, o?.signal);
  if (config.push) {
    client.subscribe = (id, listener) => {
      clientCalls += 1;
      // Every third subscription throws synchronously when asked to.
      if (config.throwOnSubscribe && ++subscribeCount % 3 === 0) throw new JobTransportError('cannot subscribe');
      const sub: Sub = { id, listener, active: true };
      subs.push(sub);
      return () => {
        sub.active = false;
      };
    };
  }
  return {
    client,
    calls,
    subs,
    clientCalls: () => clientCalls,
    open: () => calls.filter((c) => !c.done),
    activeSubs: () => subs.filter((s) => s.active),
  };
}

function page() {
  let visible = true;
  let online = true;
  const listeners = new Set<() => void>();
  const environment: JobWatcherEnvironment = {
    isVisible: () => visible,
    isOnline: () => online,
    subscribe(listener) {
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
  return {
    environment,
    listeners,
    set(v: boolean, o: boolean) {
      visible = v;
      online = o;
      [...listeners].forEach((l) => l());
    },
  };
}

// ---- commands ---------------------------------------------------------------

type Answer =
  | { kind: 'job'; version: number }
  | { kind: 'transport' }
  | { kind: 'notFound' }
  | { kind: 'wrongId'; version: number }
  | { kind: 'malformed' };

type Cmd =
  | { t: 'watch'; id: number; interval: WatchOptions['pollInterval']; live: boolean }
  | { t: 'release'; handle: number }
  | { t: 'remount'; handle: number }
  | { t: 'switch'; handle: number; id: number }
  | { t: 'answer'; call: number; answer: Answer; missingInBatch: boolean }
  | { t: 'push'; sub: number; version: number }
  | { t: 'pushError'; sub: number; fatal: boolean }
  | { t: 'disconnect'; sub: number }
  | { t: 'ingest'; id: number; version: number }
  | { t: 'refresh'; handle: number }
  | { t: 'env'; visible: boolean; online: boolean }
  | { t: 'advance'; ms: number };

const version = fc.integer({ min: 1, max: MAX_VERSION });
const answerArb: fc.Arbitrary<Answer> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('job' as const), version }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('transport' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('notFound' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('wrongId' as const), version }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('malformed' as const) }) },
);
const idx = fc.nat({ max: 7 });
const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constant('watch' as const),
      id: fc.nat({ max: IDS.length - 1 }),
      interval: fc.constantFrom<WatchOptions['pollInterval']>(undefined, 1000, 500, 0, () => false, (job) =>
        job?.status === 'processing' ? 300 : 1000,
      ),
      live: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('release' as const), handle: idx }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('remount' as const), handle: idx }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('switch' as const), handle: idx, id: fc.nat({ max: IDS.length - 1 }) }) },
  { weight: 6, arbitrary: fc.record({ t: fc.constant('answer' as const), call: idx, answer: answerArb, missingInBatch: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('push' as const), sub: idx, version }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('pushError' as const), sub: idx, fatal: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('disconnect' as const), sub: idx }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('ingest' as const), id: fc.nat({ max: IDS.length - 1 }), version }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('refresh' as const), handle: idx }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('env' as const), visible: fc.boolean(), online: fc.boolean() }) },
  {
    weight: 6,
    arbitrary: fc.record({ t: fc.constant('advance' as const), ms: fc.constantFrom(0, 5, 300, 1000, 2000, 5000, 31_000) }),
  },
);

const scenarioArb = fc.record({
  timelines: fc.tuple(timelineArb, timelineArb, timelineArb),
  batch: fc.boolean(),
  push: fc.boolean(),
  throwOnSubscribe: fc.boolean(),
  useEnvironment: fc.boolean(),
  listen: fc.boolean(),
  maxBatchSize: fc.constantFrom(1, 2, 100),
  cmds: fc.array(cmdArb, { minLength: 10, maxLength: 40, size: 'max' }),
});

// ---- the property -----------------------------------------------------------

async function flush(): Promise<void> {
  // Microtasks only (no timers): the watcher's queued starts and plans, settled promises.
  for (let i = 0; i < 5; i += 1) await Promise.resolve();
}

type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

async function runScenario(s: Scenario) {
  vi.clearAllTimers();
  const timelines = Object.fromEntries(IDS.map((id, i) => [id, s.timelines[i]!])) as Record<string, Timeline>;
  const w = world(s);
  const env = s.useEnvironment ? page() : null;
  const settledJobs: Job[] = [];
  const watchedCount = new Map<string, number>();
  const watchedNow = (id: string) => (watchedCount.get(id) ?? 0) > 0;
  const problems: string[] = [];
  const watcher = createJobWatcher({
    client: w.client,
    environment: env?.environment ?? null,
    random: () => 0.5,
    maxBatchSize: s.maxBatchSize,
    onJobSettled: (job) => {
      settledJobs.push(job);
      // (b) settling is about watched jobs, and only terminal ones.
      if (!watchedNow(job.id)) problems.push(`onJobSettled(${job.id}) while not watched`);
      if (!isTerminal(job)) problems.push(`onJobSettled(${job.id}) with ${job.status}`);
    },
  });

  // (a): what a watcher publishes never goes backwards.
  const lastSeen = new Map<string, Job>();
  const observe = (id: string) => {
    const job = watcher.getSnapshot(id).job;
    const previous = lastSeen.get(id);
    if (!job) {
      if (previous) problems.push(`${id}: job disappeared`);
      return;
    }
    parseJob(job);
    if (previous && previous !== job) {
      if (isTerminal(previous)) problems.push(`${id}: terminal ${previous.status}@${versionOf(previous)} replaced by ${job.status}@${versionOf(job)}`);
      if (rank(job) < rank(previous)) problems.push(`${id}: rank went down`);
      if (versionOf(job) < versionOf(previous)) problems.push(`${id}: version ${versionOf(previous)} -> ${versionOf(job)}`);
    }
    lastSeen.set(id, job);
  };
  const unlisten = s.listen ? IDS.map((id) => watcher.subscribe(id, () => observe(id))) : [];

  const handles: Array<{ id: string; handle: WatchHandle }> = [];
  const watch = (id: string, interval: WatchOptions['pollInterval'], live: boolean) => {
    const handle = watcher.watch(id, { pollInterval: interval, live });
    watchedCount.set(id, (watchedCount.get(id) ?? 0) + 1);
    handles.push({ id, handle });
  };
  const release = (i: number) => {
    const [h] = handles.splice(i, 1);
    if (!h) return undefined;
    watchedCount.set(h.id, watchedCount.get(h.id)! - 1);
    h.handle.release();
    return h;
  };
  const pick = <T>(list: T[], i: number): [T, number] | undefined => (list.length === 0 ? undefined : [list[i % list.length]!, i % list.length]);

  const checkStep = (label: string) => {
    for (const id of IDS) {
      observe(id);
      // (b) a terminal job shown while watched has settled, exactly once.
      const job = watcher.getSnapshot(id).job;
      const count = settledJobs.filter((j) => j.id === id).length;
      if (count > 1) problems.push(`${id}: onJobSettled ${count} times`);
      if (job && isTerminal(job) && watchedNow(id) && count !== 1) problems.push(`${id}: terminal while watched but settled ${count} times`);
      if (count === 1 && job !== settledJobs.find((j) => j.id === id)) problems.push(`${id}: settled job is not the job shown`);
    }
    if (handles.length === 0) {
      // (c)/(d) nothing watched: nothing in flight, no subscription, no timer.
      if (w.open().length > 0) problems.push(`${w.open().length} reads left in flight with nothing watched`);
      if (w.activeSubs().length > 0) problems.push('subscription left with nothing watched');
      if (vi.getTimerCount() !== 0) problems.push(`${vi.getTimerCount()} timers left with nothing watched`);
    }
    if (problems.length > 0) throw new Error(`after ${label}:\n${problems.join('\n')}`);
  };

  for (const [step, cmd] of s.cmds.entries()) {
    switch (cmd.t) {
      case 'watch':
        watch(IDS[cmd.id]!, cmd.interval, cmd.live);
        break;
      case 'release':
        if (handles.length) release(cmd.handle % handles.length);
        break;
      case 'remount': {
        // StrictMode: cleanup and effect again in the same tick.
        if (!handles.length) break;
        const h = release(cmd.handle % handles.length)!;
        watch(h.id, 1000, true);
        break;
      }
      case 'switch': {
        // A hook's id change: the old watch ends and the new one starts in one commit.
        if (!handles.length) break;
        release(cmd.handle % handles.length);
        watch(IDS[cmd.id]!, undefined, true);
        break;
      }
      case 'answer': {
        const p = pick(w.open(), cmd.call);
        if (!p) break;
        const [call] = p;
        call.done = true;
        const a = cmd.answer;
        if (a.kind === 'transport') call.reject(new JobTransportError('down', { status: 503 }));
        else if (a.kind === 'notFound' && !call.batch) call.reject(new JobNotFoundError(call.ids[0]!));
        else if (a.kind === 'malformed') call.resolve(call.batch ? { jobs: 'nope' } : { id: call.ids[0], status: 'exploded' });
        else if (call.batch) {
          // A batch answer: some ids missing (not found) when asked, the rest at this version.
          const missing = cmd.missingInBatch || a.kind === 'notFound' ? call.ids.slice(0, 1) : [];
          const jobs = call.ids.filter((id) => !missing.includes(id)).map((id) => jobAt(id, timelines[id]!, 'version' in a ? a.version : 1));
          call.resolve({ jobs, missing });
        } else {
          const id = a.kind === 'wrongId' ? (call.ids[0] === 'a' ? 'b' : 'a') : call.ids[0]!;
          call.resolve(jobAt(id, timelines[id]!, 'version' in a ? a.version : 1));
        }
        break;
      }
      case 'push': {
        const p = pick(w.activeSubs(), cmd.sub);
        if (p) p[0].listener.next(jobAt(p[0].id, timelines[p[0].id]!, cmd.version));
        break;
      }
      case 'pushError': {
        const p = pick(w.activeSubs(), cmd.sub);
        if (p) p[0].listener.error?.(cmd.fatal ? new JobNotFoundError(p[0].id) : new JobTransportError('stream failed'));
        break;
      }
      case 'disconnect': {
        const p = pick(w.activeSubs(), cmd.sub);
        if (p) p[0].listener.disconnected?.(new JobTransportError('stream dropped'));
        break;
      }
      case 'ingest':
        watcher.ingest(jobAt(IDS[cmd.id]!, timelines[IDS[cmd.id]!]!, cmd.version));
        break;
      case 'refresh': {
        // Only watched ids: an explicit refresh of an unwatched job is a read by design.
        const p = pick(handles, cmd.handle);
        if (p) void watcher.refresh(p[0].id);
        break;
      }
      case 'env':
        env?.set(cmd.visible, cmd.online);
        break;
      case 'advance':
        await vi.advanceTimersByTimeAsync(cmd.ms);
        break;
    }
    await flush();
    checkStep(`step ${step} (${JSON.stringify(cmd)})`);
  }

  // Release everything: (c) no client call afterwards, (d) no timer left.
  while (handles.length) release(0);
  await flush();
  checkStep('releasing everything');
  const callsAtRelease = w.clientCalls();
  await vi.advanceTimersByTimeAsync(120_000);
  await flush();
  if (w.clientCalls() !== callsAtRelease) throw new Error(`${w.clientCalls() - callsAtRelease} client calls after release`);
  if (vi.getTimerCount() !== 0) throw new Error(`${vi.getTimerCount()} timers after release`);
  unlisten.forEach((off) => off());
  if (env && env.listeners.size !== 0) throw new Error('environment listener left after release');
}

describe('createJobWatcher: model-based races (fast-check)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('never goes backwards, settles exactly once, and leaves no call or timer behind once released', async () => {
    await fc.assert(fc.asyncProperty(scenarioArb, runScenario), fcParams(1000));
  }, 60_000);
});
