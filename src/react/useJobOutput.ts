import { useCallback, useEffect, useRef, useSyncExternalStore } from 'react';
import { createJobOutputWatcher } from '../core/output/createJobOutputWatcher';
import { outputPartsLimit } from '../core/output/limits';
import { EMPTY_OUTPUT_SNAPSHOT } from '../core/output/snapshot';
import type { JobOutputSnapshot } from '../core/output/types';
import { useJobContext } from './JobClientProvider';
import { outputResume } from './outputResume';
import { useIsomorphicLayoutEffect } from './useIsomorphicLayoutEffect';

/** Options of {@link useJobOutput}. May be passed inline: a new object every render restarts nothing. */
export interface UseJobOutputOptions {
  /**
   * Keep only the newest N parts in memory (older ones, and their text, are dropped; `trimmed`
   * says so). Hooks of one id with different values share the largest. Default 10,000
   * (`DEFAULT_STORED_OUTPUT_PARTS`, what a store keeps); a value below 1 or not finite is the default.
   */
  maxParts?: number;
  /** Set `false` to follow nothing (the result is empty). Default `true`. */
  enabled?: boolean;
  /**
   * Start after this part (`seq`): earlier parts are never fetched. Default: for an id tracked by
   * `useTrackedJobs` (same provider), the last part shown before the reload minus `maxParts`,
   * so a reload shows the same newest parts without replaying the whole output; else 0.
   * Read when following starts only.
   */
  after?: number;
}

/** What {@link useJobOutput} returns: the job's output snapshot (a new object only when something changed). */
export type UseJobOutputResult = JobOutputSnapshot;

const noop = () => {};
const getServerSnapshot = () => EMPTY_OUTPUT_SNAPSHOT;

/**
 * Follows what a running job produces — tokens of a text, log lines, JSON values, preview
 * images — through the provider's client: `subscribeOutput` when it has it (on the fetch
 * client, the one event stream it already keeps), else polling `readOutput` every second
 * until the output is done. Parts arrive in `seq` order exactly once, whatever mix of push,
 * reads and reconnects delivered them; components of one id share one subscription, and
 * re-render at most once per animation frame. On the server the result is empty.
 *
 * For an id tracked with `useTrackedJobs`, the last part shown is kept with the id (written at
 * most once a second and when the hook unmounts), and a reload resumes from there.
 *
 * @param jobId the job whose output to follow; `null`, `undefined` or `''` follows nothing.
 * @example
 * const { text, done, error } = useJobOutput(jobId, { maxParts: 2000 });
 * return <p style={{ whiteSpace: 'pre-wrap' }}>{text}{done ? '' : '…'}</p>;
 */
export function useJobOutput(jobId: string | null | undefined, options: UseJobOutputOptions = {}): UseJobOutputResult {
  const { client, local } = useJobContext();
  // The provider's output watcher, made on first use (with no options) and started by the first watch.
  const watcher = local(createJobOutputWatcher);
  const resume = local(outputResume);
  const id = options.enabled === false || !jobId ? null : jobId;
  const maxParts = outputPartsLimit(options.maxParts);
  const afterRef = useRef(options.after);
  afterRef.current = options.after;

  useIsomorphicLayoutEffect(() => watcher.setClient(client), [watcher, client]);

  const subscribe = useCallback((listener: () => void) => (id === null ? noop : watcher.subscribe(id, listener)), [watcher, id]);
  // A new `getSnapshot` each render costs nothing: React reads it in every render anyway (only `subscribe` must be stable).
  const snapshot = useSyncExternalStore(subscribe, () => (id === null ? EMPTY_OUTPUT_SNAPSHOT : watcher.getSnapshot(id)), getServerSnapshot);

  useEffect(() => {
    if (id === null) return;
    const handle = watcher.watch(id, { maxParts, after: afterRef.current ?? Math.max(0, (resume.lastShown?.(id) ?? 0) - maxParts) });
    return () => handle.release();
  }, [watcher, resume, id, maxParts]);

  // The last seq shown, kept with a tracked id (see `useTrackedJobs`); the rest of what is pending on unmount.
  const lastSeq = snapshot.lastSeq;
  useEffect(() => {
    if (id !== null && lastSeq > 0) resume.shown?.(id, lastSeq);
  }, [resume, id, lastSeq]);
  useEffect(() => () => void (id !== null && resume.flush?.(id)), [resume, id]);

  return snapshot;
}
