import type { Job as BullJob, Queue } from 'bullmq';
import { badRequest, checkListFilter } from '../contract/listFilter';
import { matchesMetaFilter } from '../contract/meta';
import { decodeCursorToken, encodeCursorToken } from '../contract/cursors';
import { JOB_STATES } from '../contract/states';
import type { JobFilter, JobPage, JobState, JobStoreRequestOptions, PendingCount } from '../contract/types';
import { markerEntry, underCancel, type CancelMarkers } from './cancelMarkers';
import { BULL_STATES_OF, compareIds, newestFirst, type BullState, type Entry } from './jobMapping';
import { isCancelling, type JobReads, type Snapshot } from './jobReads';
import type { OwnerIndex } from './ownerIndex';

/** A 400 `bad_request`. */

/** A list cursor: the last entry of a page, by creation time and id. */
export function encodeCursor(entry: Entry): string {
  return encodeCursorToken(JSON.stringify([entry.createdAtMs, entry.job.id]));
}

/** Reads a list cursor; 400 when it is not one. */
export function decodeCursor(cursor: string): { createdAtMs: number; id: string } {
  try {
    const text = decodeCursorToken(cursor);
    if (text === null) throw new Error('not a cursor token');
    const value: unknown = JSON.parse(text);
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'number' && typeof value[1] === 'string') {
      return { createdAtMs: value[0], id: value[1] };
    }
  } catch {
    // falls through to the 400 below
  }
  throw badRequest('Malformed cursor');
}

/** A list filter, checked: the page size, the statuses wanted and where the page starts. */
export interface ListQuery {
  wanted: readonly JobState[];
  limit: number;
  after: { createdAtMs: number; id: string } | null;
  meta: Readonly<Record<string, string>> | undefined;
}

/** Checks a list filter (the contract's one rule) and decodes this store's cursor. */
export function parseListFilter(filter: JobFilter | undefined): ListQuery {
  const { statuses, limit, meta, cursor } = checkListFilter(filter);
  const after = cursor === undefined ? null : decodeCursor(cursor);
  return { wanted: statuses.length === 0 ? JOB_STATES : statuses, limit, after, meta };
}

/** Whether `entry` comes after the cursor position `after` (newest first). */
export function isAfter(entry: Entry, after: ListQuery['after']): boolean {
  return (
    !after ||
    entry.createdAtMs < after.createdAtMs ||
    (entry.createdAtMs === after.createdAtMs && compareIds(entry.job.id, after.id) < 0)
  );
}

/** What the full-scan lists read with. */
export interface ScanOptions {
  queue: () => Promise<Queue>;
  markers: CancelMarkers;
  toEntry(bjob: BullJob, state: BullState): Entry;
}

/**
 * Lists and counts by reading every job of the requested states (and every cancel marker):
 * O(n) in the queue's size per call. Used while the owner index is being built.
 */
export function createScanLists({ queue: bull, markers, toEntry }: ScanOptions) {
  /** Every job of the given states (with markers), deduplicated; O(n). */
  async function readAll(states: readonly JobState[]): Promise<Entry[]> {
    const queue = await bull();
    const bullStates = states.flatMap((state) => BULL_STATES_OF[state]);
    const [marks, ...lists] = await Promise.all([
      markers.readAll(),
      ...bullStates.map(async (state) => ({ state, jobs: (await queue.getJobs([state])) as BullJob[] })),
    ]);
    const seen = new Set<string>();
    const entries: Entry[] = [];
    for (const [id, marker] of marks) {
      if (marker.pending) continue;
      seen.add(id);
      if (states.includes('cancelled')) entries.push(markerEntry(marker));
    }
    for (const { state, jobs } of lists) {
      for (const bjob of jobs) {
        if (!bjob || bjob.id === undefined || seen.has(String(bjob.id))) continue;
        const id = String(bjob.id);
        seen.add(id);
        const marker = marks.get(id);
        const entry = marker ? underCancel(marker, toEntry(bjob, state)) : toEntry(bjob, state);
        if (entry && states.includes(entry.job.status)) entries.push(entry);
      }
    }
    // A cancel under way whose job is in none of the lists read: cancelled when it is gone or
    // failed (as `readEntry` says), else it belongs to a list not asked for.
    for (const [id, marker] of marks) {
      if (!marker.pending || seen.has(id) || !states.includes('cancelled')) continue;
      const state = await queue.getJobState(id);
      if (state === 'unknown' || state === 'failed') entries.push(markerEntry(marker));
    }
    return entries;
  }

  async function list(query: ListQuery, o: JobStoreRequestOptions): Promise<JobPage> {
    const { wanted, limit, after, meta } = query;
    const matching = (await readAll(wanted))
      .filter((entry) => entry.owner !== null && entry.owner === o.owner)
      .filter((entry) => wanted.includes(entry.job.status) && matchesMetaFilter(entry.job.meta, meta))
      .filter((entry) => isAfter(entry, after))
      .sort(newestFirst);
    const page = matching.slice(0, limit);
    const last = page[page.length - 1];
    return { jobs: page.map((entry) => entry.job), nextCursor: matching.length > limit && last ? encodeCursor(last) : null };
  }

  async function getPendingCount(filter: Pick<JobFilter, 'meta'>, o: JobStoreRequestOptions): Promise<PendingCount> {
    const counts: PendingCount = { pending: 0, processing: 0 };
    for (const entry of await readAll(['pending', 'processing'])) {
      if (entry.owner === null || entry.owner !== o.owner || !matchesMetaFilter(entry.job.meta, filter?.meta)) continue;
      if (entry.job.status === 'pending') counts.pending++;
      else if (entry.job.status === 'processing') counts.processing++;
    }
    return counts;
  }

  return { list, getPendingCount };
}

