import type { RedisClient } from 'bullmq';
import type { Job } from '../contract/types';
import type { Entry } from './jobMapping';

/** The Redis stream (under the queue's keys) to which `cancelActive: 'workers'` adds the ids to cancel. */
export const CANCEL_STREAM = 'jobwatch:cancel';

/** The Redis hash (under the queue's keys) holding one cancel marker per cancelled job. */
export const CANCEL_MARKERS = 'jobwatch:cancelled';

/** What the cancel marker keeps: a removed job still reads as cancelled. */
export interface CancelMarker {
  owner: string | null;
  createdAtMs: number;
  job: Job;
  /**
   * A cancel is under way: readers show the job's real state (it may still complete) unless
   * the job is gone (removed by the cancel) or failed (stopped by it).
   */
  pending?: boolean;
}

/** Reads and writes the cancel markers of one queue. */
export interface CancelMarkers {
  /** The marker of `id`, unless there is none or it expired. */
  read(id: string): Promise<CancelMarker | null>;
  /** Every marker still kept; expired ones are deleted on the way. */
  readAll(): Promise<Map<string, CancelMarker>>;
  write(marker: CancelMarker): Promise<void>;
  drop(id: string): Promise<void>;
  /** A finished cancel older than `keepCancelledMs`: the job is forgotten. */
  expired(marker: CancelMarker): boolean;
}

/** The cancel markers in the hash `key`, forgotten `keepCancelledMs` after their cancel (never without it). */
export function createCancelMarkers(redis: () => Promise<RedisClient>, key: string, keepCancelledMs: number | undefined): CancelMarkers {
  function expired(marker: CancelMarker): boolean {
    return keepCancelledMs !== undefined && !marker.pending && Date.now() - Date.parse(marker.job.updatedAt) > keepCancelledMs;
  }

  return {
    expired,
    async read(id) {
      const raw = await (await redis()).hget(key, id);
      const marker = raw ? (JSON.parse(raw) as CancelMarker) : null;
      return marker && !expired(marker) ? marker : null;
    },
    async readAll() {
      const all = await (await redis()).hgetall(key);
      const markers = new Map<string, CancelMarker>();
      const gone: string[] = [];
      for (const [id, raw] of Object.entries(all ?? {})) {
        const marker = JSON.parse(raw) as CancelMarker;
        if (expired(marker)) gone.push(id);
        else markers.set(id, marker);
      }
      if (gone.length > 0) await (await redis()).hdel(key, ...gone);
      return markers;
    },
    async write(marker) {
      await (await redis()).hset(key, { [marker.job.id]: JSON.stringify(marker) });
    },
    async drop(id) {
      await (await redis()).hdel(key, id);
    },
  };
}

/** A marker read as a store entry. */
export function markerEntry(marker: CancelMarker): Entry {
  return { job: marker.job, owner: marker.owner, createdAtMs: marker.createdAtMs };
}

/**
 * What a job under a cancel that is still under way reads as: cancelled once it is gone or
 * failed (the cancel stopped it and is about to remove it), else its real state.
 */
export function underCancel(marker: CancelMarker, entry: Entry | null): Entry | null {
  if (!entry || entry.job.status === 'failed') return markerEntry(marker);
  return entry;
}

/** The marker a cancel of `entry` writes before it starts (`pending` until the job is gone). */
export function cancelledMarker(entry: Entry): CancelMarker {
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
