import { abortError, JobNotFoundError } from '../contract/errors';
import { isTerminal } from '../contract/states';
import { isNewerJob } from '../contract/ordering';
import { compareEventIds, isEventId } from '../contract/eventIds';
import { heartbeatAnnouncement } from '../contract/heartbeat';
import type { Job, JobPushInfo } from '../contract/types';
import { expectedErrorAnswer, linkedAbortController } from './http';
import { parseJobFor } from '../contract/parseJob';
import { readJobs } from './readJobs';
import { createOutputFeeds } from './outputFeeds';
import { EVENT_STREAM_HEADERS, EVENT_STREAM_RETRY_MS, MAX_EVENT_STREAM_BUFFER_BYTES, type JobEventStreamContext } from './eventStreamContext';

export { EVENT_STREAM_HEADERS, EVENT_STREAM_RETRY_MS, MAX_EVENT_STREAM_BUFFER_BYTES, type JobEventStreamContext } from './eventStreamContext';

interface Watched {
  /** The latest state the client has: sent on this stream, or (Last-Event-ID) on an earlier one. */
  known: Job | undefined;
  /** The newest push that arrived before the snapshot went out. */
  pushed: Job | undefined;
  /** Its log position, when the store gave one. */
  pushedAt: string | null;
  /** The store said the id is unknown (or another owner's) before the snapshot went out. */
  missing: boolean;
  unsubscribe: (() => void) | null;
}

const encoder = new TextEncoder();

function updatedMs(job: Job): number {
  return Date.parse(job.updatedAt);
}

function byUpdatedAt(a: Job, b: Job): number {
  return updatedMs(a) - updatedMs(b);
}

/**
 * Subscribes (or prepares polling), reads the snapshot and answers the event
 * stream. Everything up to the snapshot happens before the Response exists, so
 * a store failure there still gets a proper status (401, 500) rather than a
 * stream that ends at once. Rejects with that error after undoing every
 * subscription.
 */
