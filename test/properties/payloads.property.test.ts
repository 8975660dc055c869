/**
 * Payload fuzzing: arbitrary JSON, mutated jobs and arbitrary bytes as HTTP
 * bodies and as event-stream frames. Every outcome is a valid result or a
 * typed error (`JobError` / AbortError): never an untyped throw nor an
 * unhandled rejection (vitest fails the run on those; this file also counts them).
 *
 * Replay a failure with `FC_SEED=<seed> FC_PATH=<path> npx vitest run --project unit test/properties`.
 */
import fc from 'fast-check';
import {
  createFetchJobClient,
  createJobWatcher,
  isAbortError,
  isTerminal,
  JobError,
  parseJob,
  parseJobBatch,
  parseJobPage,
  parsePendingCount,
  type Job,
} from '../../src/core';
import { fcParams, jobAt } from './support';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
beforeAll(() => void process.on('unhandledRejection', onUnhandled));
afterAll(() => void process.off('unhandledRejection', onUnhandled));
afterEach(() => {
  expect(unhandled).toEqual([]);
});

const VALID = jobAt('job-1', { processingAt: 1, terminalAt: 3, terminal: 'completed', versioned: true }, 2);
const FIELDS = [
  'id',
  'status',
  'progress',
  'progressMessage',
  'retryCount',
  'maxRetries',
  'error',
  'result',
  'createdAt',
  'updatedAt',
  'startedAt',
  'finishedAt',
  'estimatedCompletionAt',
  'version',
  'meta',
];

/** A valid job with some fields dropped or replaced by random values (including tricky ones). */
const mutatedJob: fc.Arbitrary<unknown> = fc
  .array(
    fc.record({
      field: fc.constantFrom(...FIELDS, '__proto__', 'constructor', 'extra'),
      value: fc.option(
        fc.oneof(
          fc.jsonValue(),
          fc.constantFrom(NaN, Infinity, -1, 1.5, '', 'not a date', '2026-13-45T00:00:00Z', { message: 1 }, { x: [] }),
          fc.constantFrom('pending', 'processing', 'completed', 'failed', 'cancelled', 'PENDING'),
        ),
        { nil: undefined },
      ),
    }),
    { maxLength: 4 },
  )
  .map((edits) => {
    const job: Record<string, unknown> = JSON.parse(JSON.stringify(VALID));
    for (const { field, value } of edits) {
      if (value === undefined) delete job[field];
      else Object.defineProperty(job, field, { value, enumerable: true, configurable: true, writable: true });
    }
    return job;
  });

const anyPayload: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue(),
  mutatedJob,
  fc.record({ jobs: fc.array(fc.oneof(mutatedJob, fc.jsonValue()), { maxLength: 3 }), missing: fc.jsonValue() }),
  fc.record({ jobs: fc.array(mutatedJob, { maxLength: 3 }), missing: fc.array(fc.string(), { maxLength: 2 }) }),
  fc.record({ jobs: fc.array(mutatedJob, { maxLength: 3 }), nextCursor: fc.oneof(fc.constant(null), fc.string(), fc.integer()) }),
  fc.record({ pending: fc.jsonValue(), processing: fc.jsonValue() }),
  fc.record({ error: fc.record({ code: fc.jsonValue(), message: fc.jsonValue() }) }),
);

const encoder = new TextEncoder();

/** A body: JSON of a payload, or random bytes, or random text. */
const bodyArb: fc.Arbitrary<Uint8Array> = fc.oneof(
  { weight: 3, arbitrary: anyPayload.map((v) => encoder.encode(JSON.stringify(v) ?? 'undefined')) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 64 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 64 }).map((s) => encoder.encode(s)) },
);

const NULL_BODY = new Set([204, 205, 304]);
const responseArb = fc.record({
  status: fc.oneof(fc.constantFrom(200, 200, 200, 400, 401, 403, 404, 409, 429, 500, 503), fc.integer({ min: 200, max: 599 })),
  body: bodyArb,
  retryAfter: fc.option(fc.oneof(fc.nat({ max: 100 }).map(String), fc.string({ maxLength: 12 })), { nil: undefined }),
  contentType: fc.constantFrom('application/json', 'text/plain', 'text/event-stream'),
});
type FakeResponse = typeof responseArb extends fc.Arbitrary<infer T> ? T : never;

function toResponse(r: FakeResponse): Response {
  const headers = new Headers({ 'content-type': r.contentType });
  if (r.retryAfter !== undefined) headers.set('retry-after', r.retryAfter);
  return new Response(NULL_BODY.has(r.status) ? null : (r.body as BodyInit), { status: r.status, headers });
}

function expectTypedError(error: unknown): void {
  if (!(error instanceof JobError) && !isAbortError(error)) {
    throw new Error(`untyped rejection: ${String(error)}`, { cause: error });
  }
}

