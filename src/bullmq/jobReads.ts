import { Job as BullJobClass } from 'bullmq';
import type { Job as BullJob, Queue, RedisClient } from 'bullmq';
import { markerEntry, underCancel, type CancelMarker, type CancelMarkers } from './cancelMarkers';
import { SNAPSHOT_LUA } from './indexScripts';
import { STATE_MAP, type BullState, type Entry } from './jobMapping';
import type { JobState } from '../contract/types';

/** One job read in one atomic step: where BullMQ has it, its fields, its cancel marker, its terminal record. */
export interface Snapshot {
  id: string;
  state: BullState | 'gone';
  data: Record<string, string> | null;
  marker: string | null;
  record: string | null;
}

/** What a finished job leaves behind once BullMQ removed it (see `keepFinishedMs`). */
export interface FinishedRecord {
  owner: string | null;
  createdAtMs: number;
  job: Entry['job'];
}

/** A store entry with the BullMQ job it was read from, when there is one. */
export type ReadEntry = Entry & { bjob?: BullJob };

/** `[field, value, field, value…]` as an object. */
function fieldsOf(flat: unknown): Record<string, string> | null {
  if (!Array.isArray(flat) || flat.length === 0) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) out[String(flat[i])] = String(flat[i + 1]);
  return out;
}

/** One `{ id, state, fields, marker, record }` answer of the scripts as a {@link Snapshot}. */
export function parseSnapshot(raw: unknown): Snapshot {
  const [id, state, data, marker, record] = Array.isArray(raw) ? raw : [];
  return {
    id: String(id),
    state: String(state) as Snapshot['state'],
    data: fieldsOf(data),
    marker: typeof marker === 'string' ? marker : null,
    record: typeof record === 'string' ? record : null,
  };
}

/** A job hash as BullMQ's `Job.fromJSON` takes it (what BullMQ's own `getJob` does with `HGETALL`). */
function jobJson(raw: Record<string, string>): Record<string, unknown> {
  const int = (value: string | undefined) => (value ? parseInt(value, 10) : undefined);
  const json = (value: string | undefined): unknown => {
    try {
      return value === undefined ? undefined : JSON.parse(value);
    } catch {
      return value;
    }
  };
  return {
    id: raw.id,
    name: raw.name,
    data: raw.data || '{}',
    opts: BullJobClass.optsFromJSON(raw.opts),
    progress: json(raw.progress ?? '0'),
    delay: int(raw.delay),
    priority: int(raw.priority),
    timestamp: int(raw.timestamp),
    attemptsStarted: int(raw.ats) ?? 0,
    attemptsMade: int(raw.attemptsMade ?? raw.atm) ?? 0,
    stalledCounter: int(raw.stc) ?? 0,
    finishedOn: int(raw.finishedOn),
    processedOn: int(raw.processedOn),
    repeatJobKey: raw.rjk,
    deduplicationId: raw.deid,
    failedReason: raw.failedReason,
    deferredFailure: raw.defa,
    stacktrace: raw.stacktrace,
    returnvalue: raw.returnvalue,
    parentKey: raw.parentKey,
    parent: json(raw.parent),
    processedBy: raw.pb,
  };
}

/** Whether a snapshot's job is under a cancel still under way. */
export const isCancelling = (snap: Snapshot): boolean => !!snap.marker && snap.marker.includes('"pending":true');

/** What reading jobs needs from the store. */
export interface JobReadsOptions {
  client: () => Promise<RedisClient>;
  queue: () => Promise<Queue>;
  prefix: string;
  markersKey: string;
  /** Key prefix of the terminal records; `''` when they are off. */
  recordsPrefix: string;
  markers: CancelMarkers;
  toEntry(bjob: BullJob, state: BullState): Entry;
}

/** What {@link createJobReads} returns. */
export type JobReads = ReturnType<typeof createJobReads>;

/** Reads jobs by id (one script call for any number of ids) and turns snapshots into entries. */
export function createJobReads(options: JobReadsOptions) {
  const { client, queue, prefix, markersKey, recordsPrefix, markers, toEntry } = options;
  const scripted = new WeakSet<object>();

  /**
   * What a snapshot reads as: a finished cancel → cancelled; a cancel under way → the job's
   * real state unless it is gone or failed; a job BullMQ no longer has → its terminal record,
   * if any; `null` when unknown.
   */
  function resolve(snap: Snapshot, q: Queue): ReadEntry | null {
    const parsed = snap.marker ? (JSON.parse(snap.marker) as CancelMarker) : null;
    const marker = parsed && !markers.expired(parsed) ? parsed : null;
    if (marker && !marker.pending) return markerEntry(marker);
    let entry: ReadEntry | null = null;
    if (snap.state !== 'gone' && snap.data) {
      const bjob = BullJobClass.fromJSON(q, jobJson(snap.data) as never, snap.id);
      entry = { ...toEntry(bjob, snap.state), bjob };
    } else if (snap.record) {
      entry = JSON.parse(snap.record) as FinishedRecord;
    }
    return marker ? underCancel(marker, entry) : entry;
  }

  /** The status a snapshot reads as (as {@link resolve} says), without its fields; `null` when unknown. */
  function statusOf(snap: Snapshot): JobState | null {
    const parsed = snap.marker ? (JSON.parse(snap.marker) as CancelMarker) : null;
    const marker = parsed && !markers.expired(parsed) ? parsed : null;
    if (marker && (!marker.pending || snap.state === 'gone' || snap.state === 'failed')) return 'cancelled';
    return snap.state === 'gone' ? null : STATE_MAP[snap.state];
  }

  /** Whether the snapshot's marker is a finished cancel past `keepCancelledMs`. */
  function hasExpiredMarker(snap: Snapshot): boolean {
    return !!snap.marker && markers.expired(JSON.parse(snap.marker) as CancelMarker);
  }

  async function snapshots(ids: string[]): Promise<Snapshot[]> {
    if (ids.length === 0) return [];
    const c = await client();
    if (!scripted.has(c)) {
      c.defineCommand('jobwatchSnapshot', { numberOfKeys: 0, lua: SNAPSHOT_LUA, readOnly: true });
      scripted.add(c);
    }
    const answer: unknown = await c.runCommand('jobwatchSnapshot', [prefix, markersKey, recordsPrefix, ...ids]);
    return (Array.isArray(answer) ? answer : []).map(parseSnapshot);
  }

  /** Reads jobs in one atomic step: a job never shows one state with another state's fields. */
  async function readEntries(ids: string[]): Promise<(ReadEntry | null)[]> {
    const [snaps, q] = await Promise.all([snapshots(ids), queue()]);
    return snaps.map((snap) => resolve(snap, q));
  }

  return { resolve, statusOf, hasExpiredMarker, readEntries };
}
