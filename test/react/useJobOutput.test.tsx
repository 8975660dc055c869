import { act, render, renderHook } from '@testing-library/react';
import { StrictMode, type ReactNode } from 'react';
import { renderToString } from 'react-dom/server';
import { type JobClient } from '../../src/core';
import { JobClientProvider } from '../../src/react/JobClientProvider';
import { createMemoryJobIdStorage, trackedJobsStores, type JobIdStorage } from '../../src/react/trackedJobsStore';
import { useJobOutput, type UseJobOutputOptions } from '../../src/react/useJobOutput';
import { useTrackedJobs } from '../../src/react/useTrackedJobs';
import { createMemoryJobBackend } from '../../src/testing';
import { advance, testQueryClient } from '../helpers';
import { outputServer, parts, seqs } from '../core/output.fakes';

const KEY = 'jobwatch:tracked:writer';

beforeEach(() => {
  vi.useFakeTimers();
  localStorage.clear();
});
afterEach(() => {
  vi.useRealTimers();
});

function wrapper(client: JobClient) {
  const queryClient = testQueryClient();
  return ({ children }: { children?: ReactNode }) => (
    <StrictMode>
      <JobClientProvider client={client} queryClient={queryClient}>
        {children}
      </JobClientProvider>
    </StrictMode>
  );
}

function follow(client: JobClient, id: string | null, options?: UseJobOutputOptions) {
  return renderHook(({ id: jobId, o }) => useJobOutput(jobId, o), { wrapper: wrapper(client), initialProps: { id, o: options } });
}

/** Lets pushes and reads settle and the frame pass. */
const frame = () => advance(20);

describe('useJobOutput', () => {
  it('streams pushed parts in order, once each, and says done; StrictMode keeps one subscription', async () => {
    const server = outputServer();
    const { result } = follow(server.pushClient(), 'job-1');
    await frame();
    expect(server.subscriptions).toHaveLength(1);
    expect(result.current).toMatchObject({ parts: [], connection: 'live', done: false, supported: true });
    server.grow(3);
    act(() => {
      server.push([1, 2]);
      server.push([1, 2, 3]);
    });
    await frame();
    expect(seqs(result.current.parts)).toEqual([1, 2, 3]);
    expect(result.current.text).toBe('t1 t2 t3 ');
    server.finish();
    act(() => server.push([], { done: true }));
    await frame();
    expect(result.current).toMatchObject({ done: true, connection: 'idle', lastSeq: 3 });
    expect(server.subscriptions).toHaveLength(1);
  });

  it('inline options never resubscribe; hooks of one id share one subscription and keep the largest maxParts', async () => {
    const server = outputServer();
    const client = server.pushClient();
    const { result, rerender } = renderHook(
      ({ o }) => ({ a: useJobOutput('job-1', o), b: useJobOutput('job-1', { maxParts: 4 }) }),
      { wrapper: wrapper(client), initialProps: { o: { maxParts: 2 } as UseJobOutputOptions } },
    );
    await frame();
    rerender({ o: { maxParts: 2 } });
    rerender({ o: { maxParts: 2, after: 0 } });
    await frame();
    expect(server.subscriptions).toHaveLength(1);
    server.grow(6);
    act(() => server.push(seqs(parts(1, 6))));
    await frame();
    expect(seqs(result.current.a.parts)).toEqual([3, 4, 5, 6]);
    expect(result.current.a).toBe(result.current.b);
    expect(result.current.a.trimmed).toBe(true);
  });

  it('follows nothing for a null id or enabled: false', async () => {
    const server = outputServer();
    const { result, rerender } = follow(server.pushClient(), null);
    await frame();
    expect(result.current).toMatchObject({ parts: [], connection: 'idle' });
    rerender({ id: 'job-1', o: { enabled: false } });
    await frame();
    expect(server.subscriptions).toHaveLength(0);
    rerender({ id: 'job-1', o: { enabled: true } });
    await frame();
    expect(server.subscriptions).toHaveLength(1);
  });

  it('polls readOutput without push, and reports supported: false without either', async () => {
    const server = outputServer();
    server.grow(2);
    const { result } = follow(server.pollClient(), 'job-1');
    await frame();
    expect(result.current).toMatchObject({ connection: 'polling', lastSeq: 2 });
    server.grow(3);
    await advance(1000);
    await frame();
    expect(result.current.lastSeq).toBe(3);

    const bare = follow(outputServer().bareClient(), 'job-1');
    await frame();
    expect(bare.result.current).toMatchObject({ supported: false, error: null });
  });

  it('renders the empty snapshot on the server and starts nothing', () => {
    const server = outputServer();
    function Show() {
      const { text, connection } = useJobOutput('job-1');
      return <p data-connection={connection}>{text || 'nothing'}</p>;
    }
    const html = renderToString(
      <JobClientProvider client={server.pushClient()} queryClient={testQueryClient()}>
        <Show />
      </JobClientProvider>,
    );
    expect(html).toContain('nothing');
    expect(html).toContain('data-connection="idle"');
    expect(server.subscriptions).toHaveLength(0);
  });

  it('against the memory backend: appended parts arrive once, in order, with the text joined', async () => {
    const backend = createMemoryJobBackend();
    const job = backend.create({ id: 'gen' });
    backend.start?.(job.id);
    const { result } = follow(backend, 'gen');
    await frame();
    act(() => {
      for (const word of ['Hello', ' ', 'world', '.']) backend.appendOutput('gen', { kind: 'text', text: word });
      backend.appendOutput('gen', { kind: 'log', text: 'step 1' });
    });
    await advance(50);
    expect(result.current.text).toBe('Hello world.');
    expect(seqs(result.current.parts)).toEqual([1, 2, 3, 4, 5]);
    expect(result.current.parts[4]).toMatchObject({ kind: 'log', text: 'step 1' });
  });
});

