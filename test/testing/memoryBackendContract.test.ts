// @vitest-environment node
import fc from 'fast-check';
import { JobNotFoundError, JobRequestError } from '../../src/contract/errors';
import { isValidJobId } from '../../src/contract/ids';
import { MAX_META_FILTER_LENGTH, MAX_META_FILTERS } from '../../src/contract/meta';
import type { Job } from '../../src/contract/types';
import { createJobHandler } from '../../src/server';
import { createMemoryJobBackend } from '../../src/testing';
import { fcParams } from '../properties/support';

/** Resolves with the rejection of `promise` (fails the test when it resolves). */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`);
    },
    (error: unknown) => error,
  );
}

function expectBadRequest(error: unknown): void {
  expect(error).toBeInstanceOf(JobRequestError);
  expect(error).toMatchObject({ status: 400, code: 'bad_request' });
}

/** Ids the REST contract refuses, each with why. */
const INVALID_IDS: Array<[string, string]> = [
  ['', 'empty'],
  ['counts', 'reserved'],
  ['events', 'reserved'],
  ['x'.repeat(201), 'over 200 characters'],
  ['a\nb', 'C0 control'],
  ['a\u007fb', 'DEL'],
  ['a\u0085b', 'C1 control (NEL)'],
  ['\u009f', 'C1 control'],
];

/** Characters around the edges of the id rule: controls, reserved-looking text, surrogates, path characters. */
const edgy = fc.constantFrom('\u0000', '\u001f', '\u007f', '\u0080', '\u0085', '\u009f', '\u00a0', '\ud800', '\udfff', '\ud83d\ude00', 'a', '.', '/', '%', '?', '#', ' ', ',');
const idArb: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom('', 'counts', 'events', '.', '..', 'Counts', 'counts ', ...INVALID_IDS.map(([id]) => id)),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.array(fc.oneof(edgy, fc.string({ unit: 'binary', maxLength: 3 })), { maxLength: 10 }).map((parts) => parts.join('')),
  fc.integer({ min: 195, max: 205 }).map((n) => 'é'.repeat(n)),
);

describe('memory backend: job ids keep the REST contract (isValidJobId)', () => {
  it('create({ id }) accepts exactly the ids isValidJobId accepts, and refuses the others with a RangeError naming the rule', () => {
    fc.assert(
      fc.property(idArb, (id) => {
        const backend = createMemoryJobBackend();
        if (isValidJobId(id)) {
          expect(backend.create({ id }).id).toBe(id);
          expect(backend.get(id)?.id).toBe(id);
        } else {
          expect(() => backend.create({ id })).toThrow(RangeError);
          expect(() => backend.create({ id })).toThrow(/JobSpec\.id .*isValidJobId/);
          expect(backend.jobs()).toEqual([]);
        }
      }),
      fcParams(500),
    );
  }, 60_000);

  it.each(INVALID_IDS)('create({ id: %j }) throws a RangeError (%s)', (id) => {
    const backend = createMemoryJobBackend();
    expect(() => backend.create({ id })).toThrow(RangeError);
    expect(backend.jobs()).toEqual([]);
  });

  it('create() refuses an id that is not a string with a TypeError', () => {
    const backend = createMemoryJobBackend();
    expect(() => backend.create({ id: 42 as unknown as string })).toThrow(TypeError);
  });

  it('a seeded job with an id the contract refuses throws a RangeError', () => {
    const job: Job = { id: 'a\u0085b', status: 'pending', createdAt: '2030-01-01T00:00:00.000Z', updatedAt: '2030-01-01T00:00:00.000Z' };
    expect(() => createMemoryJobBackend({ jobs: [job] })).toThrow(RangeError);
  });

  it('still refuses a duplicate id with JobRequestError 409 conflict', () => {
    const backend = createMemoryJobBackend();
    backend.create({ id: 'a\u00a0b' });
    expect(() => backend.create({ id: 'a\u00a0b' })).toThrow(expect.objectContaining({ status: 409, code: 'conflict' }));
  });

  it.each(INVALID_IDS)('getStatus, cancel and retry of %j (%s) reject with JobRequestError 400 bad_request, not JobNotFoundError', async (id) => {
    const backend = createMemoryJobBackend();
    expectBadRequest(await rejectionOf(backend.getStatus(id)));
    expectBadRequest(await rejectionOf(backend.cancel(id)));
    expectBadRequest(await rejectionOf(backend.retry(id)));
  });

  it('getStatus of a valid unknown id still rejects with JobNotFoundError', async () => {
    const backend = createMemoryJobBackend();
    expect(await rejectionOf(backend.getStatus('a\u00a0b'))).toBeInstanceOf(JobNotFoundError);
  });

  it('getStatuses with an invalid id among valid ones rejects the batch with 400 bad_request, as the server does', async () => {
    const backend = createMemoryJobBackend();
    const { id } = backend.create();
    expectBadRequest(await rejectionOf(backend.getStatuses([id, 'a\u0085b'])));
    expectBadRequest(await rejectionOf(backend.getStatuses([id, 'counts'])));
    expect(await backend.getStatuses([id, 'unknown'])).toMatchObject({ missing: ['unknown'] });
  });

  it('subscribe to an invalid id reports JobRequestError 400 asynchronously, never a job', async () => {
    const backend = createMemoryJobBackend();
    const errors: unknown[] = [];
    const seen: Job[] = [];
    const unsubscribe = backend.subscribe('a\u0085b', { next: (job) => seen.push(job), error: (e) => errors.push(e) });
    expect(errors).toEqual([]);
    await vi.waitFor(() => expect(errors).toHaveLength(1));
    expectBadRequest(errors[0]);
    expect(seen).toEqual([]);
    unsubscribe();
  });

  it('answers an invalid id as createJobHandler does for the same id: 400 bad_request', async () => {
    const backend = createMemoryJobBackend();
    const handle = createJobHandler({ store: backend, basePath: '/api/jobs', authorize: () => ({ owner: 'u1' }) });
    // `counts`/`events` spelled encoded: raw they are routes, encoded they are (refused) ids.
    const encoded: Record<string, string> = { counts: '%63ounts', events: '%65vents' };
    for (const [id] of INVALID_IDS.filter(([id]) => id !== '')) {
      const response = await handle(new Request(`http://test/api/jobs/${encoded[id] ?? encodeURIComponent(id)}`));
      expect(response.status).toBe(400);
      const body = (await response.json()) as { error: { code: string } };
      expect(body.error.code).toBe('bad_request');
      const error = await rejectionOf(backend.getStatus(id, { owner: 'u1' }));
      expectBadRequest(error);
      expect((error as JobRequestError).status).toBe(response.status);
      expect((error as JobRequestError).code).toBe(body.error.code);
    }
  });
});

