import { QueueEvents } from 'bullmq';
import type { ConnectionOptions, Job as BullJob, Queue } from 'bullmq';
import { JobNotFoundError, JobRequestError } from '../core/errors';
import type {
  Job,
  JobBatch,
  JobFilter,
  JobMetaValue,
  JobPage,
  JobState,
  JobStore,
  JobStoreRequestOptions,
  JobSubscriptionListener,
  PendingCount,
} from '../core/types';

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
}

/** A {@link JobStore} backed by a BullMQ queue; `close()` stops its event reader. */
export type BullMQJobStore = JobStore &
  Required<Pick<JobStore, 'getStatuses' | 'cancel' | 'retry' | 'subscribe' | 'logPosition' | 'changedSince'>> & {
    /** Closes the `QueueEvents` reader used by `subscribe` (the queue itself is yours to close). */
    close(): Promise<void>;
  };

type BullState = 'waiting' | 'prioritized' | 'delayed' | 'waiting-children' | 'paused' | 'active' | 'completed' | 'failed';

const STATE_MAP: Record<BullState, JobState> = {
  waiting: 'pending',
  prioritized: 'pending',
  delayed: 'pending',
  'waiting-children': 'pending',
  paused: 'pending',
  active: 'processing',
  completed: 'completed',
  failed: 'failed',
};

const BULL_STATES_OF: Record<JobState, Exclude<BullState, 'paused'>[]> = {
  // BullMQ 5+ keeps paused jobs in the wait list; `paused` is only a state name of older versions.
  pending: ['waiting', 'prioritized', 'delayed', 'waiting-children'],
  processing: ['active'],
  completed: ['completed'],
  failed: ['failed'],
  cancelled: [],
};

const ALL_STATES: JobState[] = ['pending', 'processing', 'completed', 'failed', 'cancelled'];
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;
/** When the stream's newest id cannot be read, QueueEvents start this far back by the local clock. */
const EVENTS_REPLAY_MS = 5000;
/** The Redis stream (under the queue's keys) to which `cancelActive: 'workers'` adds the ids to cancel. */
export const CANCEL_STREAM = 'jobwatch:cancel';
const PUSH_EVENTS = ['progress', 'active', 'completed', 'failed', 'removed', 'waiting', 'delayed', 'stalled'] as const;
/** How soon a subscription whose read failed reads again, and how often a lost Redis is probed. */
const RETRY_READ_MS = 1000;
/** A Redis stream id. */
const STREAM_ID = /^[0-9]{1,20}-[0-9]{1,20}$/;
/** `changedSince` gives up (and everything is sent again) beyond this many events to look through. */
const CHANGED_SINCE_MAX_SCAN = 100_000;

const LOG_POSITION_LUA = `
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
if #last == 0 then return '0-0' end
return last[1][1]
`;

/** KEYS[1] the event stream; ARGV[1] a stream id; ARGV[2] how many entries to scan at most; ARGV[3..] job ids. */
const CHANGED_SINCE_LUA = `
local function parse(id)
  local ms, seq = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(seq)
end
local function before(a, b)
  local am, as = parse(a)
  local bm, bs = parse(b)
  return am < bm or (am == bm and as < bs)
end
local since = ARGV[1]
local first = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', 1)
if #first == 0 then return false end
-- Entries after 'since' may have been trimmed away: cannot tell.
if before(since, first[1][1]) then return false end
local last = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
-- A position this stream never reached (another Redis, a forged id): cannot tell.
if before(last[1][1], since) then return false end
local wanted = {}
for i = 3, #ARGV do wanted[ARGV[i]] = true end
local out = {}
local cursor = since
local budget = tonumber(ARGV[2])
while true do
  local batch = redis.call('XRANGE', KEYS[1], '(' .. cursor, '+', 'COUNT', 1000)
  if #batch == 0 then break end
  budget = budget - #batch
  if budget < 0 then return false end
  for _, entry in ipairs(batch) do
    local fields = entry[2]
    for j = 1, #fields, 2 do
      if fields[j] == 'jobId' and wanted[fields[j + 1]] then
        out[#out + 1] = fields[j + 1]
        wanted[fields[j + 1]] = nil
      end
    end
    cursor = entry[1]
  end
end
return out
`;

/** What the cancel marker keeps: a removed job still reads as cancelled. */
interface CancelMarker {
  owner: string | null;
  createdAtMs: number;
  job: Job;
  /**
   * A cancel is under way: readers show the job's real state (it may still complete) unless
   * the job is gone (removed by the cancel) or failed (stopped by it).
   */
  pending?: boolean;
}

