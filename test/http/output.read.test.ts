// @vitest-environment node
import {
  createFetchJobClient,
  JobNotFoundError,
  JobProtocolError,
  JobRequestError,
  JobTransportError,
  JobUnauthorizedError,
} from '../../src/core';
import { useOutputServer, type OutputServer } from './output.fixture';

/** `readOutput` of the fetch client over real HTTP, against the output fixture server. */

const server = useOutputServer();
let s: OutputServer;
beforeEach(() => {
  s = server();
});


describe('readOutput', () => {
  it('reads a page: GET {base}/{id}/output?after=&limit=, parsed and typed', async () => {
    s.append('a', 5);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const page = await client.readOutput('a', { after: 1, limit: 2 });
    expect(page).toEqual({ parts: [expect.objectContaining({ seq: 2 }), expect.objectContaining({ seq: 3 })], done: false });
    const first = s.outputReads()[0]!.url;
    expect(first.pathname).toBe('/api/jobs/a/output');
    expect(first.search).toBe('?after=1&limit=2');
    await client.readOutput('a');
    expect(s.outputReads()[1]!.url.search).toBe('?after=0');
  });

  it('sends the dot-segment ids in the query form, and percent-encodes others in the path', async () => {
    s.append('..', 1);
    s.append('a/b', 1);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    expect((await client.readOutput('..', { after: 0 })).parts).toHaveLength(1);
    expect((await client.readOutput('a/b')).parts).toHaveLength(1);
    const [dots, slash] = s.outputReads();
    expect(dots!.url.pathname).toBe('/api/jobs');
    expect(dots!.url.search).toBe('?id=..&action=output&after=0');
    expect(slash!.url.pathname).toBe('/api/jobs/a%2Fb/output');
  });

  it('says trimmed and done as the page does', async () => {
    s.append('a', 4);
    s.trimBefore('a', 3);
    s.finish('a');
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const page = await client.readOutput('a');
    expect(page.parts.map((p) => p.seq)).toEqual([3, 4]);
    expect(page).toMatchObject({ done: true, trimmed: true });
  });

  it('answers errors as getStatus does', async () => {
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    await expect(client.readOutput('nope')).rejects.toBeInstanceOf(JobNotFoundError);
    const answers: Array<[number, unknown, Record<string, string>?]> = [
      [401, { error: { code: 'unauthorized', message: 'sign in' } }],
      [503, { error: { code: 'unavailable', message: 'down' } }, { 'retry-after': '7' }],
      [429, { error: { code: 'rate_limited', message: 'slow down' } }, { 'retry-after': '2' }],
      [400, { error: { code: 'bad_request', message: 'after must be an integer of 0 or more' } }],
      [200, { parts: [{ seq: 1, kind: 'text', text: 'x', at: 'yesterday' }], done: false }],
    ];
    const outcomes: unknown[] = [];
    for (const [status, body, headers] of answers) {
      s.setOverride(() => ({ status, body: JSON.stringify(body), ...(headers ? { headers } : {}) }));
      outcomes.push(await client.readOutput('a').catch((e: unknown) => e));
    }
    s.setOverride(() => ({ status: 200, body: 'not json' }));
    outcomes.push(await client.readOutput('a').catch((e: unknown) => e));
    const [unauthorized, unavailable, limited, bad, malformed, notJson] = outcomes;
    expect(unauthorized).toBeInstanceOf(JobUnauthorizedError);
    expect(unavailable).toBeInstanceOf(JobTransportError);
    expect((unavailable as JobTransportError).retryAfterMs).toBe(7000);
    expect((limited as JobTransportError).retryAfterMs).toBe(2000);
    expect(bad).toBeInstanceOf(JobRequestError);
    expect((bad as JobRequestError).code).toBe('bad_request');
    expect(malformed).toBeInstanceOf(JobProtocolError);
    expect((malformed as JobProtocolError).message).toContain('parts[0].at');
    expect(notJson).toBeInstanceOf(JobProtocolError);
  });

  it('refuses a bad after, limit or id with a 400 JobRequestError without sending anything', async () => {
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const bad = [
      client.readOutput('a', { after: -1 }),
      client.readOutput('a', { after: 1.5 }),
      client.readOutput('a', { after: '3' as unknown as number }),
      client.readOutput('a', { limit: 0 }),
      client.readOutput('a', { limit: 501 }),
      client.readOutput(''),
      client.readOutput('events'),
    ];
    for (const outcome of await Promise.all(bad.map((p) => p.catch((e: unknown) => e)))) {
      expect(outcome).toBeInstanceOf(JobRequestError);
      expect(outcome).toMatchObject({ status: 400, code: 'bad_request' });
    }
    expect(s.requests).toHaveLength(0);
  });
});
