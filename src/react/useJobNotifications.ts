import { useCallback, useEffect, useReducer, useRef, useSyncExternalStore } from 'react';
import type { JobWatcher } from '../core/createJobWatcher';
import type { Job } from '../contract/types';
import { useJobContext } from './JobClientProvider';
import { createNotificationClaims } from './notificationClaims';
import { useIsomorphicLayoutEffect } from './useIsomorphicLayoutEffect';

/** While notifications are on, a hidden tab polls at this interval (ms) instead of pausing. */
export const DEFAULT_HIDDEN_POLL_INTERVAL = 30_000;

/** The browser's notification permission; `'denied'` where notifications are not supported. */
export type JobNotificationPermission = 'default' | 'granted' | 'denied';

/** Options of {@link useJobNotifications}. Inline values never restart anything; the latest ones are used. */
export interface UseJobNotificationsOptions {
  /** Set `false` to turn notifications off without unmounting. Default `true`. */
  enabled?: boolean;
  /** `'hidden'`: notify only while the page is hidden (the user is elsewhere); `'always'`: also while visible. Default `'hidden'`. */
  when?: 'hidden' | 'always';
  /** The notification's title. Default: "Job completed", "Job failed" or "Job cancelled". */
  title?: (job: Job) => string;
  /** The notification's body, or `undefined` for none. Default: the error message of a failed job, else none. */
  body?: (job: Job) => string | undefined;
  /** URL of the notification's icon. */
  icon?: string;
  /**
   * While notifications are on, a hidden tab keeps polling at this interval
   * (ms) instead of pausing, so a job settling in the background is noticed.
   * Default {@link DEFAULT_HIDDEN_POLL_INTERVAL}.
   */
  hiddenPollInterval?: number;
}

/** What {@link useJobNotifications} returns. */
export interface UseJobNotificationsResult {
  /** Whether this browser can show notifications (`false` on the server and where `Notification` does not exist). */
  supported: boolean;
  /** The current permission; notifications are shown only once it is `'granted'`. */
  permission: JobNotificationPermission;
  /**
   * Asks the user for permission and resolves with the answer. Call it from
   * a user gesture (a click): browsers ignore or penalise prompts without
   * one, so the hook never asks by itself.
   */
  requestPermission(): Promise<JobNotificationPermission>;
}

function notificationApi(): typeof Notification | null {
  return typeof Notification === 'function' ? Notification : null;
}

const getServerPermission = () => 'unsupported' as const;
function getPermission(): JobNotificationPermission | 'unsupported' {
  return notificationApi()?.permission ?? 'unsupported';
}

/** Follows permission changes made elsewhere (site settings, another hook): the Permissions API where present, else on return to the page. */
function subscribePermission(listener: () => void): () => void {
  if (typeof document === 'undefined') return () => {};
  let status: PermissionStatus | null = null;
  let stopped = false;
  globalThis.navigator?.permissions?.query({ name: 'notifications' }).then(
    (s) => {
      if (stopped) return;
      status = s;
      s.addEventListener('change', listener);
    },
    () => {},
  );
  document.addEventListener('visibilitychange', listener);
  return () => {
    stopped = true;
    status?.removeEventListener('change', listener);
    document.removeEventListener('visibilitychange', listener);
  };
}

function defaultTitle(job: Job): string {
  if (job.status === 'failed') return 'Job failed';
  if (job.status === 'cancelled') return 'Job cancelled';
  return 'Job completed';
}

function defaultBody(job: Job): string | undefined {
  return job.status === 'failed' ? (job.error?.message ?? undefined) : undefined;
}

/** Who asked a provider for slowed hidden polling (kept in its context's `local`): the shortest request wins; the last one leaving restores pausing. */
function hiddenPollRequests(): Map<object, number> {
  return new Map();
}

