import { JobNotFoundError, JobProtocolError, JobTransportError, type Job, type JobClient } from '../../src/core';
import { abandonRead, answersOf, createReader, nextRead, settleWaiters, type Readable } from '../../src/core/watcher/reads';
import { makeJob } from '../helpers';

type Item = Readable;

const entry = (id: string): Item => ({ id, read: null, waiters: [] });

/** A client whose reads the test answers; records each call's ids and signal. */
function fakeClient({ batch = true } = {}) {
  const calls: Array<{ ids: string[]; signal: AbortSignal; resolve(v: unknown): void; reject(e: unknown): void }> = [];
  const pending = (ids: string[], signal: AbortSignal) =>
    new Promise<never>((resolve, reject) => calls.push({ ids, signal, resolve: resolve as (v: unknown) => void, reject }));
  const client: JobClient = {
    getStatus: (id, o) => pending([id], o!.signal!),
    ...(batch ? { getStatuses: (ids: string[], o?: { signal?: AbortSignal }) => pending(ids, o!.signal!) } : {}),
    list: async () => ({ jobs: [], nextCursor: null }),
    getPendingCount: async () => ({ pending: 0, processing: 0 }),
  };
  return { client, calls };
}

/** A reader whose rounds are recorded as { failed, answers: [id, job | error] }. */
function setup(client: JobClient, maxBatchSize = 100) {
  const rounds: Array<{ failed: boolean; answers: Array<[string, Job | Error]> }> = [];
  const read = createReader<Item>(
    () => client,
    maxBatchSize,
    (failed) => {
      const round = { failed, answers: [] as Array<[string, Job | Error]> };
      rounds.push(round);
      return (e, answer) => round.answers.push([e.id, answer]);
    },
  );
  return { read, rounds };
}

describe('watcher reads: batching and in-flight', () => {
  it('reads several jobs with one getStatuses call, split at maxBatchSize, and marks each job in flight', async () => {
    const { client, calls } = fakeClient();
    const { read } = setup(client, 2);
    const jobs = ['a', 'b', 'c', 'd', 'e'].map(entry);
    read(jobs);
    await Promise.resolve();
    expect(calls.map((c) => c.ids)).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
    expect(jobs.every((j) => j.read !== null)).toBe(true);
    expect(jobs[0]!.read).toBe(jobs[1]!.read);
    expect(jobs[0]!.read).not.toBe(jobs[2]!.read);
  });

  it('reads one by one without getStatuses, and reads an id outside the contract alone', async () => {
    const plain = fakeClient({ batch: false });
    setup(plain.client).read(['a', 'b'].map(entry));
    await Promise.resolve();
    expect(plain.calls.map((c) => c.ids)).toEqual([['a'], ['b']]);

    const batching = fakeClient();
    setup(batching.client).read(['a', 'counts', 'b'].map(entry));
    await Promise.resolve();
    expect(batching.calls.map((c) => c.ids)).toEqual([['a', 'b'], ['counts']]);
  });

  it('hands each job its own answer, in order, and clears its read', async () => {
    const { client, calls } = fakeClient();
    const { read, rounds } = setup(client);
    const jobs = ['a', 'b', 'gone'].map(entry);
    read(jobs);
    await Promise.resolve();
    const a = makeJob({ id: 'a' });
    calls[0]!.resolve({ jobs: [a, { ...makeJob({ id: 'b' }), status: 'exploded' }], missing: ['gone'] });
    await vi.waitFor(() => expect(rounds).toHaveLength(1));
    const [round] = rounds;
    expect(round!.failed).toBe(false);
    expect(round!.answers.map(([id]) => id)).toEqual(['a', 'b', 'gone']);
    expect(round!.answers[0]![1]).toEqual(a);
    expect(round!.answers[1]![1]).toBeInstanceOf(JobProtocolError);
    expect(round!.answers[2]![1]).toBeInstanceOf(JobNotFoundError);
    expect(jobs.every((j) => j.read === null)).toBe(true);
  });

  it('fails every job of a failed request with the same error, an untyped one as JobTransportError', async () => {
    const { client, calls } = fakeClient();
    const { read, rounds } = setup(client);
    read(['a', 'b'].map(entry));
    await Promise.resolve();
    calls[0]!.reject(new TypeError('Failed to fetch'));
    await vi.waitFor(() => expect(rounds).toHaveLength(1));
    expect(rounds[0]!.failed).toBe(true);
    const [ea, eb] = rounds[0]!.answers.map(([, answer]) => answer);
    expect(ea).toBeInstanceOf(JobTransportError);
    expect(eb).toBe(ea);
  });

  it('aborts a read only when the last job waiting for it is abandoned, and then applies nothing', async () => {
    const { client, calls } = fakeClient();
    const { read, rounds } = setup(client);
    const [a, b] = ['a', 'b'].map(entry);
    read([a!, b!]);
    await Promise.resolve();
    abandonRead(a!);
    expect(a!.read).toBeNull();
    expect(calls[0]!.signal.aborted).toBe(false);
    abandonRead(b!);
    expect(calls[0]!.signal.aborted).toBe(true);
    calls[0]!.resolve({ jobs: [makeJob({ id: 'a' }), makeJob({ id: 'b' })], missing: [] });
    await new Promise((r) => setTimeout(r, 0));
    expect(rounds).toHaveLength(0);
  });

  it('applies a read only to the jobs still waiting for it', async () => {
    const { client, calls } = fakeClient();
    const { read, rounds } = setup(client);
    const [a, b] = ['a', 'b'].map(entry);
    read([a!, b!]);
    await Promise.resolve();
    abandonRead(a!);
    calls[0]!.resolve({ jobs: [makeJob({ id: 'a' }), makeJob({ id: 'b' })], missing: [] });
    await vi.waitFor(() => expect(rounds).toHaveLength(1));
    expect(rounds[0]!.answers.map(([id]) => id)).toEqual(['b']);
  });

  it('reads with the client of the moment', async () => {
    const first = fakeClient({ batch: false });
    const second = fakeClient({ batch: false });
    let current = first.client;
    const read = createReader<Item>(() => current, 100, () => () => {});
    read([entry('a')]);
    current = second.client;
    read([entry('b')]);
    await Promise.resolve();
    expect(first.calls.map((c) => c.ids)).toEqual([['a']]);
    expect(second.calls.map((c) => c.ids)).toEqual([['b']]);
  });
});

describe('watcher reads: answersOf', () => {
  it('names the id for a single read answered with another job, and the batch for a job left out', () => {
    const single = answersOf(['a'], { jobs: [makeJob({ id: 'b' })], missing: [] }, null);
    expect((single.get('a') as JobProtocolError).field).toBe('id');
    const batch = answersOf(['a', 'b'], { jobs: [makeJob({ id: 'a' })], missing: [] }, null);
    expect((batch.get('b') as JobProtocolError).field).toBe('jobs');
  });

  it('gives a malformed job without an id to the only id asked for', () => {
    const answers = answersOf(['a'], { jobs: [{ status: 'pending' }], missing: [] }, null);
    expect(answers.get('a')).toBeInstanceOf(JobProtocolError);
  });
});

describe('watcher reads: waiters', () => {
  it('resolves everyone waiting for the next read, once', async () => {
    const e = entry('a');
    const done = vi.fn();
    void nextRead(e).then(done);
    void nextRead(e).then(done);
    settleWaiters(e);
    settleWaiters(e);
    await Promise.resolve();
    expect(done).toHaveBeenCalledTimes(2);
    expect(e.waiters).toEqual([]);
  });
});
