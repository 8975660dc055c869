import type { JobOutputFrameScheduler } from './types';

/** Fallback frame length where there is no `requestAnimationFrame` (a server, a worker, some tests). */
const FRAME_MS = 16;

/**
 * The default {@link JobOutputFrameScheduler}: the next animation frame where the page has
 * `requestAnimationFrame`, else a 16 ms timer. Looks the global up on each call, never on import.
 */
export const animationFrame: JobOutputFrameScheduler = (callback) => {
  if (typeof requestAnimationFrame === 'function' && typeof cancelAnimationFrame === 'function') {
    const handle = requestAnimationFrame(() => callback());
    return () => cancelAnimationFrame(handle);
  }
  const timer = setTimeout(callback, FRAME_MS);
  return () => clearTimeout(timer);
};

/** Coalesces changes of many ids into one flush per frame: `mark(id)` queues it, the frame runs `flush` with the ids marked since. */
export interface FrameBatcher {
  /** Queues `id` for the next frame (scheduling one when none is pending). */
  mark(id: string): void;
  /** Forgets a queued id. */
  unmark(id: string): void;
  /** Cancels the pending frame. */
  cancel(): void;
}

/** Creates a batcher over `schedule`; `flush` receives each frame's ids, in the order first marked. */
export function createFrameBatcher(schedule: JobOutputFrameScheduler, flush: (ids: string[]) => void): FrameBatcher {
  const marked = new Set<string>();
  let cancelFrame: (() => void) | null = null;
  const run = () => {
    cancelFrame = null;
    const ids = [...marked];
    marked.clear();
    flush(ids);
  };
  return {
    mark(id) {
      marked.add(id);
      if (!cancelFrame) cancelFrame = schedule(run);
    },
    unmark(id) {
      marked.delete(id);
    },
    cancel() {
      cancelFrame?.();
      cancelFrame = null;
      marked.clear();
    },
  };
}
