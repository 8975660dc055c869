import type { RedisClient } from 'bullmq';
import type { Redis } from 'ioredis';
import { JobError } from '../contract/errors';
import { MAX_OUTPUT_PAGE_PARTS } from '../contract/output';
import type { JobOutputListener, JobOutputPage, JobOutputPart, JobSubscriptionListener } from '../contract/types';
import { isTerminalState } from './jobMapping';
import { partsOfEntries } from './outputScripts';
import { checkOutputPosition, type OutputStream } from './outputStream';
import { reconnectSoon } from './redisAccess';

/** How long one XREAD waits for new parts; new subscriptions wake it at once (CLIENT UNBLOCK). */
const BLOCK_MS = 1000;
/** New `job.log()` lines of live subscriptions are copied at most this often. */
const LOG_COPY_MS = 500;
/** How soon a read that failed because Redis was away is tried again. */
const RETRY_MS = 1000;

/** What live output needs from the store. */
export interface OutputLiveOptions {
  /** The store's connection (the blocking reader is duplicated from it). */
  client: () => Promise<RedisClient>;
  /** The store's `timeoutMs`. */
  timeoutMs: number;
  output: OutputStream;
  /** `JobStore.readOutput` with its deadline. */
  readOutput(id: string, o: { owner: string; after: number; limit: number }): Promise<JobOutputPage>;
  /** Copies new log lines, with the store's deadline. */
  copyLogs(ids: readonly string[]): Promise<void>;
  /** The store's status push (it says when the job is terminal, or another owner's). */
  subscribeStatus(id: string, listener: JobSubscriptionListener, owner: string): () => void;
}

interface OutputSub {
  id: string;
  owner: string;
  listener: JobOutputListener;
  /** The last seq delivered. */
  last: number;
  open: boolean;
  /** Caught up: the blocking reader delivers its new parts. */
  live: boolean;
  /** A catch-up read is running; `again`: run one more after it. */
  reading: boolean;
  again: boolean;
  retry: ReturnType<typeof setTimeout> | undefined;
  stopStatus: () => void;
}

/** Live output of a store: each subscription catches up with reads, then one XREAD BLOCK connection follows every stream. */
export interface OutputLive {
  subscribe(id: string, options: { after?: number; owner: string }, listener: JobOutputListener): () => void;
  /** Ends every subscription and closes the blocking connection. */
  close(): Promise<void>;
}

/**
 * Output subscriptions. A subscription first reads the parts after `after` (pages of
 * `MAX_OUTPUT_PAGE_PARTS`, through `readOutput`, which also copies new log lines and checks
 * the owner), then joins the store's one blocking reader: an `XREAD BLOCK` over every
 * followed stream on a connection of its own, so a part a worker writes reaches every store
 * instance on the Redis at once. New `job.log()` lines are copied between two reads (at most
 * every 500 ms). The status push says when the job is terminal: a last read then delivers the
 * rest with `done: true`, and the subscription ends.
 */
