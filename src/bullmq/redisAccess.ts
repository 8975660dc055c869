import { Queue } from 'bullmq';
import type { RedisClient } from 'bullmq';
import { JobError, JobTransportError } from '../contract/errors';

/** Default of `BullMQJobStoreOptions.timeoutMs`. */
export const DEFAULT_TIMEOUT_MS = 2000;
/** The `retryAfterMs` of the store's `JobTransportError`s: about when a reconnect is tried again. */
const RETRY_AFTER_MS = 1000;
/** The longest pause between two reconnects of the store's own connection. */
const MAX_RECONNECT_DELAY_MS = 1000;
/** What a lost, refused, closed or timed-out connection (or a Redis that cannot serve yet) throws. */
const UNAVAILABLE =
  /connection is closed|stream isn't writeable|enableofflinequeue|command timed out|max retries|maxretriesperrequest|ECONNREFUSED|ECONNRESET|ECONNABORTED|ENOENT|EPIPE|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|socket|^(LOADING|BUSY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|READONLY)\b/i;

/**
 * The store's way to Redis: its own connection, duplicated from the queue's with
 * `enableOfflineQueue: false`, `maxRetriesPerRequest: 0`, `commandTimeout: timeoutMs` and
 * reconnects at least every second, and a `Queue` object of the same queue on it. A command
 * sent while Redis is away fails at once instead of waiting in an offline queue (the
 * queue's own connection usually has `maxRetriesPerRequest: null`, so there it would wait
 * forever, and run late, after its caller gave up).
 */
export interface RedisAccess {
  /** The queue, on the store's connection. */
  queue(): Promise<Queue>;
  /** The store's connection. */
  client(): Promise<RedisClient>;
  /**
   * Runs one store operation within `deadlineMs` (default `timeoutMs`). An error of a Redis
   * that is away, or no answer by then, rejects with a `JobTransportError` saying Redis is
   * unavailable; `JobError`s and other errors pass as they are.
   */
  run<T>(what: string, operation: () => Promise<T>, deadlineMs?: number): Promise<T>;
  /** Closes the store's connection (the queue given is left alone). */
  close(): Promise<void>;
}

/**
 * Reconnects of a connection the store opens: at least once a second, so the store follows
 * Redis back within a second (ioredis backs off to 2 s, BullMQ's default to 20 s).
 */
export const reconnectSoon = (times: number) => Math.min(times * 100, MAX_RECONNECT_DELAY_MS);

/** Whether `error` says Redis cannot be reached (rather than a bad command or a bug). */
export function isUnavailableError(error: unknown): boolean {
  if (!(error instanceof Error) || error instanceof JobError) return false;
  const code = (error as { code?: unknown }).code;
  return UNAVAILABLE.test(error.message) || (typeof code === 'string' && UNAVAILABLE.test(code)) || error.name === 'MaxRetriesPerRequestError';
}

/** The error a store operation rejects with while Redis is away. */
export function unavailable(what: string, cause?: unknown): JobTransportError {
  const reason = cause instanceof Error ? `: ${cause.message}` : '';
  return new JobTransportError(`Redis is unavailable (${what})${reason}`, { retryAfterMs: RETRY_AFTER_MS, cause });
}

/** Opens nothing until the first operation; `timeoutMs` bounds every command and every operation. */
export function createRedisAccess(source: Queue, timeoutMs: number): RedisAccess {
  interface Handles {
    client: RedisClient;
    queue: Queue;
  }
  let opened: Promise<Handles> | null = null;
  let closed = false;

  async function shut(handles: Handles): Promise<void> {
    await handles.queue.close().catch(() => undefined);
    handles.client.disconnect();
  }

  function open(): Promise<Handles> {
    if (closed) return Promise.reject(unavailable('the store is closed'));
    opened ??= (async () => {
      // Waits for the queue's own connection (the race in `run` bounds the wait).
      const base = await source.getBackend().client;
      const client = base.duplicate({
        enableOfflineQueue: false,
        maxRetriesPerRequest: 0,
        commandTimeout: timeoutMs,
        retryStrategy: reconnectSoon,
        connectionName: 'jobwatch',
      });
      // Reported through the operations' own errors; without a listener an 'error' event throws.
      client.on('error', () => undefined);
      const queue = new Queue(source.name, {
        connection: client as never,
        ...(source.opts.prefix ? { prefix: source.opts.prefix } : {}),
      });
      queue.on('error', () => undefined);
      await queue.waitUntilReady();
      const handles = { client, queue };
      if (closed) {
        await shut(handles);
        throw unavailable('the store is closed');
      }
      return handles;
    })();
    return opened;
  }

  async function run<T>(what: string, operation: () => Promise<T>, deadlineMs = timeoutMs): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(unavailable(`${what}: no answer within ${deadlineMs} ms`)), deadlineMs);
    });
    try {
      return await Promise.race([operation(), deadline]);
    } catch (error) {
      throw isUnavailableError(error) ? unavailable(what, error) : error;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    queue: async () => (await open()).queue,
    client: async () => (await open()).client,
    run,
    async close() {
      if (closed) return;
      closed = true;
      const current = opened;
      opened = null;
      if (!current) return;
      // An open still waiting for Redis closes what it opens once it does (see `open`).
      let settled: Handles | null | undefined;
      void current.then((handles) => (settled = handles), () => (settled = null));
      await Promise.resolve();
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (settled) await shut(settled);
    },
  };
}