describe('useJobOutput with useTrackedJobs: a reload resumes from the last part shown', () => {
  /** A page: tracks `job-1` and shows its output; unmounting it is a page unload. */
  function page(client: JobClient, storage: JobIdStorage, maxParts?: number) {
    const seen: Array<{ first: number | undefined; last: number }> = [];
    function Page() {
      const tracked = useTrackedJobs('writer', { storage, removeOnSettled: false });
      const output = useJobOutput(tracked.ids[0], maxParts === undefined ? {} : { maxParts });
      seen.push({ first: output.parts[0]?.seq, last: output.lastSeq });
      return <button onClick={() => tracked.track('job-1')}>track</button>;
    }
    return { seen, ...render(<Page />, { wrapper: wrapper(client) }) };
  }

  it('writes the last seq with the id (throttled, and on unload), and the next load starts after lastSeq - maxParts', async () => {
    const server = outputServer();
    const storage = createMemoryJobIdStorage();
    const first = page(server.pushClient(), storage, 10);
    act(() => first.getByText('track').click());
    await frame();
    expect(server.subscriptions).toHaveLength(1);
    expect(server.subscriptions[0]!.after).toBe(0);
    server.grow(40);
    act(() => server.push(seqs(parts(1, 5))));
    await frame();
    // Written at once…
    expect(JSON.parse(storage.getItem(KEY)!)).toEqual(['job-1', { seq: { 'job-1': 5 } }]);
    act(() => server.push(seqs(parts(6, 25))));
    await frame();
    // …then at most once a second.
    expect(JSON.parse(storage.getItem(KEY)!)).toEqual(['job-1', { seq: { 'job-1': 5 } }]);
    await advance(1000);
    expect(JSON.parse(storage.getItem(KEY)!)).toEqual(['job-1', { seq: { 'job-1': 25 } }]);
    act(() => server.push(seqs(parts(26, 30))));
    await frame();
    first.unmount();
    expect(JSON.parse(storage.getItem(KEY)!)).toEqual(['job-1', { seq: { 'job-1': 30 } }]);

    // The reload: a new provider and watcher on the same storage.
    const second = page(server.pushClient(), storage, 10);
    await frame();
    const resumed = server.subscriptions.at(-1)!;
    expect(resumed.after).toBe(20);
    server.catchUp();
    await frame();
    expect(second.seen.at(-1)).toEqual({ first: 31, last: 40 });
    second.unmount();
  });

  it('an old stored array of ids still loads, and starts from 0', async () => {
    const server = outputServer();
    const storage = createMemoryJobIdStorage();
    storage.setItem(KEY, JSON.stringify(['job-1']));
    const loaded = page(server.pushClient(), storage);
    await frame();
    expect(server.subscriptions.at(-1)!.after).toBe(0);
    loaded.unmount();
  });
});

describe('tracked stores: the last seq kept with the ids', () => {
  it('keeps a plain array until a seq is known, drops the seq with the id, ignores untracked ids, and merges seqs of two providers', () => {
    const storage = createMemoryJobIdStorage();
    const one = trackedJobsStores()(storage, 'writer');
    const two = trackedJobsStores()(storage, 'writer');
    one.track('a');
    one.track('b');
    expect(storage.getItem(KEY)).toBe('["a","b"]');
    one.setLastSeq('zzz', 9);
    expect(storage.getItem(KEY)).toBe('["a","b"]');
    one.setLastSeq('a', 7);
    two.setLastSeq('b', 3);
    expect(JSON.parse(storage.getItem(KEY)!)).toEqual(['a', 'b', { seq: { a: 7, b: 3 } }]);
    expect(two.lastSeq('a')).toBe(7);
    expect(one.lastSeq('b')).toBe(3);
    expect(one.getSnapshot()).toEqual(['a', 'b']);
    one.untrack('a');
    expect(JSON.parse(storage.getItem(KEY)!)).toEqual(['b', { seq: { b: 3 } }]);
    expect(one.lastSeq('a')).toBe(0);
    expect(trackedJobsStores()(storage, 'writer').lastSeq('b')).toBe(3);
  });
});