/** One job as the store sees it, with what sorting and filtering need. */
interface Entry {
  job: Job;
  owner: string | null;
  createdAtMs: number;
}

const iso = (ms: number | undefined | null): string | null =>
  typeof ms === 'number' && Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : null;

const badRequest = (message: string) => new JobRequestError(400, 'bad_request', message);

/** Orders ids as BullMQ creates them: numeric ids by value, others as strings. */
function compareIds(a: string, b: string): number {
  const na = /^\d+$/.test(a);
  const nb = /^\d+$/.test(b);
  if (na && nb) return a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
  if (na !== nb) return na ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Newest first: by creation time, then by id. */
function newestFirst(a: { createdAtMs: number; job: Job }, b: { createdAtMs: number; job: Job }): number {
  return b.createdAtMs - a.createdAtMs || compareIds(b.job.id, a.job.id);
}

/** UTF-8 text as base64url (no Node `Buffer`, so the entry runs on edge runtimes too). */
function toBase64Url(text: string): string {
  let binary = '';
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64Url(value: string): string {
  const binary = atob(value.replace(/-/g, '+').replace(/_/g, '/'));
  return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(binary, (c) => c.charCodeAt(0)));
}

function encodeCursor(entry: Entry): string {
  return toBase64Url(JSON.stringify([entry.createdAtMs, entry.job.id]));
}

function decodeCursor(cursor: string): { createdAtMs: number; id: string } {
  try {
    if (!/^[A-Za-z0-9_-]+$/.test(cursor)) throw new Error('not base64url');
    const value: unknown = JSON.parse(fromBase64Url(cursor));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'string') {
      return { createdAtMs: value[0], id: value[1] };
    }
  } catch {
    // falls through to the 400 below
  }
  throw badRequest('Malformed cursor');
}

