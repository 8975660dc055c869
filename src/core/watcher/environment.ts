import type { JobWatcherEnvironment } from './types';

/**
 * The browser's page visibility (`document.visibilityState`) and connectivity
 * (`navigator.onLine`), with their change events; `null` where there is no
 * `document`/`window` (a server, a worker). Reads no global until called.
 */
export function browserEnvironment(): JobWatcherEnvironment | null {
  if (typeof document === 'undefined' || typeof window === 'undefined') return null;
  return {
    isVisible: () => document.visibilityState !== 'hidden',
    isOnline: () => typeof navigator === 'undefined' || navigator.onLine !== false,
    subscribe(listener) {
      const events: ReadonlyArray<readonly [EventTarget, string]> = [
        [document, 'visibilitychange'],
        [window, 'online'],
        [window, 'offline'],
      ];
      for (const [target, type] of events) target.addEventListener(type, listener);
      return () => {
        for (const [target, type] of events) target.removeEventListener(type, listener);
      };
    },
  };
}
