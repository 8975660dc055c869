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
