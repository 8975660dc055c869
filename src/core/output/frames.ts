import type { JobOutputFrameScheduler } from './types';

/** Fallback frame length where there is no `requestAnimationFrame` (a server, a worker, some tests). */
const FRAME_MS = 16;

/**
 * The default {@link JobOutputFrameScheduler}: the next animation frame where the page has
 * `requestAnimationFrame`, else a 16 ms timer. Looks the global up on each call, never on import.
 */
export const animationFrame: JobOutputFrameScheduler = (callback) => {
  // Where there is `requestAnimationFrame`, there is `cancelAnimationFrame`.
  if (typeof requestAnimationFrame === 'function') {
    const handle = requestAnimationFrame(() => callback());
    return () => cancelAnimationFrame(handle);
  }
  const timer = setTimeout(callback, FRAME_MS);
  return () => clearTimeout(timer);
};
