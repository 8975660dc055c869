import { isAbortError, isFatalJobError } from '../../contract/errors';
import { MAX_OUTPUT_PAGE_PARTS, parseOutputPage, parseOutputParts } from '../../contract/output';
import type { JobClient, JobOutputListener, JobOutputPart } from '../../contract/types';
import { jittered, timerDelay } from '../watcher/backoff';
import { createOutputSequencer, type BatchSource } from './sequencer';
import type { JobOutputConnection } from './types';

/** What a follower needs from its watcher. */
export interface FollowerDeps {
  /** The client to use now (the provider may replace it). */
  client(): JobClient | undefined;
  /** Poll interval of `readOutput` without push, ms. */
  pollInterval: number;
  /** Jitter source in [0, 1). */
  random: () => number;
  /** Whether polling waits now (the page is hidden or offline): no read goes out, the next interval asks again. */
  paused(): boolean;
  /** New parts were delivered, in order (called before `changed`). */
  deliver(parts: JobOutputPart[]): void;
  /** Something of the follower's state changed (connection, error, done…). */
  changed(): void;
}

/** The source side of one followed job: push or poll, gap fills, retries. */
export interface OutputFollower {
  readonly lastSeq: number;
  readonly done: boolean;
  readonly trimmed: boolean;
  readonly error: Error | null;
  readonly connection: JobOutputConnection;
  readonly supported: boolean;
  /** Starts following (once). */
  start(): void;
  /** Stops everything: the subscription, the running read, the timers. */
  stop(): void;
}

/** Base delay of the backoff of failed reads and subscriptions, ms. */
const RETRY_BASE_MS = 1000;

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

/**
 * Follows one job's output from `after`: through `subscribeOutput` when the client has it
 * (resubscribing from the last part delivered after an error, with backoff), else by polling
 * `readOutput` until a page says `done`. Gaps in pushed batches are filled with
 * `readOutput({ after })`, paging until closed. `JobNotFoundError` / `JobUnauthorizedError`
 * end following; any other failure is retried.
 */
