import type { Worker } from 'bullmq';
import { CANCEL_STREAM } from './cancelMarkers';

/** What {@link listenForCancels} returns. */
export interface CancelListener {
  /** Stops listening and closes the reader's connection. */
  close(): Promise<void>;
}

/** Options of {@link listenForCancels}. */
export interface ListenForCancelsOptions {
  /** The reason the processor's `AbortSignal` is aborted with. Default `'Cancelled'`. */
  reason?: string;
  /** Called when reading the cancel stream fails (it retries every second). */
  onError?: (error: unknown) => void;
}

/** Cancels this far back are replayed on start (a no-op for jobs the worker is not running), so none sent while it connects is lost. */
const REPLAY_MS = 5000;
const BLOCK_MS = 5000;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface CancelEntry {
  entryId: string;
  jobId: string | null;
  /** The cancelled job's creation time (BullMQ's `timestamp`), when given. */
  timestamp: string | null;
}

/** `[[key, [[entryId, [field, value, …]], …]], …]` (what XREAD answers) as entries. */
function entriesOf(answer: unknown): CancelEntry[] {
  const out: CancelEntry[] = [];
  if (!Array.isArray(answer)) return out;
  for (const stream of answer) {
    if (!Array.isArray(stream) || !Array.isArray(stream[1])) continue;
    for (const entry of stream[1] as unknown[]) {
      if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) continue;
      const fields = entry[1] as unknown[];
      const field = (name: string): string | null => {
        const at = fields.indexOf(name);
        return at >= 0 && typeof fields[at + 1] === 'string' ? (fields[at + 1] as string) : null;
      };
      out.push({ entryId: entry[0], jobId: field('jobId'), timestamp: field('timestamp') });
    }
  }
  return out;
}

/**
 * The worker side of `createBullMQJobStore({ cancelActive: 'workers' })`: reads the queue's
 * cancel stream (`<prefix>:<queue>:jobwatch:cancel`, on its own connection duplicated from the
 * worker's) and aborts the processor of a cancelled job through `worker.cancelJob(id)`. Jobs
 * this worker does not run are ignored, so every worker of the queue, in any process, can
 * listen. The processor must honour its third argument, the `AbortSignal`: stop and throw
 * (an `UnrecoverableError` skips the remaining attempts).
 *
 * @example
 * const worker = new Worker('renders', async (job, token, signal) => {
 *   for (const frame of frames) {
 *     if (signal?.aborted) throw new UnrecoverableError('Cancelled');
 *     await render(frame);
 *   }
 * }, { connection });
 * const cancels = await listenForCancels(worker);
 * // on shutdown: await cancels.close(); await worker.close();
 */
export async function listenForCancels(worker: Worker, options: ListenForCancelsOptions = {}): Promise<CancelListener> {
  const { reason = 'Cancelled', onError } = options;
  const key = worker.toKey(CANCEL_STREAM);
  const client = await worker.getBackend().client;
  const reader = client.duplicate();
  let closed = false;
  let last = `${Math.max(0, Date.now() - REPLAY_MS)}-0`;

  const loop = (async () => {
    while (!closed) {
      try {
        const answer: unknown = await reader.xread([{ key, id: last }], { BLOCK: BLOCK_MS, COUNT: 100 });
        for (const { entryId, jobId, timestamp } of entriesOf(answer)) {
          last = entryId;
          if (!jobId) continue;
          // Replayed entries may name an id since reused by a new job: only the same job is cancelled.
          if (timestamp !== null && (await client.hget(worker.toKey(jobId), 'timestamp')) !== timestamp) continue;
          worker.cancelJob(jobId, reason);
        }
      } catch (error) {
        if (closed) break;
        onError?.(error);
        await sleep(1000);
      }
    }
  })();

  return {
    async close() {
      if (closed) return;
      closed = true;
      reader.disconnect();
      await loop;
    },
  };
}
