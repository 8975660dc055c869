// @vitest-environment node
import { setTimeout as sleep } from 'node:timers/promises';
import type { Job as BullJob } from 'bullmq';
import type { Job } from 'jobwatch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestRedis } from '../support/redis';

/**
 * The BullMQ guide's example (stories/guides/bullmq.mdx), run as written against a real Redis: the queue
 * module, the start route, the catch-all job route and the worker from examples/bullmq-*.ts.
 * Only the duration of a worker step is replaced (fast for the first job, endless for the
 * cancelled one).
 */
type Examples = {
  queue: typeof import('../../examples/bullmq-queue');
  jobs: typeof import('../../examples/bullmq-route');
  start: typeof import('../../examples/bullmq-start-route');
  worker: typeof import('../../examples/bullmq-worker');
};
type RunningWorker = Awaited<ReturnType<Examples['worker']['startWorker']>>;

const STEPS = ['Reading the prompt', 'Sketching', 'Rendering', 'Upscaling'];

// First: its server runs before the examples are imported, and stops after they closed.
const suite = useTestRedis();
let ex: Examples;
const workers: RunningWorker[] = [];
const previousRedisUrl = process.env.REDIS_URL;

beforeAll(async () => {
  // The examples read REDIS_URL when they are imported: set it first.
  process.env.REDIS_URL = suite.redis.socket;
  ex = {
    queue: await import('../../examples/bullmq-queue'),
    jobs: await import('../../examples/bullmq-route'),
    start: await import('../../examples/bullmq-start-route'),
    worker: await import('../../examples/bullmq-worker'),
  };
  await ex.queue.generations.waitUntilReady();
}, 15_000);

afterAll(async () => {
  for (const running of workers.splice(0)) {
    running.worker.cancelAllJobs('test over'); // a failed test may leave a job running
    await running.close();
  }
  await ex?.queue.jobStore.close();
  await ex?.queue.generations.close();
  if (previousRedisUrl === undefined) delete process.env.REDIS_URL;
  else process.env.REDIS_URL = previousRedisUrl;
}, 15_000);

// ---- helpers ------------------------------------------------------------------------------

const url = (path: string) => `http://localhost${path}`;
const as = (user: string | null, init: RequestInit = {}): RequestInit => ({
  ...init,
  headers: { ...(user ? { 'x-user-id': user } : {}), ...(init.headers as Record<string, string> | undefined) },
});
const get = (path: string, user: string | null = 'u1', init: RequestInit = {}) => ex.jobs.GET(new Request(url(path), as(user, init)));
const post = (path: string, user: string | null = 'u1') => ex.jobs.POST(new Request(url(path), as(user, { method: 'POST' })));

function startGeneration(user: string | null, body: unknown): Promise<Response> {
  return ex.start.POST(
    new Request(url('/api/generations'), as(user, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })),
  );
}

async function getJob(id: string, user = 'u1'): Promise<Job> {
  const response = await get(`/api/jobs/${encodeURIComponent(id)}`, user);
  expect(response.status).toBe(200);
  return (await response.json()) as Job;
}

