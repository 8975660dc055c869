import type { Job as BullJob, Queue, RedisClient } from 'bullmq';
import type { ReaderEventName } from './eventsReader';
import type { BullState, Entry } from './jobMapping';
import type { FinishedRecord } from './jobReads';

/** Default of `BullMQJobStoreOptions.keepFinishedMs`: one hour. */
export const DEFAULT_KEEP_FINISHED_MS = 60 * 60 * 1000;
/** Key prefix (under the queue's keys) of the terminal records. */
export const FINISHED_RECORDS = 'jobwatch:finished:';
/** Running jobs remembered at most (the oldest is forgotten first). */
const MAX_REMEMBERED = 10_000;

/** What writing terminal records needs from the store. */
export interface FinishedRecordsOptions {
  client: () => Promise<RedisClient>;
  queue: () => Promise<Queue>;
  /** `<prefix>:<queue>:jobwatch:finished:` */
  keyPrefix: string;
  keepFinishedMs: number;
  toEntry(bjob: BullJob, state: BullState): Entry;
}

/**
 * Terminal records: when the events reader sees a job complete or fail, the mapped final job
 * is written to `<prefix>:<queue>:jobwatch:finished:<id>` with a TTL of `keepFinishedMs`, so
 * it stays readable after BullMQ removed it (`removeOnComplete` / `removeOnFail`). A job
 * removed in the same step that finished it is rebuilt from what the store last read of it
 * while it was pending or running (at its `active` event, or any read of the store, with later
 * progress), plus the event's result or error.
 */
export function createFinishedRecords(options: FinishedRecordsOptions) {
  const { client, queue, keyPrefix, keepFinishedMs, toEntry } = options;
  /** Each running job as last read, by id. */
  const running = new Map<string, BullJob>();

  function remember(id: string, bjob: BullJob): void {
    running.delete(id);
    running.set(id, bjob);
    if (running.size > MAX_REMEMBERED) running.delete(running.keys().next().value as string);
  }

  async function write(entry: Entry): Promise<void> {
    const record: FinishedRecord = { owner: entry.owner, createdAtMs: entry.createdAtMs, job: entry.job };
    await (await client()).set(`${keyPrefix}${entry.job.id}`, JSON.stringify(record), { PX: keepFinishedMs });
  }

  /** The events reader's hook. */
  async function onEvent(name: ReaderEventName, args: Record<string, unknown> & { jobId: string }, streamId: string): Promise<void> {
    const id = String(args.jobId);
    if (name === 'active') {
      const bjob = await (await queue()).getJob(id);
      if (bjob) remember(id, bjob);
    } else if (name === 'progress') {
      const bjob = running.get(id);
      if (bjob) bjob.progress = args.data as BullJob['progress'];
    } else if (name === 'completed' || name === 'failed') {
      const last = running.get(id);
      running.delete(id);
      let bjob = await (await queue()).getJob(id);
      if (!bjob && last) {
        // Removed as it finished: what it was while it ran, finished as the event says.
        bjob = last;
        bjob.finishedOn = Number(streamId.split('-')[0]) || Date.now();
        bjob.attemptsMade = (bjob.attemptsMade ?? 0) + 1;
        if (name === 'completed') bjob.returnvalue = args.returnvalue;
        else bjob.failedReason = typeof args.failedReason === 'string' ? args.failedReason : 'Failed';
      }
      if (bjob) await write(toEntry(bjob, name));
    }
  }

  /** A job the store read while it was pending or running: what its record is built from if it is removed as it finishes. */
  function seen(bjob: BullJob): void {
    const id = String(bjob.id);
    const known = running.get(id);
    if (!known || (known.processedOn ?? 0) <= (bjob.processedOn ?? 0)) remember(id, bjob);
  }

  return { onEvent, seen };
}
