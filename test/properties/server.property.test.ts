// @vitest-environment node
import fc from 'fast-check';
import { JOB_STATES } from '../../src/contract/states';
import { parseJob, parseJobBatch, parseJobPage, parsePendingCount } from '../../src/contract/parseJob';
import { formatIdList } from '../../src/contract/ids';
import type { Job } from '../../src/contract/types';
import { createJobHandler, type JobHandlerOptions } from '../../src/server';
import { createMemoryJobBackend } from '../../src/testing';

/**
 * Fuzzes createJobHandler with generated requests: paths under and outside the
 * base path, garbage segments and query strings, any method, owners alice, bob
 * or none. Whatever comes in, the answer is well-formed (2xx/4xx, never 5xx;
 * every 4xx the JSON error body; every 2xx a valid Job, batch, page, counts or
 * event stream) and never shows a job to anyone but its owner.
 */

const RUNS = 3000;
const EVENT_RUNS = 500;

type Owner = 'alice' | 'bob';

const authorize: JobHandlerOptions['authorize'] = (request) => {
  const owner = request.headers.get('x-owner');
  return owner ? { owner } : null;
};

const ALICE_IDS = ['a1', 'a2', 'a3', 'x,y', 'a/b c+é', 'shared?', 'L'.repeat(200)];
const BOB_IDS = ['b1', 'b2', 'b3', 'bob%20x'];
/** A job nobody owns: only owner-less store calls see it, so every HTTP caller must get 404 / missing. */
const ORPHAN_IDS = ['orphan'];
const ALL_IDS = [...ALICE_IDS, ...BOB_IDS, ...ORPHAN_IDS];
const CURSOR_TOKEN = '\u0001cursor\u0001'; // replaced by a real cursor of alice's, read in the run

/** A fresh backend per run: jobs of alice and bob in every state, so cancel/retry answer 200 as well as 409. */
function setup() {
  const backend = createMemoryJobBackend();
  const owners = new Map<string, string | undefined>();
  const make = (id: string, owner: Owner | undefined, projectId: string) => {
    backend.create({ id, owner, meta: { projectId } });
    owners.set(id, owner);
  };
  ALICE_IDS.forEach((id, i) => make(id, 'alice', `p${i % 2}`));
  BOB_IDS.forEach((id, i) => make(id, 'bob', `p${i % 2}`));
  ORPHAN_IDS.forEach((id) => make(id, undefined, 'p0'));
  backend.start('a2');
  backend.complete('a3');
  backend.fail('x,y', 'boom');
  backend.cancel('a/b c+é');
  backend.start('b1');
  backend.fail('b2', 'boom');
  backend.complete('b3');
  const onError = vi.fn();
  const handler = createJobHandler({ store: backend, basePath: '/api/jobs', authorize, onError, heartbeatMs: 60_000 });
  return { backend, owners, handler, onError };
}

// ---- generators -------------------------------------------------------------

const knownId = fc.constantFrom(...ALL_IDS, 'nope', 'counts', 'events');
const garbage = fc.stringMatching(/^[%A-Za-z0-9._~!$&'()*+,;=:@\-]{0,16}$/);
const badEncodings = fc.constantFrom('%', '%2', '%zz', '%C3%28', '%FF', '%E0%80', '%00', '%1F', '%7F', '%C2%80', '%C2%9F', '%0A', '%0D', '%09', '%2F', '%2C', '%63ounts', 'events%00', '..', '.', '%2e%2e');
const longId = fc.integer({ min: 195, max: 260 }).map((n) => 'L'.repeat(n));
/** An id as a path segment or list entry would carry it: encoded properly, or raw garbage. */
const idText = fc.oneof(
  { weight: 4, arbitrary: knownId.map(encodeURIComponent) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12, unit: 'binary' }).map(encodeURIComponent) },
  { weight: 1, arbitrary: fc.string({ maxLength: 8, unit: 'binary' }) }, // raw: controls, spaces, ?, #, /
  { weight: 2, arbitrary: garbage },
  { weight: 2, arbitrary: badEncodings },
  { weight: 1, arbitrary: longId },
);