/** Reads the job until `done(job)`, every 20 ms, for at most `timeoutMs`. */
async function waitForJob(id: string, done: (job: Job) => boolean, timeoutMs = 8000): Promise<Job> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = await getJob(id);
    if (done(job)) return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${JSON.stringify(job)} after ${timeoutMs} ms`);
    await sleep(20);
  }
}

async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

interface StreamEvent {
  id: string | null;
  event: string;
  data: unknown;
}

/** Parses a whole (ended) event-stream body. */
function parseEvents(text: string): StreamEvent[] {
  const events: StreamEvent[] = [];
  for (const block of text.split('\n\n')) {
    let id: string | null = null;
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('event: ')) event = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length > 0) events.push({ id, event, data: JSON.parse(data.join('\n')) });
  }
  return events;
}

/** Runs `body` with a worker from the example, and closes it after (stopping its jobs when `body` failed). */
async function withWorker(
  runStep: Parameters<Examples['worker']['startWorker']>[0],
  body: (running: RunningWorker) => Promise<void>,
): Promise<void> {
  const running = await ex.worker.startWorker(runStep);
  workers.push(running);
  try {
    await body(running);
  } catch (error) {
    running.worker.cancelAllJobs('test failed');
    throw error;
  } finally {
    await running.close();
    workers.splice(workers.indexOf(running), 1);
  }
}

/** A step that never ends by itself: only the cancel's abort signal stops it. */
function endlessStep(aborted: string[]) {
  return (_prompt: string, step: string, signal?: AbortSignal) =>
    sleep(60_000, undefined, { signal }).catch((error: unknown) => {
      if (signal?.aborted) aborted.push(step);
      throw error;
    });
}

// ---- the example, end to end --------------------------------------------------------------

describe('the BullMQ guide example (BullMQ on a real Redis)', () => {
  let jobId = '';

  it('POST /api/generations enqueues a job for the signed-in user and answers 202 { jobId }', async () => {
    expect((await startGeneration(null, { prompt: 'A lighthouse at dawn' })).status).toBe(401);
    expect((await startGeneration('u1', { prompt: '' })).status).toBe(400);

    const started = await startGeneration('u1', { prompt: 'A lighthouse at dawn' });
    expect(started.status).toBe(202);
    ({ jobId } = (await started.json()) as { jobId: string });
    expect(jobId).toMatch(/^\d+$/);
    expect((await ex.queue.generations.getJob(jobId))?.data).toEqual({ userId: 'u1', prompt: 'A lighthouse at dawn' });
  });

  it('GET /api/jobs/:id shows it pending to its owner only; counts and lists are scoped too', async () => {
    expect(await getJob(jobId)).toMatchObject({ id: jobId, status: 'pending', progress: null, progressMessage: null, startedAt: null });

    const other = await get(`/api/jobs/${jobId}`, 'u2');
    expect(other.status).toBe(404);
    expect(await other.json()).toMatchObject({ error: { code: 'not_found' } });
    expect((await get(`/api/jobs/${jobId}`, null)).status).toBe(401);

    expect(await (await get('/api/jobs/counts')).json()).toEqual({ pending: 1, processing: 0 });
    expect(await (await get('/api/jobs/counts', 'u2')).json()).toEqual({ pending: 0, processing: 0 });
    expect(await (await get('/api/jobs?ids=' + jobId, 'u2')).json()).toEqual({ jobs: [], missing: [jobId] });
  });

  it('the worker runs it: processing with step messages, then completed with the result, pushed over the event stream', async () => {
    const stream = await get(`/api/jobs/events?ids=${jobId}`);
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const body = stream.text(); // the stream ends once the job is terminal
    const otherStream = await get(`/api/jobs/events?ids=${jobId}`, 'u2');
    expect(parseEvents(await otherStream.text())).toEqual([{ id: expect.any(String), event: 'missing', data: { id: jobId } }]);

    const fastStep = async (_prompt: string, _step: string, signal?: AbortSignal) => void (await sleep(200, undefined, { signal }));
    await withWorker(fastStep, async () => {
      const processing = await waitForJob(jobId, (job) => job.status !== 'pending' && job.progressMessage !== null);
      expect(processing.status).toBe('processing');
      expect(STEPS).toContain(processing.progressMessage);
      expect(processing.progress).toBeGreaterThanOrEqual(0);
      expect(processing.progress).toBeLessThan(1);
      expect(processing.startedAt).not.toBeNull();

      const completed = await waitForJob(jobId, (job) => job.status === 'completed');
      expect(completed).toMatchObject({ progress: 1, result: { url: `/images/${jobId}.png` }, error: null });
      expect(completed.finishedAt).not.toBeNull();

      const events = parseEvents(await body);
      const jobs = events.map((event) => {
        expect(event.event).toBe('job');
        expect(event.id).toMatch(/^\d+(-\d+)?$/); // an updatedAt, or a position in BullMQ's event stream
        return event.data as Job;
      });
      expect(jobs[0]).toMatchObject({ id: jobId, status: 'pending' });
      expect(jobs.at(-1)).toEqual(completed);
      expect(jobs.slice(1, -1).every((job) => job.status === 'processing')).toBe(true);
      // Every step's progress was pushed, in order, on BullMQ's 0..100 scale read as 0..1.
      const steps = jobs.filter((job) => job.status === 'processing' && job.progressMessage !== null);
      expect(steps.map((job) => [job.progressMessage, job.progress])).toEqual(STEPS.map((step, i) => [step, i / STEPS.length]));

      // A client reconnecting with Last-Event-ID resumes: it gets only what it has not seen.
      const lastSeen = events.find((event) => (event.data as Job).status === 'processing')!.id!;
      const resumed = await get(`/api/jobs/events?ids=${jobId}`, 'u1', { headers: { 'last-event-id': lastSeen } });
      expect(parseEvents(await resumed.text()).map((event) => event.data)).toEqual([completed]);

      expect(await (await get('/api/jobs?status=completed')).json()).toEqual({ jobs: [completed], nextCursor: null });
      expect(await (await get('/api/jobs?status=completed', 'u2')).json()).toEqual({ jobs: [], nextCursor: null });
      expect(await (await get('/api/jobs/counts')).json()).toEqual({ pending: 0, processing: 0 });
      // Each step's job.log() line is a `log` part of the job's output, to its owner only.
      const output = await (await get(`/api/jobs/${jobId}/output`)).json();
      expect(output).toMatchObject({ done: true, parts: STEPS.map((text, i) => ({ seq: i + 1, kind: 'log', text })) });
      expect((await get(`/api/jobs/${jobId}/output`, 'u2')).status).toBe(404);
    });
  });

  it('POST /api/jobs/:id/cancel stops a running job: the processor is aborted and the job reads as cancelled', async () => {
    const aborted: string[] = [];
    await withWorker(endlessStep(aborted), async (running) => {
      const failed: { job: BullJob | undefined; error: Error }[] = [];
      running.worker.on('failed', (job, error) => failed.push({ job, error }));

      const started = await startGeneration('u1', { prompt: 'A very long render' });
      const { jobId: longId } = (await started.json()) as { jobId: string };
      await waitForJob(longId, (job) => job.status === 'processing' && job.progressMessage === STEPS[0]);

      expect((await post(`/api/jobs/${longId}/cancel`, 'u2')).status).toBe(404);
      expect((await post(`/api/jobs/${longId}/cancel`, null)).status).toBe(401);
      expect((await getJob(longId)).status).toBe('processing');

      const cancelledAt = Date.now();
      const cancel = await post(`/api/jobs/${longId}/cancel`);
      expect(cancel.status).toBe(200);
      expect(await cancel.json()).toMatchObject({ id: longId, status: 'cancelled' });
      expect(Date.now() - cancelledAt).toBeLessThan(5000); // the step alone would take a minute

      // The processor saw its signal abort in the step it was in, and failed without a retry.
      expect(aborted).toEqual([STEPS[0]]);
      await until(() => failed.length > 0);
      expect(failed).toHaveLength(1);
      expect(String(failed[0]!.job?.id)).toBe(longId);
      expect(failed[0]!.error).toMatchObject({ name: 'UnrecoverableError', message: 'Cancelled' });

      expect(await getJob(longId)).toMatchObject({ status: 'cancelled', progressMessage: STEPS[0] });
      expect(await ex.queue.generations.getJob(longId)).toBeUndefined(); // gone from BullMQ, kept as a marker
      const redisClient = await ex.queue.generations.getBackend().client;
      expect(await redisClient.hexists('bull:generations:jobwatch:cancelled', longId)).toBe(1);
      expect(await (await get('/api/jobs/counts')).json()).toEqual({ pending: 0, processing: 0 });
      const again = await post(`/api/jobs/${longId}/cancel`);
      expect(again.status).toBe(409);
      expect(await again.json()).toMatchObject({ error: { code: 'not_cancellable' } });
    });
  });
});
