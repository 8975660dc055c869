import type { ConnectionOptions, Job as BullJob, Queue } from 'bullmq';
import { JobNotFoundError, JobRequestError } from '../core/errors';
import type { Job, JobBatch, JobFilter, JobMetaValue, JobPage, JobStore, JobStoreRequestOptions, JobSubscriptionListener, PendingCount } from '../core/types';
import { CANCEL_MARKERS, CANCEL_STREAM, cancelledMarker, createCancelMarkers, markerEntry, underCancel, type CancelMarker } from './cancelMarkers';
import { createChangeLog } from './changeLog';
import { createEventsReader } from './eventsReader';
import { createJobMapping, isTerminalState, STATE_MAP, type BullState, type Entry } from './jobMapping';
import { badRequest, createScanLists, MAX_LIMIT, parseListFilter } from './listJobs';
import { createRedisAccess, DEFAULT_TIMEOUT_MS } from './redisAccess';

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
}

/** A {@link JobStore} backed by a BullMQ queue; `close()` stops its event reader. */
export type BullMQJobStore = JobStore &
  Required<Pick<JobStore, 'getStatuses' | 'cancel' | 'retry' | 'subscribe' | 'logPosition' | 'changedSince'>> & {
    /** Closes the `QueueEvents` reader used by `subscribe` and the store's own connection (the queue itself is yours to close). */
    close(): Promise<void>;
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
 * Limitation: `list` and `getPendingCount` read every job of the requested BullMQ states
 * (and every cancel marker) and filter and sort in memory: O(n) in the queue's size per call.
 * Keep completed/failed jobs bounded with `removeOnComplete` / `removeOnFail`.
 */
export function createBullMQJobStore(options: BullMQJobStoreOptions): BullMQJobStore {
  const { queue, owner, toResult, toMeta, progressScale = 100, cancelActive, cancelTimeoutMs = 5000 } = options;
  const { timeoutMs = DEFAULT_TIMEOUT_MS } = options;
  if (!(timeoutMs > 0)) throw new TypeError('createBullMQJobStore: timeoutMs must be a positive number of ms');
  const access = createRedisAccess(queue, timeoutMs);
  const redis = access.client;
  const bull = access.queue;
  const markers = createCancelMarkers(redis, queue.toKey(CANCEL_MARKERS), options.keepCancelledMs);
  const toEntry = createJobMapping({ owner, toResult, toMeta, progressScale });
  const changeLog = createChangeLog(redis, queue.toKey('events'));
  const lists = createScanLists({ queue: bull, markers, toEntry });

  /** Reads one job (marker first); `null` when unknown or in no mapped state. */
  async function readEntry(id: string): Promise<(Entry & { bjob?: BullJob }) | null> {
    const marker = await markers.read(id);
    if (marker && !marker.pending) return markerEntry(marker);
    // The job hash and its state are two reads: read the state on both sides of the hash and
    // retry when it moved, so a job never shows one state with another state's fields.
    let bjob: BullJob | undefined;
    let state = '';
    for (let attempt = 0; ; attempt++) {
      const q = await bull();
      const before = await q.getJobState(id);
      bjob = await q.getJob(id);
      if (!bjob) break;
      state = await q.getJobState(id);
      if (state === before || attempt >= 4) break;
    }
    const entry = bjob && state in STATE_MAP ? { ...toEntry(bjob, state as BullState), bjob } : null;
    // A cancel may have marked (or finished) it between the reads.
    const late = await markers.read(id);
    if (late && !late.pending) return markerEntry(late);
    return late ? underCancel(late, entry) : entry;
  }

  async function readOwned(id: string, owner: string): Promise<Entry & { bjob?: BullJob }> {
    const entry = await readEntry(id);
    if (!entry || entry.owner === null || entry.owner !== owner) throw new JobNotFoundError(id);
    return entry;
  }

  const events = createEventsReader({
    queue,
    connection: options.connection,
    readEntry: (id) => access.run('read', () => readEntry(id)),
    logPosition: () => access.run('log position', changeLog.logPosition),
  });

  async function getStatus(id: string, o: JobStoreRequestOptions): Promise<Job> {
    return (await readOwned(id, o.owner)).job;
  }

  async function getStatuses(ids: string[], o: JobStoreRequestOptions): Promise<JobBatch> {
    if (ids.length > MAX_LIMIT) throw badRequest(`At most ${MAX_LIMIT} ids`);
    const results = await Promise.all(
      ids.map((id) =>
        readOwned(id, o.owner).then(
          (entry) => entry.job,
          (error: unknown) => {
            if (error instanceof JobNotFoundError) return null;
            throw error;
          },
        ),
      ),
    );
    const jobs: Job[] = [];
    const missing: string[] = [];
    results.forEach((job, i) => (job ? jobs.push(job) : missing.push(ids[i]!)));
    return { jobs, missing };
  }

  async function list(filter: JobFilter, o: JobStoreRequestOptions): Promise<JobPage> {
    return lists.list(parseListFilter(filter), o);
  }

  async function getPendingCount(filter: Pick<JobFilter, 'meta'>, o: JobStoreRequestOptions): Promise<PendingCount> {
    return lists.getPendingCount(filter, o);
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
        events.notify(id);
        throw error instanceof JobRequestError ? error : notCancellable(id);
      }
    }
    const done: CancelMarker = { owner: marker.owner, createdAtMs: marker.createdAtMs, job: marker.job };
    await markers.write(done);
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

  return {
    getStatus: (id, o) => access.run('getStatus', () => getStatus(id, o)),
    getStatuses: (ids, o) => access.run('getStatuses', () => getStatuses(ids, o)),
    list: (filter, o) => access.run('list', () => list(filter, o)),
    getPendingCount: (filter, o) => access.run('getPendingCount', () => getPendingCount(filter, o)),
    // A cooperative cancel may wait for the worker: its deadline includes that wait.
    cancel: (id, o) => access.run('cancel', () => cancel(id, o), timeoutMs + (cancelActive ? cancelTimeoutMs : 0)),
    retry: (id, o) => access.run('retry', () => retry(id, o)),
    subscribe: (id: string, listener: JobSubscriptionListener, o: Pick<JobStoreRequestOptions, 'owner'>) => events.subscribe(id, listener, o.owner),
    logPosition: () => access.run('logPosition', changeLog.logPosition),
    changedSince: (ids: string[], position: string) => access.run('changedSince', () => changeLog.changedSince(ids, position)),
    close: async () => {
      await events.close();
      await access.close();
    },
  };
}
