import { JobNotFoundError, JobProtocolError } from '../errors';
import { parseBatchEnvelope, parseJob } from '../parseJob';
import type { Job, JobClient } from '../types';
import { toJobError } from './entry';

/** A batch answer whose envelope is checked but whose jobs are not yet: each job is checked on its own. */
type RawBatch = ReturnType<typeof parseBatchEnvelope>;

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
  const missing = new Set(batch.missing);
  for (const id of ids) {
    if (answers.has(id)) continue;
    answers.set(
      id,
      missing.has(id)
        ? new JobNotFoundError(id)
        : ids.length === 1
          ? new JobProtocolError('id', `must be "${id}", the id that was asked for`)
          : new JobProtocolError('jobs', `lacks "${id}", which is not in missing either`),
    );
  }
  return answers;
}