function slowHiddenPolling(watcher: JobWatcher, requests: Map<object, number>, interval: number): () => void {
  const token = {};
  const apply = () => watcher.setHiddenPollInterval(requests.size === 0 ? false : Math.min(...requests.values()));
  requests.set(token, interval);
  apply();
  return () => {
    requests.delete(token);
    apply();
  };
}

/**
 * Opt-in browser notifications when a watched job settles while the user is
 * in another tab or window.
 *
 * Nothing is asked by itself: show a button that calls `requestPermission()`.
 * Once permission is granted (and `enabled`), every job watched under the
 * provider — by `useJobStatus`, `<JobStatus>`, `useTrackedJobs` — raises one
 * notification when it completes, fails or is cancelled (while the page is
 * hidden, unless `when: 'always'`), and a hidden tab keeps polling slowly
 * (`hiddenPollInterval`) instead of pausing, so it notices.
 *
 * With several tabs open, one notification per job: tabs claim each job on
 * the `jobwatch-notifications` BroadcastChannel and the earliest claim shows
 * it (a visible tab's claim counts: the user saw the job there). Clicking the
 * notification focuses the tab. Where `Notification` does not exist (server,
 * old browsers) the hook does nothing and returns `supported: false`.
 *
 * @example
 * const { supported, permission, requestPermission } = useJobNotifications();
 * if (supported && permission === 'default') {
 *   return <button onClick={requestPermission}>Notify me when jobs finish</button>;
 * }
 */
export function useJobNotifications(options: UseJobNotificationsOptions = {}): UseJobNotificationsResult {
  const { watcher, local } = useJobContext();
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const current = useSyncExternalStore(subscribePermission, getPermission, getServerPermission);
  const supported = current !== 'unsupported';
  const permission: JobNotificationPermission = supported ? current : 'denied';
  const on = supported && permission === 'granted' && options.enabled !== false;
  const hiddenPollInterval = options.hiddenPollInterval ?? DEFAULT_HIDDEN_POLL_INTERVAL;

  const optionsRef = useRef(options);
  useIsomorphicLayoutEffect(() => {
    optionsRef.current = options;
  });

  useEffect(() => {
    if (!on) return;
    return slowHiddenPolling(watcher, local(hiddenPollRequests), hiddenPollInterval);
  }, [watcher, local, on, hiddenPollInterval]);

  useEffect(() => {
    if (!on) return;
    const claims = createNotificationClaims();
    const show = (job: Job) => {
      const o = optionsRef.current;
      const Api = notificationApi();
      if (!Api || Api.permission !== 'granted') return;
      if (o.when !== 'always' && document.visibilityState !== 'hidden') return;
      try {
        const notification = new Api((o.title ?? defaultTitle)(job), {
          body: (o.body ?? defaultBody)(job),
          icon: o.icon,
          // Should two notifications of a job ever be shown, the second replaces the first.
          tag: `jobwatch:${job.id}`,
        });
        notification.onclick = () => {
          window.focus();
          notification.close();
        };
      } catch {
        // Some browsers (Chrome on Android) allow notifications only through a service worker.
      }
    };
    const stop = watcher.onSettled((job) => {
      // The same job settling again after a retry is a new ending, with its own notification.
      claims.claim(`${job.id}\n${job.finishedAt ?? ''}`, () => show(job));
    });
    return () => {
      stop();
      claims.close();
    };
  }, [watcher, on]);

  const requestPermission = useCallback(async (): Promise<JobNotificationPermission> => {
    const Api = notificationApi();
    if (!Api) return 'denied';
    let answer: JobNotificationPermission;
    try {
      // Older Safari takes a callback and returns nothing.
      answer = await new Promise<NotificationPermission>((resolve, reject) => {
        const promise = Api.requestPermission(resolve);
        promise?.then(resolve, reject);
      });
    } catch {
      answer = Api.permission;
    }
    rerender();
    return answer;
  }, []);

  return { supported, permission, requestPermission };
}
