import type { JobClient } from '../../contract/types';
import { browserEnvironment } from '../watcher/environment';
import type { JobWatcherEnvironment } from '../watcher/types';
import { animationFrame, createFrameBatcher } from './frames';
import { createOutputFollower, type OutputFollower } from './follower';
import { createOutputHistory, type OutputHistory } from './history';
import { outputPartsLimit as partsLimit } from './limits';
import { EMPTY_OUTPUT_SNAPSHOT, nextSnapshot } from './snapshot';
import type { JobOutputSnapshot, JobOutputWatcher, JobOutputWatcherOptions, JobOutputWatchOptions } from './types';

/** One followed id: its watches, parts, source and published snapshot. */
interface OutputEntry {
  /** maxParts of each open watch (keyed by the watch's handle). */
  watches: Map<object, number>;
  history: OutputHistory;
  follower: OutputFollower;
  /** The history's version in the last snapshot. */
  version: number;
  snapshot: JobOutputSnapshot;
  grace: ReturnType<typeof setTimeout> | null;
}

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
  let environment: JobWatcherEnvironment | null | undefined = options.environment;
  const paused = () => {
    if (environment === undefined) environment = browserEnvironment();
    return environment !== null && (!environment.isVisible() || !environment.isOnline());
  };
  const entries = new Map<string, OutputEntry>();
  const listeners = new Map<string, Set<() => void>>();

  const frames = createFrameBatcher(options.scheduleFrame ?? animationFrame, (ids) => {
    for (const id of ids) publish(id);
  });

  /** Takes the entry's new snapshot and tells the listeners when it differs. */
  function publish(id: string): void {
    const entry = entries.get(id);
    if (!entry) return;
    const next = nextSnapshot(entry.snapshot, entry.follower, entry.history, entry.history.version !== entry.version);
    entry.version = entry.history.version;
    if (next === entry.snapshot) return;
    entry.snapshot = next;
    for (const listener of [...(listeners.get(id) ?? [])]) listener();
  }

  function maxOf(entry: OutputEntry): number {
    let max = 1;
    for (const value of entry.watches.values()) max = Math.max(max, value);
    return max;
  }

  function open(id: string, watch: JobOutputWatchOptions): OutputEntry {
    const after = Number.isSafeInteger(watch.after) && watch.after! > 0 ? watch.after! : 0;
    const history = createOutputHistory(partsLimit(watch.maxParts));
    const entry: OutputEntry = {
      watches: new Map(),
      history,
      version: 0,
      snapshot: EMPTY_OUTPUT_SNAPSHOT,
      grace: null,
      follower: createOutputFollower(id, after, {
        client: () => client,
        pollInterval,
        random,
        paused,
        deliver: (parts) => history.append(parts),
        changed: () => frames.mark(id),
      }),
    };
    entries.set(id, entry);
    return entry;
  }

  function close(id: string, entry: OutputEntry): void {
    entry.follower.stop();
    if (entry.grace) clearTimeout(entry.grace);
    entries.delete(id);
    frames.unmark(id);
    // Listeners still subscribed see the empty snapshot again.
    if (entry.snapshot !== EMPTY_OUTPUT_SNAPSHOT) for (const listener of [...(listeners.get(id) ?? [])]) listener();
  }

  return {
    watch(id, watch = {}) {
      const entry = entries.get(id) ?? open(id, watch);
      if (entry.grace) {
        clearTimeout(entry.grace);
        entry.grace = null;
      }
      const token = {};
      entry.watches.set(token, partsLimit(watch.maxParts));
      entry.history.setMax(maxOf(entry));
      entry.follower.start();
      frames.mark(id);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          if (entries.get(id) !== entry) return;
          entry.watches.delete(token);
          if (entry.watches.size > 0) {
            entry.history.setMax(maxOf(entry));
            frames.mark(id);
            return;
          }
          entry.grace = setTimeout(() => {
            entry.grace = null;
            if (entry.watches.size === 0 && entries.get(id) === entry) close(id, entry);
          }, graceMs);
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
      frames.cancel();
    },
  };
}