describe('memory backend: meta filters keep the REST contract (metaFilterProblem, matchesMetaFilter)', () => {
  const tooMany = Object.fromEntries(Array.from({ length: MAX_META_FILTERS + 1 }, (_, i) => [`k${i}`, 'v']));
  const longKey = { ['k'.repeat(MAX_META_FILTER_LENGTH + 1)]: 'v' };
  const longValue = { projectId: 'v'.repeat(MAX_META_FILTER_LENGTH + 1) };
  const emptyKey = { '': 'v' };

  it.each([
    ['more than the maximum number of filters', tooMany],
    ['a key over the length limit', longKey],
    ['a value over the length limit', longValue],
    ['an empty key', emptyKey],
  ])('list and getPendingCount reject %s with JobRequestError 400 bad_request', async (_what, meta) => {
    const backend = createMemoryJobBackend();
    backend.create({ meta: { projectId: 'p1' } });
    expectBadRequest(await rejectionOf(backend.list({ meta })));
    expectBadRequest(await rejectionOf(backend.getPendingCount({ meta })));
  });

  it('accepts filters right at the limits', async () => {
    const backend = createMemoryJobBackend();
    const atLimit = Object.fromEntries(Array.from({ length: MAX_META_FILTERS }, (_, i) => [`k${i}`, 'v'.repeat(MAX_META_FILTER_LENGTH)]));
    backend.create({ meta: atLimit });
    expect((await backend.list({ meta: atLimit })).jobs).toHaveLength(1);
    expect(await backend.getPendingCount({ meta: atLimit })).toEqual({ pending: 1, processing: 0 });
  });
});
