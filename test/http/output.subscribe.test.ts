// @vitest-environment node
import {
  createFetchJobClient,
  JobNotFoundError,
  JobProtocolError,
  JobRequestError,
  JobTransportError,
} from '../../src/core';
import { parseOutputRequest } from '../../src/contract/output';
import { at, eventually, range, recorder, useOutputServer, type OutputServer } from './output.fixture';

/**
 * `subscribeOutput` of the fetch client over real HTTP, against the output
 * fixture server: one stream with status, resume after the last part on every
 * reconnect, id-set changes, gaps, done and malformed events.
 */

const server = useOutputServer();
let s: OutputServer;
beforeEach(() => {
  s = server();
});


describe('subscribeOutput: one connection', () => {
  it('carries status and output of three jobs on one stream, each output id in ids', async () => {
    for (const id of ['a', 'b', 'c']) s.append(id, 2);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const status = vi.fn();
    const outputs = ['a', 'b', 'c'].map(() => recorder());
    const offs = ['a', 'b', 'c'].flatMap((id, i) => [
      client.subscribe!(id, { next: status }),
      client.subscribeOutput!(id, {}, outputs[i]!.listener),
    ]);
    await eventually(() => {
      for (const o of outputs) expect(o.seqs()).toEqual([1, 2]);
      expect(status).toHaveBeenCalledTimes(3);
    });
    s.append('b', 1);
    await eventually(() => expect(outputs[1]!.seqs()).toEqual([1, 2, 3]));
    expect(s.eventRequests()).toHaveLength(1);
    const url = s.eventRequests()[0]!.url;
    expect(url.searchParams.get('ids')).toBe('a,b,c');
    expect(url.searchParams.get('output')).toBe('a,b,c');
    expect(s.outputReads()).toHaveLength(0);
    for (const off of offs) off();
  });

  it('gives several listeners of one id one stream entry (the smallest after), each only the parts after its own', async () => {
    s.append('a', 6);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const from2 = recorder();
    const from5 = recorder();
    const off2 = client.subscribeOutput!('a', { after: 2 }, from2.listener);
    const off5 = client.subscribeOutput!('a', { after: 5 }, from5.listener);
    await eventually(() => expect(from2.seqs()).toEqual([3, 4, 5, 6]));
    await eventually(() => expect(from5.seqs()).toEqual([6]));
    expect(s.eventRequests()).toHaveLength(1);
    expect(s.eventRequests()[0]!.url.searchParams.get('output')).toBe('a:2');

    // A late listener from the start, on the stream that already carries `a`: caught up by one read, no new stream.
    const late = recorder();
    const offLate = client.subscribeOutput!('a', {}, late.listener);
    await eventually(() => expect(late.seqs()).toEqual([1, 2, 3, 4, 5, 6]));
    s.append('a', 1);
    await eventually(() => expect(late.seqs()).toEqual(range(1, 7)));
    await eventually(() => expect(from5.seqs()).toEqual([6, 7]));
    expect(from2.seqs()).toEqual([3, 4, 5, 6, 7]);
    expect(s.eventRequests()).toHaveLength(1);
    expect(s.outputReads().map((r) => r.url.searchParams.get('after'))).toEqual(['0']);
    off2();
    off5();
    offLate();
  });
});