const prefix = fc.constantFrom('/api/jobs', '/api/jobs', '/api/jobs', '/api/jobsX', '/api', '', '/other/api/jobs', '/API/jobs', '/api//jobs', '/api/jobs/', '/api/%6Aobs');
const segment = fc.oneof(
  { weight: 3, arbitrary: idText },
  { weight: 2, arbitrary: fc.constantFrom('counts', 'events', 'cancel', 'retry', '', 'COUNTS') },
);
const randomPath = fc
  .tuple(prefix, fc.array(segment, { maxLength: 3 }), fc.boolean())
  .map(([p, segs, slash]) => `${p}${segs.map((s) => `/${s}`).join('')}${slash ? '/' : ''}`);
/** Paths of the contract's routes, with a mostly meaningful id. */
const routePath = fc.oneof(
  fc.constantFrom('/api/jobs', '/api/jobs/', '/api/jobs/counts', '/api/jobs/events'),
  idText.map((id) => `/api/jobs/${id}`),
  fc.tuple(idText, fc.constantFrom('cancel', 'retry')).map(([id, action]) => `/api/jobs/${id}/${action}`),
);
const path = fc.oneof({ weight: 3, arbitrary: routePath }, { weight: 1, arbitrary: randomPath });

const idList = fc.oneof(
  { weight: 4, arbitrary: fc.array(knownId, { minLength: 1, maxLength: 6 }).map((ids) => formatIdList(ids)) },
  { weight: 2, arbitrary: fc.array(idText, { maxLength: 5 }).map((parts) => parts.join(',')) },
  { weight: 1, arbitrary: fc.integer({ min: 99, max: 102 }).map((n) => Array.from({ length: n }, (_, i) => `j${i}`).join(',')) },
);
const paramName = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('ids', 'status', 'limit', 'cursor', 'meta.projectId', 'meta.', 'meta.__proto__', 'meta.constructor', 'id', 'action', 'foo', '', 'IDS', 'ids%5B%5D', '%zz', 'meta%2EprojectId') },
  { weight: 1, arbitrary: garbage },
);
const paramValue = fc.oneof(
  idList,
  fc.constantFrom(...JOB_STATES, 'pending,processing', 'completed,failed,cancelled', 'PENDING', 'pending,', ',', 'done'),
  fc.constantFrom('1', '20', '100', '0', '101', '-1', '1e2', '020', '99999', ' 5', 'abc', '', '%31'),
  fc.constantFrom('p0', 'p1', 'p2', CURSOR_TOKEN, 'c', '%00', 'x'.repeat(1001)),
  garbage,
  badEncodings,
);
const query = fc.oneof(
  { weight: 2, arbitrary: fc.constant('') },
  { weight: 2, arbitrary: idList.map((ids) => `?ids=${ids}`) },
  {
    weight: 2,
    arbitrary: fc
      .subarray(['status', 'limit', 'cursor', 'meta.projectId'])
      .chain((names) => fc.tuple(...names.map((n) => paramValue.map((v) => `${n}=${v}`))))
      .map((pairs) => (pairs.length ? `?${pairs.join('&')}` : '')),
  },
  {
    weight: 4,
    arbitrary: fc
      .array(fc.tuple(paramName, fc.option(paramValue, { nil: undefined })), { maxLength: 4 })
      .map((pairs) => `?${pairs.map(([n, v]) => (v === undefined ? n : `${n}=${v}`)).join('&')}`),
  },
);
const method = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('GET', 'GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'get', 'post') },
  { weight: 1, arbitrary: fc.stringMatching(/^[A-Z][A-Za-z-]{0,9}$/).filter((m) => !['CONNECT', 'TRACE', 'TRACK'].includes(m.toUpperCase())) },
);
const owner = fc.constantFrom<Owner | null | ''>('alice', 'alice', 'bob', 'bob', null, '');
const lastEventId = fc.option(
  fc.oneof(fc.stringMatching(/^[\x21-\x7e]{0,24}$/), fc.nat().map(String), fc.constant('99999999999999999999'), fc.constant('-1')),
  { nil: undefined },
);
const body = fc.option(fc.oneof(fc.string({ maxLength: 50 }), fc.json()), { nil: undefined });

