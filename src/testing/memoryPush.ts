/**
 * Push of the memory backend: subscriptions, the queue of changes not yet
 * delivered, and the one timer that plays scripted changes of subscribed jobs on time.
 */
import { isTerminal } from '../contract/states';
import type { Job, JobSubscriptionListener } from '../contract/types';
import { later, microtask, type BackendClock } from './memoryClock';
import { dueAt } from './memoryScripts';
import { copy, type Entry, type Subscriber } from './memoryEntry';

/** What {@link createJobPush} needs from the backend. */
export interface JobPushOptions {
  /** The backend's clock. */
  clock: BackendClock;
  /** Every entry of the backend, read when the timer is (re)armed. */
  entries: () => Iterable<Entry>;
  /** Applies every scripted change due by now (recording each one). */
  settle: () => void;
  /** Delivers new output parts to output subscribers; called by every flush, after the status changes. Default: nothing. */
  flushOutput?: () => void;
}

/** The push side of one memory backend. */
export interface JobPush {
  /** Queues a change of `entry`'s job for its subscribers (delivered by the next flush). */
  record(entry: Entry, job: Job): void;
  /** Runs a control or a read: due changes first, then `run`, then subscribers hear of every change. */
  transact<T>(run: () => T): T;
  /**
   * Subscribes `listener` to `entry`, or, when `entry` is undefined, tells it `refusal()`
   * (e.g. `JobNotFoundError`) in a microtask. The first delivery comes after `latencyMs()` (read only for a known job).
   */
  attach(entry: Entry | undefined, listener: JobSubscriptionListener, latencyMs: () => number, refusal: () => unknown): () => void;
  /** Re-arms (or clears) the timer after a subscription elsewhere ended. */
  reschedule(): void;
}

/** Calls a listener without letting its exception break the backend; the error still surfaces (uncaught). */
export function invoke(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/** Creates the push side of a memory backend. */
export function createJobPush({ clock, entries, settle, flushOutput }: JobPushOptions): JobPush {
  /** Changes not yet delivered to subscribers, oldest first. Shared so re-entrant flushes keep the order. */
  const outbox: Array<[Entry, Job]> = [];
  /** The subscription timer; `fireAt` is on the base clock, so an `advance` makes it stale. */
  let timer: { fireAt: number; handle: ReturnType<typeof setTimeout>; clear: typeof clearTimeout } | null = null;

  function record(entry: Entry, job: Job): void {
    outbox.push([entry, job]);
  }

  /** Delivers queued changes to subscribers, then re-arms the timer for the next scripted change. */
  function flush(): void {
    for (let item = outbox.shift(); item; item = outbox.shift()) {
      const [entry, job] = item;
      for (const subscriber of [...entry.subscribers]) deliver(entry, subscriber, job);
    }
    flushOutput?.();
    schedule();
  }

  function deliver(entry: Entry, subscriber: Subscriber, job: Job): void {
    if (subscriber.closed || !subscriber.primed || (job.version ?? 0) <= subscriber.lastVersion) return;
    subscriber.lastVersion = job.version ?? 0;
    if (isTerminal(job)) close(entry, subscriber);
    invoke(() => subscriber.listener.next(copy(job)));
  }

  function close(entry: Entry, subscriber: Subscriber): void {
    subscriber.closed = true;
    entry.subscribers.delete(subscriber);
  }

  /**
   * Keeps one timer, for the earliest scripted change of a job with a status or output subscription.
   * Timers wait on the base clock, so the due time is taken back by the clock's offset;
   * after an `advance` the fire time differs and the timer is re-armed.
   * The timer functions are read at call time (fake timers) and the matching
   * clear is kept with the handle, in case fake timers are swapped meanwhile.
   */
  function schedule(): void {
    let at = Infinity;
    for (const entry of entries()) {
      if (entry.subscribers.size === 0 && entry.output.subscribers.size === 0) continue;
      const due = dueAt(entry);
      if (due !== null && due < at) at = due;
    }
    const fireAt = at - clock.offset();
    if (timer && timer.fireAt === fireAt) return;
    if (timer) {
      // Called unbound: browsers reject clearTimeout invoked as a method of another object.
      const { clear, handle } = timer;
      clear(handle);
    }
    timer = null;
    if (at === Infinity) return;
    const handle = globalThis.setTimeout(() => {
      timer = null;
      settle();
      flush();
    }, Math.max(0, at - clock.now()));
    timer = { fireAt, handle, clear: globalThis.clearTimeout };
  }

  function transact<T>(run: () => T): T {
    try {
      settle();
      return run();
    } finally {
      flush();
    }
  }

  function attach(entry: Entry | undefined, listener: JobSubscriptionListener, latencyMs: () => number, refusal: () => unknown): () => void {
    const subscriber: Subscriber = { listener, primed: false, closed: false, lastVersion: -Infinity };
    if (!entry) {
      microtask(() => {
        if (subscriber.closed) return;
        subscriber.closed = true;
        invoke(() => listener.error?.(refusal()));
      });
      return () => {
        subscriber.closed = true;
      };
    }
    entry.subscribers.add(subscriber);
    // The first delivery's flush also arms the timer for the job's next scripted change.
    const cancelFirst = later(latencyMs(), () => {
      if (subscriber.closed) return;
      transact(() => {
        subscriber.primed = true;
        deliver(entry, subscriber, entry.job);
      });
    });
    return () => {
      if (subscriber.closed) return;
      cancelFirst();
      close(entry, subscriber);
      schedule();
    };
  }

  return { record, transact, attach, reschedule: schedule };
}