describe('subscribeOutput: reconnects resume after the last part', () => {
  it('after a dropped connection asks for output=a:<last> and gets only the missing parts', async () => {
    s.append('a', 3);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const out = recorder();
    const off = client.subscribeOutput!('a', {}, out.listener);
    await eventually(() => expect(out.seqs()).toEqual([1, 2, 3]));
    s.drop();
    await eventually(() => expect(out.disconnected).toHaveLength(1));
    expect(out.disconnected[0]).toBeInstanceOf(JobTransportError);
    s.append('a', 2); // while the stream is down
    await eventually(() => expect(out.seqs()).toEqual([1, 2, 3, 4, 5]));
    const [first, ...reconnects] = s.eventRequests();
    expect(first!.url.searchParams.get('output')).toBe('a');
    expect(reconnects.length).toBeGreaterThanOrEqual(1);
    expect(reconnects.at(-1)!.url.searchParams.get('output')).toBe('a:3');
    expect(s.streams().at(-1)!.sent.get('a')).toEqual([4, 5]);
    expect(s.outputReads()).toHaveLength(0);
    off();
  });

  it('after a silence timeout too', async () => {
    s.append('a', 2);
    const client = createFetchJobClient({ baseUrl: s.baseUrl, silenceTimeoutMs: 300 });
    const out = recorder();
    const off = client.subscribeOutput!('a', {}, out.listener);
    await eventually(() => expect(out.seqs()).toEqual([1, 2]));
    await eventually(() => expect(s.eventRequests().length).toBeGreaterThanOrEqual(2));
    expect(s.eventRequests()[1]!.url.searchParams.get('output')).toBe('a:2');
    expect(out.seqs()).toEqual([1, 2]);
    off();
  });

  it('a reconnect after 1,000 parts transfers only the missing parts', async () => {
    s.append('a', 1000);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const out = recorder();
    const off = client.subscribeOutput!('a', {}, out.listener);
    await eventually(() => expect(out.seqs()).toHaveLength(1000));
    const first = s.streams()[0]!;
    s.drop();
    const missing = s.append('a', 5);
    await eventually(() => expect(out.seqs()).toEqual(range(1, 1005)));
    const last = s.streams().at(-1)!;
    expect(last).not.toBe(first);
    expect(last.url.searchParams.get('output')).toBe('a:1000');
    expect(last.sent.get('a')).toEqual([1001, 1002, 1003, 1004, 1005]);
    // The output bytes of the reconnect are those of the 5 missing parts (one event), not of 1,005.
    const fiveParts = Buffer.byteLength(`id: 99999\nevent: output\ndata: ${JSON.stringify({ id: 'a', parts: missing })}\n\n`);
    expect(last.outputBytes).toBeLessThanOrEqual(fiveParts);
    expect(first.outputBytes).toBeGreaterThan(100 * last.outputBytes);
    // The whole second answer (status snapshot included) is a small fraction of the first.
    expect(last.bytes).toBeLessThan(first.bytes / 50);
    off();
  });
});

describe('subscribeOutput: changing the id set', () => {
  it('opens the new stream before closing the old one without duplicating or losing parts', async () => {
    s.append('a', 3);
    s.append('b', 1);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const a = recorder();
    const b = recorder();
    const offA = client.subscribeOutput!('a', {}, a.listener);
    await eventually(() => expect(a.seqs()).toEqual([1, 2, 3]));
    const offB = client.subscribeOutput!('b', {}, b.listener);
    // Parts keep coming while the streams switch: on the old stream, the new one, or both.
    const timer = setInterval(() => s.append('a', 1), 5);
    await eventually(() => expect(s.eventRequests()).toHaveLength(2));
    await eventually(() => expect(b.seqs()).toEqual([1]));
    await new Promise((resolve) => setTimeout(resolve, 100));
    clearInterval(timer);
    const total = s.count('a');
    await eventually(() => expect(a.seqs().at(-1)).toBe(total));
    expect(a.seqs()).toEqual(range(1, total));
    expect(a.disconnected).toHaveLength(0);
    const second = s.eventRequests()[1]!.url;
    expect(second.searchParams.get('ids')).toBe('a,b');
    expect(Number(parseOutputRequest(/output=([^&]*)/.exec(second.search)![1]!)[0]![1])).toBeGreaterThanOrEqual(3);
    await eventually(() => expect(s.open()).toHaveLength(1));
    offA();
    offB();
  });
});

