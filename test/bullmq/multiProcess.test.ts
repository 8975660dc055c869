// @vitest-environment node
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createFetchJobClient, type FetchJobClient } from '../../src/core/createFetchJobClient';
import { JobNotFoundError } from '../../src/contract/errors';
import { isTerminal } from '../../src/contract/states';
import type { Job, JobState } from '../../src/contract/types';
import { useTestRedis } from '../support/redis';
import { readEvents } from '../support/sse';

/**
 * jobwatch/bullmq across processes: HTTP servers (fixtures/server.mjs) and BullMQ workers
 * (fixtures/worker.mjs) run as separate node processes on the BUILT package (dist/), sharing one
 * real redis-server; the test talks to the servers over HTTP with the real fetch client.
 * Nothing is mocked. Waits poll with deadlines; nothing asserts on timing.
 */

const SERVER = fileURLToPath(new URL('./fixtures/server.mjs', import.meta.url));
const WORKER = fileURLToPath(new URL('./fixtures/worker.mjs', import.meta.url));
const DIST_FILES = ['server.js', 'bullmq.js'].map((file) => fileURLToPath(new URL(`../../dist/${file}`, import.meta.url)));

const STARTUP_MS = 15_000;
const TEST_MS = 30_000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// ---- child processes ----------------------------------------------------------------------

type Line = Record<string, unknown>;

interface Child {
  name: string;
  proc: ChildProcessWithoutNullStreams;
  /** Every JSON line the child printed on stdout, in order (non-JSON lines as `{ raw }`). */
  lines: Line[];
  stderr: () => string;
  exited: Promise<void>;
  /** Resolves with the first line (already printed or to come) matching `match`. */
  waitForLine(match: (line: Line) => boolean, what: string, timeoutMs?: number): Promise<Line>;
}

const children = new Set<Child>();

function launch(name: string, file: string, args: string[]): Child {
  const proc = spawn(process.execPath, [file, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const lines: Line[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  let exitInfo: string | null = null;
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (chunk: string) => {
    stderr += chunk;
  });
  createInterface({ input: proc.stdout }).on('line', (text) => {
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
    } catch {
      line = { raw: text };
    }
    lines.push(line);
    for (const wake of waiters) wake();
  });
  const exited = new Promise<void>((resolve) => {
    proc.once('exit', (code, signal) => {
      exitInfo = `exited (code ${code}, signal ${signal})`;
      for (const wake of waiters) wake();
      resolve();
    });
  });

  const child: Child = {
    name,
    proc,
    lines,
    stderr: () => stderr,
    exited,
    waitForLine(match, what, timeoutMs = STARTUP_MS) {
      return new Promise<Line>((resolve, reject) => {
        const check = () => {
          const found = lines.find(match);
          if (found) return finish(() => resolve(found));
          if (exitInfo !== null) {
            return finish(() => reject(new Error(`${name} ${exitInfo} before ${what}; stderr:\n${stderr.slice(-2000)}`)));
          }
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`${name}: no ${what} within ${timeoutMs} ms; stderr:\n${stderr.slice(-2000)}`))),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          waiters.delete(check);
          settle();
        };
        waiters.add(check);
        check();
      });
    },
  };
  children.add(child);
  void exited.then(() => children.delete(child));
  return child;
}

/** SIGTERM, then SIGKILL when it has not exited after `graceMs`. */
async function stopChild(child: Child, graceMs = 5000): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const stopped = await Promise.race([child.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!stopped) {
    child.proc.kill('SIGKILL');
    await child.exited;
  }
}

async function killChild(child: Child): Promise<void> {
  child.proc.kill('SIGKILL');
  await child.exited;
}

interface ServerProcess extends Child {
  port: number;
  client(user: string): FetchJobClient;
}

async function startServer(name: string, queueName: string): Promise<ServerProcess> {
  const child = launch(name, SERVER, [suite.redis.socket, queueName]);
  const ready = await child.waitForLine((line) => typeof line.port === 'number', 'listening line');
  const port = ready.port as number;
  return Object.assign(child, {
    port,
    client: (user: string) =>
      createFetchJobClient({ baseUrl: `http://127.0.0.1:${port}/api/jobs`, headers: { 'x-user-id': user }, timeoutMs: 10_000 }),
  });
}

interface WorkerProcess extends Child {
  pid: number;
  /** Tells a `--stalled-only` worker to start taking jobs. */
  run(): Promise<void>;
}

