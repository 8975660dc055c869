import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { formatIdList } from 'jobwatch/core';
import { createJobHandler } from 'jobwatch/server';
import { createMemoryJobBackend } from 'jobwatch/testing';
import { toNodeListener } from '../src/server/node';

/**
 * Load run of createJobHandler on a real node:http server (127.0.0.1 only):
 * SUBSCRIBERS concurrent event streams (`GET /api/jobs/events?ids=…`, 1–5 ids
 * each; LATE_SUBSCRIBERS more join during the run) and
 * STATUS_RPS status requests per second for DURATION_MS, against the in-memory
 * store while scripted jobs progress, retry, fail, complete or get cancelled.
 * Then: every subscriber must have seen the terminal state of each of its jobs
 * (the test fails, non-zero exit, otherwise); heap sampled every 2 s.
 * Bounded: every loop has a count or a deadline; the server is closed at the end.
 */

const SUBSCRIBERS = 1000;
const LATE_SUBSCRIBERS = 200; // beyond SUBSCRIBERS: connecting spread over the first 20 s, so some get terminal jobs in their snapshot
const JOBS = 1500;
const OWNERS = ['u1', 'u2', 'u3', 'u4'];
const DURATION_MS = 30_000;
const STATUS_RPS = 200;
const TICK_MS = 50;
const DRAIN_MS = 15_000; // after the load, how long subscribers may take to see their last events
const HEAP_SAMPLE_MS = 2_000;

// Deterministic pseudo-random numbers, so runs are comparable.
let seed = 0x2545f491;
function random(): number {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return ((seed >>> 0) % 1_000_000) / 1_000_000;
}
const between = (min: number, max: number) => Math.floor(min + random() * (max - min + 1));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

interface Subscriber {
  ids: string[];
  owner: string;
  terminal: Map<string, string>; // id → terminal status seen
  events: number;
  ended: boolean;
  error: string | null;
  request: http.ClientRequest | null;
}

