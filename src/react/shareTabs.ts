import type { Job, JobClient, JobOutputListener } from '../contract/types';
import type { ShareAcrossTabsOptions, SharedJobClient } from '../core/share/types';

/**
 * How a {@link JobClientProvider} shares its connection with the app's other tabs:
 * `'tabs'` (one leader tab talks to the server for all of them), `'none'` (every tab
 * on its own), or the options of `'tabs'` (e.g. a fake channel and lock manager in tests).
 */
export type JobShareMode = 'tabs' | 'none' | JobShareOptions;

/** Options of `share` beyond `'tabs'`: those of `shareClientAcrossTabs`, with `key` made optional. */
export interface JobShareOptions extends Omit<ShareAcrossTabsOptions, 'key'> {
  /** What identifies the backend when the client has no `shareKey`. Default: the client's `shareKey`. */
  key?: string;
}

/** What the lazily loaded part gives: the shared client, and a claim so `onJobSettled` runs in one tab. */
export interface ShareRuntime {
  /** The shared client of this tab. */
  shared: SharedJobClient;
  /** Runs `won` in one tab only among those claiming `key`. */
  claim(key: string, won: () => void): void;
  /** Closes the shared client and the claims. */
  close(): void;
}

/** Loads the coordination code (a separate chunk, so apps that never share do not carry it). */
export type LoadShareRuntime = () => Promise<(client: JobClient, options: ShareAcrossTabsOptions) => ShareRuntime>;

/** A client that may say which backend it talks to (as `createFetchJobClient`'s does). */
type Shareable = { shareKey?: unknown };

/**
 * Whether this environment shares by default: a browser with both BroadcastChannel and
 * Web Locks, not jsdom, and a client that says which backend it talks to (`shareKey`).
 */
export function sharesByDefault(client: JobClient): boolean {
  return (
    typeof window === 'object' &&
    typeof BroadcastChannel === 'function' &&
    typeof navigator === 'object' &&
    !!(navigator as { locks?: unknown }).locks &&
    !/jsdom/i.test(navigator.userAgent) &&
    typeof (client as Shareable).shareKey === 'string'
  );
}

/**
 * The sharing options of a provider, or `null` when it does not share.
 * @throws TypeError when sharing is asked for but neither the client nor the options name a key.
 */
export function shareOptionsOf(mode: JobShareMode | undefined, client: JobClient, scope: string | undefined): ShareAcrossTabsOptions | null {
  // Never on a server: there are no tabs, and nothing may wait for an effect that never runs.
  if (typeof window === 'undefined' || mode === 'none' || (mode === undefined && !sharesByDefault(client))) return null;
  const options: JobShareOptions = typeof mode === 'object' ? mode : {};
  const key = options.key ?? (client as Shareable).shareKey;
  if (typeof key !== 'string' || !key) {
    throw new TypeError('jobwatch: share="tabs" needs a key: give the client a `shareKey` (its base URL) or pass share={{ key }}');
  }
  return { ...options, key: `${key}\n${scope ?? ''}` };
}

/** A provider's client while it shares: stable for the provider's life, connected to the tab group in an effect. */
export interface LazySharedClient extends JobClient {
  /** Joins the tab group (loading the coordination code first); returns the function that leaves it. */
  connect(): () => void;
  /** The real client the leader reads with (follows the provider's `client` prop). */
  setClient(client: JobClient): void;
  /** Runs `fire` once for the whole browser (in one tab) while connected; at once otherwise. */
  settleOnce(job: Job, fire: () => void): void;
}

/** The calls forwarded as they are: the first three always, the others when the client has them. */
const CALLS = ['getStatus', 'list', 'getPendingCount', 'getStatuses', 'cancel', 'retry', 'readOutput'] as const;

type AnyMethod = (...args: unknown[]) => unknown;

/** A subscription made through the lazy client: made again on every (re)connection. */
interface Live {
  name: 'subscribe' | 'subscribeOutput';
  args: unknown[];
  off?: (() => void) | null;
}

/**
 * Creates the provider's client for `share`: its calls wait until it is connected (one
 * effect of the provider) and then go through the shared client; subscriptions are made
 * again on every (re)connection, so StrictMode's remount loses none, and an output
 * subscription made again resumes after the last part it delivered.
 */
export function createLazySharedClient(client: JobClient, options: ShareAcrossTabsOptions, load: LoadShareRuntime): LazySharedClient {
  let real = client;
  let runtime: ShareRuntime | null = null;
  /** Where calls go now: the shared client, the real one when the coordination code failed to load, or nowhere yet. */
  let target: JobClient | null = null;
  let waiters: Array<() => void> = [];
  const lives = new Set<Live>();

  const ready = (): Promise<JobClient> =>
    target ? Promise.resolve(target) : new Promise<void>((resolve) => waiters.push(resolve)).then(ready);
  const attach = (live: Live) => {
    live.off = (target?.[live.name] as AnyMethod | undefined)?.(...live.args) as (() => void) | undefined;
  };
  const detach = (live: Live) => {
    live.off?.();
    live.off = null;
  };
  /** Subscribes through the target now (when connected) and again on every reconnection. */
  const keep = (live: Live) => {
    lives.add(live);
    attach(live);
    return () => {
      lives.delete(live);
      detach(live);
    };
  };

  const lazy = {
    subscribe: (...args: unknown[]) => keep({ name: 'subscribe', args }),
    connect() {
      let left = false;
      const join = (to: JobClient) => {
        if (left) return;
        target = to;
        lives.forEach(attach);
        const woken = waiters;
        waiters = [];
        woken.forEach((wake) => wake());
      };
      void load().then(
        (start) => {
          if (!left) join((runtime = start(real, options)).shared);
        },
        // A chunk that fails to load (offline, a deploy in between): this tab works on its own.
        () => join(real),
      );
      return () => {
        left = true;
        lives.forEach(detach);
        runtime?.close();
        runtime = target = null;
      };
    },
    setClient(next: JobClient) {
      real = next;
      runtime?.shared.setClient(next);
    },
    settleOnce(job: Job, fire: () => void) {
      if (!runtime) return fire();
      runtime.claim(`settled\n${options.key}\n${job.id}\n${job.finishedAt ?? ''}`, fire);
    },
  } as LazySharedClient;
  CALLS.forEach((name, i) => {
    if (i < 3 || client[name]) (lazy as unknown as Record<string, AnyMethod>)[name] = (...args: unknown[]) => ready().then((to) => (to[name] as AnyMethod)(...args));
  });
  if (client.subscribeOutput) {
    lazy.subscribeOutput = (id, o, listener) => {
      let after = o.after ?? 0;
      // Remembers the last part delivered, so a reconnection resumes after it (never replays).
      const next: JobOutputListener['next'] = (parts, info) => {
        const fresh = parts.filter((part) => part.seq > after);
        if (fresh.length > 0) live.args[1] = { after: (after = fresh.at(-1)!.seq) };
        if (fresh.length > 0 || info?.done) listener.next(fresh, info);
      };
      const live: Live = { name: 'subscribeOutput', args: [id, { ...o }, { ...listener, next }] };
      return keep(live);
    };
  }
  return lazy;
}