describe('payload fuzzing: HTTP bodies through createFetchJobClient', () => {
  it('every read resolves to a valid result or rejects with a typed error', async () => {
    const methods = ['getStatus', 'getStatuses', 'list', 'getPendingCount', 'cancel', 'retry'] as const;
    await fc.assert(
      fc.asyncProperty(
        responseArb,
        fc.constantFrom(...methods),
        fc.constantFrom('job-1', 'a/b?c', 'ünï'),
        fc.boolean(),
        async (r, method, id, fetchThrows) => {
          const client = createFetchJobClient({
            baseUrl: 'https://api.test/jobs',
            push: false,
            fetch: async () => {
              if (fetchThrows && r.status % 7 === 0) throw new TypeError('fetch failed');
              return toResponse(r);
            },
          });
          let result: unknown;
          try {
            if (method === 'getStatus') result = await client.getStatus(id);
            else if (method === 'getStatuses') result = await client.getStatuses([id, 'job-2']);
            else if (method === 'list') result = await client.list({ status: 'pending' });
            else if (method === 'getPendingCount') result = await client.getPendingCount();
            else result = await client[method](id);
          } catch (error) {
            expectTypedError(error);
            return;
          }
          // A result only from a 2xx answer, and only a valid one.
          expect(r.status >= 200 && r.status < 300).toBe(true);
          if (method === 'getStatuses') parseJobBatch(result);
          else if (method === 'list') parseJobPage(result);
          else if (method === 'getPendingCount') parsePendingCount(result);
          else expect(parseJob(result).id).toBe(id);
        },
      ),
      fcParams(1000),
    );
  }, 60_000);

  it('parseJob accepts a value or throws JobProtocolError, for any JSON and any mutation of a valid job', () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), mutatedJob, fc.anything()), (value) => {
        try {
          const job = parseJob(value);
          expect(job).toBe(value);
        } catch (error) {
          expect(error).toBeInstanceOf(JobError);
        }
      }),
      fcParams(1000),
    );
    // 1,000 runs: ~0.1 s idle, but sized for a busy 2-core machine like every property test here.
  }, 60_000);
});

describe('payload fuzzing: the watcher over a fuzzed HTTP client', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('a snapshot only ever holds a job that passes parseJob, and errors are typed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(responseArb, { minLength: 1, maxLength: 6 }),
        fc.constantFrom(['job-1'], ['job-1', 'job-2']),
        async (responses, ids) => {
          vi.clearAllTimers();
          let n = 0;
          const client = createFetchJobClient({
            baseUrl: '/api/jobs',
            push: false,
            fetch: async () => toResponse(responses[n++ % responses.length]!),
          });
          const watcher = createJobWatcher({ client, environment: null, random: () => 0.5 });
          const problems: string[] = [];
          const check = (id: string) => {
            const snap = watcher.getSnapshot(id);
            if (snap.job) {
              try {
                parseJob(snap.job);
              } catch (error) {
                problems.push(`${id}: invalid job shown: ${String(error)}`);
              }
              if (snap.job.id !== id) problems.push(`${id}: shows job ${snap.job.id}`);
            }
            if (snap.error !== null && !(snap.error instanceof JobError)) problems.push(`${id}: untyped error ${String(snap.error)}`);
          };
          const offs = ids.map((id) => watcher.subscribe(id, () => check(id)));
          const handles = ids.map((id) => watcher.watch(id, { pollInterval: 1000 }));
          for (let i = 0; i < responses.length + 1; i += 1) await vi.advanceTimersByTimeAsync(31_000);
          ids.forEach(check);
          handles.forEach((h) => h.release());
          offs.forEach((off) => off());
          await vi.advanceTimersByTimeAsync(0);
          expect(problems).toEqual([]);
          expect(vi.getTimerCount()).toBe(0);
        },
      ),
      fcParams(1000),
    );
  }, 60_000);
});

// ---- event streams ------------------------------------------------------------

const lineArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('event: job', 'event: missing', 'event: other', 'event:', ': heartbeat', '', 'retry: 10', 'id:', 'data:'),
  fc.nat({ max: 1000 }).map((n) => `id: ${n}`),
  fc.string({ maxLength: 8 }).map((s) => `id: ${s}`),
  anyPayload.map((v) => `data: ${JSON.stringify(v)}`),
  fc.constantFrom('job-1', 'job-2', 'other').map((id) => `data: ${JSON.stringify({ id })}`),
  fc.string({ unit: 'binary', maxLength: 30 }),
  fc.constant(`data: ${JSON.stringify(VALID)}`),
);
/** A whole event: mostly well-formed `job`/`missing` events (valid or mutated jobs), some odd ones. */
const eventArb: fc.Arbitrary<string> = fc
  .record({
    event: fc.constantFrom('job', 'job', 'job', 'missing', 'other', ''),
    id: fc.option(fc.oneof(fc.nat({ max: 1000 }).map(String), fc.string({ maxLength: 6 })), { nil: undefined }),
    data: fc.oneof(
      { weight: 4, arbitrary: fc.record({ id: fc.constantFrom('job-1', 'job-2', 'other'), v: fc.integer({ min: 1, max: 6 }), t: fc.integer({ min: 2, max: 7 }) })
        .map(({ id, v, t }) => JSON.stringify(jobAt(id, { processingAt: 1, terminalAt: t, terminal: 'failed', versioned: true }, v))) },
      { weight: 1, arbitrary: fc.constantFrom('job-1', 'job-2', 'other').map((id) => JSON.stringify({ id })) },
      { weight: 1, arbitrary: mutatedJob.map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
    ),
  })
  .map(({ event, id, data }) => [event ? `event: ${event}` : '', id !== undefined ? `id: ${id}` : '', `data: ${data}`, '', ''].filter((l, i) => l !== '' || i >= 3).join('\n'));

/** A stream's chunks: random SSE events and lines cut at random places, or raw bytes. */
const framesArb: fc.Arbitrary<Uint8Array[]> = fc
  .tuple(
    fc.array(fc.oneof({ weight: 2, arbitrary: eventArb }, { weight: 1, arbitrary: lineArb }), { maxLength: 12 }),
    fc.array(fc.nat({ max: 400 }), { maxLength: 5 }),
    fc.constantFrom('\n', '\r\n', '\r'),
    fc.array(fc.uint8Array({ maxLength: 32 }), { maxLength: 2 }),
  )
  .map(([lines, cuts, eol, raw]) => {
    const bytes = encoder.encode(lines.join(eol) + eol);
    const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((x, y) => x - y);
    const chunks: Uint8Array[] = [];
    let from = 0;
    for (const p of points) {
      chunks.push(bytes.slice(from, p));
      from = p;
    }
    chunks.push(bytes.slice(from));
    return [...chunks, ...raw];
  });

describe('payload fuzzing: event streams', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('subscribers get only valid jobs of their id and typed errors; nothing is left once unsubscribed', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ status: fc.constantFrom(200, 200, 200, 401, 404, 500, 503, 409), frames: framesArb, ends: fc.boolean() }), {
          minLength: 1,
          maxLength: 3,
        }),
        fc.array(responseArb, { minLength: 1, maxLength: 3 }),
        fc.constantFrom(['job-1'], ['job-1', 'job-2']),
        async (streams, resyncs, ids) => {
          vi.clearAllTimers();
          let s = 0;
          let r = 0;
          const client = createFetchJobClient({
            baseUrl: '/api/jobs',
            fetch: async (input, init) => {
              const url = String(input);
              if (!url.includes('/events')) return toResponse(resyncs[r++ % resyncs.length]!);
              const spec = streams[s++ % streams.length]!;
              if (spec.status !== 200) return new Response('{"error":{"code":"x","message":"y"}}', { status: spec.status });
              const signal = init?.signal;
              const body = new ReadableStream<Uint8Array>({
                start(controller) {
                  for (const chunk of spec.frames) controller.enqueue(chunk);
                  // An open stream stays open until aborted; else it ends (the client reconnects).
                  if (spec.ends) controller.close();
                  else signal?.addEventListener('abort', () => controller.error(new DOMException('Aborted', 'AbortError')));
                },
              });
              return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
            },
          });
          const problems: string[] = [];
          const settledIds = new Set<string>();
          const offs = ids.map((id) =>
            client.subscribe!(id, {
              next(job: Job) {
                try {
                  parseJob(job);
                } catch (error) {
                  problems.push(`invalid job pushed: ${String(error)}`);
                }
                if (job.id !== id) problems.push(`job ${job.id} pushed to ${id}`);
                if (settledIds.has(id)) problems.push(`${id}: pushed after its terminal state`);
                if (isTerminal(job)) settledIds.add(id);
              },
              error(error) {
                if (!(error instanceof JobError)) problems.push(`untyped error: ${String(error)}`);
              },
              disconnected(error) {
                if (!(error instanceof JobError)) problems.push(`untyped disconnect: ${String(error)}`);
              },
            }),
          );
          for (let i = 0; i < 4; i += 1) await vi.advanceTimersByTimeAsync(20_000);
          offs.forEach((off) => off());
          await vi.advanceTimersByTimeAsync(0);
          await vi.advanceTimersByTimeAsync(0);
          expect(problems).toEqual([]);
          expect(vi.getTimerCount()).toBe(0);
        },
      ),
      fcParams(1000),
    );
  }, 60_000);
});
