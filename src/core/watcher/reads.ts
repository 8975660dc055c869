import { JobError, JobNotFoundError, JobProtocolError, JobTransportError } from '../../contract/errors';
import { parseBatchEnvelope, parseJob } from '../../contract/parseJob';
import type { Job, JobClient } from '../../contract/types';
import { isValidJobId } from '../../contract/ids';

/** A batch answer whose envelope is checked but whose jobs are not yet: each job is checked on its own. */
type RawBatch = ReturnType<typeof parseBatchEnvelope>;

/** One read in flight: a `getStatuses` call for several jobs, or a `getStatus` call for one. */
export interface Read<E> {
  readonly controller: AbortController;
  /** The jobs still waiting for this read; when it empties, the read is aborted. */
  readonly entries: Set<E>;
  /** Settles when the read is done and its answers applied. */
  promise: Promise<void>;
}

/** What the reader keeps on each job it reads. */
export interface Readable {
  /** The job id. */
  readonly id: string;
  /** The read in flight for this job, if any: never more than one (semantic 10). */
  read: Read<this> | null;
  /** Callers waiting for the job's next read to finish (see {@link nextRead}). */
  waiters: Array<() => void>;
}

/** Reads these jobs now: one `getStatuses` call per `maxBatchSize` ids when the client has it. */
export type ReadNow<E extends Readable> = (list: E[]) => void;

/** Forgets the read in flight for this job; aborts it when no other job waits for it. */
export function abandonRead(entry: Readable): void {
  const r = entry.read;
  if (!r) return;
  entry.read = null;
  r.entries.delete(entry);
  if (r.entries.size === 0) r.controller.abort();
}

/**
 * Creates the reader of one watcher: the function that sends reads (see
 * {@link ReadNow}; {@link abandonRead} takes a job off one).
 *
 * @param client The client to read with, asked at every read (it can be swapped).
 * @param maxBatchSize Most ids in one `getStatuses` call; larger rounds are split.
 * @param onRound A read finished. Called once per read with whether the whole
 *   request failed; returns what to do with each job still waiting for it,
 *   called in order with its answer (the job, or the error to show for it).
 */
export function createReader<E extends Readable>(
  client: () => JobClient,
  maxBatchSize: number,
  onRound: (failed: boolean) => (entry: E, answer: Job | Error) => void,
): ReadNow<E> {
  function start(list: E[]): void {
    const controller = new AbortController();
    const r = { controller, entries: new Set(list) } as Read<E>;
    for (const entry of list) entry.read = r;
    const c = client();
    const ids = list.map((e) => e.id);
    const finish = (batch: RawBatch | null, error: unknown) => {
      const members = [...r.entries];
      r.entries.clear();
      // Nobody waits for this read any more (e.g. it was aborted): nothing to apply.
      if (members.length === 0) return;
      const answers = answersOf(members.map((e) => e.id), batch, error);
      const each = onRound(error !== null);
      for (const entry of members) {
        if (entry.read !== r) continue;
        entry.read = null;
        each(entry, answers.get(entry.id)!);
      }
    };
    r.promise = Promise.resolve()
      .then(() => requestStatuses(c, ids, controller.signal))
      .then(
        (batch) => finish(batch, null),
        (error: unknown) => finish(null, error),
      );
  }

  return (list) => {
    const batchable: E[] = [];
    const single: E[] = [];
    // Ids outside the REST contract's rules are read alone, so one bad id cannot fail a whole batch.
    for (const e of list) (client().getStatuses && isValidJobId(e.id) ? batchable : single).push(e);
    if (batchable.length === 1) single.push(batchable.pop()!);
    for (let i = 0; i < batchable.length; i += maxBatchSize) start(batchable.slice(i, i + maxBatchSize));
    for (const entry of single) start([entry]);
  };
}

/** Anything untyped (a fetch TypeError, a thrown string) is a transport problem. */
export function toJobError(error: unknown): Error {
  if (error instanceof JobError) return error;
  return new JobTransportError(error instanceof Error ? error.message : String(error), { cause: error });
}

/** Resolves when the job's next read is done (or its work stops: see {@link settleWaiters}). */
export function nextRead(entry: Readable): Promise<void> {
  return new Promise<void>((resolve) => entry.waiters.push(resolve));
}

/** Resolves everyone waiting for the job's next read. */
export function settleWaiters(entry: Readable): void {
  for (const resolve of entry.waiters.splice(0)) resolve();
}

/**
 * Reads the status of `ids` with one call: `getStatus` for one id,
 * `getStatuses` for several. Rejects as the client does (or when a batch
 * envelope is malformed); the jobs themselves are checked by {@link answersOf}.
 */
export async function requestStatuses(client: JobClient, ids: string[], signal: AbortSignal): Promise<RawBatch> {
  return ids.length === 1
    ? { jobs: [await client.getStatus(ids[0]!, { signal })], missing: [] }
    : parseBatchEnvelope(await client.getStatuses!(ids, { signal }));
}

/**
 * What one read answered for each id it asked about: the valid job, or the
 * error to show for it. A failed request (`error`) fails every id with it
 * (untyped errors become `JobTransportError`); otherwise each job is checked on
 * its own, so one malformed job fails only itself, an id in `missing` gets
 * `JobNotFoundError`, and an id the answer left out a `JobProtocolError`.
 */
export function answersOf(ids: readonly string[], batch: RawBatch | null, error: unknown): Map<string, Job | Error> {
  const answers = new Map<string, Job | Error>();
  if (error !== null || !batch) {
    const failure = toJobError(error);
    for (const id of ids) answers.set(id, failure);
    return answers;
  }
  for (const raw of batch.jobs) {
    try {
      const job = parseJob(raw);
      answers.set(job.id, job);
    } catch (problem) {
      const id = (raw as { id?: unknown } | null)?.id;
      if (typeof id === 'string') answers.set(id, problem as Error);
      else if (ids.length === 1) answers.set(ids[0]!, problem as Error);
    }
  }
  for (const id of ids) {
    if (answers.has(id)) continue;
    answers.set(
      id,
      batch.missing.includes(id)
        ? new JobNotFoundError(id)
        : ids.length === 1
          ? new JobProtocolError('id', `must be "${id}", the id that was asked for`)
          : new JobProtocolError('jobs', `lacks "${id}", which is not in missing either`),
    );
  }
  return answers;
}
