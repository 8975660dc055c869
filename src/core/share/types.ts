import type { JobClient } from '../../contract/types';
import type { JobWatcherEnvironment } from '../watcher/types';

/** How often the leader tab says it is alive, in ms (followers take over after {@link SILENT_LEADER_BEATS} silent beats). */
export const DEFAULT_SHARE_HEARTBEAT_MS = 1000;
/** A leader silent for this many heartbeats is taken to be frozen or gone: a follower steals the lead. */
export const SILENT_LEADER_BEATS = 2.5;
/** How long the leader reuses a `list` / `getPendingCount` answer for every tab, in ms (cleared when a job changes status). */
export const DEFAULT_SHARED_READ_TTL_MS = 2000;

/** The part of `BroadcastChannel` tab sharing uses (so tests can pass a fake). */
export interface ShareChannel {
  /** Sends a structured-clonable message to every other channel of the same name. */
  postMessage(message: unknown): void;
  /** Called with the messages of the other channels of the same name. */
  onmessage: ((event: { data: unknown }) => void) | null;
  /** Closes the channel: nothing more is sent or received. */
  close(): void;
}

/** The part of the Web Locks API (`navigator.locks`) tab sharing uses (so tests can pass a fake). */
export interface ShareLocks {
  /**
   * Runs `callback` once the exclusive lock `name` is granted and holds it until the
   * returned promise settles. With `steal`, takes the lock from its holder at once
   * (the holder's request rejects with an `AbortError`); with `signal`, stops waiting.
   */
  request(
    name: string,
    options: { steal?: boolean; signal?: AbortSignal },
    callback: (lock: unknown) => Promise<unknown>,
  ): Promise<unknown>;
}

/** A {@link JobClient} that says which server it talks to, so tabs of one app can share it. */
export interface ShareableJobClient extends JobClient {
  /**
   * Identifies the backend and the user's view of it (e.g. the absolute base URL of a
   * fetch client): two clients with the same key must answer the same way, because
   * tabs with the same key and scope share one connection. Without one a client is never shared.
   */
  readonly shareKey?: string;
}

/** Options of {@link shareClientAcrossTabs}. */
export interface ShareAcrossTabsOptions {
  /** What tabs must have in common to share: the client's `shareKey` and the provider's scope, for example. Required, non-empty. */
  key: string;
  /** Opens the channel tabs talk on. Default: `new BroadcastChannel(name)`. */
  channel?: (name: string) => ShareChannel;
  /**
   * The lock manager that elects the leader. Default: `navigator.locks`. `null` (or none in
   * the browser): election by heartbeats on the channel, the oldest live tab leading.
   */
  locks?: ShareLocks | null;
  /** This tab's visibility and connectivity. Default: the page's (`document`, `navigator`). */
  environment?: JobWatcherEnvironment | null;
  /** Where page lifecycle events (`freeze`, `resume`, `pagehide`, `pageshow`) arrive. Default: `document` and `window`; `null`: none. */
  lifecycle?: EventTarget | null;
  /** The leader's heartbeat, in ms. Default {@link DEFAULT_SHARE_HEARTBEAT_MS}. */
  heartbeatMs?: number;
  /** How long the leader reuses a `list` / `getPendingCount` answer, in ms. Default {@link DEFAULT_SHARED_READ_TTL_MS}; 0 disables. */
  readTtlMs?: number;
  /** Called whenever this tab becomes the leader (`true`) or stops being it (`false`). */
  onLeaderChange?: (leader: boolean) => void;
  /** This tab's id (default: random). Ids order tabs when there are no locks: the oldest tab wins. */
  tabId?: string;
}

/**
 * A {@link JobClient} shared by the tabs of one browser: every tab's watcher
 * reads and subscribes through it, and only the leader tab talks to the server.
 */
export interface SharedJobClient extends JobClient {
  /** Whether this tab is the leader now. */
  readonly isLeader: boolean;
  /** Swaps the real client (the one the leader reads with); requests in flight finish on the old one. */
  setClient(client: JobClient): void;
  /** Leaves the group: gives up the lead (another tab takes over), drops subscriptions, closes the channel. */
  close(): void;
}