export function createOutputFollower(id: string, after: number, deps: FollowerDeps): OutputFollower {
  const sequencer = createOutputSequencer(after, deps.deliver);
  let error: Error | null = null;
  let connection: JobOutputConnection = 'idle';
  let supported = true;
  let stopped = false;
  let started = false;
  let unsubscribe: (() => void) | null = null;
  /** Pending retries: of a read (poll or gap fill) and of the subscription. */
  const timers: Record<'read' | 'subscribe', ReturnType<typeof setTimeout> | null> = { read: null, subscribe: null };
  let reading: AbortController | null = null;
  let failures = 0;

  const ended = () => stopped || sequencer.done || (error !== null && isFatalJobError(error));

  function later(slot: keyof typeof timers, ms: number, run: () => void): void {
    if (timers[slot]) clearTimeout(timers[slot]);
    timers[slot] = setTimeout(() => {
      timers[slot] = null;
      if (!ended()) run();
    }, timerDelay(ms));
  }

  function retryDelay(): number {
    return jittered(Math.max(RETRY_BASE_MS, deps.pollInterval), failures - 1, deps.random);
  }

  /** Ends following for good (done or fatal). */
  function finish(): void {
    unsubscribe?.();
    unsubscribe = null;
    for (const slot of ['read', 'subscribe'] as const) {
      if (timers[slot]) clearTimeout(timers[slot]);
      timers[slot] = null;
    }
    reading?.abort();
    reading = null;
    connection = 'idle';
  }

  /** A failed read or subscription: fatal ends following, else the error shows and `retry` runs after the backoff. */
  function fail(cause: unknown, slot: keyof typeof timers, retry: () => void): void {
    error = asError(cause);
    if (isFatalJobError(cause)) finish();
    else {
      failures++;
      connection = 'error';
      later(slot, retryDelay(), retry);
    }
    deps.changed();
  }

  /** Takes a batch from the wire; returns whether it was valid. */
  function take(parts: unknown, info: { done?: boolean; trimmed?: boolean }, source: BatchSource): boolean {
    let valid: JobOutputPart[];
    try {
      valid = parseOutputParts(parts);
    } catch (cause) {
      // The parts shown stay; watching goes on (a gap this leaves is filled by a read).
      error = asError(cause);
      deps.changed();
      return false;
    }
    sequencer.accept(valid, info, source);
    if (error && !isFatalJobError(error)) error = null;
    if (sequencer.done) finish();
    deps.changed();
    return true;
  }

  /** One `readOutput` after the last delivered part; resolves to the page's part count, or `null` when it failed or was stopped. */
  async function read(retry: () => void): Promise<number | null> {
    const client = deps.client();
    if (!client?.readOutput) return null;
    const controller = new AbortController();
    reading = controller;
    try {
      const page = parseOutputPage(await client.readOutput(id, { after: sequencer.lastSeq, signal: controller.signal }));
      if (stopped || reading !== controller) return null;
      reading = null;
      failures = 0;
      take(page.parts, page, 'read');
      return page.parts.length;
    } catch (cause) {
      if (reading === controller) reading = null;
      if (stopped || isAbortError(cause)) return null;
      fail(cause, 'read', retry);
      return null;
    }
  }

  /** Pages through `readOutput` until the gap before the held parts is closed. */
  async function fill(): Promise<void> {
    if (reading || ended() || !sequencer.gap) return;
    if (!deps.client()?.readOutput) {
      sequencer.skipGap();
      if (sequencer.done) finish();
      deps.changed();
      return;
    }
    while (sequencer.gap && !ended()) {
      const before = sequencer.lastSeq;
      const count = await read(() => void fill());
      if (count === null) return;
      if (sequencer.lastSeq === before) {
        // The store has nothing after the last part yet (the push ran ahead): ask again soon.
        failures++;
        later('read', retryDelay(), () => void fill());
        return;
      }
    }
  }

  async function poll(): Promise<void> {
    if (ended() || reading) return;
    if (deps.paused()) {
      later('read', deps.pollInterval, () => void poll());
      return;
    }
    if (connection !== 'error') connection = 'polling';
    const count = await read(() => void poll());
    if (count === null || ended()) return;
    connection = 'polling';
    deps.changed();
    // A full page means more is waiting: read on at once.
    if (count >= MAX_OUTPUT_PAGE_PARTS) void poll();
    else later('read', deps.pollInterval, () => void poll());
  }

  function subscribe(): void {
    const client = deps.client();
    if (ended() || !client?.subscribeOutput) return;
    let closed = false;
    const close = () => {
      closed = true;
      unsubscribe = null;
    };
    const listener: JobOutputListener = {
      next(parts, info) {
        if (closed || ended()) return;
        connection = 'live';
        failures = 0;
        take(parts, info ?? {}, 'push');
        if (sequencer.gap) void fill();
      },
      error(cause) {
        if (closed || ended()) return;
        const stop = unsubscribe;
        close();
        stop?.();
        fail(cause, 'subscribe', subscribe);
      },
      disconnected() {
        if (closed || ended()) return;
        connection = 'error';
        deps.changed();
      },
    };
    let stop: () => void;
    try {
      stop = client.subscribeOutput(id, { after: sequencer.lastSeq }, listener);
    } catch (cause) {
      listener.error?.(cause);
      return;
    }
    if (closed || ended()) {
      stop();
      return;
    }
    unsubscribe = stop;
    connection = 'live';
    deps.changed();
  }

  return {
    get lastSeq() {
      return sequencer.lastSeq;
    },
    get done() {
      return sequencer.done;
    },
    get trimmed() {
      return sequencer.trimmed;
    },
    get error() {
      return error;
    },
    get connection() {
      return connection;
    },
    get supported() {
      return supported;
    },
    start() {
      if (started) return;
      started = true;
      const client = deps.client();
      if (client?.subscribeOutput) subscribe();
      else if (client?.readOutput) {
        connection = 'polling';
        deps.changed();
        void poll();
      }
      else {
        supported = false;
        deps.changed();
      }
    },
    stop() {
      stopped = true;
      finish();
    },
  };
}
