import type { Queue, RedisClient } from 'bullmq';
import { JobNotFoundError } from '../contract/errors';
import { badRequest } from '../contract/listFilter';
import { MAX_OUTPUT_PAGE_PARTS, outputAfterProblem, outputLimitProblem } from '../contract/output';
import type { JobOutputPage } from '../contract/types';
import type { ReaderEventName } from './eventsReader';
import { isTerminalState, type Entry } from './jobMapping';
import { outputKey, outputScripts, partsOfEntries, seqOfEntryId } from './outputScripts';

/** What the store's output side needs from the store. */
export interface OutputStreamOptions {
  /** The store's connection. */
  client: () => Promise<RedisClient>;
  /** The queue (for its keys). */
  queue: Queue;
  /** Parts kept per job (MAXLEN of the streams). */
  maxOutputParts: number;
  /** How long a finished job's output stays (PEXPIRE once it finished), in ms. */
  keepOutputMs: number;
  /** Reads one job as the store does; `null` when unknown. */
  readEntry(id: string): Promise<Entry | null>;
  /** Whether a job BullMQ removed still reads through the store (e.g. cancelled): its output is then kept `keepOutputMs`. */
  stillReadable(id: string): Promise<boolean>;
}

/** Options of a store output read. */
export interface OutputReadOptions {
  owner: string;
  after?: number | undefined;
  limit?: number | undefined;
}

/** The store's output: reads (with the log copy) and the key's lifetime. */
export interface OutputStream {
  /** `JobStore.readOutput`, without the deadline. */
  readOutput(id: string, options: OutputReadOptions): Promise<JobOutputPage>;
  /** Copies new `job.log()` lines of `ids` into their output (one script call). */
  copyLogs(ids: readonly string[]): Promise<void>;
  /** The key of a job's output stream. */
  keyOf(id: string): string;
  /** The events reader's hook: the key's lifetime follows the job. */
  onEvent(name: ReaderEventName, id: string): Promise<void>;
}

/** Throws a 400 `bad_request` for an `after` or `limit` the contract does not allow. */
export function checkOutputPosition(after: unknown, limit?: unknown): void {
  const problem = outputAfterProblem(after) ?? (limit === undefined ? null : outputLimitProblem(limit));
  if (problem !== null) throw badRequest(problem);
}

/**
 * Output of a BullMQ queue's jobs, in one Redis stream per job (see `outputScripts.ts`).
 *
 * The key's lifetime: it gets a PEXPIRE of `keepOutputMs` when the events reader sees the job
 * complete or fail (and on any read of a finished job that has none), loses it when the job
 * becomes active again (a retry), and is deleted when the job is removed (unless the job
 * still reads, as a cancelled one does: then it expires) or when a read finds the job gone.
 */
export function createOutputStream(options: OutputStreamOptions): OutputStream {
  const { client, queue, maxOutputParts, keepOutputMs, readEntry, stillReadable } = options;
  const scripted = new WeakSet<object>();
  const keyOf = (id: string) => outputKey(queue.toKey(id));

  const scripts = async (): Promise<RedisClient> => outputScripts(scripted, await client());

  /** Sets the lifetime of a job's output stream (see `OUTPUT_LIFETIME_LUA`). */
  async function lifetime(id: string, mode: 'expire' | 'expire-nx' | 'persist' | 'drop'): Promise<void> {
    await (await scripts()).runCommand('jobwatchOutputLifetime', [queue.toKey(id), keyOf(id), mode, keepOutputMs]);
  }

  async function readOutput(id: string, o: OutputReadOptions): Promise<JobOutputPage> {
    const { owner, after = 0, limit = MAX_OUTPUT_PAGE_PARTS } = o;
    checkOutputPosition(after, limit);
    const entry = await readEntry(id);
    if (!entry) {
      // BullMQ removed it (and its record, if any, expired): its output goes too.
      await lifetime(id, 'drop');
      throw new JobNotFoundError(id);
    }
    if (entry.owner === null || entry.owner !== owner) throw new JobNotFoundError(id);
    const terminal = isTerminalState(entry.job.status);
    const jobKey = queue.toKey(id);
    const c = await scripts();
    const answer = (await c.runCommand('jobwatchReadOutput', [
      jobKey,
      `${jobKey}:logs`,
      keyOf(id),
      maxOutputParts,
      new Date().toISOString(),
      after,
      limit,
    ])) as [string, number, unknown];
    const [oldest, last] = [String(answer[0] ?? ''), Number(answer[1] ?? 0)];
    const parts = partsOfEntries(answer[2]);
    // Read after the status: every part written before the job finished is in the stream.
    if (terminal) await lifetime(id, 'expire-nx');
    const trimmed = oldest !== '' && seqOfEntryId(oldest) > after + 1 && after < last;
    const end = parts.length > 0 ? parts[parts.length - 1]!.seq : after;
    const done = terminal && end >= last;
    return trimmed ? { parts, done, trimmed: true } : { parts, done };
  }

  async function copyLogs(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    const args: (string | number)[] = [maxOutputParts, new Date().toISOString()];
    for (const id of ids) {
      const jobKey = queue.toKey(id);
      args.push(jobKey, `${jobKey}:logs`, keyOf(id));
    }
    await (await scripts()).runCommand('jobwatchCopyLogs', args);
  }

  async function onEvent(name: ReaderEventName, id: string): Promise<void> {
    if (name === 'completed' || name === 'failed') {
      // The last lines first: once the job is gone they could no longer be copied.
      await copyLogs([id]);
      await lifetime(id, 'expire');
    } else if (name === 'active') {
      await lifetime(id, 'persist');
    } else if (name === 'removed') {
      await lifetime(id, (await stillReadable(id)) ? 'expire' : 'drop');
    }
  }

  return { readOutput, copyLogs, keyOf, onEvent };
}
