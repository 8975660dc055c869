import { JobError, JobNotFoundError, JobProtocolError } from '../contract/errors';
import type { HttpTransport } from './fetchTransport';
import { parseJob } from '../contract/parseJob';
import { HEARTBEAT_INTERVAL_MS } from '../contract/heartbeat';
import { badRequest } from '../contract/listFilter';
import { outputAfterProblem, parseOutputEvent, type JobOutputEvent } from '../contract/output';
import type { SseEvent } from './sseParser';
import type { Job, JobBatch, JobOutputListener, JobOutputPage, JobSubscriptionListener } from '../contract/types';
import { newConnection, runConnection, type Connection, type ConnectionHooks } from './streams/connection';
import { chunkWants, isNeeded, planStreams, resumeFrom, retiredCovered, streamQuery, type StreamWants } from './streams/planner';
import { createJobDispatch, malformedFrame } from './streams/jobDispatch';
import { createOutputPositions } from './streams/outputPositions';

/** @internal */
export interface EventStreamsOptions {
  transport: HttpTransport;
  /** One batch read, to catch up after a reconnect. */
  resync(ids: string[]): Promise<JobBatch>;
  /** One output read (`JobClient.readOutput`), to fill a gap in a job's output or catch a late listener up. */
  readOutput(id: string, options: { after: number; signal: AbortSignal }): Promise<JobOutputPage>;
  /** Source of jitter in [0, 1). Default `Math.random`. */
  random?: () => number;
  /**
   * A stream silent for this long is considered dead and reopened. Default
   * {@link DEFAULT_SILENCE_TIMEOUT_MS}; a stream whose server announces a
   * slower heartbeat (`: heartbeat <ms>`) waits three of those instead.
   */
  silenceTimeoutMs?: number;
  /** Why an id cannot be subscribed to (it is then not put on a stream), or `null`. */
  invalidId?(id: string): JobError | null;
}

/** @internal Three of the server's default heartbeats. */
export const DEFAULT_SILENCE_TIMEOUT_MS = 3 * HEARTBEAT_INTERVAL_MS;

/** A subscription refused before it reaches a stream: `error` is told in a microtask, unless unsubscribed first. */
function refusedSubscription(listener: { error?(error: unknown): void }, error: JobError): () => void {
  let active = true;
  queueMicrotask(() => {
    if (active) listener.error?.(error);
  });
  return () => {
    active = false;
  };
}

/**
 * @internal The push half of `createFetchJobClient`: every subscription of a
 * client, to status (`subscribe`) and to output (`subscribeOutput`), shares
 * one `GET {base}/events?ids=…&output=…` stream (one per 100 ids). Changing
 * what is wanted opens the new stream before closing the old one; updates are
 * de-duplicated per job (status by version, output by seq), so nothing is
 * lost or delivered twice in between.
 *
 * The units: `streams/connection` (one stream's lifecycle and reconnects),
 * `streams/planner` (which streams cover which ids and outputs, and their
 * queries), `streams/jobDispatch` (status listeners) and
 * `streams/outputPositions` (output listeners and their positions).
 */