/** Half the time the method fits the route (POST for cancel/retry, else GET), so deep paths get exercised too. */
const requestSpec = fc
  .record({ method, path, query, owner, lastEventId, body, fitMethod: fc.boolean() })
  .map(({ fitMethod, ...spec }) => (fitMethod ? { ...spec, method: /\/(cancel|retry)\/?$/.test(spec.path) ? 'POST' : 'GET' } : spec));
type RequestSpec = typeof requestSpec extends fc.Arbitrary<infer T> ? T : never;

// ---- checks -----------------------------------------------------------------

function toRequest(spec: RequestSpec, cursor: string | null): Request {
  const headers = new Headers();
  if (spec.owner !== null) headers.set('x-owner', spec.owner);
  if (spec.lastEventId !== undefined) headers.set('last-event-id', spec.lastEventId);
  const q = spec.query.split(CURSOR_TOKEN).join(cursor ? encodeURIComponent(cursor) : 'c');
  const hasBody = spec.body !== undefined && !['GET', 'HEAD'].includes(spec.method.toUpperCase());
  return new Request(`http://localhost${spec.path}${q}`, {
    method: spec.method,
    headers,
    ...(hasBody ? { body: spec.body } : {}),
  });
}

/** Reads what the stream has ready (its first chunk holds retry + snapshot), with a time bound, then cancels it. */
async function readStreamStart(response: Response): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  try {
    for (let i = 0; i < 4; i++) {
      const chunk = await Promise.race([
        reader.read(),
        new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), i === 0 ? 1000 : 5)),
      ]);
      if (chunk === 'timeout') {
        if (i === 0) throw new Error('event stream sent nothing within 1 s');
        break;
      }
      if (chunk.done) break;
      text += decoder.decode(chunk.value, { stream: true });
    }
  } finally {
    await reader.cancel();
  }
  return text;
}

const stats = { cases: 0, byStatus: new Map<number, number>(), streams: 0, jobsSeen: 0 };

