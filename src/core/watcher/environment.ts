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

/** Page visibility and connectivity as the watcher's scheduling of each job `J` sees them (semantic 5). */
export interface Activity<J> {
  /** Whether reads of `job` pause now (offline, or hidden unless its watchers ask to poll while hidden). */
  paused(job: J): boolean;
  /** The interval to poll `job` at instead of `interval` while hidden (see `setHiddenPollInterval`). */
  slowed(interval: number, job: J): number;
  /** Whether the page became visible and online since the last call (or since it was first followed). */
  resumed(): boolean;
  /** Follows changes while anything is watched: the first `retain` subscribes, the last `release` unsubscribes. */
  retain(): void;
  /** See {@link Activity.retain}. */
  release(): void;
  /** While set, a hidden page polls at this interval instead of pausing. */
  setHiddenPollInterval(interval: number | false): void;
}

/**
 * Creates the activity of one watcher over `environment` (`undefined`: the
 * browser's, looked up at first use; `null`: none, never paused). `onChange`
 * runs whenever the environment reports a change; `pollsWhenHidden` says
 * whether a job's watchers ask to keep polling while hidden (asked only while hidden).
 */
export function createActivity<J>(
  environment: JobWatcherEnvironment | null | undefined,
  onChange: () => void,
  pollsWhenHidden: (job: J) => boolean,
): Activity<J> {
  let hiddenPollInterval: number | false = false;
  let retained = 0;
  let wasActive = true;
  let stop: (() => void) | null = null;
  const env = () => (environment === undefined ? (environment = browserEnvironment()) : environment);
  const isActive = () => !env() || (env()!.isOnline() && env()!.isVisible());
  const hidden = (job: J) => !!env() && !env()!.isVisible() && !pollsWhenHidden(job);
  return {
    paused: (job) => !!env() && (!env()!.isOnline() || (hiddenPollInterval === false && hidden(job))),
    slowed: (interval, job) => (hiddenPollInterval !== false && hidden(job) ? Math.max(interval, hiddenPollInterval) : interval),
    resumed() {
      const active = isActive();
      const resumed = active && !wasActive;
      wasActive = active;
      return resumed;
    },
    retain() {
      if (retained++ > 0) return;
      wasActive = isActive();
      stop = env()?.subscribe(onChange) ?? null;
    },
    release() {
      if (--retained > 0) return;
      stop?.();
      stop = null;
    },
    setHiddenPollInterval(interval) {
      hiddenPollInterval = interval;
    },
  };
}
