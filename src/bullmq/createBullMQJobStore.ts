import type { ConnectionOptions, Job as BullJob, Queue } from 'bullmq';
import { JobNotFoundError, JobRequestError } from '../contract/errors';
import { isValidJobId } from '../contract/ids';
import type { Job, JobBatch, JobFilter, JobMetaValue, JobPage, JobStore, JobStoreRequestOptions, JobSubscriptionListener, PendingCount } from '../contract/types';
import { CANCEL_MARKERS, CANCEL_STREAM, cancelledMarker, createCancelMarkers, type CancelMarker } from './cancelMarkers';
import { createChangeLog } from './changeLog';
import { createEventsReader } from './eventsReader';
import { createFinishedRecords, DEFAULT_KEEP_FINISHED_MS, FINISHED_RECORDS } from './finishedRecords';
import { createJobMapping, isTerminalState } from './jobMapping';
import { createJobReads, type ReadEntry } from './jobReads';
import { createOwnerIndex } from './ownerIndex';
import { badRequest, checkMetaFilter } from '../contract/listFilter';
import { createIndexedLists, createScanLists, parseListFilter } from './listJobs';
import { MAX_IDS_PER_REQUEST } from '../contract/limits';
import { createRedisAccess, DEFAULT_TIMEOUT_MS } from './redisAccess';
import { createOutputStream } from './outputStream';
import { createOutputLive } from './outputLive';
import { checkMaxOutputParts } from './outputWriter';

export { CANCEL_STREAM } from './cancelMarkers';

/** Options of {@link createBullMQJobStore}. */
export interface BullMQJobStoreOptions {
  /** The BullMQ queue whose jobs the store serves. */
  queue: Queue;
  /**
   * Who owns a job. A caller sees only jobs whose owner equals its own; `null` means
   * nobody (the job is invisible through the store).
   */
  owner: (job: BullJob) => string | null;
  /** Maps a job to {@link Job.result}. Default: `job.returnvalue` (only once completed). */
  toResult?: (job: BullJob) => unknown;
  /** Maps a job to {@link Job.meta}. Default: `job.data.meta` when it is a plain object. */
  toMeta?: (job: BullJob) => Record<string, JobMetaValue> | undefined;
  /**
   * How numeric progress is reported by workers: `100` (default) for `job.updateProgress(42)`
   * meaning 42 %, `1` for fractions (`job.updateProgress(0.42)`). Objects
   * `{ progress, message }` use the same scale for `progress`.
   */
  progressScale?: 1 | 100;
  /**
   * Connection of the `QueueEvents` reader behind `subscribe` (it needs its own blocking
   * connection, with `maxRetriesPerRequest: null`). Default: the queue's connection options.
   */
  connection?: ConnectionOptions;
  /**
   * Cooperative cancellation of an active job. BullMQ cannot remove a job while a worker
   * holds its lock, so without this option cancelling an active job rejects with
   * `JobRequestError(409, 'not_cancellable')`.
   *
   * - `'workers'`: the store adds the job id to the Redis stream
   *   `<prefix>:<queue>:jobwatch:cancel`; workers that run {@link listenForCancels} abort the
   *   job's processor through its `AbortSignal` (`worker.cancelJob(id)`), in any process.
   * - A function: your own signal to the worker (it must make the worker stop the job).
   *
   * Either way the store then waits up to `cancelTimeoutMs` for the job to leave the active
   * state and removes it. When the job is still active after that, or it completed meanwhile,
   * the cancel rejects with 409 `not_cancellable`: a job that keeps running (or finished) is
   * never reported cancelled, and readers see its real state while the cancel is under way.
   */
  cancelActive?: 'workers' | ((job: BullJob) => Promise<void> | void);
  /** How long a cooperative cancel waits for the worker to stop the job. Default 5000 ms. */
  cancelTimeoutMs?: number;
  /**
   * How long a cancelled job stays readable (as `cancelled`, in lists) after its cancel, in ms;
   * then it is unknown, like a job BullMQ removed. Default: kept, like BullMQ keeps failed jobs.
   * Expired marks are deleted whenever a list or a count reads them.
   */
  keepCancelledMs?: number;
  /**
   * How long any store call may take, in ms (default 2000). The store reads and writes on a
   * connection of its own (duplicated from the queue's, without an offline queue, with this
   * `commandTimeout`), so while Redis is away every call rejects at once, and at the latest
   * after `timeoutMs`, with a `JobTransportError` saying Redis is unavailable
   * (`createJobHandler` answers 503 `unavailable` with `Retry-After`). Nothing waits for Redis
   * to come back, and nothing runs late: once Redis answers again, so does the store, without
   * a restart. A cooperative cancel may take `cancelTimeoutMs` more.
   */
  timeoutMs?: number;
  /**
   * How long a finished job stays readable after BullMQ removed it, in ms (default one hour;
   * `0` turns it off). With `removeOnComplete: true` / `removeOnFail: true` BullMQ deletes a
   * job the moment it finishes, so watchers would only ever read "not found" and never see it
   * complete. The store's events reader writes each finished job's final state (result or
   * error included) to `<prefix>:<queue>:jobwatch:finished:<id>` with this TTL, and
   * `getStatus`, `getStatuses` and `subscribe` read it once BullMQ no longer has the job.
   * Lists and counts follow BullMQ (a removed job is not listed). A job removed as it finishes
   * is rebuilt from what the store last read of it while it was pending or running (its
   * events reader reads each job as it starts; every read of a watcher counts too): one that
   * starts and finishes before any of these (within a few ms) has no record. Writing needs
   * the reader: it starts with the store's first call (or `ready()`).
   */
  keepFinishedMs?: number;
  /**
   * Output parts kept per job (default `DEFAULT_STORED_OUTPUT_PARTS`, 10,000); older ones are
   * trimmed and reads say `trimmed`. Give workers' {@link createJobOutputWriter} the same value.
   * A job's output is one Redis stream, `<prefix>:<queue>:<id>:jw:out`: it expires
   * `keepFinishedMs` (one hour when that is `0`) after the job finished, and is deleted when the
   * store sees the job removed. `job.log()` lines are `log` parts (copied into the stream when
   * output is read or written; with BullMQ's `keepLogs` or `clearLogs()`, lines past the trimmed
   * count are not copied).
   */
  maxOutputParts?: number;
}