async function checkAnswer(spec: RequestSpec, setupResult: ReturnType<typeof setup>, request: Request): Promise<void> {
  const { owners, backend } = setupResult;
  const response = await setupResult.handler(request);
  const { status } = response;
  stats.cases++;
  stats.byStatus.set(status, (stats.byStatus.get(status) ?? 0) + 1);
  const context = `${request.method} ${request.url} as ${String(spec.owner)} → ${status}`;

  expect([200, 204, 400, 401, 404, 405, 409], context).toContain(status);
  expect(response.headers.get('cache-control'), context).toBe('no-store');
  const requester = spec.owner || null;
  const mine = (job: Job) => {
    stats.jobsSeen++;
    expect(requester, `${context}: job "${job.id}" served without an owner`).not.toBeNull();
    expect(owners.get(job.id), `${context}: job "${job.id}" is ${String(owners.get(job.id))}'s`).toBe(requester);
  };

  if (status === 204) {
    expect(request.method).toBe('OPTIONS');
    expect(response.body).toBeNull();
    return;
  }
  const type = response.headers.get('content-type') ?? '';
  if (request.method === 'HEAD') {
    expect(response.body, context).toBeNull();
    expect(type === 'application/json' || type.startsWith('text/event-stream'), context).toBe(true);
    return;
  }
  if (status >= 400) {
    expect(type, context).toBe('application/json');
    const json = await response.json();
    expect(json, context).toEqual({ error: { code: expect.any(String), message: expect.any(String) } });
    expect(json.error.code, context).not.toBe('');
    expect(json.error.message, context).not.toBe('');
    return;
  }

  // 200 with a body.
  expect(requester, `${context}: 200 without an owner`).not.toBeNull();
  if (type.startsWith('text/event-stream')) {
    stats.streams++;
    const text = await readStreamStart(response);
    expect(text.startsWith('retry: '), context).toBe(true);
    for (const block of text.split('\n\n')) {
      const lines = block.split('\n');
      const event = lines.find((l) => l.startsWith('event: '))?.slice(7);
      const data = lines.find((l) => l.startsWith('data: '))?.slice(6);
      if (event === undefined) continue;
      expect(lines.some((l) => /^id: [0-9]+$/.test(l)), `${context}: ${block}`).toBe(true);
      expect(['job', 'missing'], context).toContain(event);
      if (event === 'job') mine(parseJob(JSON.parse(data!)));
      else expect(Object.keys(JSON.parse(data!)), context).toEqual(['id']);
    }
    return;
  }
  expect(type, context).toBe('application/json');
  const json: unknown = await response.json();
  const url = new URL(request.url);
  const rest = url.pathname.replace(/^\/api\/jobs\/?/, '').replace(/\/$/, '');
  if (rest === 'counts') {
    const counts = parsePendingCount(json);
    expect(Object.keys(json as object).sort(), context).toEqual(['pending', 'processing']);
    // At most what the requester owns, exactly that without a filter: nobody else's job is ever counted.
    const own = backend.jobs().filter((job) => owners.get(job.id) === requester);
    const pending = own.filter((job) => job.status === 'pending').length;
    const processing = own.filter((job) => job.status === 'processing').length;
    expect(counts.pending, context).toBeLessThanOrEqual(pending);
    expect(counts.processing, context).toBeLessThanOrEqual(processing);
    const filtered = [...new URLSearchParams(url.search).keys()].some((name) => name.startsWith('meta.')); // also meta%2Ekey
    if (!filtered) expect(counts, context).toEqual({ pending, processing });
  } else if (rest === '' && url.searchParams.has('id')) {
    // The query form of the per-job routes: GET {base}?id=…, POST {base}?id=…&action=….
    const job = parseJob(json);
    mine(job);
    expect(job.id, context).toBe(url.searchParams.get('id'));
  } else if (rest === '') {
    if (json !== null && typeof json === 'object' && 'missing' in json) {
      const batch = parseJobBatch(json);
      batch.jobs.forEach(mine);
      for (const id of batch.missing) if (owners.get(id) === requester) expect.fail(`${context}: own job "${id}" reported missing`);
    } else {
      const page = parseJobPage(json);
      page.jobs.forEach(mine);
      // Every job of the requester's that matches is found, none of anyone else's.
    }
  } else {
    const job = parseJob(json);
    mine(job);
    const [rawId] = rest.split('/');
    expect(job.id, context).toBe(decodeURIComponent(rawId!));
  }
}

describe('createJobHandler under generated requests', () => {
  afterAll(() => {
    console.info(
      `[server.property] ${stats.cases} requests checked (${stats.streams} event streams read, ${stats.jobsSeen} jobs served, all to their owner); statuses: ${[
        ...stats.byStatus,
      ]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}×${n}`)
        .join(', ')}`,
    );
  });

  it(`answers only well-formed responses and never another owner's job (${RUNS} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(requestSpec, async (spec) => {
        const s = setup();
        const cursor = (await s.backend.list({ limit: 2 }, { owner: 'alice' })).nextCursor;
        await checkAnswer(spec, s, toRequest(spec, cursor));
        expect(s.onError).not.toHaveBeenCalled();
      }),
      { numRuns: RUNS },
    );
  }, 60_000);

  it(`event streams: well-formed, owner-only, for generated ids and Last-Event-ID (${EVENT_RUNS} runs)`, async () => {
    const eventsSpec = fc.record({
      method: fc.constantFrom('GET', 'GET', 'GET', 'HEAD'),
      path: fc.constantFrom('/api/jobs/events', '/api/jobs/events/'),
      query: fc.oneof(idList.map((ids) => `?ids=${ids}`), query),
      owner,
      lastEventId: fc.option(fc.oneof(lastEventId.map((v) => v ?? '0'), fc.constantFrom(String(Date.now()), String(Date.now() + 3_600_000))), { nil: undefined }),
      body: fc.constant(undefined),
    });
    await fc.assert(
      fc.asyncProperty(eventsSpec, async (spec) => {
        const s = setup();
        await checkAnswer(spec, s, toRequest(spec, null));
        expect(s.onError).not.toHaveBeenCalled();
      }),
      { numRuns: EVENT_RUNS },
    );
  }, 60_000);
});
