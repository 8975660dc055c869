import type {
  Job,
  JobClient,
  JobOutputListener,
  JobSubscriptionListener,
} from '../contract/types';
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

/**
 * Whether this environment shares by default: a browser with both BroadcastChannel and
 * Web Locks, not jsdom, and a client that says which backend it talks to (`shareKey`).
 */
export function sharesByDefault(client: JobClient): boolean {
  if (typeof window === 'undefined' || typeof navigator === 'undefined') return false;
  if (typeof BroadcastChannel !== 'function' || !(navigator as { locks?: unknown }).locks) return false;
  if (/jsdom/i.test(navigator.userAgent ?? '')) return false;
  return typeof (client as { shareKey?: unknown }).shareKey === 'string';
}

/**
 * The sharing options of a provider, or `null` when it does not share.
 * @throws TypeError when sharing is asked for but neither the client nor the options name a key.
 */
export function shareOptionsOf(mode: JobShareMode | undefined, client: JobClient, scope: string | undefined): ShareAcrossTabsOptions | null {
  // Never on a server: there are no tabs, and nothing may wait for an effect that never runs.
  if (typeof window === 'undefined' || mode === 'none' || (mode === undefined && !sharesByDefault(client))) return null;
  const options: JobShareOptions = typeof mode === 'object' ? mode : {};
  const clientKey = (client as { shareKey?: unknown }).shareKey;
  const key = options.key ?? (typeof clientKey === 'string' ? clientKey : undefined);
  if (!key) {
    throw new TypeError(
      'jobwatch: share="tabs" needs to know which backend the client talks to: give the client a `shareKey` (e.g. its base URL) or pass share={{ key }}',
    );
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

interface Live<L> {
  args: [string, ...unknown[]];
  listener: L;
  off: (() => void) | null;
}

/**
 * Creates the provider's client for `share`: its calls wait until it is connected (one
 * effect of the provider) and then go through the shared client; subscriptions are made
 * again on every (re)connection, so StrictMode's remount loses none.
 */
export function createLazySharedClient(client: JobClient, options: ShareAcrossTabsOptions, load: LoadShareRuntime): LazySharedClient {
  let real = client;
  let runtime: ShareRuntime | null = null;
  /** The coordination code could not be loaded: this tab works on its own, with the real client. */
  let alone = false;
  /** Where calls go now: the shared client, the real one when alone, or nowhere yet. */
  const target = (): JobClient | null => runtime?.shared ?? (alone ? real : null);
  let waiters: Array<() => void> = [];
  const jobs = new Set<Live<JobSubscriptionListener>>();
  const outputs = new Set<Live<JobOutputListener>>();

  const ready = (): Promise<JobClient> => {
    const now = target();
    return now ? Promise.resolve(now) : new Promise<void>((resolve) => waiters.push(resolve)).then(ready);
  };

  function forward<K extends 'getStatus' | 'getStatuses' | 'list' | 'getPendingCount' | 'cancel' | 'retry' | 'readOutput'>(name: K) {
    return ((...args: unknown[]) =>
      ready().then((to) => (to[name] as (...a: unknown[]) => Promise<unknown>)(...args))) as NonNullable<JobClient[K]>;
  }

  function subscribeTo(to: JobClient, live: Live<JobSubscriptionListener>): void {
    const [id, ...hint] = live.args;
    live.off = to.subscribe ? (to.subscribe as (...a: unknown[]) => () => void)(id, live.listener, ...hint) : null;
  }
  function subscribeOutputTo(to: JobClient, live: Live<JobOutputListener>): void {
    const [id, o] = live.args as [string, { after?: number }];
    live.off = to.subscribeOutput?.(id, o, live.listener) ?? null;
  }

  /** Connected (or alone): subscriptions made meanwhile are made now, and waiting calls go. */
  function attach(to: JobClient): void {
    for (const live of jobs) subscribeTo(to, live);
    for (const live of outputs) subscribeOutputTo(to, live);
    const woken = waiters;
    waiters = [];
    for (const wake of woken) wake();
  }

  function detach(): void {
    for (const live of [...jobs, ...outputs]) {
      live.off?.();
      live.off = null;
    }
  }

  const lazy: LazySharedClient = {
    getStatus: forward('getStatus'),
    getStatuses: forward('getStatuses'),
    list: forward('list'),
    getPendingCount: forward('getPendingCount'),
    subscribe(id, listener, ...hint: unknown[]) {
      const live: Live<JobSubscriptionListener> = { args: [id, ...hint], listener, off: null };
      jobs.add(live);
      const to = target();
      if (to) subscribeTo(to, live);
      return () => {
        jobs.delete(live);
        live.off?.();
        live.off = null;
      };
    },
    connect() {
      let left = false;
      void load().then(
        (start) => {
          if (left) return;
          runtime = start(real, options);
          attach(runtime.shared);
        },
        () => {
          // A chunk that fails to load (offline, a deploy in between): this tab polls on its own.
          if (left) return;
          alone = true;
          attach(real);
        },
      );
      return () => {
        left = true;
        detach();
        runtime?.close();
        runtime = null;
        alone = false;
      };
    },
    setClient(next) {
      real = next;
      runtime?.shared.setClient(next);
    },
    settleOnce(job, fire) {
      if (!runtime) return fire();
      runtime.claim(`settled\n${options.key}\n${job.id}\n${job.finishedAt ?? ''}`, fire);
    },
  };
  if (client.cancel) lazy.cancel = forward('cancel');
  if (client.retry) lazy.retry = forward('retry');
  if (client.readOutput) lazy.readOutput = forward('readOutput');
  if (client.subscribeOutput) {
    lazy.subscribeOutput = (id, o, listener) => {
      const live: Live<JobOutputListener> = { args: [id, { ...o }], listener, off: null };
      // Remembers the last part delivered, so a reconnection resumes after it (never replays).
      live.listener = {
        ...listener,
        next(parts, info) {
          const after = (live.args[1] as { after?: number }).after ?? 0;
          const fresh = parts.filter((p) => p.seq > after);
          if (fresh.length > 0) live.args[1] = { after: fresh[fresh.length - 1]!.seq };
          if (fresh.length > 0 || info?.done) listener.next(fresh, info);
        },
      };
      outputs.add(live);
      const to = target();
      if (to) subscribeOutputTo(to, live);
      return () => {
        outputs.delete(live);
        live.off?.();
        live.off = null;
      };
    };
  }
  return lazy;
}
