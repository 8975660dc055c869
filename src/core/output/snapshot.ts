import type { OutputFollower } from './follower';
import type { OutputHistory } from './history';
import type { JobOutputSnapshot } from './types';

/** The snapshot of an id that is not followed (also the server snapshot): nothing yet, nothing running. */
export const EMPTY_OUTPUT_SNAPSHOT: JobOutputSnapshot = Object.freeze({
  parts: Object.freeze([]),
  text: '',
  done: false,
  trimmed: false,
  error: null,
  connection: 'idle',
  lastSeq: 0,
  supported: true,
});

/**
 * The snapshot after a change: `previous` itself when nothing it shows changed, else a new
 * frozen object (with a new `parts` array only when `partsChanged`: the kept parts changed).
 */
export function nextSnapshot(
  previous: JobOutputSnapshot,
  follower: OutputFollower,
  history: OutputHistory,
  partsChanged: boolean,
): JobOutputSnapshot {
  const { parts, text } = partsChanged ? history.take() : previous;
  const next: JobOutputSnapshot = {
    parts,
    text,
    done: follower.done,
    trimmed: follower.trimmed || history.dropped,
    error: follower.error,
    connection: follower.connection,
    lastSeq: follower.lastSeq,
    supported: follower.supported,
  };
  // `text` changes only with `parts`.
  for (const key in next) if (next[key as keyof JobOutputSnapshot] !== previous[key as keyof JobOutputSnapshot]) return Object.freeze(next);
  return previous;
}