async function startWorker(
  name: string,
  queueName: string,
  options: { lockDuration?: number; stalledInterval?: number; maxStalledCount?: number; stalledOnly?: boolean } = {},
): Promise<WorkerProcess> {
  const args = [suite.redis.socket, queueName, '--label', name];
  if (options.lockDuration !== undefined) args.push('--lock-duration', String(options.lockDuration));
  if (options.stalledInterval !== undefined) args.push('--stalled-interval', String(options.stalledInterval));
  if (options.maxStalledCount !== undefined) args.push('--max-stalled-count', String(options.maxStalledCount));
  if (options.stalledOnly) args.push('--stalled-only');
  const child = launch(name, WORKER, args);
  const ready = await child.waitForLine((line) => line.event === 'ready', 'ready line');
  return Object.assign(child, {
    pid: ready.pid as number,
    async run() {
      child.proc.stdin.write('run\n');
      await child.waitForLine((line) => line.event === 'running', 'running line');
    },
  });
}

// ---- polling and observations -------------------------------------------------------------

/** Polls `check` until it returns a value other than undefined/false, or fails after `timeoutMs`. */
async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 15_000, intervalMs = 25): Promise<Exclude<T, false | undefined>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value as Exclude<T, false | undefined>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `; last error: ${String(lastError)}` : ''}`);
    }
    await sleep(intervalMs);
  }
}

interface Observation {
  /** Index of the client (server) the read went through. */
  via: number;
  job: Job;
}

/**
 * Reads the job through the given clients in turn (one server after the other) until it is
 * terminal; every answer is recorded as it comes.
 */
function pollJob(clients: FetchJobClient[], id: string, timeoutMs = 25_000) {
  const observations: Observation[] = [];
  let stopped = false;
  const done = (async () => {
    const deadline = Date.now() + timeoutMs;
    for (let i = 0; !stopped; i++) {
      if (Date.now() > deadline) {
        throw new Error(`job ${id} not terminal after ${timeoutMs} ms; last seen: ${JSON.stringify(observations.at(-1)?.job)}`);
      }
      const via = i % clients.length;
      const job = await clients[via]!.getStatus(id);
      observations.push({ via, job });
      if (isTerminal(job)) break;
      await sleep(20);
    }
    return observations;
  })();
  // Failures surface when `done` is awaited; keep an unawaited loop from being "unhandled".
  done.catch(() => undefined);
  return {
    observations,
    done,
    stop() {
      stopped = true;
    },
  };
}

/** The statuses in order, consecutive repeats collapsed. */
function transitions(jobs: Job[]): JobState[] {
  const out: JobState[] = [];
  for (const job of jobs) if (out.at(-1) !== job.status) out.push(job.status);
  return out;
}

const RANK: Record<JobState, number> = { pending: 0, processing: 1, completed: 2, failed: 2, cancelled: 2 };

// ---- set-up -------------------------------------------------------------------------------

// Only the server and queue names come from useTestRedis: after each test this file's own afterEach
// stops what the test watches with, then all child processes at once, then all queues at once.
const suite = useTestRedis();
const connection = () => ({ path: suite.redis.socket, maxRetriesPerRequest: null });
const queues: Queue[] = [];
const cleanups: (() => void)[] = [];

function newQueue(): Queue {
  const queue = new Queue(suite.uniqueName('multi'), { connection: connection() });
  queues.push(queue);
  return queue;
}

beforeAll(async () => {
  const missing = DIST_FILES.filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new Error(`These tests run the built package in child processes, and ${missing.join(', ')} is missing: run npm run build first.`);
  }
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await Promise.all([...children].map((child) => stopChild(child)));
  await Promise.all(queues.splice(0).map((queue) => queue.close()));
}, 20_000);

afterAll(async () => {
  await Promise.all([...children].map((child) => stopChild(child)));
}, 20_000);

/** Two server processes and two worker processes on one queue. */
function startTwoOfEach(queueName: string) {
  return Promise.all([
    startServer('server-1', queueName),
    startServer('server-2', queueName),
    startWorker('worker-1', queueName),
    startWorker('worker-2', queueName),
  ]);
}

// ---- tests --------------------------------------------------------------------------------

describe('jobwatch/bullmq across processes (real Redis, built package)', () => {
  it(
    'two servers and two workers serve one client consistently',
    async () => {
      const queue = newQueue();
      const [s1, s2, w1, w2] = await startTwoOfEach(queue.name);
      const alice = [s1.client('alice'), s2.client('alice')] as const;
      const bob = [s1.client('bob'), s2.client('bob')] as const;

      // The watched job waits (delayed, i.e. pending) until the client has seen it pending everywhere.
      const watched = await queue.add('render', { owner: 'alice', steps: 10, stepMs: 200 }, { delay: 1_000_000_000 });
      const watchedId = String(watched.id);
      const others = await Promise.all(
        Array.from({ length: 5 }, (_, i) => queue.add(`other-${i}`, { owner: 'alice', steps: 4, stepMs: 150 })),
      );
      // Jobs that stay pending, and another owner's job.
      const parked = await Promise.all([
        queue.add('parked-1', { owner: 'alice' }, { delay: 1_000_000_000 }),
        queue.add('parked-2', { owner: 'alice' }, { delay: 1_000_000_000 }),
      ]);
      const bobsJob = await queue.add('bobs', { owner: 'bob' }, { delay: 1_000_000_000 });

      // Push through server 1 while polling through both servers in turn.
      const pushed: Job[] = [];
      const pushErrors: unknown[] = [];
      const unsubscribe = alice[0].subscribe!(watchedId, {
        next: (job) => pushed.push(job),
        error: (error) => pushErrors.push(error),
      });
      cleanups.push(unsubscribe);
      const poll = pollJob([...alice], watchedId);
      cleanups.push(poll.stop);

      await waitFor(
        () => pushed.some((job) => job.status === 'pending') && new Set(poll.observations.map((o) => o.via)).size === 2,
        'the watched job read as pending through push and both servers',
      );
      expect(poll.observations.every((o) => o.job.status === 'pending')).toBe(true);
      await watched.promote();

      const observations = await poll.done;
      await waitFor(() => pushed.some((job) => isTerminal(job)), 'the terminal push through server 1');

      // Polling through either server: never backwards, in state or in time.
      const polled = observations.map((o) => o.job);
      expect(transitions(polled)).toEqual(['pending', 'processing', 'completed']);
      for (let i = 1; i < polled.length; i++) {
        const before = polled[i - 1]!;
        const after = polled[i]!;
        expect(RANK[after.status], `read ${i} went from ${before.status} to ${after.status}`).toBeGreaterThanOrEqual(RANK[before.status]);
        expect(Date.parse(after.updatedAt), `updatedAt of read ${i}`).toBeGreaterThanOrEqual(Date.parse(before.updatedAt));
        if (before.status === 'processing' && after.status === 'processing') {
          expect(after.progress ?? 0, `progress of read ${i}`).toBeGreaterThanOrEqual(before.progress ?? 0);
        }
      }
      // Both servers answered while it ran, and it was seen mid-way with a progress message.
      const running = observations.filter((o) => o.job.status === 'processing');
      expect(new Set(running.map((o) => o.via))).toEqual(new Set([0, 1]));
      expect(running.some((o) => (o.job.progress ?? 0) > 0 && (o.job.progress ?? 0) < 1 && /^step \d+ of 10$/.test(o.job.progressMessage ?? ''))).toBe(true);

      // Push through server 1: the same life, in order, with progress.
      expect(pushErrors).toEqual([]);
      expect(transitions(pushed)).toEqual(['pending', 'processing', 'completed']);
      expect(pushed.some((job) => job.status === 'processing' && (job.progress ?? 0) > 0 && (job.progress ?? 0) < 1)).toBe(true);
      for (let i = 1; i < pushed.length; i++) {
        expect(Date.parse(pushed[i]!.updatedAt)).toBeGreaterThanOrEqual(Date.parse(pushed[i - 1]!.updatedAt));
      }

      // Both views end at the same completed job; a worker process made it.
      const finalPolled = polled.at(-1)!;
      const finalPushed = pushed.at(-1)!;
      expect(finalPolled.status).toBe('completed');
      expect(finalPushed.status).toBe('completed');
      expect(finalPushed.result).toEqual(finalPolled.result);
      expect(finalPolled.progress).toBe(1);
      expect([w1.pid, w2.pid]).toContain((finalPolled.result as { by: number }).by);
      expect(await alice[0].getStatus(watchedId)).toEqual(await alice[1].getStatus(watchedId));

      // Every job settles; the jobs were spread over both worker processes.
      const ranIds = [watchedId, ...others.map((job) => String(job.id))];
      const settled = await waitFor(async () => {
        const batch = await alice[1].getStatuses(ranIds);
        return batch.jobs.length === ranIds.length && batch.jobs.every((job) => job.status === 'completed') && batch.jobs;
      }, 'all six jobs completed');
      const by = new Set(settled.map((job) => (job.result as { by: number }).by));
      expect(by).toEqual(new Set([w1.pid, w2.pid]));
      // The worker processes say the same.
      const completedIn = (worker: WorkerProcess) =>
        worker.lines.filter((line) => line.event === 'completed').map((line) => String(line.jobId));
      expect([...completedIn(w1), ...completedIn(w2)].sort()).toEqual([...ranIds].sort());
      for (const job of settled) {
        const worker = (job.result as { by: number }).by === w1.pid ? w1 : w2;
        expect(completedIn(worker)).toContain(job.id);
      }

      // Another owner sees none of it, through either server.
      for (const client of bob) {
        await expect(client.getStatus(watchedId)).rejects.toBeInstanceOf(JobNotFoundError);
        await expect(client.getStatus(String(others[0]!.id))).rejects.toBeInstanceOf(JobNotFoundError);
        expect(await client.getStatus(String(bobsJob.id))).toMatchObject({ id: String(bobsJob.id), status: 'pending' });
        expect(await client.getPendingCount()).toEqual({ pending: 1, processing: 0 });
        expect((await client.list()).jobs.map((job) => job.id)).toEqual([String(bobsJob.id)]);
      }
      for (const client of alice) {
        await expect(client.getStatus(String(bobsJob.id))).rejects.toBeInstanceOf(JobNotFoundError);
      }

      // Counts agree through both servers once everything settled.
      const counts = await Promise.all(alice.map((client) => client.getPendingCount()));
      expect(counts).toEqual([
        { pending: 2, processing: 0 },
        { pending: 2, processing: 0 },
      ]);

      // Server 2 pages through all of alice's jobs, newest first, each once.
      const listed: Job[] = [];
      const pageSizes: number[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < 10; page++) {
        const answer = await alice[1].list({ limit: 3, ...(cursor ? { cursor } : {}) });
        listed.push(...answer.jobs);
        pageSizes.push(answer.jobs.length);
        if (answer.nextCursor === null) break;
        cursor = answer.nextCursor;
      }
      const aliceIds = [...ranIds, ...parked.map((job) => String(job.id))];
      expect(pageSizes).toEqual([3, 3, 2]);
      expect(listed.map((job) => job.id).sort()).toEqual([...aliceIds].sort());
      for (let i = 1; i < listed.length; i++) {
        expect(Date.parse(listed[i]!.createdAt)).toBeLessThanOrEqual(Date.parse(listed[i - 1]!.createdAt));
      }
      expect(listed.filter((job) => job.status === 'completed')).toHaveLength(6);
      expect(listed.filter((job) => job.status === 'pending').map((job) => job.id).sort()).toEqual(
        parked.map((job) => String(job.id)).sort(),
      );
      // A filtered list through server 1 agrees with server 2.
      const pendingVia1 = await alice[0].list({ status: 'pending' });
      expect(pendingVia1.jobs.map((job) => job.id).sort()).toEqual(parked.map((job) => String(job.id)).sort());
    },
    TEST_MS,
  );

  it(
    'a client whose server process dies resumes on the other one with Last-Event-ID and misses nothing',
    async () => {
      const queue = newQueue();
      const [s1, s2] = await Promise.all([startServer('server-1', queue.name), startServer('server-2', queue.name)]);
      // Parked far in the future: it does not change while the client is away.
      const parked = String((await queue.add('parked', { owner: 'alice' }, { delay: 1_000_000_000 })).id);
      const id = String((await queue.add('long', { owner: 'alice', steps: 12, stepMs: 150 })).id);
      const worker = await startWorker('worker-1', queue.name);
      const open = (port: number, lastEventId?: string) =>
        fetch(`http://127.0.0.1:${port}/api/jobs/events?ids=${id},${parked}`, {
          headers: { 'x-user-id': 'alice', ...(lastEventId ? { 'last-event-id': lastEventId } : {}) },
        }).then(readEvents);

      const first = await open(s1.port);
      await waitFor(() => first.jobs().some((job) => job.id === id && (job.progress ?? 0) >= 0.25), 'a step through server 1');
      const lastId = first.lastId()!;
      const seenBefore = first.jobs().filter((job) => job.id === id);
      expect(/^\d+-\d+$/.test(lastId)).toBe(true); // a Redis stream id
      await killChild(s1);
      await first.finished;
      expect(first.ended).toBe(true);

      // The job moves on while the client has no server.
      const stepAtKill = seenBefore.at(-1)!.progress!;
      await worker.waitForLine((line) => line.event === 'step' && line.jobId === id && (line.step as number) >= 12 * stepAtKill + 3, 'more steps');

      const second = await open(s2.port, lastId);
      await waitFor(() => second.jobs().at(-1)?.status === 'completed', 'the completed job through server 2', 20_000);
      const resumed = second.jobs();
      // The unchanged job is not sent again; the changed one is, newer than what the client had.
      expect(resumed.map((job) => job.id)).not.toContain(parked);
      expect(resumed[0]!.id).toBe(id);
      expect(resumed[0]!.progress!).toBeGreaterThan(stepAtKill);
      // Across both streams, progress only moves forward and ends completed.
      const progress = [...seenBefore, ...resumed].map((job) => job.progress ?? 0);
      expect([...progress].sort((a, b) => a - b)).toEqual(progress);
      expect(resumed.at(-1)).toMatchObject({ status: 'completed', progress: 1 });
      await second.cancel().catch(() => undefined);
    },
    TEST_MS,
  );

  it(
    'a cancel through one server stops the job in a worker process',
    async () => {
      const queue = newQueue();
      const [s1, s2, w1, w2] = await startTwoOfEach(queue.name);
      const [client1, client2] = [s1.client('alice'), s2.client('alice')];

      // 100 steps of 100 ms: about ten seconds unless cancelled.
      const job = await queue.add('long', { owner: 'alice', steps: 100, stepMs: 100 });
      const id = String(job.id);
      const pushed: Job[] = [];
      cleanups.push(client1.subscribe!(id, { next: (j) => pushed.push(j) }));

      const running = await waitFor(async () => {
        const read = await client1.getStatus(id);
        return read.status === 'processing' && (read.progress ?? 0) >= 0.02 && read;
      }, 'the job processing with progress');
      expect(running.progress).toBeLessThan(1);
      const runner = [w1, w2].find((worker) => worker.lines.some((line) => line.event === 'active' && line.jobId === id));
      expect(runner, 'a worker process took the job').toBeDefined();
      const bystander = runner === w1 ? w2 : w1;

      const cancelled = await client2.cancel(id);
      expect(cancelled).toMatchObject({ id, status: 'cancelled' });

      // The worker that ran it saw the abort and its processor returned, well before its 100 steps.
      const aborted = await runner!.waitForLine((line) => line.event === 'aborted' && line.jobId === id, 'abort of the job', 10_000);
      const exit = await runner!.waitForLine((line) => line.event === 'processor-exit' && line.jobId === id, 'processor exit', 10_000);
      expect(aborted.reason).toBe('Cancelled');
      expect(exit.step as number).toBeLessThan(100);
      await runner!.waitForLine((line) => line.event === 'failed' && line.jobId === id, 'BullMQ failing the aborted job', 10_000);

      // Every reader agrees: cancelled, through both servers and the push stream of server 1.
      expect(await client1.getStatus(id)).toMatchObject({ id, status: 'cancelled' });
      expect(await client2.getStatus(id)).toMatchObject({ id, status: 'cancelled' });
      await waitFor(() => pushed.at(-1)?.status === 'cancelled', 'the cancelled push through server 1');
      expect(transitions(pushed).at(-1)).toBe('cancelled');
      expect(pushed.some((j) => j.status === 'completed')).toBe(false);
      expect(await client1.getPendingCount()).toEqual({ pending: 0, processing: 0 });
      expect((await client2.list({ status: 'cancelled' })).jobs.map((j) => j.id)).toEqual([id]);
      expect(await job.getState()).toBe('unknown'); // removed from the queue

      // The queue goes on: a later job runs to completion (on either worker).
      const after = await queue.add('after', { owner: 'alice', steps: 2, stepMs: 50 });
      const done = await waitFor(async () => {
        const read = await client1.getStatus(String(after.id));
        return read.status === 'completed' && read;
      }, 'a later job completed');
      expect([w1.pid, w2.pid]).toContain((done.result as { by: number }).by);

      // The cancelled job really stopped: no step after the abort, never completed, its progress frozen.
      const runnerLines = runner!.lines;
      const abortAt = runnerLines.indexOf(aborted);
      expect(runnerLines.slice(abortAt).filter((line) => line.event === 'step' && line.jobId === id)).toEqual([]);
      for (const worker of [w1, w2]) {
        expect(worker.lines.filter((line) => line.event === 'completed' && line.jobId === id)).toEqual([]);
      }
      expect(bystander.lines.filter((line) => line.jobId === id)).toEqual([]);
      const final = await client1.getStatus(id);
      expect(final.status).toBe('cancelled');
      expect(final.progress ?? 0).toBeLessThan(1);
    },
    TEST_MS,
  );

  it(
    'a worker killed mid-job: the job returns to pending, then completes after stall recovery',
    async () => {
      const queue = newQueue();
      const timing = { lockDuration: 1000, stalledInterval: 500, maxStalledCount: 3 };
      const [server, workerA] = await Promise.all([startServer('server', queue.name), startWorker('worker-A', queue.name, timing)]);
      const client = server.client('alice');

      // Hangs after its first step in the first worker; after a stall recovery it runs to the end.
      const job = await queue.add('fragile', { owner: 'alice', steps: 4, stepMs: 250, hang: 'until-stalled' });
      const id = String(job.id);
      const poll = pollJob([client], id);
      cleanups.push(poll.stop);
      // The same life through push (the server's event stream over BullMQ's events).
      const pushed: Job[] = [];
      cleanups.push(client.subscribe!(id, { next: (j) => pushed.push(j) }));

      await workerA.waitForLine((line) => line.event === 'hanging' && line.jobId === id, 'worker A hanging in the job');
      await waitFor(
        () => poll.observations.some((o) => o.job.status === 'processing' && (o.job.progress ?? 0) > 0),
        'the client seeing the job processing',
      );
      await killChild(workerA);

      const workerB = await startWorker('worker-B', queue.name, { ...timing, stalledOnly: true });
      // Worker B only checks for stalled jobs: the lock of A expires and the job goes back to wait.
      const backToPending = await waitFor(() => {
        const seenProcessing = poll.observations.findIndex((o) => o.job.status === 'processing');
        return seenProcessing >= 0 && poll.observations.slice(seenProcessing).find((o) => o.job.status === 'pending');
      }, 'the client seeing the job pending again');
      expect(backToPending.job.startedAt ?? null).toBeNull();
      // Back in the queue, the first attempt's progress is not shown as this job's.
      expect(backToPending.job).toMatchObject({ progress: null, progressMessage: null });
      expect(await client.getPendingCount()).toEqual({ pending: 1, processing: 0 });
      expect(workerB.lines.filter((line) => line.event === 'active')).toEqual([]);

      await workerB.run();
      const observations = await poll.done;
      const jobs = observations.map((o) => o.job);
      const seen = transitions(jobs);
      // Worker A may take the job before the first read: a leading `pending` is optional.
      expect(seen[0] === 'pending' ? seen.slice(1) : seen).toEqual(['processing', 'pending', 'processing', 'completed']);
      // Push shows the return to pending too: the job's version counts attempts, its times cannot.
      await waitFor(() => pushed.at(-1)?.status === 'completed', 'push to deliver the completed job');
      const pushedStates = transitions(pushed);
      expect(pushedStates[0] === 'pending' ? pushedStates.slice(1) : pushedStates).toEqual(['processing', 'pending', 'processing', 'completed']);

      const final = jobs.at(-1)!;
      expect(final.result).toMatchObject({ by: workerB.pid, label: 'worker-B', steps: 4 });
      expect(final.result).not.toMatchObject({ by: workerA.pid });
      // Two attempts: the second started after the first.
      const firstStart = jobs.find((j) => j.status === 'processing')!.startedAt!;
      expect(Date.parse(final.startedAt!)).toBeGreaterThan(Date.parse(firstStart));
      expect(workerB.lines.some((line) => line.event === 'completed' && line.jobId === id)).toBe(true);
      expect(workerB.lines.some((line) => line.event === 'step' && line.jobId === id && line.step === 4)).toBe(true);
    },
    TEST_MS,
  );
});