function matchesMeta(job: Job, meta: Record<string, string> | undefined): boolean {
  if (!meta) return true;
  return Object.entries(meta).every(
    ([key, value]) => !!job.meta && Object.prototype.hasOwnProperty.call(job.meta, key) && String(job.meta[key]) === String(value),
  );
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Orders a job's states across attempts, which BullMQ's times cannot (a job back in the queue
 * after a stall or a failed attempt keeps its old times): every move to active counts an
 * attempt started; within one, processing < back to pending < finished. Progress within an
 * attempt has no counter: equal versions fall back to `updatedAt` and content.
 */
function versionOf(attemptsStarted: number | undefined, status: JobState): number {
  const phase = status === 'processing' ? 0 : status === 'pending' ? 1 : 2;
  return Math.max(0, attemptsStarted ?? 0) * 3 + phase;
}

const isTerminalState = (state: JobState) => state === 'completed' || state === 'failed' || state === 'cancelled';

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
  const { queue, owner: ownerOf, toResult, toMeta, progressScale = 100, cancelActive, cancelTimeoutMs = 5000 } = options;
  const { keepCancelledMs } = options;
  const markerKey = queue.toKey('jobwatch:cancelled');

  async function redis() {
    return queue.getBackend().client;
  }

  /** A finished cancel older than `keepCancelledMs`: the job is forgotten. */
  function expired(marker: CancelMarker): boolean {
    return keepCancelledMs !== undefined && !marker.pending && Date.now() - Date.parse(marker.job.updatedAt) > keepCancelledMs;
  }

  async function readMarker(id: string): Promise<CancelMarker | null> {
    const raw = await (await redis()).hget(markerKey, id);
    const marker = raw ? (JSON.parse(raw) as CancelMarker) : null;
    return marker && !expired(marker) ? marker : null;
  }

  /** Every marker still kept; expired ones are deleted on the way. */
  async function readMarkers(): Promise<Map<string, CancelMarker>> {
    const all = await (await redis()).hgetall(markerKey);
    const markers = new Map<string, CancelMarker>();
    const gone: string[] = [];
    for (const [id, raw] of Object.entries(all ?? {})) {
      const marker = JSON.parse(raw) as CancelMarker;
      if (expired(marker)) gone.push(id);
      else markers.set(id, marker);
    }
    if (gone.length > 0) await (await redis()).hdel(markerKey, ...gone);
    return markers;
  }

  async function writeMarker(marker: CancelMarker): Promise<void> {
    await (await redis()).hset(markerKey, { [marker.job.id]: JSON.stringify(marker) });
  }

  async function dropMarker(id: string): Promise<void> {
    await (await redis()).hdel(markerKey, id);
  }

  function progressOf(raw: unknown): { progress: number | null; message: string | null } {
    const scale = (n: unknown): number | null =>
      typeof n === 'number' && Number.isFinite(n) ? Math.min(1, Math.max(0, n / progressScale)) : null;
    if (isPlainObject(raw)) {
      return { progress: scale(raw.progress), message: typeof raw.message === 'string' ? raw.message : null };
    }
    // BullMQ starts every job at the number 0: until the worker reports, progress is unknown.
    return { progress: raw === 0 ? null : scale(raw), message: null };
  }

  function metaOf(bjob: BullJob): Record<string, JobMetaValue> | undefined {
    if (toMeta) return toMeta(bjob);
    const meta: unknown = isPlainObject(bjob.data) ? bjob.data.meta : undefined;
    if (!isPlainObject(meta)) return undefined;
    const out: Record<string, JobMetaValue> = {};
    for (const [key, value] of Object.entries(meta)) {
      if (value === null || ['string', 'number', 'boolean'].includes(typeof value)) out[key] = value as JobMetaValue;
    }
    return out;
  }

  function toEntry(bjob: BullJob, bullState: BullState): Entry {
    const status = STATE_MAP[bullState];
    const terminal = status === 'completed' || status === 'failed';
    const { progress, message } = progressOf(bjob.progress);
    const attemptsMade = bjob.attemptsMade ?? 0;
    const attempts = bjob.opts?.attempts;
    const createdAtMs = bjob.timestamp;
    const processedOn = status === 'pending' ? undefined : bjob.processedOn;
    const finishedOn = terminal ? bjob.finishedOn : undefined;
    // The raw times, whatever the state: a job back in the queue (stalled, retrying) must not
    // look older than the attempt it left.
    const updatedMs = Math.max(createdAtMs, bjob.processedOn ?? 0, finishedOn ?? 0);
    const job: Job = {
      id: String(bjob.id),
      status,
      // A job back in the queue still holds its last attempt's progress: not this attempt's.
      progress: status === 'completed' ? 1 : status === 'pending' ? null : progress,
      progressMessage: status === 'pending' ? null : message,
      retryCount: terminal ? Math.max(0, attemptsMade - 1) : attemptsMade,
      maxRetries: typeof attempts === 'number' && attempts > 0 ? attempts - 1 : 0,
      error: status === 'failed' && bjob.failedReason ? { message: bjob.failedReason } : null,
      createdAt: iso(createdAtMs)!,
      updatedAt: iso(updatedMs)!,
      startedAt: iso(processedOn),
      finishedAt: iso(finishedOn),
      version: versionOf(bjob.attemptsStarted, status),
    };
    const meta = metaOf(bjob);
    if (meta) job.meta = meta;
    if (status === 'completed') job.result = toResult ? toResult(bjob) : bjob.returnvalue;
    return { job, owner: ownerOf(bjob), createdAtMs };
  }

  function markerEntry(marker: CancelMarker): Entry {
    return { job: marker.job, owner: marker.owner, createdAtMs: marker.createdAtMs };
  }

  /**
   * What a job under a cancel that is still under way reads as: cancelled once it is gone or
   * failed (the cancel stopped it and is about to remove it), else its real state.
   */
  function underCancel(marker: CancelMarker, entry: Entry | null): Entry | null {
    if (!entry || entry.job.status === 'failed') return markerEntry(marker);
    return entry;
  }

  /** Reads one job (marker first); `null` when unknown or in no mapped state. */
  async function readEntry(id: string): Promise<(Entry & { bjob?: BullJob }) | null> {
    const marker = await readMarker(id);
    if (marker && !marker.pending) return markerEntry(marker);
    // The job hash and its state are two reads: read the state on both sides of the hash and
    // retry when it moved, so a job never shows one state with another state's fields.
    let bjob: BullJob | undefined;
    let state = '';
    for (let attempt = 0; ; attempt++) {
      const before = await queue.getJobState(id);
      bjob = await queue.getJob(id);
      if (!bjob) break;
      state = await queue.getJobState(id);
      if (state === before || attempt >= 4) break;
    }
    const entry = bjob && state in STATE_MAP ? { ...toEntry(bjob, state as BullState), bjob } : null;
    // A cancel may have marked (or finished) it between the reads.
    const late = await readMarker(id);
    if (late && !late.pending) return markerEntry(late);
    return late ? underCancel(late, entry) : entry;
  }

  async function readOwned(id: string, owner: string): Promise<Entry & { bjob?: BullJob }> {
    const entry = await readEntry(id);
    if (!entry || entry.owner === null || entry.owner !== owner) throw new JobNotFoundError(id);
    return entry;
  }

  /** Every job of the given states (with markers), deduplicated; O(n). */
  async function readAll(states: JobState[]): Promise<Entry[]> {
    const bullStates = states.flatMap((state) => BULL_STATES_OF[state]);
    const [markers, ...lists] = await Promise.all([
      readMarkers(),
      ...bullStates.map(async (state) => ({ state, jobs: (await queue.getJobs([state])) as BullJob[] })),
    ]);
    const seen = new Set<string>();
    const entries: Entry[] = [];
    for (const [id, marker] of markers) {
      if (marker.pending) continue;
      seen.add(id);
      if (states.includes('cancelled')) entries.push(markerEntry(marker));
    }
    for (const { state, jobs } of lists) {
      for (const bjob of jobs) {
        if (!bjob || bjob.id === undefined || seen.has(String(bjob.id))) continue;
        const id = String(bjob.id);
        seen.add(id);
        const marker = markers.get(id);
        const entry = marker ? underCancel(marker, toEntry(bjob, state)) : toEntry(bjob, state);
        if (entry && states.includes(entry.job.status)) entries.push(entry);
      }
    }
    // A cancel under way whose job is in none of the lists read: cancelled when it is gone or
    // failed (as `readEntry` says), else it belongs to a list not asked for.
    for (const [id, marker] of markers) {
      if (!marker.pending || seen.has(id) || !states.includes('cancelled')) continue;
      const state = await queue.getJobState(id);
      if (state === 'unknown' || state === 'failed') entries.push(markerEntry(marker));
    }
    return entries;
  }

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
    const { status, meta, cursor, limit = DEFAULT_LIMIT } = filter ?? {};
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw badRequest(`limit must be an integer from 1 to ${MAX_LIMIT}`);
    }
    const statuses = status === undefined ? [] : ([] as JobState[]).concat(status);
    for (const state of statuses) {
      if (!ALL_STATES.includes(state)) throw badRequest(`Unknown status "${String(state)}"`);
    }
    const after = cursor === undefined ? null : decodeCursor(cursor);
    const wanted = statuses.length === 0 ? ALL_STATES : statuses;
    const matching = (await readAll(wanted))
      .filter((entry) => entry.owner !== null && entry.owner === o.owner)
      .filter((entry) => wanted.includes(entry.job.status) && matchesMeta(entry.job, meta))
      .filter(
        (entry) =>
          !after ||
          entry.createdAtMs < after.createdAtMs ||
          (entry.createdAtMs === after.createdAtMs && compareIds(entry.job.id, after.id) < 0),
      )
      .sort(newestFirst);
    const page = matching.slice(0, limit);
    const last = page[page.length - 1];
    return { jobs: page.map((entry) => entry.job), nextCursor: matching.length > limit && last ? encodeCursor(last) : null };
  }

  async function getPendingCount(filter: Pick<JobFilter, 'meta'>, o: JobStoreRequestOptions): Promise<PendingCount> {
    const counts: PendingCount = { pending: 0, processing: 0 };
    for (const entry of await readAll(['pending', 'processing'])) {
      if (entry.owner === null || entry.owner !== o.owner || !matchesMeta(entry.job, filter?.meta)) continue;
      if (entry.job.status === 'pending') counts.pending++;
      else if (entry.job.status === 'processing') counts.processing++;
    }
    return counts;
  }

  function cancelledMarker(entry: Entry): CancelMarker {
    const now = new Date().toISOString();
    return {
      owner: entry.owner,
      createdAtMs: entry.createdAtMs,
      job: {
        ...entry.job,
        status: 'cancelled',
        error: null,
        updatedAt: now,
        finishedAt: now,
        version: Math.floor((entry.job.version ?? 0) / 3) * 3 + 2,
      },
      pending: true,
    };
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
    let state = await queue.getJobState(id);
    while (state === 'active') {
      if (Date.now() >= deadline) throw notCancellable(id);
      await sleep(25);
      state = await queue.getJobState(id);
    }
    if (state === 'completed') throw notCancellable(id);
    // A retry may have put it back in the queue, where another worker can take it: remove()
    // answers 0 while a lock is held.
    if ((await queue.remove(id)) !== 1 && (await queue.getJobState(id)) !== 'unknown') throw notCancellable(id);
  }

  async function cancel(id: string, o: JobStoreRequestOptions): Promise<Job> {
    const entry = await readOwned(id, o.owner);
    if (isTerminalState(entry.job.status) || !entry.bjob) throw notCancellable(id);
    const marker = cancelledMarker(entry);
    // Marked before the job goes, so a job removed by the cancel never reads as vanished;
    // `pending` until it is gone, so readers never see "cancelled" for a job that goes on.
    await writeMarker(marker);
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
        await dropMarker(id);
        notify(id);
        throw error instanceof JobRequestError ? error : notCancellable(id);
      }
    }
    const done: CancelMarker = { owner: marker.owner, createdAtMs: marker.createdAtMs, job: marker.job };
    await writeMarker(done);
    notify(id);
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

  // ---- change log ------------------------------------------------------------------------

  const eventsKey = queue.toKey('events');
  const scripted = new WeakSet<object>();

  /** The queue's client, with the two read-only scripts below defined on it. */
  async function scriptClient() {
    const client = await redis();
    if (!scripted.has(client)) {
      client.defineCommand('jobwatchLogPosition', { numberOfKeys: 1, lua: LOG_POSITION_LUA, readOnly: true });
      client.defineCommand('jobwatchChangedSince', { numberOfKeys: 1, lua: CHANGED_SINCE_LUA, readOnly: true });
      scripted.add(client);
    }
    return client;
  }

  /** The id of the newest entry of BullMQ's event stream (`0-0` when empty): the store's change-log position. */
  async function logPosition(): Promise<string> {
    const answer: unknown = await (await scriptClient()).runCommand('jobwatchLogPosition', [eventsKey]);
    return typeof answer === 'string' && STREAM_ID.test(answer) ? answer : '0-0';
  }

  /** Which of `ids` have an entry in BullMQ's event stream after `position`; `null` when it cannot tell. */
  async function changedSince(ids: string[], position: string): Promise<string[] | null> {
    if (ids.length === 0) return [];
    if (!STREAM_ID.test(position)) return null;
    const answer: unknown = await (await scriptClient()).runCommand('jobwatchChangedSince', [
      eventsKey,
      position,
      CHANGED_SINCE_MAX_SCAN,
      ...ids,
    ]);
    return Array.isArray(answer) ? answer.map(String) : null;
  }

  // ---- push -------------------------------------------------------------------------------

  interface Subscription {
    id: string;
    owner: string;
    listener: JobSubscriptionListener;
    /** The last job delivered, serialized (nothing unchanged is delivered twice). */
    last: string | null;
    open: boolean;
    retry: ReturnType<typeof setTimeout> | undefined;
  }

  /** A job to read and deliver: after an event (with its stream id), or for one subscription only. */
  interface Pending {
    id: string;
    position: string | null;
    only?: Subscription;
  }

  const subscriptions = new Map<string, Set<Subscription>>();
  let reader: { close(): Promise<void> } | null = null;
  let readerStart: Promise<void> | null = null;
  /** Bumped by `close`, so a reader still starting then is never opened. */
  let readerGeneration = 0;
  let pending: Pending[] = [];
  let draining = false;
  /** The event reader lost Redis: subscribers were told, and reads resume once Redis answers. */
  let down = false;
  let recovery: ReturnType<typeof setInterval> | undefined;

  function enqueue(item: Pending): void {
    pending.push(item);
    void drain();
  }

  function notify(id: string): void {
    if (subscriptions.has(id)) enqueue({ id, position: null });
  }

  function closeSubscription(sub: Subscription): void {
    if (!sub.open) return;
    sub.open = false;
    clearTimeout(sub.retry);
    const set = subscriptions.get(sub.id);
    set?.delete(sub);
    if (set && set.size === 0) subscriptions.delete(sub.id);
  }

  /**
   * Reads and delivers in batches, one batch at a time, in the event stream's order. Every job
   * a batch names is read after all of its events happened, so the position handed to the
   * listeners (the batch's newest stream id) vouches that every change up to it has been
   * delivered: a client resuming from it through any instance misses nothing.
   */
  async function drain(): Promise<void> {
    if (draining) return;
    draining = true;
    try {
      while (pending.length > 0) {
        const batch = pending;
        pending = [];
        let position: string | null = null;
        const targets = new Map<string, Set<Subscription>>();
        for (const item of batch) {
          if (item.position !== null) position = item.position;
          const subs = item.only ? (item.only.open ? [item.only] : []) : [...(subscriptions.get(item.id) ?? [])];
          if (subs.length === 0) continue;
          const set = targets.get(item.id) ?? new Set<Subscription>();
          for (const sub of subs) set.add(sub);
          targets.set(item.id, set);
        }
        const ids = [...targets.keys()];
        const reads = await Promise.all(
          ids.map((id) =>
            readEntry(id).then(
              (entry) => ({ entry, error: null as unknown }),
              (error: unknown) => ({ entry: null, error: error ?? new Error('read failed') }),
            ),
          ),
        );
        ids.forEach((id, i) => {
          for (const sub of targets.get(id) ?? []) deliver(sub, reads[i]!, position);
        });
      }
    } finally {
      draining = false;
    }
  }

  function deliver(sub: Subscription, read: { entry: Entry | null; error: unknown }, position: string | null): void {
    if (!sub.open) return;
    if (read.error) {
      // Redis did not answer: say so, keep the subscription, read again in a second.
      sub.listener.disconnected?.(read.error);
      clearTimeout(sub.retry);
      sub.retry = setTimeout(() => enqueue({ id: sub.id, position: null, only: sub }), RETRY_READ_MS);
      return;
    }
    const entry = read.entry;
    if (!entry || entry.owner === null || entry.owner !== sub.owner) {
      closeSubscription(sub);
      sub.listener.error?.(new JobNotFoundError(sub.id));
      return;
    }
    const serialized = JSON.stringify(entry.job);
    if (serialized === sub.last) return;
    sub.last = serialized;
    if (isTerminalState(entry.job.status)) closeSubscription(sub);
    sub.listener.next(entry.job, position === null ? undefined : { position });
  }

  /** While Redis is away: probe every second; once it answers, read every subscribed job again. */
  function onReaderError(error: unknown): void {
    if (!down) {
      down = true;
      for (const set of subscriptions.values()) for (const sub of set) sub.listener.disconnected?.(error);
    }
    recovery ??= setInterval(() => {
      logPosition().then(
        () => {
          if (!down) return;
          down = false;
          clearInterval(recovery);
          recovery = undefined;
          for (const id of subscriptions.keys()) enqueue({ id, position: null });
        },
        () => undefined,
      );
    }, RETRY_READ_MS);
  }

  /** Starts the event reader once (again after `close`); resolves when it is listening. */
  function ensureReader(): Promise<void> {
    if (readerStart) return readerStart;
    const generation = ++readerGeneration;
    readerStart = (async () => {
      // From the stream's own newest id, no clock involved: every event after it reaches the
      // reader, and the first reads of subscriptions come after it.
      const from = await logPosition().catch(() => `${Math.max(0, Date.now() - EVENTS_REPLAY_MS)}-0`);
      if (generation !== readerGeneration) return;
      const connection = options.connection ?? (queue.opts.connection as ConnectionOptions);
      const events = new QueueEvents(queue.name, {
        connection,
        ...(queue.opts.prefix ? { prefix: queue.opts.prefix } : {}),
        lastEventId: from,
      });
      reader = events;
      events.on('error', onReaderError);
      for (const name of PUSH_EVENTS) {
        events.on(name as 'progress', (args: { jobId: string }, streamId: string) => {
          const id = String(args.jobId);
          if (subscriptions.has(id)) enqueue({ id, position: STREAM_ID.test(streamId) ? streamId : null });
        });
      }
    })();
    return readerStart;
  }

  function subscribe(id: string, listener: JobSubscriptionListener, o: Pick<JobStoreRequestOptions, 'owner'>): () => void {
    const sub: Subscription = { id, owner: o.owner, listener, last: null, open: true, retry: undefined };
    const set = subscriptions.get(id) ?? new Set<Subscription>();
    subscriptions.set(id, set);
    // Listening before the first read, so no change falls between them.
    set.add(sub);
    void ensureReader().then(() => {
      if (sub.open) enqueue({ id, position: null, only: sub });
    });
    return () => closeSubscription(sub);
  }

  async function close(): Promise<void> {
    for (const set of [...subscriptions.values()]) for (const sub of [...set]) closeSubscription(sub);
    pending = [];
    clearInterval(recovery);
    recovery = undefined;
    readerGeneration++;
    readerStart = null;
    const current = reader;
    reader = null;
    await current?.close();
  }

  return { getStatus, getStatuses, list, getPendingCount, cancel, retry, subscribe, logPosition, changedSince, close };
}
