import type { JobClient } from '../../contract/types';
import { browserEnvironment } from '../watcher/environment';
import type { JobWatcherEnvironment } from '../watcher/types';
import { animationFrame } from './frames';
import { createOutputFollower, type OutputFollower } from './follower';
import { outputPartsLimit as partsLimit } from './limits';
import { EMPTY_OUTPUT_SNAPSHOT } from './snapshot';
import type { JobOutputWatcher, JobOutputWatcherOptions } from './types';

/**
 * Creates the output watcher of one provider (see {@link JobOutputWatcher}). Nothing
 * starts until an id is watched; on a server nothing is ever watched.
 *
 * Per id: one entry shared by every watch (refcounted; the last release tears it down
 * after `graceMs`), one source (push through `client.subscribeOutput`, else polling
 * `client.readOutput` every `pollInterval`; neither: `supported: false`), delivery in
 * `seq` order exactly once (replays dropped, gaps filled by reads), `maxParts` memory
 * (the largest of the watches), and at most one notification per frame. Polling waits
 * while the page is hidden or offline (a push subscription stays open).
 *
 * @example
 * const output = createJobOutputWatcher({ client });
 * const handle = output.watch('job-1', { maxParts: 500 });
 * const stop = output.subscribe('job-1', () => render(output.getSnapshot('job-1').text));
 */
export function createJobOutputWatcher(options: JobOutputWatcherOptions = {}): JobOutputWatcher {
  let client: JobClient | undefined = options.client;
  const pollInterval = Math.max(1, options.pollInterval ?? 1000);
  const graceMs = Math.max(0, options.graceMs ?? 1000);
  const random = options.random ?? Math.random;
  const schedule = options.scheduleFrame ?? animationFrame;
  let environment: JobWatcherEnvironment | null | undefined = options.environment;
  const paused = () => {
    if (environment === undefined) environment = browserEnvironment();
    return environment !== null && (!environment.isVisible() || !environment.isOnline());
  };
  const entries = new Map<string, OutputFollower>();
  const listeners = new Map<string, Set<() => void>>();
  /** Ids changed since the last frame (published in the order first marked), and the pending frame. */
  const marked = new Set<string>();
  let cancelFrame: (() => void) | null = null;

  const notify = (id: string) => {
    for (const listener of [...(listeners.get(id) ?? [])]) listener();
  };

  /** The frame: takes each marked entry's new snapshot and tells the listeners when it differs. */
  function flush(): void {
    cancelFrame = null;
    const ids = [...marked];
    marked.clear();
    for (const id of ids) if (entries.get(id)?.publish()) notify(id);
  }

  /** Queues `id` for the next frame (scheduling one when none is pending). */
  function mark(id: string): void {
    marked.add(id);
    if (!cancelFrame) cancelFrame = schedule(flush);
  }

  /** Keeps the largest `maxParts` of the entry's watches, and publishes the change. */
  function resize(id: string, entry: OutputFollower): void {
    entry.setMax(Math.max(1, ...entry.watches.values()));
    mark(id);
  }

  function close(id: string, entry: OutputFollower): void {
    entry.stop();
    clearTimeout(entry.grace);
    entries.delete(id);
    marked.delete(id);
    // Listeners still subscribed see the empty snapshot again.
    if (entry.snapshot !== EMPTY_OUTPUT_SNAPSHOT) notify(id);
  }

  return {
    watch(id, watch = {}) {
      const found = entries.get(id);
      const after = Number.isSafeInteger(watch.after) && watch.after! > 0 ? watch.after! : 0;
      const current = found ?? createOutputFollower(id, after, { client: () => client, pollInterval, random, paused, changed: () => mark(id) });
      entries.set(id, current);
      clearTimeout(current.grace);
      const token = {};
      current.watches.set(token, partsLimit(watch.maxParts));
      resize(id, current);
      if (!found) current.start();
      return {
        release() {
          // Released twice, or after the entry closed: nothing to do.
          if (entries.get(id) !== current || !current.watches.delete(token)) return;
          if (current.watches.size > 0) resize(id, current);
          else current.grace = setTimeout(() => close(id, current), graceMs);
        },
      };
    },
    getSnapshot(id) {
      return entries.get(id)?.snapshot ?? EMPTY_OUTPUT_SNAPSHOT;
    },
    subscribe(id, listener) {
      let set = listeners.get(id);
      if (!set) listeners.set(id, (set = new Set()));
      set.add(listener);
      return () => {
        set.delete(listener);
        if (set.size === 0 && listeners.get(id) === set) listeners.delete(id);
      };
    },
    setClient(next) {
      client = next;
    },
    dispose() {
      for (const [id, entry] of [...entries]) close(id, entry);
      cancelFrame?.();
      cancelFrame = null;
      marked.clear();
    },
  };
}
