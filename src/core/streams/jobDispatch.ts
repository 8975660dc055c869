import { JobProtocolError } from '../../contract/errors';
import { isTerminal } from '../../contract/states';
import { isNewerJob } from '../../contract/ordering';
import type { Job, JobSubscriptionListener } from '../../contract/types';

/** @internal Calls `fn`; a throw is rethrown in a microtask, so one listener cannot break delivery to the others or the stream. */
export function guarded(fn: () => void): void {
  try {
    fn();
  } catch (error) {
    queueMicrotask(() => {
      throw error;
    });
  }
}

/**
 * @internal Which ids a malformed frame concerns, and the error to tell their
 * listeners: the id the frame names when it is one of `ids`, else all of `ids`.
 */
export function malformedFrame(
  data: string,
  ids: readonly string[],
  problem: unknown,
): { ids: readonly string[]; error: JobProtocolError } {
  let named: unknown;
  try {
    named = (JSON.parse(data) as { id?: unknown } | null)?.id;
  } catch {
    named = undefined;
  }
  const error =
    problem instanceof JobProtocolError ? problem : new JobProtocolError('', 'event stream frame is not JSON', { cause: problem });
  return { ids: typeof named === 'string' && ids.includes(named) ? [named] : ids, error };
}

/** @internal What {@link createJobDispatch} needs. */
export interface JobDispatchOptions {
  /** The set of wanted ids changed (a job left by `fail` or an unsubscribe): re-plan the streams. */
  changed(): void;
}

/**
 * @internal The status half of dispatch: the `subscribe` listeners per id,
 * de-duplication (only a newer job is delivered, a terminal one once) and
 * ending subscriptions with an error.
 */
export function createJobDispatch(options: JobDispatchOptions) {
  const listeners = new Map<string, Set<JobSubscriptionListener>>();
  /** The newest job delivered per id, for de-duplication and late subscribers. */
  const latest = new Map<string, Job>();
  /** Ids whose terminal state was delivered: the server sends nothing more for them. */
  const finished = new Set<string>();

  function each(id: string, fn: (listener: JobSubscriptionListener) => void): void {
    for (const listener of [...(listeners.get(id) ?? [])]) guarded(() => fn(listener));
  }

  function forget(id: string): void {
    listeners.delete(id);
    latest.delete(id);
    finished.delete(id);
  }

  return {
    /** Whether a listener still waits for `id`'s status. */
    wants: (id: string) => listeners.has(id) && !finished.has(id),
    /** The ids whose status is waited for. */
    wanted: () => [...listeners.keys()].filter((id) => !finished.has(id)),
    /** Calls `fn` for each listener of `id` (a throw does not stop the others). */
    each,
    /** Delivers `job` to its listeners unless it is not newer than what they have. */
    deliver(job: Job): void {
      if (!listeners.has(job.id) || finished.has(job.id) || !isNewerJob(latest.get(job.id), job)) return;
      latest.set(job.id, job);
      if (isTerminal(job)) finished.add(job.id);
      each(job.id, (l) => l.next(job));
    },
    /** Ends every subscription to `id` with `error`. */
    fail(id: string, error: unknown): void {
      const set = listeners.get(id);
      if (!set) return;
      forget(id);
      // Nobody listens to `id` any more: a stream left carrying only such ids must close.
      options.changed();
      for (const listener of set) guarded(() => listener.error?.(error));
    },
    /** Adds a listener; a late one gets the newest known job at once (in a microtask, never during subscribe). */
    add(id: string, listener: JobSubscriptionListener): () => void {
      let set = listeners.get(id);
      if (!set) listeners.set(id, (set = new Set()));
      set.add(listener);
      const known = latest.get(id);
      if (known) {
        queueMicrotask(() => {
          if (listeners.get(id)?.has(listener)) listener.next(known);
        });
      }
      options.changed();
      let active = true;
      return () => {
        if (!active) return;
        active = false;
        const current = listeners.get(id);
        if (!current) return;
        current.delete(listener);
        if (current.size === 0) forget(id);
        options.changed();
      };
    },
  };
}

/** @internal The status half of dispatch, as {@link createJobDispatch} makes it. */
export type JobDispatch = ReturnType<typeof createJobDispatch>;