export async function openJobEventStream(context: JobEventStreamContext): Promise<Response> {
  const { store, ids, owner, request, report } = context;
  if (request.signal.aborted) throw abortError();
  /** The store keeps a change log: event ids are its positions, and a reconnect asks it what changed. */
  const log = typeof store.logPosition === 'function' && typeof store.changedSince === 'function';
  const lastEventId = context.lastEventId;
  /** Without a log, `Last-Event-ID` is an `updatedAt` in ms. */
  const lastUpdatedMs = !log && lastEventId !== null && /^[0-9]{1,16}$/.test(lastEventId) ? Number(lastEventId) : null;

  const watched = new Map<string, Watched>();
  /** Aborts store reads in flight (the snapshot, a poll) when the stream ends. */
  const reads = linkedAbortController(request.signal);
  // Widened by `as`: callbacks change these, which TypeScript's narrowing cannot see.
  let phase = 'connecting' as 'connecting' | 'live' | 'closed';
  /** A subscription error that came before the snapshot went out; the connect fails with it. */
  let connectFailure = null as { error: unknown } | null;
  let controller: ReadableStreamDefaultController<Uint8Array> | null = null;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let pollTimer: ReturnType<typeof setTimeout> | undefined;
  // Without a log: the `id:` of `missing` events, the newest updatedAt sent so far. Not the
  // server's clock, which may run ahead of the store's: a reconnect with that id would skip
  // changes stamped by the store's slower clock.
  let highWater = lastUpdatedMs ?? 0;
  // With a log: `floor` is the position read before the snapshot (every change up to it is in
  // the snapshot, so a push at or below it is stale); `position` the newest position up to
  // which everything has been sent: the `id:` of every event.
  let floor: string | null = null;
  let position: string | null = null;
  /** Output feeds waiting for the client to read, resolved as the buffer drains (or the stream ends). */
  const drains: Array<{ bytes: number; resolve: () => void }> = [];

  function queued(): number {
    // desiredSize is the high-water mark minus the bytes queued (ByteLengthQueuingStrategy below).
    return controller ? MAX_EVENT_STREAM_BUFFER_BYTES - (controller.desiredSize ?? MAX_EVENT_STREAM_BUFFER_BYTES) : 0;
  }

  function fits(bytes: number): boolean {
    const waiting = queued();
    return waiting <= 0 || waiting + bytes <= MAX_EVENT_STREAM_BUFFER_BYTES;
  }

  function drained(): void {
    for (let i = 0; i < drains.length; ) {
      if (phase !== 'live' || fits(drains[i]!.bytes)) drains.splice(i, 1)[0]!.resolve();
      else i++;
    }
  }

  const outputs = createOutputFeeds({
    store,
    owner,
    signal: reads.signal,
    pollIntervalMs: context.pollIntervalMs,
    eventId: () => (log ? logId() : String(highWater)),
    send: (text) => send(text),
    room: (bytes) => (phase !== 'live' || fits(bytes) ? Promise.resolve() : new Promise((resolve) => drains.push({ bytes, resolve }))),
    isOpen: () => phase === 'live',
    drop: () => end(),
    fail: (error) => fail(error),
    missing: (id) => {
      send(missingEvent(id));
      if (idle()) end();
    },
    settled: () => {
      if (idle()) end();
    },
  });

  /** Nothing is left to send: every job left the stream and every output feed ended. */
  function idle(): boolean {
    return watched.size === 0 && outputs.size() === 0;
  }

  function send(text: string): void {
    if (phase !== 'live' || !controller) return;
    try {
      const bytes = encoder.encode(text);
      if (!fits(bytes.byteLength)) {
        // The client is too far behind: drop it rather than buffer without bound. It reads what is
        // queued, sees the end and reconnects with the Last-Event-ID of the last event it read.
        end();
        return;
      }
      controller.enqueue(bytes);
    } catch {
      // The consumer cancelled the body between two events.
      end();
    }
  }

  /** Ends the stream (cleanly), in any phase: every subscription, timer, read and listener goes. */
  function end(): void {
    if (phase === 'closed') return;
    const wasLive = phase === 'live';
    phase = 'closed';
    for (const id of [...watched.keys()]) leave(id);
    outputs.stopAll();
    drained();
    clearInterval(heartbeat);
    clearTimeout(pollTimer);
    reads.abort();
    reads.unlink();
    request.signal.removeEventListener('abort', end);
    if (wasLive) {
      try {
        controller?.close();
      } catch {
        // Already cancelled by the consumer.
      }
    }
  }

  function leave(id: string): void {
    const entry = watched.get(id);
    if (!entry) return;
    watched.delete(id);
    try {
      entry.unsubscribe?.();
    } catch (error) {
      report(error);
    }
  }

  /** A store failure once the stream is open: report it unless expected, then end; clients reconnect and get a fresh snapshot. */
  function fail(error: unknown): void {
    if (phase === 'closed') return;
    if (phase === 'connecting') {
      connectFailure ??= { error };
      return;
    }
    if (!expectedErrorAnswer(error, request)) report(error);
    end();
  }

  /** The event text for a job; records it as known and lets a terminal job leave the stream. */
  function jobEvent(job: Job): string {
    const data = JSON.stringify(job);
    const entry = watched.get(job.id);
    if (entry) entry.known = job;
    if (!log) highWater = Math.max(highWater, updatedMs(job));
    const id = log ? logId() : String(updatedMs(job));
    if (isTerminal(job)) leave(job.id);
    return `id: ${id}\nevent: job\ndata: ${data}\n\n`;
  }

  function missingEvent(id: string): string {
    leave(id);
    outputs.stop(id);
    return `id: ${log ? logId() : highWater}\nevent: missing\ndata: ${JSON.stringify({ id })}\n\n`;
  }

  /** With a log, the `id:` of every event: everything up to it has been sent. */
  function logId(): string {
    return position ?? '0';
  }

  /** Raises `position` to a push's log position (the store vouches everything up to it was pushed). */
  function advance(at: string | null): void {
    if (at !== null && (position === null || compareEventIds(at, position) > 0)) position = at;
  }

  /** Sends the jobs that are newer than what the client has, oldest change first; ends the stream once nothing is left. */
  function offer(jobs: Job[]): void {
    const fresh = jobs.filter((job) => {
      const entry = watched.get(job.id);
      return entry !== undefined && isNewerJob(entry.known, job);
    });
    for (const job of fresh.sort(byUpdatedAt)) send(jobEvent(job));
    if (idle()) end();
  }

  function onPush(id: string, value: unknown, info: JobPushInfo | undefined): void {
    const entry = watched.get(id);
    if (!entry || phase === 'closed') return;
    try {
      const job = parseJobFor(value, id);
      const at = log && isEventId(info?.position) ? info.position : null;
      if (phase === 'connecting') {
        if (isNewerJob(entry.pushed, job)) {
          entry.pushed = job;
          entry.pushedAt = at;
        }
      } else if (at === null || floor === null || compareEventIds(at, floor) > 0) {
        advance(at);
        offer([job]);
      }
    } catch (error) {
      fail(error);
    }
  }

  function onSubscriptionError(id: string, error: unknown): void {
    const entry = watched.get(id);
    if (!entry || phase === 'closed') return;
    if (!(error instanceof JobNotFoundError)) return fail(error);
    if (phase === 'connecting') {
      entry.missing = true;
    } else {
      send(missingEvent(id));
      if (idle()) end();
    }
  }

  function schedulePoll(): void {
    pollTimer = setTimeout(() => void poll(), context.pollIntervalMs);
  }

  // Polls run one after another (a timeout after each answer, never an interval), so a slow store is never asked twice at once.
  async function poll(): Promise<void> {
    pollTimer = undefined;
    const polled = [...watched.keys()];
    // Only output feeds are left: they read the store themselves.
    if (polled.length === 0) return;
    let result;
    try {
      result = await readJobs(store, polled, { owner, signal: reads.signal });
    } catch (error) {
      fail(error);
      return;
    }
    if (phase !== 'live') return;
    try {
      offer([...result.jobs.values()]);
      for (const id of result.missing) if (watched.has(id)) send(missingEvent(id));
    } catch (error) {
      fail(error);
      return;
    }
    if (idle()) end();
    else if (phase === 'live' && watched.size > 0) schedulePoll();
  }

  request.signal.addEventListener('abort', end, { once: true });
  let initial = '';
  const missingIds = new Set<string>();
  try {
    for (const id of ids) {
      watched.set(id, { known: undefined, pushed: undefined, pushedAt: null, missing: false, unsubscribe: null });
    }
    if (store.subscribe) {
      // Subscribed before the snapshot is read, so no change can fall between the two.
      for (const id of ids) {
        const entry = watched.get(id);
        const unsubscribe = store.subscribe(
          id,
          {
            next: (job, info) => onPush(id, job, info),
            error: (error) => onSubscriptionError(id, error),
            // The store lost its own connection (e.g. to Redis): end the stream, so clients poll
            // and reconnect to a fresh snapshot rather than wait on a silent stream.
            disconnected: (error) => fail(error),
          },
          { owner },
        );
        if (entry && watched.get(id) === entry) entry.unsubscribe = unsubscribe;
        else unsubscribe();
      }
    }
    if (log) {
      // Read before the snapshot: everything up to it is in the snapshot.
      const at = await store.logPosition!({ signal: reads.signal });
      if (!isEventId(at)) throw new TypeError(`JobStore.logPosition() answered ${JSON.stringify(at)}, not a position`);
      floor = at;
      position = at;
    }
    const snapshot = await readJobs(store, ids, { owner, signal: reads.signal });
    if (phase === 'closed') throw abortError();
    // With a log, a reconnect is sent only the jobs that changed since its Last-Event-ID.
    let unchanged: Set<string> | null = null;
    if (log && lastEventId !== null) {
      const changed = await store.changedSince!(ids, lastEventId, { owner, signal: reads.signal });
      if (request.signal.aborted) throw abortError();
      if (changed !== null && !(Array.isArray(changed) && changed.every((id) => typeof id === 'string'))) {
        throw new TypeError(`JobStore.changedSince() answered ${JSON.stringify(changed)}, not a list of ids or null`);
      }
      if (changed) {
        const named = new Set(changed);
        unchanged = new Set(ids.filter((id) => !named.has(id)));
      }
    }
    if (connectFailure) throw connectFailure.error;

    const current: Job[] = [];
    const missing: string[] = [];
    for (const id of ids) {
      const entry = watched.get(id);
      const read = snapshot.jobs.get(id);
      if (!entry || entry.missing || !read) {
        missing.push(id);
        continue;
      }
      // A push at or below the floor is already in the snapshot; a later one may be newer.
      const fresh = entry.pushed && !(entry.pushedAt !== null && floor !== null && compareEventIds(entry.pushedAt, floor) <= 0);
      if (fresh && entry.pushed && isNewerJob(read, entry.pushed)) {
        current.push(entry.pushed);
        advance(entry.pushedAt);
      } else {
        current.push(read);
      }
    }
    // Snapshot in updatedAt order, so a Last-Event-ID (the updatedAt of the last
    // event the client got) marks everything older as delivered.
    for (const job of current.sort(byUpdatedAt)) {
      const skip = unchanged ? unchanged.has(job.id) : lastUpdatedMs !== null && updatedMs(job) < lastUpdatedMs;
      if (skip) {
        const entry = watched.get(job.id);
        if (entry) entry.known = job;
        if (isTerminal(job)) leave(job.id);
      } else {
        initial += jobEvent(job);
      }
    }
    for (const id of missing) {
      missingIds.add(id);
      initial += missingEvent(id);
    }
  } catch (error) {
    end();
    throw error;
  }

  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull() {
        drained();
      },
      cancel() {
        end();
      },
    },
    new ByteLengthQueuingStrategy({ highWaterMark: MAX_EVENT_STREAM_BUFFER_BYTES }),
  );
  phase = 'live';
  // A stream that stays open announces its heartbeat period first, so a client can size its
  // silence timeout; one that ends at once (every id terminal or missing) has no heartbeat.
  // Output is carried for the ids the snapshot found (not for a `missing` one).
  const output = context.output.filter(([id]) => !missingIds.has(id));
  const announce = watched.size > 0 || output.length > 0 ? `: ${heartbeatAnnouncement(context.heartbeatMs)}\n\n` : '';
  send(`retry: ${EVENT_STREAM_RETRY_MS}\n\n${announce}${initial}`);
  outputs.start(output);
  if (idle()) {
    end();
  } else if (phase === 'live') {
    heartbeat = setInterval(() => send(': heartbeat\n\n'), context.heartbeatMs);
    if (!store.subscribe && watched.size > 0) schedulePoll();
  }
  return new Response(stream, { status: 200, headers: EVENT_STREAM_HEADERS });
}
