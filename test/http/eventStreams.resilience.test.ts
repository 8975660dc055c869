// @vitest-environment node
import {
  createFetchJobClient,
  JobProtocolError,
  MAX_EVENT_STREAM_LINE_LENGTH,
  MAX_RETRY_AFTER_MS,
  type Job,
} from '../../src/core';
import { makeJob } from '../helpers';

/**
 * The push client's event streams against servers that misbehave, on fake
 * time: every reconnect, and every read it causes, is counted.
 */

const encoder = new TextEncoder();
const frame = (job: unknown, id?: string) =>
  `${id ? `id: ${id}\n` : ''}event: job\ndata: ${typeof job === 'string' ? job : JSON.stringify(job)}\n\n`;

/** A body the test writes to. */
function pushBody() {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start: (c) => {
      controller = c;
    },
    cancel: () => {
      cancelled = true;
    },
  });
  return {
    body,
    write(text: string) {
      if (!cancelled) controller.enqueue(encoder.encode(text));
    },
    end() {
      if (!cancelled) controller.close();
    },
    get cancelled() {
      return cancelled;
    },
  };
}

type EventsHandler = (attempt: number, url: URL, init: RequestInit) => Response;

/** A fetch serving `/events` from `events` and batch reads from `jobs`; counts both. */
function server(events: EventsHandler, jobs: () => Job[] = () => [makeJob({ id: 'a' })]) {
  const counts = { events: 0, reads: 0 };
  const fetch = (async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input));
    if (url.pathname.endsWith('/events')) return events(++counts.events, url, init);
    counts.reads += 1;
    return new Response(JSON.stringify({ jobs: jobs(), missing: [] }), { headers: { 'content-type': 'application/json' } });
  }) as typeof globalThis.fetch;
  return { fetch, counts };
}

const stream = (body: ReadableStream<Uint8Array> | string, type = 'text/event-stream') =>
  new Response(body, { status: 200, headers: { 'content-type': type } });

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  // No jitter: every backoff is its lowest value (half the ceiling), so counts are exact.
  vi.spyOn(Math, 'random').mockReturnValue(0);
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('event streams: an endless line', () => {
  it('is a JobProtocolError past MAX_EVENT_STREAM_LINE_LENGTH, and the stream reconnects with backoff', async () => {
    const written: number[] = [];
    const { fetch, counts } = server((attempt) => {
      written[attempt] = 0;
      let sent = 0;
      // A line that never ends: 64 KiB at a time, as fast as it is read (stops at 8 MiB so a missing cap cannot eat the machine).
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent >= 8 * 1024 * 1024) return new Promise(() => {});
          const chunk = encoder.encode(sent === 0 ? 'data: ' : 'x'.repeat(64 * 1024));
          sent += chunk.length;
          written[attempt] = sent;
          controller.enqueue(chunk);
          return undefined;
        },
      });
      return stream(body);
    });
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const disconnected = vi.fn();
    const off = client.subscribe!('a', { next: () => {}, disconnected });
    await vi.advanceTimersByTimeAsync(100);
    expect(disconnected).toHaveBeenCalledTimes(1);
    expect(disconnected.mock.calls[0]![0]).toBeInstanceOf(JobProtocolError);
    // It stopped reading near the cap (the stream's own read-ahead aside).
    expect(written[1]).toBeLessThan(MAX_EVENT_STREAM_LINE_LENGTH + 4 * 64 * 1024);
    // Reconnects, backing off: 0.5 s, 1 s, 2 s, 4 s after each failure.
    await vi.advanceTimersByTimeAsync(10_000);
    expect(counts.events).toBeGreaterThanOrEqual(2);
    expect(counts.events).toBeLessThanOrEqual(5);
    off();
  });
});

describe('event streams: Retry-After', () => {
  it('clamps a 25-day Retry-After to MAX_RETRY_AFTER_MS (one hour) instead of overflowing setTimeout', async () => {
    const { fetch, counts } = server(
      () =>
        new Response(JSON.stringify({ error: { code: 'unavailable', message: 'down' } }), {
          status: 503,
          headers: { 'content-type': 'application/json', 'retry-after': String(25 * 24 * 3600) },
        }),
    );
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const off = client.subscribe!('a', { next: () => {}, disconnected: () => {} });
    await vi.advanceTimersByTimeAsync(10_000);
    // An overflowing delay fires after 1 ms: thousands of reconnects.
    expect(counts.events).toBe(1);
    await vi.advanceTimersByTimeAsync(MAX_RETRY_AFTER_MS - 20_000);
    expect(counts.events).toBe(1);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(counts.events).toBe(2);
    off();
  });
});

describe('event streams: what counts as a working stream', () => {
  it('takes a 200 that is not text/event-stream (an HTML page) for a protocol failure and backs off exponentially', async () => {
    const { fetch, counts } = server(() => stream('<html>Please sign in</html>', 'text/html'));
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const disconnected = vi.fn();
    const off = client.subscribe!('a', { next: () => {}, disconnected });
    await vi.advanceTimersByTimeAsync(5000);
    expect(disconnected).toHaveBeenCalledTimes(1);
    expect(disconnected.mock.calls[0]![0]).toBeInstanceOf(JobProtocolError);
    // At 0, 0.5, 1.5 and 3.5 s; a backoff reset by each 200 would make it 10.
    expect(counts.events).toBe(4);
    // Never a working stream, so no catch-up reads either.
    expect(counts.reads).toBe(0);
    off();
  });

  it('resets the backoff only after a valid event: streams that open and end empty keep backing off', async () => {
    const { fetch, counts } = server(() => stream(': hello\n\n'));
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const off = client.subscribe!('a', { next: () => {}, disconnected: () => {} });
    await vi.advanceTimersByTimeAsync(5000);
    expect(counts.events).toBe(4);
    expect(counts.reads).toBeLessThanOrEqual(4);
    off();
  });

  it('starts the backoff over once a stream delivered a valid event', async () => {
    const { fetch, counts } = server((attempt) => stream(attempt === 3 ? frame(makeJob({ id: 'a' }), '1') : ''));
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const next = vi.fn();
    const off = client.subscribe!('a', { next, disconnected: () => {} });
    // Attempts at 0, 0.5, 1.5 s; the third delivers, so the fourth follows 0.5 s later (not 2 s).
    await vi.advanceTimersByTimeAsync(1500);
    expect(counts.events).toBe(3);
    expect(next).toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(600);
    expect(counts.events).toBe(4);
    off();
  });
});