export function createOutputLive(options: OutputLiveOptions): OutputLive {
  const { client, timeoutMs, output } = options;
  const subs = new Set<OutputSub>();
  /** The open subscriptions of each job. */
  const byId = new Map<string, Set<OutputSub>>();
  let blocker: Redis | null = null;
  let blockerId: number | null = null;
  /** A wake came before the blocking connection's id was known: it is sent once it is. */
  let wakeLater = false;
  let looping = false;
  let closed = false;
  let lastCopy = 0;
  /** The reader lost Redis: live subscriptions were told. */
  let down = false;

  function end(sub: OutputSub): void {
    if (!sub.open) return;
    sub.open = false;
    clearTimeout(sub.retry);
    subs.delete(sub);
    const same = byId.get(sub.id);
    same?.delete(sub);
    if (same?.size === 0) byId.delete(sub.id);
    sub.stopStatus();
  }

  function fail(sub: OutputSub, error: unknown): void {
    if (!sub.open) return;
    end(sub);
    sub.listener.error?.(error);
  }

  /** Delivers the parts after the last one delivered; `done` ends the subscription. */
  function deliver(sub: OutputSub, parts: JobOutputPart[], info: { done?: boolean; trimmed?: boolean }): void {
    if (!sub.open) return;
    const fresh = parts.filter((part) => part.seq > sub.last);
    const trimmed = info.trimmed === true || (fresh.length > 0 && fresh[0]!.seq > sub.last + 1);
    if (fresh.length === 0 && !info.done) return;
    if (fresh.length > 0) sub.last = fresh[fresh.length - 1]!.seq;
    if (info.done) end(sub);
    const flags = { ...(info.done ? { done: true } : {}), ...(trimmed ? { trimmed: true } : {}) };
    sub.listener.next(fresh, Object.keys(flags).length > 0 ? flags : undefined);
  }

  /** Reads pages until caught up (or done), then hands the subscription to the blocking reader. */
  async function catchUp(sub: OutputSub): Promise<void> {
    if (sub.reading) {
      sub.again = true;
      return;
    }
    sub.reading = true;
    try {
      do {
        sub.again = false;
        let page: JobOutputPage;
        do {
          page = await options.readOutput(sub.id, { owner: sub.owner, after: sub.last, limit: MAX_OUTPUT_PAGE_PARTS });
          deliver(sub, page.parts, page);
        } while (sub.open && !page.done && page.parts.length === MAX_OUTPUT_PAGE_PARTS);
      } while (sub.open && sub.again);
      if (sub.open && !sub.live) {
        sub.live = true;
        wake();
      }
    } catch (error) {
      if (!sub.open) return;
      if (error instanceof JobError) return fail(sub, error);
      // Redis did not answer: say so, keep the subscription, read again in a second.
      sub.listener.disconnected?.(error);
      clearTimeout(sub.retry);
      sub.retry = setTimeout(() => void catchUp(sub), RETRY_MS);
    } finally {
      sub.reading = false;
    }
  }

  async function openBlocker(): Promise<Redis> {
    if (blocker) return blocker;
    const base = await client();
    const duplicate = base.duplicate({
      // Every XREAD waits BLOCK_MS; the deadline leaves it that long and the store's timeout.
      commandTimeout: BLOCK_MS + timeoutMs,
      enableOfflineQueue: true,
      maxRetriesPerRequest: 0,
      retryStrategy: reconnectSoon,
      connectionName: 'jobwatch-output',
      // The store's connection is an ioredis client (BullMQ's Redis backend).
    }) as unknown as Redis;
    duplicate.on('error', () => undefined);
    blocker = duplicate;
    return duplicate;
  }

  /** Ends a blocking XREAD now, so the next one follows the streams of subscriptions that just went live. */
  function wake(): void {
    if (!looping) return void loop();
    if (blockerId === null) {
      wakeLater = true;
      return;
    }
    const id = blockerId;
    void client()
      .then((c) => (c as unknown as Redis).client('UNBLOCK', id))
      .catch(() => undefined);
  }

  /** The live streams and the position to read each from (the least last seq of its subscriptions). */
  function positions(): Map<string, number> {
    const at = new Map<string, number>();
    for (const sub of subs) {
      if (!sub.live || !sub.open) continue;
      at.set(sub.id, Math.min(at.get(sub.id) ?? sub.last, sub.last));
    }
    return at;
  }

  async function loop(): Promise<void> {
    if (looping || closed) return;
    looping = true;
    try {
      for (;;) {
        const at = positions();
        if (closed || at.size === 0) break;
        const ids = [...at.keys()];
        try {
          if (Date.now() - lastCopy >= LOG_COPY_MS) {
            lastCopy = Date.now();
            await options.copyLogs(ids);
          }
          const reader = await openBlocker();
          blockerId = null;
          wakeLater = false;
          void reader.client('ID').then(
            (id: unknown) => {
              blockerId = Number(id);
              if (wakeLater) {
                wakeLater = false;
                wake();
              }
            },
            () => undefined,
          );
          const streams = [...ids.map(output.keyOf), ...ids.map((id) => `${at.get(id)}-0`)];
          const answer: unknown = await reader.xread('COUNT', MAX_OUTPUT_PAGE_PARTS, 'BLOCK', BLOCK_MS, 'STREAMS', ...streams);
          // Back after an outage: each stream is read from its subscriptions' last part, nothing is lost.
          down = false;
          for (const [key, entries] of Array.isArray(answer) ? (answer as [string, unknown][]) : []) {
            const id = ids.find((one) => output.keyOf(one) === key);
            if (id === undefined) continue;
            const parts = partsOfEntries(entries);
            for (const sub of [...(byId.get(id) ?? [])]) if (sub.live) deliver(sub, parts, {});
          }
        } catch (error) {
          if (closed) break;
          if (error instanceof Error && /UNBLOCKED/.test(error.message)) continue;
          if (!down) {
            down = true;
            for (const sub of subs) if (sub.live) sub.listener.disconnected?.(error);
          }
          await new Promise((resolve) => setTimeout(resolve, RETRY_MS));
        }
      }
    } finally {
      looping = false;
    }
  }

  function subscribe(id: string, o: { after?: number; owner: string }, listener: JobOutputListener): () => void {
    const after = o.after ?? 0;
    const sub: OutputSub = {
      id,
      owner: o.owner,
      listener,
      last: after,
      open: true,
      live: false,
      reading: false,
      again: false,
      retry: undefined,
      stopStatus: () => undefined,
    };
    try {
      checkOutputPosition(after);
      if (closed) throw new Error('the store is closed');
    } catch (error) {
      queueMicrotask(() => listener.error?.(error));
      return () => undefined;
    }
    subs.add(sub);
    byId.set(id, (byId.get(id) ?? new Set<OutputSub>()).add(sub));
    // The status push, for the end: once the job is terminal a last read delivers the rest.
    sub.stopStatus = options.subscribeStatus(
      id,
      {
        next: (job) => {
          if (isTerminalState(job.status)) void catchUp(sub);
        },
        error: (error) => fail(sub, error),
        disconnected: (error) => listener.disconnected?.(error),
      },
      o.owner,
    );
    if (!sub.open) return () => undefined;
    void catchUp(sub);
    return () => end(sub);
  }

  async function close(): Promise<void> {
    closed = true;
    for (const sub of [...subs]) end(sub);
    const current = blocker;
    blocker = null;
    current?.disconnect();
  }

  return { subscribe, close };
}
