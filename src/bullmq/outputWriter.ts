import type { Job as BullJob, Queue, RedisClient, Worker } from 'bullmq';
import { JobNotFoundError } from '../contract/errors';
import { isValidJobId } from '../contract/ids';
import { checkOutputInput, DEFAULT_STORED_OUTPUT_PARTS } from '../contract/output';
import type { JobOutputInput } from '../contract/types';
import { badRequest } from '../contract/listFilter';
import { outputKey, outputScripts, storedPart } from './outputScripts';

/** Options of {@link createJobOutputWriter}. */
export interface JobOutputWriterOptions {
  /**
   * Parts kept per job; older ones are trimmed (readers see `trimmed`). Default
   * `DEFAULT_STORED_OUTPUT_PARTS` (10,000). Give it the store's `maxOutputParts`.
   */
  maxOutputParts?: number;
}

/** What {@link createJobOutputWriter} returns. */
export interface JobOutputWriter {
  /**
   * Appends one part, or several in one atomic step, to a job's output, and resolves with the
   * seq of the last part written. Any `job.log()` lines not yet in the output are added first
   * (as `log` parts), so the output keeps the order in which they were written. `seq` is
   * assigned by Redis (no gaps, whatever number of workers write); `at` defaults to now.
   * Rejects with a 400 `JobRequestError` for a part that breaks the contract (see
   * `checkOutputInput`), and with `JobNotFoundError` when the queue has no such job.
   *
   * `append(job, [])` only copies the pending `job.log()` lines: call it before the processor
   * returns when jobs are removed as they finish (`removeOnComplete` / `removeOnFail`), since
   * BullMQ deletes the log list with the job.
   */
  append(job: BullJob | string, part: JobOutputInput | readonly JobOutputInput[]): Promise<number>;
}

/** Checks a `maxOutputParts` option; returns it or the default. */
export function checkMaxOutputParts(value: number | undefined, where: string): number {
  if (value === undefined) return DEFAULT_STORED_OUTPUT_PARTS;
  if (!Number.isSafeInteger(value) || value < 1) throw new TypeError(`${where}: maxOutputParts must be a positive integer`);
  return value;
}

/**
 * The worker side of streamed output: appends parts to the output of the jobs of `source`'s
 * queue (a `Worker` or a `Queue`, on its connection), where `createBullMQJobStore` reads
 * them, from any process. Parts go to the Redis stream `<prefix>:<queue>:<id>:jw:out`.
 *
 * `job.updateProgress()` writes no part (progress is status: watchers see it on the job);
 * `job.log(line)` lines become `log` parts, copied when the output is next read or written
 * (their `at` is when they were copied: BullMQ keeps no time for them).
 *
 * Writes go through `source`'s own connection, as BullMQ's calls do: with
 * `maxRetriesPerRequest: null` an append waits while Redis is away, and goes on once it is back.
 *
 * @example
 * const worker = new Worker('chat', async (job) => {
 *   for await (const token of llm.stream(job.data.prompt)) {
 *     await output.append(job, { kind: 'text', text: token });
 *   }
 * }, { connection });
 * const output = createJobOutputWriter(worker);
 */
export function createJobOutputWriter(source: Worker | Queue, options: JobOutputWriterOptions = {}): JobOutputWriter {
  const maxlen = checkMaxOutputParts(options.maxOutputParts, 'createJobOutputWriter');
  const scripted = new WeakSet<object>();

  async function append(job: BullJob | string, part: JobOutputInput | readonly JobOutputInput[]): Promise<number> {
    const id = typeof job === 'string' ? job : String(job.id);
    if (!isValidJobId(id)) throw badRequest('not a valid job id');
    const list: readonly JobOutputInput[] = Array.isArray(part) ? part : [part as JobOutputInput];
    const now = new Date().toISOString();
    const stored = list.map((one) => {
      const checked = checkOutputInput(one);
      if (checked.at !== undefined && (typeof checked.at !== 'string' || Number.isNaN(Date.parse(checked.at)))) {
        throw badRequest('at must be an ISO 8601 date string');
      }
      // Measured as readers will see it, with its seq and time: a part that fits here fits there.
      checkOutputInput({ seq: Number.MAX_SAFE_INTEGER, ...checked, at: checked.at ?? now });
      return storedPart(checked, now);
    });
    const jobKey = source.toKey(id);
    const client = outputScripts(scripted, (await source.getBackend().client) as RedisClient);
    const seq = Number(
      await client.runCommand('jobwatchAppendOutput', [jobKey, `${jobKey}:logs`, outputKey(jobKey), maxlen, now, ...stored]),
    );
    if (seq < 0) throw new JobNotFoundError(id);
    return seq;
  }

  return { append };
}
