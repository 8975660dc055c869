import type { Job as BullJob, Queue, RedisClient } from 'bullmq';
import type { JobState } from '../contract/types';
import { ALL_IDS_LUA, CANDIDATES_LUA, EVICT_LUA, PENDING_EVENTS_LUA, START_POSITION_LUA, SYNC_LUA } from './indexScripts';
import { parseSnapshot, type Snapshot } from './jobReads';

/** Events read per step of a catch-up, and jobs synced per script call. */
const BATCH = 500;

/** Keys of the index, all under the queue's own keys. */
export interface OwnerIndexKeys {
  /** The queue's key prefix (`bull:<queue>:`): job hashes and BullMQ's structures. */
  prefix: string;
  /** BullMQ's event stream. */
  events: string;
  markers: string;
}

/** What the index needs from the store. */
export interface OwnerIndexOptions {
  client: () => Promise<RedisClient>;
  queue: () => Promise<Queue>;
  keys: OwnerIndexKeys;
  owner(bjob: BullJob): string | null;
  /** Called when a background rebuild fails (it is tried again by the next read). */
  onError?: (error: unknown) => void;
}

/** One member of an index set, as the candidates script answers it. */
export interface Candidate {
  id: string;
  score: number;
  state: JobState;
}

/**
 * The owner index: for each owner and state, a sorted set of job ids scored by creation time
 * (`<prefix>jobwatch:idx:<state>:<owner as JSON>`), the owner of each indexed job
 * (`<prefix>jobwatch:owners`) and how far into BullMQ's event stream it is
 * (`<prefix>jobwatch:idx:position`: a stream id and how many entries were ever added up to it,
 * which tells when BullMQ trimmed events the index had not applied).
 *
 * Consistency: every job an event names is put where it is *now* (a script reads its state
 * and moves it, atomically), so applying events late, twice or out of order never leaves it
 * in a wrong set for long, and never out of every set. Reads call {@link OwnerIndex.catchUp}
 * first, which applies every event up to now; jobs BullMQ moves without an event (a `clean`,
 * trimming by `removeOnComplete: { count }`) are moved by the reads that meet them, since
 * reads check each candidate's real state and {@link OwnerIndex.sync} the ones that moved.
 * No position yet, or events trimmed away unread: the index is rebuilt in the background from
 * every job of the queue (O(n), once), and until then reads use the full scan.
 */
export interface OwnerIndex {
  /** Applies every event up to now; `false` while the index is being (re)built. */
  catchUp(): Promise<boolean>;
  /** Puts these jobs where they are now (`owners`: what the store already knows). */
  sync(ids: string[], owners?: Map<string, string | null>): Promise<void>;
  /** Takes `ids` out of `owner`'s set of `state` (they are not that owner's, or gone). */
  evict(owner: string, state: JobState, ids: string[]): Promise<void>;
  /** Newest-first members of the given index sets with score ≤ `max` (at most `count` per set, -1: all), with snapshots. */
  candidates(
    owner: string,
    states: readonly JobState[],
    max: number | '+inf',
    count: number,
    withData: boolean,
  ): Promise<{ sets: Candidate[][]; snapshots: Map<string, Snapshot> }>;
}

