import { JobNotFoundError, JobProtocolError } from '../contract/errors';
import { parseJobBatch, parseJobFor } from '../contract/parseJob';
import type { Job, JobStore, JobStoreRequestOptions } from '../contract/types';
import { linkedAbortController } from './http';

/** Jobs read from a store, keyed by id, and the ids it does not know (or the owner may not see). */
export interface ReadJobsResult {
  jobs: Map<string, Job>;
  missing: string[];
}

/**
 * Reads `ids` (unique, valid) with `store.getStatuses` when the store has it,
 * else with one `getStatus` per id (`JobNotFoundError` → missing). Every job
 * is validated; `missing` is computed from what came back rather than trusted,
 * so no requested id is ever silently dropped.
 */
export async function readJobs(store: JobStore, ids: string[], options: JobStoreRequestOptions): Promise<ReadJobsResult> {
  const jobs = new Map<string, Job>();
  if (store.getStatuses) {
    const batch = parseJobBatch(await store.getStatuses(ids, options));
    const wanted = new Set(ids);
    for (const job of batch.jobs) {
      if (!wanted.has(job.id)) throw new JobProtocolError('jobs', `holds job "${job.id}", which was not asked for`);
      if (!jobs.has(job.id)) jobs.set(job.id, job);
    }
  } else {
    // One failure fails the whole read, so the reads still running are aborted rather than left to finish for nothing.
    const reads = linkedAbortController(options.signal);
    try {
      await Promise.all(
        ids.map(async (id) => {
          try {
            jobs.set(id, parseJobFor(await store.getStatus(id, { owner: options.owner, signal: reads.signal }), id));
          } catch (error) {
            if (error instanceof JobNotFoundError) return;
            reads.abort();
            throw error;
          }
        }),
      );
    } finally {
      reads.unlink();
    }
  }
  return { jobs, missing: ids.filter((id) => !jobs.has(id)) };
}
