import { JobNotFoundError, JobRequestError } from '../../src/contract/errors';
import { DEFAULT_STORED_OUTPUT_PARTS, MAX_OUTPUT_PAGE_PARTS, parseOutputPage, parseOutputParts } from '../../src/contract/output';
import type { JobOutputPart } from '../../src/contract/types';
import { createMemoryJobBackend } from '../../src/testing';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

function expectRequestError(error: unknown, status: number, code: string): void {
  expect(error).toBeInstanceOf(JobRequestError);
  expect(error).toMatchObject({ status, code });
}

/** Records every `next` call of an output subscription. */
function outputRecorder() {
  const calls: Array<{ parts: JobOutputPart[]; info: { done?: boolean; trimmed?: boolean } | undefined }> = [];
  const errors: unknown[] = [];
  return {
    calls,
    errors,
    seqs: () => calls.flatMap((call) => call.parts.map((part) => part.seq)),
    doneCount: () => calls.filter((call) => call.info?.done).length,
    listener: {
      next: (parts: JobOutputPart[], info?: { done?: boolean; trimmed?: boolean }) => void calls.push({ parts, info }),
      error: (e: unknown) => void errors.push(e),
    },
  };
}

const text = (t: string) => ({ kind: 'text' as const, text: t });

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});

afterEach(() => {
  vi.useRealTimers();
});

describe('appendOutput', () => {
  it('fills in seq 1, 2, 3… and at from the backend clock, keeping only the part’s fields', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    expect(backend.appendOutput(id, text('Once'))).toEqual({ seq: 1, kind: 'text', text: 'Once', at: at(0) });
    backend.advance(250);
    const extra = { kind: 'data', data: { step: 1 }, extra: 'dropped' } as never;
    expect(backend.appendOutput(id, extra)).toEqual({ seq: 2, kind: 'data', data: { step: 1 }, at: at(250) });
    const image = { kind: 'image' as const, url: 'https://example.com/p.png', alt: 'Preview' };
    expect(backend.appendOutput(id, image)).toMatchObject({ seq: 3, ...image });
    // Its own `at` is kept: when the producer made it.
    expect(backend.appendOutput(id, { kind: 'log', text: 'Hi', at: at(-5) }).at).toBe(at(-5));
  });

  it('keeps seqs per job', () => {
    const backend = createMemoryJobBackend();
    const a = backend.create().id;
    const b = backend.create().id;
    backend.appendOutput(a, text('a1'));
    expect(backend.appendOutput(b, text('b1')).seq).toBe(1);
    expect(backend.appendOutput(a, text('a2')).seq).toBe(2);
  });

  it('refuses a bad part with a 400, an unknown job with JobNotFoundError and a terminal job with 409 job_finished', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    expectRequestError(thrown(() => backend.appendOutput(id, { kind: 'video' } as never)), 400, 'bad_request');
    expectRequestError(thrown(() => backend.appendOutput(id, { kind: 'image', url: 'javascript:alert(1)' })), 400, 'bad_request');
    expectRequestError(thrown(() => backend.appendOutput(id, text('x'.repeat(1024 * 1024)))), 400, 'bad_request');
    expectRequestError(thrown(() => backend.appendOutput(id, { kind: 'log', text: 'x', at: 'yesterday' })), 400, 'bad_request');
    expect(thrown(() => backend.appendOutput('no-such-job', text('x')))).toBeInstanceOf(JobNotFoundError);
    backend.complete(id);
    expectRequestError(thrown(() => backend.appendOutput(id, text('late'))), 409, 'job_finished');
    expect(backend.get(id)?.status).toBe('completed');
  });

  it('does not stop the script or change the job', () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ runningMs: 1000 });
    backend.appendOutput(id, text('hi'));
    expect(backend.get(id)).toMatchObject({ status: 'processing', version: 2 });
    backend.advance(1000);
    expect(backend.get(id)?.status).toBe('completed');
  });
});