export function createEventStreams(options: EventStreamsOptions) {
  const random = options.random ?? Math.random;
  let connections: Connection[] = [];
  let syncQueued = false;

  const jobs = createJobDispatch({ changed: queueSync });
  const output = createOutputPositions({
    readOutput: options.readOutput,
    changed: queueSync,
    random,
  });
  const wants: StreamWants = {
    status: jobs.wants,
    output: output.wants,
    outputPosition: output.position,
    ids: () => [...new Set([...jobs.wanted(), ...output.wanted()])].sort(),
  };

  function queueSync(): void {
    if (syncQueued) return;
    syncQueued = true;
    queueMicrotask(() => {
      syncQueued = false;
      sync();
    });
  }

  /** Makes the open streams cover exactly what is wanted, opening new streams before closing old ones. */
  function sync(): void {
    const plan = planStreams(connections, wants);
    for (const c of plan.close) close(c);
    if (!plan.reopen) return;
    for (const c of connections) if (!c.retiring && !c.closed) c.retiring = true;
    for (const { ids, outputIds } of chunkWants(wants)) {
      const c = newConnection(ids, outputIds, resumeFrom(connections, ids));
      connections.push(c);
      void runConnection(c, hooks);
    }
  }

  function close(c: Connection): void {
    if (c.closed) return;
    c.closed = true;
    c.controller.abort();
    connections = connections.filter((x) => x !== c);
  }

  function queueResync(c: Connection): void {
    if (c.resyncQueued) return;
    c.resyncQueued = true;
    queueMicrotask(() => {
      c.resyncQueued = false;
      const ids = c.ids.filter((id) => jobs.wants(id));
      if (c.closed || ids.length === 0) return;
      options.resync(ids).then(
        (batch) => {
          if (c.closed) return;
          for (const job of batch.jobs) if (c.idSet.has(job.id)) jobs.deliver(job);
          for (const id of batch.missing) if (c.idSet.has(id)) jobs.fail(id, new JobNotFoundError(id));
        },
        // The stream itself keeps delivering; a failed catch-up read is not fatal.
        () => {},
      );
    });
  }

  /** Ends every subscription, status and output, to `id` with `error`. */
  function failAll(id: string, error: unknown): void {
    jobs.fail(id, error);
    output.fail(id, error);
  }

  /**
   * A malformed frame is dropped, never re-read in a loop: the listeners of
   * the job it names (of every job on the stream when it names none) are told
   * once, through `disconnected`, so the watcher polls them until a valid
   * frame arrives. The stream stays open. For an `output` frame, its output
   * listeners are told, and what the frame carried is read back with
   * `readOutput` (so nothing is lost).
   */
  function malformed(c: Connection, data: string, problem: unknown, kind: 'job' | 'output'): void {
    if (c.retiring) return;
    const { ids, error } = malformedFrame(data, kind === 'job' ? c.ids : c.outputIds, problem);
    const degraded = kind === 'job' ? c.degraded : c.outputDegraded;
    for (const id of ids) {
      if (degraded.has(id)) continue;
      degraded.add(id);
      if (kind === 'job') {
        jobs.each(id, (l) => l.disconnected?.(error));
      } else {
        output.each(id, (l) => l.disconnected?.(error));
        output.recover(id);
      }
    }
  }

  function onEvent(c: Connection, event: SseEvent): void {
    if (event.id !== undefined && event.id !== '') c.lastEventId = event.id;
    if (event.event === 'job') {
      let job: Job;
      try {
        job = parseJob(JSON.parse(event.data));
      } catch (error) {
        malformed(c, event.data, error, 'job');
        return;
      }
      if (!c.idSet.has(job.id)) return;
      // A valid frame: the stream works, its backoff starts over.
      c.failures = 0;
      c.degraded.delete(job.id);
      jobs.deliver(job);
    } else if (event.event === 'missing') {
      let id: unknown;
      try {
        id = (JSON.parse(event.data) as { id?: unknown })?.id;
      } catch (error) {
        malformed(c, event.data, error, 'job');
        return;
      }
      if (typeof id !== 'string') malformed(c, event.data, new JobProtocolError('id', 'of a missing event must be a string'), 'job');
      else if (c.idSet.has(id)) {
        c.failures = 0;
        c.degraded.delete(id);
        failAll(id, new JobNotFoundError(id));
      }
    } else if (event.event === 'output') {
      let parsed: JobOutputEvent;
      try {
        parsed = parseOutputEvent(JSON.parse(event.data));
      } catch (error) {
        malformed(c, event.data, error, 'output');
        return;
      }
      if (!c.outputSet.has(parsed.id)) return;
      c.failures = 0;
      c.outputDegraded.delete(parsed.id);
      if (parsed.done) c.outputEnded.add(parsed.id);
      output.receive(parsed);
    }
  }

  const hooks: ConnectionHooks = {
    transport: options.transport,
    silenceTimeoutMs: options.silenceTimeoutMs ?? DEFAULT_SILENCE_TIMEOUT_MS,
    random,
    query: (c) => streamQuery(c, wants),
    onEvent,
    opened(c, reopened) {
      // Closes replaced streams whose wanted ids this one (and the other open ones) now carry.
      for (const old of retiredCovered(connections, wants)) close(old);
      // Catch up on whatever status changed while the stream was down; output resumes from the query's positions.
      if (reopened) queueResync(c);
    },
    dropped(c, error) {
      if (c.dropped || c.retiring) return;
      c.dropped = true;
      for (const id of c.ids) jobs.each(id, (l) => l.disconnected?.(error));
      for (const id of c.outputIds) output.each(id, (l) => l.disconnected?.(error));
    },
    refused(c, error) {
      for (const id of c.ids) jobs.fail(id, error);
      for (const id of c.outputIds) output.fail(id, error);
    },
    needed: (c) => isNeeded(c, wants),
    close,
  };

  /** `JobClient.subscribe`: one shared stream carries every subscribed job. */
  function subscribe(id: string, listener: JobSubscriptionListener): () => void {
    const invalid = options.invalidId?.(id) ?? null;
    // Never put on a shared stream: one bad id must not fail the others' stream.
    if (invalid) return refusedSubscription(listener, invalid);
    return jobs.add(id, listener);
  }

  /**
   * `JobClient.subscribeOutput`: the same shared stream carries the job's
   * output (`&output=id:after`), resumed after the last part delivered.
   */
  function subscribeOutput(id: string, o: { after?: number }, listener: JobOutputListener): () => void {
    const invalid = options.invalidId?.(id) ?? null;
    if (invalid) return refusedSubscription(listener, invalid);
    const after = o?.after ?? 0;
    const problem = outputAfterProblem(after);
    if (problem !== null) return refusedSubscription(listener, badRequest(problem));
    // A stream already carrying this output will not resend what it sent: the listener catches up by a read.
    const carried = connections.some((c) => !c.retiring && !c.closed && c.outputSet.has(id) && !c.outputEnded.has(id));
    return output.add(id, after, listener, carried);
  }

  return { subscribe, subscribeOutput };
}