/** What the indexed lists read with. */
export interface IndexedListOptions {
  index: OwnerIndex;
  queue: () => Promise<Queue>;
  markers: CancelMarkers;
  reads: Pick<JobReads, 'resolve' | 'statusOf' | 'hasExpiredMarker'>;
}

/**
 * Lists and counts through the owner index: one owner's first page costs about one page of
 * jobs, and its counts one state check per pending or processing job of that owner, whatever
 * the other owners hold. Every candidate's real state is checked in the same script call that
 * reads it; candidates found in the wrong set are synced (moved) on the way.
 */
export function createIndexedLists({ index, queue, markers, reads }: IndexedListOptions) {
  /**
   * Fixes what a read found out of place: a job gone (or not this owner's) leaves the set it
   * was found in, then every one is put where it is now.
   */
  async function repair(owner: string, stale: { snap: Snapshot; state: JobState }[]): Promise<void> {
    if (stale.length === 0) return;
    for (const { snap } of stale) if (reads.hasExpiredMarker(snap)) await markers.drop(snap.id);
    for (const state of new Set(stale.map((s) => s.state))) {
      const gone = stale.filter((s) => s.state === state && s.snap.state === 'gone' && !s.snap.marker).map((s) => s.snap.id);
      await index.evict(owner, state, gone);
    }
    await index.sync(stale.map((s) => s.snap.id));
  }

  async function list(query: ListQuery, o: JobStoreRequestOptions): Promise<JobPage> {
    const { wanted, limit, after, meta } = query;
    const q = await queue();
    // limit + 2: the last member of a full set sits at the boundary, so limit + 1 complete ones need one more.
    for (let count = limit + 2; ; count *= 4) {
      const { sets, snapshots } = await index.candidates(o.owner, wanted, after ? after.createdAtMs : '+inf', count, true);
      // Every member scored above the boundary has been read; at it, a full set may hold more.
      let boundary = -Infinity;
      for (const set of sets) if (set.length >= count) boundary = Math.max(boundary, set[set.length - 1]!.score);
      const candidates = sets.flat().sort((a, b) => b.score - a.score || compareIds(b.id, a.id));
      const seen = new Set<string>();
      const stale: { snap: Snapshot; state: JobState }[] = [];
      const page: Entry[] = [];
      for (const candidate of candidates) {
        if (candidate.score <= boundary) break;
        const snap = snapshots.get(candidate.id);
        if (!snap) continue;
        const entry = reads.resolve(snap, q);
        const misplaced = !entry || entry.owner !== o.owner || (entry.job.status !== candidate.state && !isCancelling(snap));
        if (misplaced) stale.push({ snap, state: candidate.state });
        if (seen.has(candidate.id) || !entry || entry.owner !== o.owner) continue;
        seen.add(candidate.id);
        if (!wanted.includes(entry.job.status) || !matchesMetaFilter(entry.job.meta, meta) || !isAfter(entry, after)) continue;
        page.push(entry);
        if (page.length > limit) break;
      }
      await repair(o.owner, stale);
      if (page.length > limit || boundary === -Infinity) {
        const jobs = page.slice(0, limit);
        const last = jobs[jobs.length - 1];
        return { jobs: jobs.map((entry) => entry.job), nextCursor: page.length > limit && last ? encodeCursor(last) : null };
      }
    }
  }

  async function getPendingCount(filter: Pick<JobFilter, 'meta'>, o: JobStoreRequestOptions): Promise<PendingCount> {
    const meta = filter?.meta && Object.keys(filter.meta).length > 0 ? filter.meta : undefined;
    const [q, { sets, snapshots }] = await Promise.all([queue(), index.candidates(o.owner, ['pending', 'processing'], '+inf', -1, !!meta)]);
    const counts: PendingCount = { pending: 0, processing: 0 };
    const seen = new Set<string>();
    const stale: { snap: Snapshot; state: JobState }[] = [];
    for (const candidate of sets.flat()) {
      const snap = snapshots.get(candidate.id);
      if (!snap) continue;
      let status = reads.statusOf(snap);
      if (status !== candidate.state && !isCancelling(snap)) stale.push({ snap, state: candidate.state });
      if (seen.has(candidate.id)) continue;
      seen.add(candidate.id);
      if (meta) {
        const entry = reads.resolve(snap, q);
        status = entry && entry.owner === o.owner && matchesMetaFilter(entry.job.meta, meta) ? entry.job.status : null;
      }
      if (status === 'pending') counts.pending++;
      else if (status === 'processing') counts.processing++;
    }
    await repair(o.owner, stale);
    return counts;
  }

  return { list, getPendingCount };
}