/** A {@link JobStore} backed by a BullMQ queue; `close()` stops its event reader. */
export type BullMQJobStore = JobStore &
  Required<
    Pick<JobStore, 'getStatuses' | 'cancel' | 'retry' | 'subscribe' | 'logPosition' | 'changedSince' | 'readOutput' | 'subscribeOutput'>
  > & {
    /** Closes the `QueueEvents` reader used by `subscribe`, the output reader and the store's own connection (the queue itself is yours to close). */
    close(): Promise<void>;
    /**
     * Starts the store's events reader (the store's first call does too) and resolves once it
     * reads: from then on every job that finishes gets its terminal record (`keepFinishedMs`).
     * Await it at startup when jobs may finish within the first moments.
     */
    ready(): Promise<void>;
  };

/**
 * Serves a BullMQ queue as a {@link JobStore} for `createJobHandler`.
 *
 * State mapping: waiting, prioritized, delayed, waiting-children and paused → `pending`;
 * active → `processing`; completed → `completed`; failed → `failed`; a job cancelled
 * through this store → `cancelled` (BullMQ has no such state: the store removes the job and
 * keeps a marker in the Redis hash `<prefix>:<queue>:jobwatch:cancelled`).
 *
 * Fields: `progress` from numbers (see `progressScale`; BullMQ's initial plain `0` reads as
 * `null`, unknown, until the worker reports) or `{ progress, message }` objects;
 * `retryCount` from `attemptsMade` (which also counts a successful attempt, so it is reduced by
 * one once the job finished); `maxRetries` from `opts.attempts - 1`; `error` from
 * `failedReason` only while the job is failed; times from `timestamp` / `processedOn` / `finishedOn`.
 *
 * Cost: `getStatus` and `getStatuses` (up to 100 ids) are one script call. `list` and
 * `getPendingCount` go through an owner index (a Redis sorted set per owner and state, scored
 * by creation time; see `ownerIndex.ts`): one owner's counts check that owner's pending and
 * processing jobs only, and a first page reads about one page of jobs, whatever the other
 * owners hold. The index follows BullMQ's event stream (reads first apply every event not yet
 * applied), each read checks the real state of the jobs it returns and moves the ones that
 * moved, and it is rebuilt (once, O(n), in the background, reads scan meanwhile) when it has
 * none or BullMQ trimmed events it had not applied.
 *
 * Every call answers within `timeoutMs`: while Redis is away it rejects with a
 * `JobTransportError` (503 from `createJobHandler`), and works again once Redis is back.
 */