describe('readOutput', () => {
  it('reads after and limit, a page at a time, each a valid page', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    for (let i = 1; i <= 5; i++) backend.appendOutput(id, text(`t${i}`));
    const all = await backend.readOutput(id);
    expect(parseOutputPage(all)).toEqual(all);
    expect(all.parts.map((p) => p.text)).toEqual(['t1', 't2', 't3', 't4', 't5']);
    expect(all.done).toBe(false);
    expect((await backend.readOutput(id, { after: 2, limit: 2 })).parts.map((p) => p.seq)).toEqual([3, 4]);
    expect(await backend.readOutput(id, { after: 5 })).toEqual({ parts: [], done: false });
    expect(await backend.readOutput(id, { after: 9 })).toEqual({ parts: [], done: false });
  });

  it('answers copies: editing a read part does not change the stored one', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    backend.appendOutput(id, { kind: 'data', data: { n: 1 } });
    const page = await backend.readOutput(id);
    (page.parts[0]!.data as { n: number }).n = 2;
    expect((await backend.readOutput(id)).parts[0]!.data).toEqual({ n: 1 });
  });

  it('says done only when the job is terminal and the page holds the last part', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    backend.appendOutput(id, text('a'));
    backend.appendOutput(id, text('b'));
    backend.fail(id, 'Boom');
    expect((await backend.readOutput(id, { limit: 1 })).done).toBe(false);
    expect((await backend.readOutput(id, { after: 1 })).done).toBe(true);
    expect(await backend.readOutput(id, { after: 2 })).toEqual({ parts: [], done: true });
    const quiet = backend.create().id;
    backend.complete(quiet);
    expect(await backend.readOutput(quiet)).toEqual({ parts: [], done: true });
  });

  it('is scoped by owner and refuses bad input with a 400', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ owner: 'alice' });
    backend.appendOutput(id, text('secret'));
    expect((await backend.readOutput(id, { owner: 'alice' })).parts).toHaveLength(1);
    expect((await backend.readOutput(id)).parts).toHaveLength(1); // no owner: every job
    expect(await rejectionOf(backend.readOutput(id, { owner: 'bob' }))).toBeInstanceOf(JobNotFoundError);
    expect(await rejectionOf(backend.readOutput('no-such-job'))).toBeInstanceOf(JobNotFoundError);
    for (const options of [{ after: -1 }, { after: 1.5 }, { limit: 0 }, { limit: MAX_OUTPUT_PAGE_PARTS + 1 }]) {
      expectRequestError(await rejectionOf(backend.readOutput(id, options)), 400, 'bad_request');
    }
    expectRequestError(await rejectionOf(backend.readOutput('')), 400, 'bad_request');
  });

  it('is logged and answered after latencyMs, aborting with the signal', async () => {
    const backend = createMemoryJobBackend({ latencyMs: (method) => (method === 'readOutput' ? 300 : 0) });
    const { id } = backend.create();
    backend.appendOutput(id, text('a'));
    let page: unknown;
    void backend.readOutput(id, { after: 0 }).then((value) => (page = value));
    await vi.advanceTimersByTimeAsync(299);
    expect(page).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    expect(page).toMatchObject({ parts: [{ seq: 1 }] });
    const controller = new AbortController();
    const aborted = rejectionOf(backend.readOutput(id, { signal: controller.signal }));
    controller.abort();
    expect(await aborted).toMatchObject({ name: 'AbortError' });
    expect(backend.calls.map((call) => call.method)).toEqual(['readOutput', 'readOutput']);
    expect(backend.calls[0]!.args).toEqual([id, { after: 0 }]);
  });

  it('trims to maxOutputParts (default DEFAULT_STORED_OUTPUT_PARTS) and says trimmed when asked for what is gone', async () => {
    const backend = createMemoryJobBackend({ maxOutputParts: 3 });
    const { id } = backend.create();
    for (let i = 1; i <= 5; i++) backend.appendOutput(id, text(`t${i}`));
    expect(await backend.readOutput(id)).toMatchObject({ parts: [{ seq: 3 }, { seq: 4 }, { seq: 5 }], trimmed: true });
    expect(await backend.readOutput(id, { after: 1, limit: 1 })).toMatchObject({ parts: [{ seq: 3 }], trimmed: true });
    expect(await backend.readOutput(id, { after: 2 })).not.toHaveProperty('trimmed');
    expect(backend.appendOutput(id, text('t6')).seq).toBe(6);
    expect(() => createMemoryJobBackend({ maxOutputParts: 0 })).toThrow(RangeError);
    expect(() => createMemoryJobBackend({ maxOutputParts: 1.5 })).toThrow(RangeError);

    const roomy = createMemoryJobBackend();
    const job = roomy.create().id;
    for (let i = 0; i <= DEFAULT_STORED_OUTPUT_PARTS; i++) roomy.appendOutput(job, text('.'));
    expect(await roomy.readOutput(job, { limit: 1 })).toMatchObject({ parts: [{ seq: 2 }], trimmed: true });
  });
});

