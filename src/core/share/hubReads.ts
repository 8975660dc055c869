import { JobNotFoundError } from '../../contract/errors';
import type { Job, JobClient } from '../../contract/types';
import { answersOf, requestStatuses } from '../watcher/reads';

/** An answer this young is given to the hub's watcher again instead of a new request (a tab's read just fetched it). */
const JUST_READ_MS = 250;

/** The hub's reads of job status: every tab's and the hub watcher's, deduplicated per id while in flight. */
export interface HubReads {
  /**
   * Reads `ids` (one request for all that are not in flight already, nor answered in the
   * last `maxAgeMs`); resolves with each id's job or error.
   */
  read(ids: readonly string[], maxAgeMs?: number): Promise<Map<string, Job | Error>>;
  /** When `id` was last answered (by a read or a push), or `undefined`. */
  freshAt(id: string): number | undefined;
  /** When the last read of `id` failed (and no answer came since), or `undefined`. */
  failedAt(id: string): number | undefined;
  /** Marks `id` answered now (a push arrived). */
  touch(id: string): void;
  /** Forgets what is kept about `id`. */
  forget(id: string): void;
  /**
   * A client for the hub's own watcher: its `getStatus` / `getStatuses` go through
   * {@link HubReads.read}, its `subscribe` marks pushed jobs fresh; the rest is the real client's.
   */
  client(): JobClient;
}

/**
 * Creates the hub's reader over the real client (asked at every request, so it can be swapped).
 * Reads started in the same task go out as one request.
 */
export function createHubReads(real: () => JobClient): HubReads {
  const inFlight = new Map<string, Promise<Job | Error>>();
  const fresh = new Map<string, number>();
  const last = new Map<string, { at: number; answer: Job | Error }>();
  const failed = new Map<string, number>();
  let queued: Map<string, (answer: Job | Error) => void> | null = null;

  /** Reads `ids` with one request (`getStatuses` when the client has it, else one `getStatus` each). */
  async function request(ids: string[]): Promise<Map<string, Job | Error>> {
    const client = real();
    if (ids.length === 1 || client.getStatuses) {
      try {
        return answersOf(ids, await requestStatuses(client, ids, new AbortController().signal), null);
      } catch (error) {
        return answersOf(ids, null, error);
      }
    }
    const one = (id: string) =>
      client.getStatus(id).then(
        (job) => answersOf([id], { jobs: [job], missing: [] }, null).get(id)!,
        (error: unknown) => answersOf([id], null, error).get(id)!,
      );
    const all = await Promise.all(ids.map(one));
    const answers = new Map<string, Job | Error>();
    all.forEach((answer, i) => answers.set(ids[i]!, answer));
    return answers;
  }

  function flush(): void {
    const batch = queued!;
    queued = null;
    void request([...batch.keys()]).then((answers) => {
      const now = Date.now();
      for (const [id, resolve] of batch) {
        const answer = answers.get(id)!;
        inFlight.delete(id);
        last.set(id, { at: now, answer });
        if (answer instanceof Error && !(answer instanceof JobNotFoundError)) failed.set(id, now);
        else {
          failed.delete(id);
          fresh.set(id, now);
        }
        resolve(answer);
      }
    });
  }

  function readOne(id: string, maxAgeMs: number): Promise<Job | Error> {
    const known = inFlight.get(id);
    if (known) return known;
    const recent = last.get(id);
    if (recent && Date.now() - recent.at < maxAgeMs) return Promise.resolve(recent.answer);
    const answer = new Promise<Job | Error>((resolve) => {
      if (!queued) {
        queued = new Map();
        queueMicrotask(flush);
      }
      queued.set(id, resolve);
    });
    inFlight.set(id, answer);
    return answer;
  }

  async function read(ids: readonly string[], maxAgeMs = 0): Promise<Map<string, Job | Error>> {
    const unique = [...new Set(ids)];
    const answers = await Promise.all(unique.map((id) => readOne(id, maxAgeMs)));
    return new Map(unique.map((id, i) => [id, answers[i]!]));
  }

  return {
    read,
    freshAt: (id) => fresh.get(id),
    failedAt: (id) => failed.get(id),
    touch(id) {
      fresh.set(id, Date.now());
      failed.delete(id);
    },
    forget(id) {
      fresh.delete(id);
      last.delete(id);
      failed.delete(id);
    },
    client() {
      const base = real();
      const wrapped: JobClient = {
        ...base,
        async getStatus(id) {
          const answer = (await read([id], JUST_READ_MS)).get(id)!;
          if (answer instanceof Error) throw answer;
          return answer;
        },
        async getStatuses(ids) {
          const answers = await read(ids, JUST_READ_MS);
          const jobs: Job[] = [];
          const missing: string[] = [];
          for (const [id, answer] of answers) {
            if (answer instanceof JobNotFoundError) missing.push(id);
            else if (answer instanceof Error) throw answer;
            else jobs.push(answer);
          }
          return { jobs, missing };
        },
      };
      if (base.subscribe) {
        const subscribe = base.subscribe.bind(base);
        wrapped.subscribe = (id, listener) =>
          subscribe(id, {
            ...listener,
            next: (job, info) => {
              fresh.set(id, Date.now());
              failed.delete(id);
              listener.next(job, info);
            },
          });
      }
      return wrapped;
    },
  };
}