export function createBullMQJobStore(options: BullMQJobStoreOptions): BullMQJobStore {
  const { queue, owner, toResult, toMeta, progressScale = 100, cancelActive, cancelTimeoutMs = 5000 } = options;
  const { timeoutMs = DEFAULT_TIMEOUT_MS } = options;
  if (!(timeoutMs > 0)) throw new TypeError('createBullMQJobStore: timeoutMs must be a positive number of ms');
  const maxOutputParts = checkMaxOutputParts(options.maxOutputParts, 'createBullMQJobStore');
  const access = createRedisAccess(queue, timeoutMs);
  const redis = access.client;
  const bull = access.queue;
  const markersKey = queue.toKey(CANCEL_MARKERS);
  const markers = createCancelMarkers(redis, markersKey, options.keepCancelledMs);
  const toEntry = createJobMapping({ owner, toResult, toMeta, progressScale });
  const changeLog = createChangeLog(redis, queue.toKey('events'));
  const { keepFinishedMs = DEFAULT_KEEP_FINISHED_MS } = options;
  const reads = createJobReads({
    client: redis,
    queue: bull,
    prefix: queue.toKey(''),
    markersKey,
    recordsPrefix: keepFinishedMs > 0 ? queue.toKey(FINISHED_RECORDS) : '',
    markers,
    toEntry,
  });
  const index = createOwnerIndex({
    client: redis,
    queue: bull,
    keys: { prefix: queue.toKey(''), events: queue.toKey('events'), markers: markersKey },
    owner,
  });
  const scan = createScanLists({ queue: bull, markers, toEntry });
  const indexed = createIndexedLists({ index, queue: bull, markers, reads });
  const records = createFinishedRecords({ client: redis, queue: bull, keyPrefix: queue.toKey(FINISHED_RECORDS), keepFinishedMs, toEntry });

  /** How long a read of a job BullMQ no longer has waits for the events reader to write its final state. */
  const RECORD_WAIT_MS = Math.min(1000, timeoutMs / 2);

  /**
   * Reads jobs (marker first, then BullMQ, then the terminal record); `null` when unknown. A
   * job gone without a record may have just finished and been removed, its record not yet
   * written: those are read again once the events reader has handled every event up to now.
   */
  async function readEntries(ids: string[]): Promise<(ReadEntry | null)[]> {
    // An id the contract does not allow names no job: not even a Redis call.
    const valid = ids.filter(isValidJobId);
    if (valid.length < ids.length) {
      const read = new Map((await readEntries(valid)).map((entry, i) => [valid[i]!, entry]));
      return ids.map((id) => read.get(id) ?? null);
    }
    const entries = await reads.readEntries(ids);
    if (keepFinishedMs > 0) {
      for (const entry of entries) if (entry?.bjob && !isTerminalState(entry.job.status)) records.seen(entry.bjob);
    }
    const gone = ids.filter((_, i) => entries[i] === null);
    if (gone.length === 0 || keepFinishedMs <= 0) return entries;
    await events.handled(await changeLog.logPosition(), RECORD_WAIT_MS);
    const again = new Map((await reads.readEntries(gone)).map((entry, i) => [gone[i]!, entry]));
    return ids.map((id, i) => entries[i] ?? again.get(id) ?? null);
  }

  /** Reads one job (see {@link readEntries}). */
  async function readEntry(id: string): Promise<ReadEntry | null> {
    return (await readEntries([id]))[0] ?? null;
  }

  const owns = (entry: ReadEntry | null, owner: string): entry is ReadEntry => !!entry && entry.owner !== null && entry.owner === owner;

  async function readOwned(id: string, owner: string): Promise<ReadEntry> {
    const entry = await readEntry(id);
    if (!owns(entry, owner)) throw new JobNotFoundError(id);
    return entry;
  }

  const events = createEventsReader({
    queue,
    connection: options.connection,
    readEntry: (id) => access.run('read', () => readEntry(id)),
    logPosition: () => access.run('log position', changeLog.logPosition),
    onEvent: async (name, args, streamId) => {
      // The index follows every event (reads catch up anyway: this keeps them cheap).
      void index.catchUp().catch(() => undefined);
      if (keepFinishedMs > 0) await records.onEvent(name, args, streamId);
      await output.onEvent(name, String(args.jobId));
    },
  });

  const output = createOutputStream({
    client: redis,
    queue,
    maxOutputParts,
    keepOutputMs: keepFinishedMs > 0 ? keepFinishedMs : DEFAULT_KEEP_FINISHED_MS,
    readEntry,
    // Read as it is (no wait for the events reader: this runs inside it).
    stillReadable: async (id) => (await reads.readEntries([id]))[0] != null,
  });
  const live = createOutputLive({
    client: redis,
    timeoutMs,
    output,
    readOutput: (id, o) => run('readOutput', () => output.readOutput(id, o)),
    copyLogs: (ids) => run('copyLogs', () => output.copyLogs(ids)),
    subscribeStatus: (id, listener, owner) => events.subscribe(id, listener, owner),
  });

  async function getStatus(id: string, o: JobStoreRequestOptions): Promise<Job> {
    return (await readOwned(id, o.owner)).job;
  }

  async function getStatuses(ids: string[], o: JobStoreRequestOptions): Promise<JobBatch> {
    if (ids.length > MAX_IDS_PER_REQUEST) throw badRequest(`At most ${MAX_IDS_PER_REQUEST} ids`);
    const entries = await readEntries(ids);
    const jobs: Job[] = [];
    const missing: string[] = [];
    entries.forEach((entry, i) => (owns(entry, o.owner) ? jobs.push(entry.job) : missing.push(ids[i]!)));
    return { jobs, missing };
  }

  async function list(filter: JobFilter, o: JobStoreRequestOptions): Promise<JobPage> {
    const query = parseListFilter(filter);
    return (await index.catchUp()) ? indexed.list(query, o) : scan.list(query, o);
  }

  async function getPendingCount(filter: Pick<JobFilter, 'meta'>, o: JobStoreRequestOptions): Promise<PendingCount> {
    checkMetaFilter(filter?.meta);
    return (await index.catchUp()) ? indexed.getPendingCount(filter, o) : scan.getPendingCount(filter, o);
  }

  const notCancellable = (id: string) => new JobRequestError(409, 'not_cancellable', `Job ${id} cannot be cancelled`);
  const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
  const cancelStream = queue.toKey(CANCEL_STREAM);

  /** Tells the worker running `bjob` to stop it. */
  async function signalWorker(bjob: BullJob): Promise<void> {
    if (cancelActive === 'workers') {
      // With the job's creation time: a job added again under the same id is not the one cancelled.
      const fields = { jobId: String(bjob.id), timestamp: String(bjob.timestamp) };
      await (await redis()).xadd(cancelStream, '*', fields, { MAXLEN: 1000, approximate: true });
    } else {
      await cancelActive?.(bjob);
    }
  }

  /** Waits for the worker to stop the job; rejects with 409 when it keeps running or completed. */
  async function stopActive(id: string): Promise<void> {
    const deadline = Date.now() + cancelTimeoutMs;
    const q = await bull();
    let state = await q.getJobState(id);
    while (state === 'active') {
      if (Date.now() >= deadline) throw notCancellable(id);
      await sleep(25);
      state = await q.getJobState(id);
    }
    if (state === 'completed') throw notCancellable(id);
    // A retry may have put it back in the queue, where another worker can take it: remove()
    // answers 0 while a lock is held.
    if ((await q.remove(id)) !== 1 && (await q.getJobState(id)) !== 'unknown') throw notCancellable(id);
  }

  async function cancel(id: string, o: JobStoreRequestOptions): Promise<Job> {
    const entry = await readOwned(id, o.owner);
    if (isTerminalState(entry.job.status) || !entry.bjob) throw notCancellable(id);
    const marker = cancelledMarker(entry);
    // Marked before the job goes, so a job removed by the cancel never reads as vanished;
    // `pending` until it is gone, so readers never see "cancelled" for a job that goes on.
    await markers.write(marker);
    const known = new Map([[id, entry.owner]]);
    await index.sync([id], known);
    let removed = false;
    if (entry.job.status === 'pending') {
      try {
        await entry.bjob.remove();
        removed = true;
      } catch {
        // A worker took it meanwhile: handle it as active below.
      }
    }
    if (!removed) {
      try {
        if (!cancelActive) throw notCancellable(id);
        await signalWorker(entry.bjob);
        await stopActive(id);
      } catch (error) {
        await markers.drop(id);
        await index.sync([id], known);
        events.notify(id);
        throw error instanceof JobRequestError ? error : notCancellable(id);
      }
    }
    const done: CancelMarker = { owner: marker.owner, createdAtMs: marker.createdAtMs, job: marker.job };
    await markers.write(done);
    await index.sync([id], known);
    events.notify(id);
    return done.job;
  }

  async function retry(id: string, o: JobStoreRequestOptions): Promise<Job> {
    const entry = await readOwned(id, o.owner);
    const notRetryable = () => new JobRequestError(409, 'not_retryable', `Job ${id} has not failed`);
    if (entry.job.status !== 'failed' || !entry.bjob) throw notRetryable();
    try {
      await entry.bjob.retry('failed');
    } catch {
      throw notRetryable();
    }
    return getStatus(id, o);
  }

  /** Runs one call under the deadline; the first one starts the events reader (the index and terminal records follow it). */
  function run<T>(what: string, operation: () => Promise<T>, deadlineMs?: number): Promise<T> {
    events.start();
    return access.run(what, operation, deadlineMs);
  }

  return {
    getStatus: (id, o) => run('getStatus', () => getStatus(id, o)),
    getStatuses: (ids, o) => run('getStatuses', () => getStatuses(ids, o)),
    list: (filter, o) => run('list', () => list(filter, o)),
    getPendingCount: (filter, o) => run('getPendingCount', () => getPendingCount(filter, o)),
    // A cooperative cancel may wait for the worker: its deadline includes that wait.
    cancel: (id, o) => run('cancel', () => cancel(id, o), timeoutMs + (cancelActive ? cancelTimeoutMs : 0)),
    retry: (id, o) => run('retry', () => retry(id, o)),
    subscribe: (id: string, listener: JobSubscriptionListener, o: Pick<JobStoreRequestOptions, 'owner'>) => events.subscribe(id, listener, o.owner),
    logPosition: () => run('logPosition', changeLog.logPosition),
    changedSince: (ids: string[], position: string) => run('changedSince', () => changeLog.changedSince(ids, position)),
    readOutput: (id, o) => run('readOutput', () => output.readOutput(id, o)),
    subscribeOutput: (id, o, listener) => live.subscribe(id, o, listener),
    ready: () => events.ready(),
    close: async () => {
      await live.close();
      await events.close();
      await access.close();
    },
  };
}