describe('subscribeOutput', () => {
  it('delivers the parts after `after` asynchronously, then live parts, never one twice', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    for (let i = 1; i <= 3; i++) backend.appendOutput(id, text(`t${i}`));
    const rec = outputRecorder();
    backend.subscribeOutput(id, { after: 1 }, rec.listener);
    backend.appendOutput(id, text('t4')); // before the first delivery: folded into the catch-up
    expect(rec.calls).toEqual([]);
    await flushMicrotasks();
    expect(rec.calls).toEqual([{ parts: expect.any(Array), info: undefined }]);
    expect(rec.seqs()).toEqual([2, 3, 4]);
    backend.appendOutput(id, text('t5'));
    expect(rec.seqs()).toEqual([2, 3, 4, 5]); // live parts as they are appended
    expect(parseOutputParts(rec.calls.flatMap((call) => call.parts))).toHaveLength(4);
    expect(rec.errors).toEqual([]);
  });

  it('sends the catch-up in pages of at most MAX_OUTPUT_PAGE_PARTS', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    for (let i = 0; i < MAX_OUTPUT_PAGE_PARTS + 20; i++) backend.appendOutput(id, text('.'));
    const rec = outputRecorder();
    backend.subscribeOutput(id, {}, rec.listener);
    await flushMicrotasks();
    expect(rec.calls.map((call) => call.parts.length)).toEqual([MAX_OUTPUT_PAGE_PARTS, 20]);
    expect(rec.seqs()).toEqual(Array.from({ length: MAX_OUTPUT_PAGE_PARTS + 20 }, (_, i) => i + 1));
  });

  it('ends with done once when the job becomes terminal, and delivers nothing after', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    const rec = outputRecorder();
    const unsubscribe = backend.subscribeOutput(id, {}, rec.listener);
    await flushMicrotasks();
    backend.appendOutput(id, text('a'));
    backend.complete(id);
    expect(rec.calls).toEqual([
      { parts: [expect.objectContaining({ seq: 1 })], info: undefined },
      { parts: [], info: { done: true } },
    ]);
    await backend.retry(id).catch(() => undefined);
    backend.advance(1000);
    expect(rec.doneCount()).toBe(1);
    expect(rec.calls).toHaveLength(2);
    unsubscribe(); // harmless after the end
  });

  it('folds done into the last parts when they come with the terminal change', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ runningMs: 1000, output: [{ atMs: 1000, part: text('last') }] });
    const rec = outputRecorder();
    backend.subscribeOutput(id, {}, rec.listener);
    await flushMicrotasks();
    await vi.advanceTimersByTimeAsync(1000);
    expect(rec.calls).toEqual([{ parts: [expect.objectContaining({ text: 'last', at: at(1000) })], info: { done: true } }]);
  });

  it('says done at once for a job already terminal', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    backend.appendOutput(id, text('a'));
    backend.fail(id, 'Boom');
    const caughtUp = outputRecorder();
    backend.subscribeOutput(id, { after: 1 }, caughtUp.listener);
    const fresh = outputRecorder();
    backend.subscribeOutput(id, {}, fresh.listener);
    await flushMicrotasks();
    expect(caughtUp.calls).toEqual([{ parts: [], info: { done: true } }]);
    expect(fresh.calls).toEqual([{ parts: [expect.objectContaining({ seq: 1 })], info: { done: true } }]);
  });

  it('says trimmed when the parts after `after` are gone', async () => {
    const backend = createMemoryJobBackend({ maxOutputParts: 2 });
    const { id } = backend.create();
    for (let i = 0; i < 4; i++) backend.appendOutput(id, text('.'));
    const rec = outputRecorder();
    backend.subscribeOutput(id, { after: 1 }, rec.listener);
    await flushMicrotasks();
    expect(rec.calls).toEqual([{ parts: [expect.objectContaining({ seq: 3 }), expect.objectContaining({ seq: 4 })], info: { trimmed: true } }]);
  });

  it('stops delivering after unsubscribe, also before the first delivery', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    const early = outputRecorder();
    backend.subscribeOutput(id, {}, early.listener)();
    const rec = outputRecorder();
    const unsubscribe = backend.subscribeOutput(id, {}, rec.listener);
    await flushMicrotasks();
    backend.appendOutput(id, text('a'));
    unsubscribe();
    backend.appendOutput(id, text('b'));
    backend.complete(id);
    await flushMicrotasks();
    expect(early.calls).toEqual([]);
    expect(rec.seqs()).toEqual([1]);
    expect(rec.doneCount()).toBe(0);
  });

  it('refuses an unknown or another owner’s job with JobNotFoundError and bad input with a 400, asynchronously', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ owner: 'alice' });
    const recs = [outputRecorder(), outputRecorder(), outputRecorder(), outputRecorder()];
    backend.subscribeOutput('no-such-job', {}, recs[0]!.listener);
    backend.subscribeOutput(id, { owner: 'bob' }, recs[1]!.listener);
    backend.subscribeOutput(id, { after: -1 }, recs[2]!.listener);
    backend.subscribeOutput('', undefined, recs[3]!.listener);
    expect(recs.flatMap((rec) => rec.errors)).toEqual([]);
    await flushMicrotasks();
    backend.appendOutput(id, text('secret'));
    expect(recs[0]!.errors).toEqual([expect.any(JobNotFoundError)]);
    expect(recs[1]!.errors).toEqual([expect.any(JobNotFoundError)]);
    expectRequestError(recs[2]!.errors[0], 400, 'bad_request');
    expectRequestError(recs[3]!.errors[0], 400, 'bad_request');
    expect(recs.flatMap((rec) => rec.calls)).toEqual([]);
    const mine = outputRecorder();
    backend.subscribeOutput(id, { owner: 'alice' }, mine.listener);
    await flushMicrotasks();
    expect(mine.seqs()).toEqual([1]);
  });

  it('is logged, and latencyMs delays the first delivery', async () => {
    const backend = createMemoryJobBackend({ latencyMs: (method) => (method === 'subscribeOutput' ? 500 : 0) });
    const { id } = backend.create();
    backend.appendOutput(id, text('a'));
    const rec = outputRecorder();
    backend.subscribeOutput(id, { after: 0 }, rec.listener);
    await vi.advanceTimersByTimeAsync(499);
    expect(rec.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(rec.seqs()).toEqual([1]);
    expect(backend.calls).toEqual([{ method: 'subscribeOutput', args: [id, { after: 0 }, rec.listener], at: T0 }]);
  });

  it('delivers in order without duplicates when a listener appends while being called', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    const seen: number[] = [];
    backend.subscribeOutput(id, {}, {
      next: (parts) => {
        for (const part of parts) {
          seen.push(part.seq);
          if (part.seq < 3) backend.appendOutput(id, text('echo'));
        }
      },
    });
    await flushMicrotasks();
    backend.appendOutput(id, text('first'));
    expect(seen).toEqual([1, 2, 3]);
  });

  it('survives a listener that throws (rethrown in a microtask), and other subscribers still hear of the part', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    const rec = outputRecorder();
    const queued: Array<() => void> = [];
    const spy = vi.spyOn(globalThis, 'queueMicrotask').mockImplementation((fn) => void queued.push(fn));
    try {
      backend.subscribeOutput(id, {}, {
        next: () => {
          throw new Error('listener broke');
        },
      });
      backend.subscribeOutput(id, {}, rec.listener);
      await flushMicrotasks();
      expect(backend.appendOutput(id, text('a')).seq).toBe(1);
      expect(rec.seqs()).toEqual([1]);
    } finally {
      spy.mockRestore();
    }
    expect(queued).toHaveLength(1);
    expect(queued[0]).toThrow('listener broke');
  });
});
