import type { JobOutputPart } from '../../src/contract/types';
import { createMemoryJobBackend, type JobSpec } from '../../src/testing';
import { textTokens } from '../../src/testing/memoryOutputScript';

const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();

async function flushMicrotasks(): Promise<void> {
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

beforeEach(() => {
  vi.useFakeTimers({ now: T0 });
});

afterEach(() => {
  vi.useRealTimers();
});

const texts = (parts: JobOutputPart[]) => parts.map((part) => part.text);

describe('textTokens', () => {
  it('splits into words with the whitespace before them, joining back exactly', () => {
    expect(textTokens('Once upon  a time…')).toEqual(['Once', ' upon', '  a', ' time…']);
    expect(textTokens('  lead and trail \n')).toEqual(['  lead', ' and', ' trail \n']);
    expect(textTokens('   ')).toEqual(['   ']);
    expect(textTokens('')).toEqual([]);
    for (const sample of ['a b', 'x\n\ny', ' 日本 語 😀 ', 'one']) expect(textTokens(sample).join('')).toBe(sample);
  });
});

describe('scripted output', () => {
  it('streams a text as tokens spread evenly over runningMs, played by advance', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ queuedMs: 1000, runningMs: 4000, output: { text: 'Once upon a time' } });
    backend.advance(999);
    expect((await backend.readOutput(id)).parts).toEqual([]);
    backend.advance(1);
    expect((await backend.readOutput(id)).parts).toEqual([{ seq: 1, kind: 'text', text: 'Once', at: at(1000) }]);
    backend.advance(2000);
    expect(texts((await backend.readOutput(id)).parts)).toEqual(['Once', ' upon', ' a']);
    backend.advance(2000);
    const page = await backend.readOutput(id);
    expect(page.parts.map((part) => part.at)).toEqual([at(1000), at(2000), at(3000), at(4000)]);
    expect(page.parts.map((part) => part.text).join('')).toBe('Once upon a time');
    expect(page.done).toBe(true);
    expect(backend.get(id)?.status).toBe('completed');
  });

  it('streams at tokensPerSecond, emitting what is left at the end of the attempt', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ runningMs: 250, output: { text: 'a b c d e f', tokensPerSecond: 10 } });
    backend.advance(200);
    expect(texts((await backend.readOutput(id)).parts)).toEqual(['a', ' b', ' c']);
    backend.advance(50);
    const page = await backend.readOutput(id);
    expect(page.parts.map((part) => part.at)).toEqual([0, 100, 200, 250, 250, 250].map(at));
    expect(page).toMatchObject({ done: true });
  });

  it('emits parts at exact times, in order, beside the progress steps', async () => {
    const backend = createMemoryJobBackend();
    const preview = 'data:image/png;base64,iVBORw0KGgo=';
    const { id } = backend.create({
      runningMs: 3000,
      steps: ['Loading', 'Generating'],
      output: [
        { atMs: 1500, part: { kind: 'image', url: preview, alt: 'Preview' } },
        { atMs: 0, part: { kind: 'log', text: 'Loading model' } },
        { atMs: 1500, part: { kind: 'log', text: 'Preview ready' } },
        { atMs: 3000, part: { kind: 'image', url: 'https://example.com/final.png', alt: 'Final image' } },
      ],
    });
    expect(backend.get(id)).toMatchObject({ status: 'processing', progressMessage: 'Loading' });
    expect((await backend.readOutput(id)).parts).toMatchObject([{ seq: 1, kind: 'log', text: 'Loading model', at: at(0) }]);
    backend.advance(1500);
    expect(backend.get(id)).toMatchObject({ progressMessage: 'Generating', updatedAt: at(1500) });
    expect((await backend.readOutput(id, { after: 1 })).parts).toMatchObject([
      { seq: 2, kind: 'image', url: preview, alt: 'Preview' },
      { seq: 3, kind: 'log', text: 'Preview ready' },
    ]);
    backend.advance(1500);
    expect(await backend.readOutput(id, { after: 3 })).toMatchObject({
      parts: [{ seq: 4, kind: 'image', url: 'https://example.com/final.png', at: at(3000) }],
      done: true,
    });
  });

  it('pushes scripted output on time from the timer while someone subscribes, then done', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ runningMs: 2000, output: { text: 'one two' } });
    const seen: Array<{ texts: Array<string | undefined>; done: boolean }> = [];
    backend.subscribeOutput(id, {}, { next: (parts, info) => void seen.push({ texts: texts(parts), done: info?.done === true }) });
    await flushMicrotasks();
    expect(seen).toEqual([{ texts: ['one'], done: false }]);
    vi.advanceTimersByTime(999);
    expect(seen).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(seen.at(-1)).toEqual({ texts: [' two'], done: false });
    vi.advanceTimersByTime(1000);
    expect(seen.at(-1)).toEqual({ texts: [], done: true });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('plays the output again on every attempt, continuing the seqs, without inventing parts', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({
      runningMs: 1000,
      failures: 1,
      retryDelayMs: 500,
      output: [{ atMs: 0, part: { kind: 'log', text: 'Attempt started' } }],
    });
    backend.advance(1000); // the first attempt fails: back to pending
    expect(backend.get(id)).toMatchObject({ status: 'pending', retryCount: 1 });
    expect((await backend.readOutput(id)).parts).toHaveLength(1);
    backend.advance(500); // the second attempt starts
    backend.advance(1000); // and completes
    const page = await backend.readOutput(id);
    expect(page.parts.map((part) => [part.seq, part.text, part.at])).toEqual([
      [1, 'Attempt started', at(0)],
      [2, 'Attempt started', at(1500)],
    ]);
    expect(page.done).toBe(true);
  });

  it('plays it again after a manual retry, and stops it with a manual control', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ runningMs: 1000, failures: 1, maxRetries: 0, output: { text: 'a b' } });
    backend.advance(1000);
    expect(backend.get(id)?.status).toBe('failed');
    await backend.retry(id);
    backend.advance(0);
    expect((await backend.readOutput(id)).parts.map((part) => part.seq)).toEqual([1, 2, 3]);
    backend.progress(id, 0.5); // a manual control stops the script and its output
    backend.advance(5000);
    expect((await backend.readOutput(id)).parts).toHaveLength(3);
    expect(backend.get(id)?.status).toBe('processing');
  });

  it('emits back-dated output when a back-dated job is first read', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create({ createdAt: T0 - 10_000, runningMs: 2000, output: { text: 'x y' } });
    expect(await backend.readOutput(id)).toMatchObject({ parts: [{ at: at(-10_000) }, { at: at(-9000) }], done: true });
  });

  it('refuses a bad output spec with RangeError naming the field', () => {
    const backend = createMemoryJobBackend();
    const bad: Array<[JobSpec, RegExp]> = [
      [{ queuedMs: 100, output: { text: 'a' } }, /needs runningMs/],
      [{ runningMs: 100, output: { text: 'a', tokensPerSecond: 0 } }, /output\.tokensPerSecond/],
      [{ runningMs: 100, output: { text: 3 } as never }, /JobSpec\.output must be/],
      [{ runningMs: 100, output: [{ atMs: 101, part: { kind: 'log', text: 'late' } }] }, /output\[0\]\.atMs/],
      [{ runningMs: 100, output: [{ atMs: -1, part: { kind: 'log', text: 'early' } }] }, /output\[0\]\.atMs/],
      [{ runningMs: 100, output: [{ atMs: 0, part: { kind: 'image', url: 'javascript:alert(1)' } }] }, /output\[0\]\.part/],
      [{ runningMs: 100, output: [null as never] }, /output\[0\] must be an object/],
    ];
    for (const [spec, message] of bad) expect(() => backend.create(spec), JSON.stringify(spec)).toThrow(message);
    for (const [spec] of bad) expect(() => backend.create(spec)).toThrow(RangeError);
    expect(backend.jobs()).toEqual([]);
  });

  it('keeps spec parts as they were given: later edits of the spec do not leak in', async () => {
    const backend = createMemoryJobBackend();
    const part = { kind: 'data' as const, data: { n: 1 } };
    const { id } = backend.create({ runningMs: 100, output: [{ atMs: 0, part }] });
    part.data.n = 2;
    expect((await backend.readOutput(id)).parts[0]!.data).toEqual({ n: 1 });
  });
});
