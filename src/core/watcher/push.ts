import { isFatalJobError } from '../../contract/errors';
import { parseJob } from '../../contract/parseJob';
import type { Job, JobClient, JobSubscriptionListener } from '../../contract/types';
import { retryAfterOf, timerDelay, type Backoff } from './backoff';

/** What the push unit keeps on each job it subscribes to. */
export interface Pushable {
  /** The job id. */
  readonly id: string;
  /** The subscription's unsubscribe function, while subscribed. */
  unsubscribe: (() => void) | null;
  /** Push delivered since (re)subscribing: polling may drop to the safety interval (semantic 8). */
  live: boolean;
  /** Failed subscriptions in a row, for the resubscribe backoff. */
  pushFailures: number;
  /** The resubscribe timer, while one is pending. */
  pushTimer: ReturnType<typeof setTimeout> | null;
}

/** Push subscriptions of one watcher's jobs, resubscribed with backoff when they fail. */
export interface Push<E extends Pushable> {
  /** Subscribes when push is wanted and possible, unless subscribed or a resubscribe is pending. */
  start(entry: E): void;
  /** Follows a change of what is wanted: starts or stops (see {@link stopPush}). */
  sync(entry: E): void;
}

/** Unsubscribes the job and cancels a pending resubscribe. */
export function stopPush(entry: Pushable): void {
  clearTimeout(entry.pushTimer ?? undefined);
  entry.pushTimer = null;
  const unsubscribe = entry.unsubscribe;
  entry.unsubscribe = null;
  entry.live = false;
  unsubscribe?.();
}

/**
 * Creates the push unit of one watcher.
 *
 * @param client The client to subscribe with, asked at every subscription (it can be swapped).
 * @param backoff The `Retry-After` hold a new subscription waits for, and where a failure's `Retry-After` goes.
 * @param wanted Whether the job should be pushed now (watched with `live`, neither terminal nor failed for good).
 * @param onJob A valid job for this id arrived by push; `becameLive` on the first one since (re)subscribing.
 * @param onLost Push stopped delivering (failed or disconnected); `wasLive`: polling was relying on it.
 * @param onError A malformed push (transient), or a fatal subscription error (`fatal`: push is already stopped).
 * @param hint What the job's watchers ask for, passed to `subscribe` as a third argument (a
 *   client sharing one watcher across tabs polls at that interval; other clients ignore it).
 */
export function createPush<E extends Pushable>(
  client: () => JobClient,
  backoff: Pick<Backoff, 'hold' | 'heldUntil' | 'resubscribeDelay'>,
  wanted: (entry: E) => boolean,
  onJob: (entry: E, job: Job, becameLive: boolean) => void,
  onLost: (entry: E, wasLive: boolean) => void,
  onError: (entry: E, error: Error, fatal: boolean) => void,
  hint?: (entry: E) => { pollInterval: number | false },
): Push<E> {
  const wants = (entry: E) => !!client().subscribe && wanted(entry);

  /** Subscribes again in `ms` if push is still wanted then. */
  function retry(entry: E, ms: number): void {
    entry.pushTimer = setTimeout(() => {
      entry.pushTimer = null;
      start(entry);
    }, timerDelay(ms));
  }

  function start(entry: E): void {
    if (entry.unsubscribe || entry.pushTimer !== null || !wants(entry)) return;
    // A new subscription is a request too: it waits for Retry-After like the reads.
    const wait = backoff.heldUntil() - Date.now();
    if (wait > 0) return retry(entry, wait);
    let closed = false;
    let unsubscribe: (() => void) | undefined;
    // Called once: by `stopPush` (which forgets it first) or by `fail` (which ignores a closed subscription).
    const close = () => {
      closed = true;
      unsubscribe?.();
    };
    const fail = (error: unknown) => {
      if (closed) return;
      // While open, the entry's unsubscribe is this subscription's.
      entry.unsubscribe = null;
      close();
      const wasLive = entry.live;
      entry.live = false;
      if (isFatalJobError(error)) return onError(entry, error as Error, true);
      entry.pushFailures += 1;
      backoff.hold(retryAfterOf(error));
      retry(entry, backoff.resubscribeDelay(entry.pushFailures));
      // Back to the normal interval until push recovers.
      onLost(entry, wasLive);
    };
    entry.unsubscribe = close;
    try {
      // Called as a method (a client may be a class using `this`), with the hint as an extra argument.
      const pushClient = client() as { subscribe(id: string, listener: JobSubscriptionListener, hint?: unknown): () => void };
      unsubscribe = pushClient.subscribe(entry.id, {
        next(raw) {
          if (closed) return;
          let job: Job;
          try {
            job = parseJob(raw);
          } catch (error) {
            // A malformed push is a transient problem, like a malformed poll answer.
            return onError(entry, error as Error, false);
          }
          if (job.id !== entry.id) return;
          entry.pushFailures = 0;
          const becameLive = !entry.live;
          entry.live = true;
          onJob(entry, job, becameLive);
        },
        error: fail,
        disconnected() {
          // The client reconnects by itself; poll at the normal interval until push is back.
          if (closed || !entry.live) return;
          entry.live = false;
          onLost(entry, true);
        },
      }, hint?.(entry));
    } catch (error) {
      fail(error);
    }
    if (closed) unsubscribe?.();
  }

  return {
    start,
    sync(entry) {
      if (wants(entry)) start(entry);
      // Changes nothing when push is off (`live` is only set while subscribed).
      else stopPush(entry);
    },
  };
}