it(
  'load: 1,000 concurrent SSE subscribers (+200 late) + 200 status requests/s for 30 s',
  async () => {
    const backend = createMemoryJobBackend();
    const owners = new Map<string, string>();
    const expectedFinal = new Map<string, string>();
    const cancelTimers: NodeJS.Timeout[] = [];
    const start = Date.now();

    // Scripted lifecycles, all terminal by ~25 s and none before ~5 s (so all SUBSCRIBERS are open at once):
    // queued 3–8 s, running 2–8 s with progress steps;
    // 15 % fail once and then succeed, 10 % fail twice (failed), 10 % are cancelled 1–20 s in.
    for (let i = 0; i < JOBS; i++) {
      const id = `job-${i}`;
      const owner = OWNERS[i % OWNERS.length]!;
      const roll = random();
      const failures = roll < 0.15 ? 1 : roll < 0.25 ? Infinity : 0;
      backend.create({
        id,
        owner,
        queuedMs: between(3000, 8000),
        runningMs: between(2000, 8000),
        steps: between(1, 5),
        failures,
        maxRetries: 1,
        retryDelayMs: 1000,
        result: { url: `/files/${id}` },
      });
      owners.set(id, owner);
      if (roll > 0.9) {
        cancelTimers.push(
          setTimeout(() => {
            // Rejects (409 not_cancellable) when the job finished first: fine.
            backend.cancel(id).catch(() => undefined);
          }, between(4000, 20_000)),
        );
      }
    }
    const idsOf = new Map(OWNERS.map((o) => [o, [...owners].filter(([, owner]) => owner === o).map(([id]) => id)]));

    let handlerErrors = 0;
    const handler = createJobHandler({
      store: backend,
      basePath: '/api/jobs',
      authorize: (request) => {
        const owner = request.headers.get('x-owner');
        return owner ? { owner } : null;
      },
      heartbeatMs: 5000,
      onError: (error) => {
        handlerErrors++;
        if (handlerErrors <= 5) console.error('[load] handler onError:', error);
      },
    });
    const server = http.createServer(toNodeListener(handler));
    server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 });
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;

    // Every subscriber its own connection (no keep-alive pooling limits); status requests share a keep-alive pool.
    const sseAgent = new http.Agent({ keepAlive: false, maxSockets: Infinity });
    const statusAgent = new http.Agent({ keepAlive: true, maxSockets: 64 });

    // ---- heap sampling --------------------------------------------------------
    const heap: number[] = [];
    const sampleHeap = () => {
      heap.push(process.memoryUsage().heapUsed);
      // The memory backend logs every client call (with its AbortSignal) for tests to inspect; a
      // server would not keep that log, so it is cleared rather than counted as the handler's memory.
      backend.clearCalls();
    };
    sampleHeap();
    const heapTimer = setInterval(sampleHeap, HEAP_SAMPLE_MS);

    // ---- subscribers -----------------------------------------------------------
    const subscribers: Subscriber[] = [];
    let eventsDelivered = 0;
    let openStreams = 0;
    let maxOpenStreams = 0;

    function subscribe(sub: Subscriber): Promise<void> {
      return new Promise((resolve) => {
        const request = http.get(
          {
            host: '127.0.0.1',
            port,
            path: `/api/jobs/events?ids=${formatIdList(sub.ids)}`,
            headers: { 'x-owner': sub.owner, accept: 'text/event-stream' },
            agent: sseAgent,
          },
          (response) => {
            if (response.statusCode !== 200) {
              sub.error = `status ${response.statusCode}`;
              sub.ended = true;
              response.resume();
              return resolve();
            }
            openStreams++;
            maxOpenStreams = Math.max(maxOpenStreams, openStreams);
            resolve();
            response.setEncoding('utf8');
            let buffer = '';
            response.on('data', (chunk: string) => {
              buffer += chunk;
              for (let end = buffer.indexOf('\n\n'); end !== -1; end = buffer.indexOf('\n\n')) {
                const block = buffer.slice(0, end);
                buffer = buffer.slice(end + 2);
                let event = '';
                let data = '';
                for (const line of block.split('\n')) {
                  if (line.startsWith('event: ')) event = line.slice(7);
                  else if (line.startsWith('data: ')) data = line.slice(6);
                }
                if (event === 'job') {
                  sub.events++;
                  eventsDelivered++;
                  const job = JSON.parse(data) as { id: string; status: string };
                  if (owners.get(job.id) !== sub.owner) sub.error = `got ${job.id}, owned by ${owners.get(job.id)}`;
                  if (job.status === 'completed' || job.status === 'failed' || job.status === 'cancelled') {
                    if (sub.terminal.has(job.id)) sub.error = `terminal ${job.id} twice`;
                    sub.terminal.set(job.id, job.status);
                  }
                } else if (event === 'missing') {
                  sub.error = `missing ${data}`;
                }
              }
            });
            const done = () => {
              if (!sub.ended) openStreams--;
              sub.ended = true;
            };
            response.on('end', done);
            response.on('close', done);
            response.on('error', (error) => {
              sub.error ??= String(error);
              done();
            });
          },
        );
        sub.request = request;
        request.on('error', (error) => {
          sub.error ??= String(error);
          sub.ended = true;
          resolve();
        });
      });
    }

    for (let i = 0; i < SUBSCRIBERS + LATE_SUBSCRIBERS; i++) {
      const owner = OWNERS[i % OWNERS.length]!;
      const pool = idsOf.get(owner)!;
      const ids = new Set<string>();
      const count = between(1, 5);
      while (ids.size < count) ids.add(pool[between(0, pool.length - 1)]!);
      subscribers.push({ ids: [...ids], owner, terminal: new Map(), events: 0, ended: false, error: null, request: null });
    }
    const early = subscribers.slice(0, SUBSCRIBERS);
    const late = subscribers.slice(SUBSCRIBERS);
    const connectStart = Date.now();
    for (let i = 0; i < early.length; i += 100) await Promise.all(early.slice(i, i + 100).map(subscribe));
    const connectMs = Date.now() - connectStart;
    const lateConnects = late.map(
      (sub, i) => new Promise<void>((resolve) => setTimeout(() => void subscribe(sub).then(resolve), Math.floor((i / late.length) * 20_000))),
    );

    // ---- status requests ---------------------------------------------------------
    let sent = 0;
    let answered = 0;
    let failedRequests = 0;
    const latencies: number[] = [];
    const statusCounts = new Map<number, number>();
    const inFlight = new Set<Promise<void>>();

    function statusRequest(): void {
      const owner = OWNERS[between(0, OWNERS.length - 1)]!;
      const pool = idsOf.get(owner)!;
      const roll = random();
      const path =
        roll < 0.7
          ? `/api/jobs/${pool[between(0, pool.length - 1)]}`
          : roll < 0.85
            ? `/api/jobs?ids=${formatIdList(Array.from({ length: between(2, 20) }, () => pool[between(0, pool.length - 1)]!))}`
            : roll < 0.95
              ? '/api/jobs/counts'
              : '/api/jobs?status=processing&limit=20';
      sent++;
      const t0 = performance.now();
      const p = new Promise<void>((resolve) => {
        const request = http.get({ host: '127.0.0.1', port, path, headers: { 'x-owner': owner }, agent: statusAgent, timeout: 10_000 }, (response) => {
          response.resume();
          response.on('end', () => {
            answered++;
            latencies.push(performance.now() - t0);
            statusCounts.set(response.statusCode ?? 0, (statusCounts.get(response.statusCode ?? 0) ?? 0) + 1);
            if (response.statusCode !== 200) failedRequests++;
            resolve();
          });
        });
        request.on('timeout', () => request.destroy(new Error('timeout')));
        request.on('error', () => {
          failedRequests++;
          resolve();
        });
      });
      inFlight.add(p);
      void p.then(() => inFlight.delete(p));
    }

    const perTick = (STATUS_RPS * TICK_MS) / 1000;
    const loadStart = Date.now();
    let owed = 0;
    while (Date.now() - loadStart < DURATION_MS) {
      // Catch up on ticks a busy event loop delayed, so the rate is 200/s of wall time.
      const due = Math.floor(((Date.now() - loadStart) / 1000) * STATUS_RPS) - sent;
      owed = Math.max(0, due);
      for (let i = 0; i < Math.min(owed, perTick * 4); i++) statusRequest();
      await new Promise((resolve) => setTimeout(resolve, TICK_MS));
    }
    const loadMs = Date.now() - loadStart;
    await Promise.all(lateConnects);
    await Promise.all(inFlight);

    // ---- drain: every stream ends by itself once its jobs are terminal ------------------------
    const drainStart = Date.now();
    while (subscribers.some((s) => !s.ended) && Date.now() - drainStart < DRAIN_MS) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    clearInterval(heapTimer);
    sampleHeap();
    const stillOpen = subscribers.filter((s) => !s.ended).length;

    // ---- figures ----------------------------------------------------------------------
    let expectedTerminal = 0;
    let seenTerminal = 0;
    let wrongTerminal = 0;
    const lost: string[] = [];
    for (const sub of subscribers) {
      for (const id of sub.ids) {
        expectedTerminal++;
        const seen = sub.terminal.get(id);
        const final = backend.get(id)!.status;
        expectedFinal.set(id, final);
        if (seen) {
          seenTerminal++;
          if (seen !== final) wrongTerminal++;
        } else if (lost.length < 10) lost.push(`${id} (${final}) for subscriber ${subscribers.indexOf(sub)}${sub.error ? `: ${sub.error}` : ''}`);
      }
    }
    const notTerminal = [...expectedFinal.values()].filter((s) => s === 'pending' || s === 'processing').length;
    const subscriberErrors = subscribers.filter((s) => s.error !== null);

    for (const sub of subscribers) sub.request?.destroy();
    cancelTimers.forEach(clearTimeout);
    (globalThis as { gc?: () => void }).gc?.();
    const heapEndGc = process.memoryUsage().heapUsed;
    server.closeAllConnections();
    server.close();
    sseAgent.destroy();
    statusAgent.destroy();

    const sorted = latencies.sort((a, b) => a - b);
    const lines = [
      `subscribers:           ${subscribers.length} (${early.length} connected at once in ${connectMs} ms, ${late.length} more over 20 s; max ${maxOpenStreams} open at once; ${stillOpen} still open after drain)`,
      `jobs:                  ${JOBS} scripted, ${OWNERS.length} owners; not terminal at the end: ${notTerminal}`,
      `status requests:       ${sent} sent, ${answered} answered, ${failedRequests} failed/non-200 in ${(loadMs / 1000).toFixed(1)} s (${((sent / loadMs) * 1000).toFixed(0)}/s); statuses ${[...statusCounts].map(([s, n]) => `${s}×${n}`).join(', ')}`,
      `status latency:        p50 ${percentile(sorted, 50).toFixed(1)} ms, p95 ${percentile(sorted, 95).toFixed(1)} ms, max ${(sorted.at(-1) ?? NaN).toFixed(1)} ms`,
      `events delivered:      ${eventsDelivered} job events`,
      `terminal events:       expected ${expectedTerminal}, seen ${seenTerminal}, lost ${expectedTerminal - seenTerminal}, wrong state ${wrongTerminal}`,
      `subscriber errors:     ${subscriberErrors.length}${subscriberErrors.length ? ` (e.g. ${subscriberErrors.slice(0, 3).map((s) => s.error).join('; ')})` : ''}; handler onError: ${handlerErrors}`,
      `heapUsed:              start ${mb(heap[0]!)}, max ${mb(Math.max(...heap))}, end ${mb(heap.at(-1)!)}, end after gc ${mb(heapEndGc)} (${heap.length} samples every ${HEAP_SAMPLE_MS / 1000} s)`,
      `wall time:             ${((Date.now() - start) / 1000).toFixed(1)} s`,
    ];
    console.log(`\n[load] jobwatch server handler\n${lines.map((l) => `  ${l}`).join('\n')}\n`);
    if (lost.length) console.log(`[load] lost terminal events (first ${lost.length}):\n  ${lost.join('\n  ')}`);

    expect(expectedTerminal - seenTerminal, 'terminal events lost').toBe(0);
    expect(wrongTerminal, 'terminal events with another final state').toBe(0);
    expect(subscriberErrors.map((s) => s.error)).toEqual([]);
    expect(answered).toBe(sent);
  },
  120_000,
);