describe('subscribeOutput: gaps, done and malformed events', () => {
  it('fills a gap with readOutput({ after: last }) before delivering what follows it', async () => {
    s.append('a', 1);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const out = recorder();
    const off = client.subscribeOutput!('a', {}, out.listener);
    await eventually(() => expect(out.seqs()).toEqual([1]));
    s.append('a', 2, { live: false }); // never sent on the stream
    s.append('a', 1);
    await eventually(() => expect(out.seqs()).toEqual([1, 2, 3, 4]));
    expect(s.outputReads().map((r) => r.url.searchParams.get('after'))).toEqual(['1']);
    expect(out.calls.every((c) => c.info === undefined)).toBe(true);
    off();
  });

  it('delivers with info.trimmed what follows parts the store no longer has', async () => {
    s.append('a', 1);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const out = recorder();
    const off = client.subscribeOutput!('a', {}, out.listener);
    await eventually(() => expect(out.seqs()).toEqual([1]));
    s.append('a', 3, { live: false });
    s.trimBefore('a', 4);
    s.append('a', 1);
    await eventually(() => expect(out.seqs()).toEqual([1, 4, 5]));
    expect(out.calls[1]).toEqual({ seqs: [4, 5], info: { trimmed: true } });
    off();
  });

  it('delivers done once, and the output leaves the query at the next id-set change without a reconnect of its own', async () => {
    s.append('a', 2);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const out = recorder();
    const offStatus = client.subscribe!('a', { next: () => {} });
    const off = client.subscribeOutput!('a', {}, out.listener);
    await eventually(() => expect(out.seqs()).toEqual([1, 2]));
    s.append('a', 1);
    s.finish('a');
    await eventually(() => expect(out.calls.at(-1)).toEqual({ seqs: [], info: { done: true } }));
    expect(out.seqs()).toEqual([1, 2, 3]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(out.calls.filter((c) => c.info?.done)).toHaveLength(1);
    expect(s.eventRequests()).toHaveLength(1);
    const offB = client.subscribe!('b', { next: () => {} });
    await eventually(() => expect(s.eventRequests()).toHaveLength(2));
    expect(s.eventRequests()[1]!.url.searchParams.get('ids')).toBe('a,b');
    expect(s.eventRequests()[1]!.url.searchParams.has('output')).toBe(false);
    off();
    offStatus();
    offB();
  });

  it('tells listeners once about malformed output events and reads back what they carried, on the same stream', async () => {
    s.append('a', 2);
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const out = recorder();
    const off = client.subscribeOutput!('a', {}, out.listener);
    await eventually(() => expect(out.seqs()).toEqual([1, 2]));
    s.append('a', 2, { live: false });
    const bad = `event: output\ndata: ${JSON.stringify({ id: 'a', parts: [{ seq: 3, kind: 'image', url: 'javascript:alert(1)', at: at(3) }] })}\n\n`;
    for (let i = 0; i < 20; i++) s.raw(bad);
    s.raw('event: output\ndata: {"id": "a", oops\n\n');
    await eventually(() => expect(out.seqs()).toEqual([1, 2, 3, 4]));
    expect(out.disconnected).toHaveLength(1);
    expect(out.disconnected[0]).toBeInstanceOf(JobProtocolError);
    expect(s.outputReads().length).toBe(1);
    // Valid events still arrive on the same stream.
    s.append('a', 1);
    await eventually(() => expect(out.seqs()).toEqual([1, 2, 3, 4, 5]));
    expect(s.eventRequests()).toHaveLength(1);
    off();
  });

  it('ends the subscription with JobNotFoundError when the job is missing, and refuses a bad after or id', async () => {
    const client = createFetchJobClient({ baseUrl: s.baseUrl });
    const out = recorder();
    s.setOverride((url) =>
      url.pathname.endsWith('/events') ? null : { status: 404, body: JSON.stringify({ error: { code: 'not_found', message: 'x' } }) },
    );
    const off = client.subscribeOutput!('a', {}, out.listener);
    await eventually(() => expect(s.streams()).toHaveLength(1));
    s.raw(`event: missing\ndata: {"id":"a"}\n\n`);
    await eventually(() => expect(out.errors).toHaveLength(1));
    expect(out.errors[0]).toBeInstanceOf(JobNotFoundError);
    off();
    const badAfter = recorder();
    const badId = recorder();
    client.subscribeOutput!('a', { after: -2 }, badAfter.listener);
    client.subscribeOutput!('', {}, badId.listener);
    await eventually(() => expect([...badAfter.errors, ...badId.errors]).toHaveLength(2));
    expect(badAfter.errors[0]).toMatchObject({ status: 400, code: 'bad_request' });
    expect(badId.errors[0]).toBeInstanceOf(JobRequestError);
  });
});