describe('event streams: malformed frames', () => {
  it.each([
    ['a job frame that is not a valid Job', frame({ id: 'a', status: 'bogus' })],
    ['a job frame that is not JSON', frame('{"id": "a", oops')],
    ['a missing frame that is not JSON', 'event: missing\ndata: nope\n\n'],
  ])('drop %s: told once, never a read per frame, the stream stays open', async (_name, bad) => {
    const body = pushBody();
    const { fetch, counts } = server(() => stream(body.body));
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const seen: string[] = [];
    const disconnected = vi.fn();
    const off = client.subscribe!('a', { next: (job) => seen.push(job.status), disconnected });
    await vi.advanceTimersByTimeAsync(0);
    body.write(frame(makeJob({ id: 'a', version: 1 }), '1'));
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['pending']);
    // A malformed frame every 5 ms for 5 s: a thousand of them.
    const timer = setInterval(() => body.write(bad), 5);
    await vi.advanceTimersByTimeAsync(5000);
    clearInterval(timer);
    expect(counts.reads).toBeLessThanOrEqual(2);
    expect(counts.events).toBe(1);
    expect(disconnected).toHaveBeenCalledTimes(1);
    expect(disconnected.mock.calls[0]![0]).toBeInstanceOf(JobProtocolError);
    // Valid frames still arrive on the same stream.
    body.write(frame(makeJob({ id: 'a', version: 2, status: 'processing' }), '2'));
    await vi.advanceTimersByTimeAsync(0);
    expect(seen).toEqual(['pending', 'processing']);
    off();
  });

  it("tells only the named job's listeners about a malformed frame naming it", async () => {
    const body = pushBody();
    const { fetch } = server(() => stream(body.body), () => [makeJob({ id: 'a' }), makeJob({ id: 'b' })]);
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const a = vi.fn();
    const b = vi.fn();
    const offA = client.subscribe!('a', { next: () => {}, disconnected: a });
    const offB = client.subscribe!('b', { next: () => {}, disconnected: b });
    await vi.advanceTimersByTimeAsync(0);
    body.write(frame({ id: 'b', status: 'bogus' }) + frame({ id: 'b', progress: 7 }));
    await vi.advanceTimersByTimeAsync(0);
    expect(a).not.toHaveBeenCalled();
    expect(b).toHaveBeenCalledTimes(1);
    offA();
    offB();
  });
});

describe('event streams: silence and heartbeats', () => {
  function silentAfter(prefix: string) {
    return server(() => {
      const body = pushBody();
      body.write(prefix + frame(makeJob({ id: 'a' }), '1'));
      return stream(body.body);
    });
  }

  it('keeps a stream whose server announced a 60 s heartbeat through 50 s of silence', async () => {
    const { fetch, counts } = silentAfter(': heartbeat 60000\n\n');
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const off = client.subscribe!('a', { next: () => {}, disconnected: () => {} });
    await vi.advanceTimersByTimeAsync(50_000);
    expect(counts.events).toBe(1);
    await vi.advanceTimersByTimeAsync(100_000);
    expect(counts.events).toBe(1);
    // Three announced heartbeats (180 s) without a byte: dead, reopened.
    await vi.advanceTimersByTimeAsync(31_000);
    expect(counts.events).toBe(2);
    off();
  });

  it('reopens a stream silent for the default 45 s when no heartbeat was announced', async () => {
    const { fetch, counts } = silentAfter('');
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch });
    const off = client.subscribe!('a', { next: () => {}, disconnected: () => {} });
    await vi.advanceTimersByTimeAsync(44_000);
    expect(counts.events).toBe(1);
    await vi.advanceTimersByTimeAsync(1000 + 600);
    expect(counts.events).toBe(2);
    off();
  });

  it('takes silenceTimeoutMs as the default, and an announced faster heartbeat never shortens it', async () => {
    const { fetch, counts } = silentAfter(': heartbeat 1000\n\n');
    const client = createFetchJobClient({ baseUrl: 'http://x/api/jobs', fetch, silenceTimeoutMs: 10_000 });
    const off = client.subscribe!('a', { next: () => {}, disconnected: () => {} });
    await vi.advanceTimersByTimeAsync(9000);
    expect(counts.events).toBe(1);
    await vi.advanceTimersByTimeAsync(1600);
    expect(counts.events).toBe(2);
    off();
  });

  it('refuses a silenceTimeoutMs or timeoutMs that is not a usable delay', () => {
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      expect(() => createFetchJobClient({ baseUrl: '/api/jobs', silenceTimeoutMs: bad })).toThrow(RangeError);
      expect(() => createFetchJobClient({ baseUrl: '/api/jobs', timeoutMs: bad })).toThrow(RangeError);
    }
  });
});