/** The index of one queue (see {@link OwnerIndex}). */
export function createOwnerIndex(options: OwnerIndexOptions): OwnerIndex {
  const { client, queue, keys, owner: ownerOf, onError } = options;
  const ownersKey = `${keys.prefix}jobwatch:owners`;
  const indexPrefix = `${keys.prefix}jobwatch:idx:`;
  const positionKey = `${keys.prefix}jobwatch:idx:position`;
  const scripted = new WeakSet<object>();
  let running: Promise<boolean> | null = null;
  let queued: Promise<boolean> | null = null;
  let rebuilding: Promise<void> | null = null;

  async function scripts(): Promise<RedisClient> {
    const c = await client();
    if (!scripted.has(c)) {
      c.defineCommand('jobwatchSync', { numberOfKeys: 0, lua: SYNC_LUA });
      c.defineCommand('jobwatchCandidates', { numberOfKeys: 0, lua: CANDIDATES_LUA, readOnly: true });
      c.defineCommand('jobwatchPendingEvents', { numberOfKeys: 0, lua: PENDING_EVENTS_LUA, readOnly: true });
      c.defineCommand('jobwatchAllIds', { numberOfKeys: 0, lua: ALL_IDS_LUA, readOnly: true });
      c.defineCommand('jobwatchEvict', { numberOfKeys: 0, lua: EVICT_LUA });
      c.defineCommand('jobwatchStartPosition', { numberOfKeys: 0, lua: START_POSITION_LUA, readOnly: true });
      scripted.add(c);
    }
    return c;
  }

  async function runSync(pairs: [string, string][], position: string): Promise<string[]> {
    const c = await scripts();
    const args = [keys.prefix, ownersKey, indexPrefix, keys.markers, positionKey, position, ...pairs.flat()];
    const answer: unknown = await c.runCommand('jobwatchSync', args);
    return Array.isArray(answer) ? answer.map(String) : [];
  }

  /** Syncs `ids`, looking up (from the job itself) the owners the index does not know yet. */
  async function sync(ids: string[], owners?: Map<string, string | null>, position = ''): Promise<void> {
    const unique = [...new Set(ids)];
    for (let i = 0; i < unique.length || (i === 0 && position !== ''); i += BATCH) {
      const chunk = unique.slice(i, i + BATCH);
      const last = i + BATCH >= unique.length ? position : '';
      const pairs = chunk.map((id): [string, string] => [id, owners?.has(id) ? JSON.stringify(owners.get(id) ?? null) : '']);
      const unknown = await runSync(pairs, last);
      if (unknown.length === 0) continue;
      const q = await queue();
      const jobs = await Promise.all(unknown.map((id) => q.getJob(id)));
      const found: [string, string][] = [];
      jobs.forEach((bjob, j) => {
        if (bjob) found.push([unknown[j]!, JSON.stringify(ownerOf(bjob) ?? null)]);
      });
      if (found.length > 0) await runSync(found, '');
    }
  }

  /** Rebuilds from every job of the queue, then catches up from the stream position it started at. */
  function rebuild(): void {
    rebuilding ??= (async () => {
      const c = await scripts();
      const position = String(await c.runCommand('jobwatchStartPosition', [keys.events]));
      const ids: unknown = await c.runCommand('jobwatchAllIds', [keys.prefix, keys.markers]);
      await sync(Array.isArray(ids) ? ids.map(String) : [], undefined, position);
    })()
      .catch((error: unknown) => onError?.(error))
      .finally(() => {
        rebuilding = null;
      });
  }

  async function step(): Promise<boolean> {
    if (rebuilding) return false;
    const c = await scripts();
    for (;;) {
      const answer = (await c.runCommand('jobwatchPendingEvents', [keys.events, positionKey, BATCH])) as unknown[];
      if (answer[0] !== 'ok') {
        rebuild();
        return false;
      }
      const position = answer[2];
      if (typeof position !== 'string') return true;
      await sync(answer.slice(3).map(String), undefined, position);
      if (Number(answer[1]) < BATCH) return true;
    }
  }

  function catchUp(): Promise<boolean> {
    if (!running) {
      running = step().finally(() => {
        running = null;
      });
      return running;
    }
    // One more step after the one under way, for every caller meanwhile: it sees their events.
    queued ??= running
      .catch(() => false)
      .then(() => {
        queued = null;
        return catchUp();
      });
    return queued;
  }

  async function candidates(owner: string, states: readonly JobState[], max: number | '+inf', count: number, withData: boolean) {
    const c = await scripts();
    const setKeys = states.map((state) => `${indexPrefix}${state}:${JSON.stringify(owner)}`);
    const answer = (await c.runCommand('jobwatchCandidates', [
      keys.prefix,
      keys.markers,
      withData ? '1' : '0',
      String(max),
      String(count),
      ownersKey,
      ...setKeys,
    ])) as [unknown[][], unknown[], unknown[]];
    const sets = answer[0].map((flat, k) => {
      const out: Candidate[] = [];
      for (let i = 0; i + 1 < flat.length; i += 2) out.push({ id: String(flat[i]), score: Number(flat[i + 1]), state: states[k]! });
      return out;
    });
    const snapshots = new Map<string, Snapshot>();
    const mine = JSON.stringify(owner);
    answer[1].forEach((raw, i) => {
      const snap = parseSnapshot(raw);
      // A job the index files under another owner is nobody's here (and gets synced).
      if (String(answer[2][i]) !== mine) snap.state = 'gone';
      snapshots.set(snap.id, snap);
    });
    return { sets, snapshots };
  }

  async function evict(owner: string, state: JobState, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await (await scripts()).runCommand('jobwatchEvict', [`${indexPrefix}${state}:${JSON.stringify(owner)}`, ...ids]);
  }

  return { catchUp, sync: (ids, owners) => sync(ids, owners), evict, candidates };
}
