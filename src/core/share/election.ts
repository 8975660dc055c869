import { SILENT_LEADER_BEATS, type ShareLocks } from './types';

/** Which tab leads one share group; see {@link createElection}. */
export interface Election {
  /** Whether this tab leads now. */
  readonly leading: boolean;
  /** The leader was heard (a heartbeat or an announcement): it is alive. */
  heard(): void;
  /** A peer's presence message (heartbeat election only). */
  peer(id: string, leading: boolean): void;
  /** Leaves: gives the lead up, stops waiting for it, removes the listeners. */
  close(): void;
}

/** What {@link createElection} needs. */
export interface ElectionOptions {
  /** The lock's name (the channel's name). */
  name: string;
  /** This tab's id. */
  tabId: string;
  /** The lock manager, or `null` for the heartbeat election. */
  locks: ShareLocks | null;
  /** The heartbeat, in ms. */
  heartbeatMs: number;
  /** Where `freeze` / `resume` / `pagehide` / `pageshow` arrive. */
  lifecycle: readonly EventTarget[];
  /** Posts this tab's presence (heartbeat election only). */
  announce(leading: boolean): void;
  /** This tab became the leader. */
  onLead(): void;
  /** This tab stopped leading (resigned, stolen from, closed). */
  onFollow(): void;
  /** Source of jitter in [0, 1). */
  random: () => number;
}

/**
 * Elects one leader among the tabs of a share group.
 *
 * With Web Locks (the default): every tab asks for the exclusive lock named
 * after the group; the holder leads until it closes, crashes or is
 * discarded — the browser then gives the lock to the next tab waiting, at
 * once. A leader that stops beating (frozen, hung) is replaced: after
 * {@link SILENT_LEADER_BEATS} silent beats (plus a random part of one, so
 * followers rarely race), a follower takes the lock with `steal`; the old
 * leader's request then rejects and it follows. A page being frozen or put
 * in the back/forward cache gives the lead up first (`freeze`, `pagehide`)
 * and queues again when it comes back.
 *
 * Without locks: every tab announces itself each beat; the oldest live tab
 * (smallest id) leads, unless another tab already leads. Slower to settle
 * (a beat or two) but needs only BroadcastChannel.
 */
export function createElection(options: ElectionOptions): Election {
  const { heartbeatMs, locks } = options;
  const silentMs = heartbeatMs * SILENT_LEADER_BEATS;
  let leading = false;
  let closed = false;
  let suspended = false;
  let lastHeard = Date.now();
  let resign: (() => void) | null = null;
  let waiting: AbortController | null = null;
  const peers = new Map<string, { at: number; leading: boolean }>();
  const startedAt = Date.now();
  let lastTick = Date.now();

  function lead(): void {
    if (leading) return;
    leading = true;
    options.onLead();
  }
  function follow(): void {
    if (!leading) return;
    leading = false;
    options.onFollow();
  }

  /** Asks for the lock (`steal`: now, from its holder) and leads while holding it. */
  function request(steal: boolean): void {
    if (!locks || closed || suspended || resign || (!steal && waiting)) return;
    waiting?.abort();
    const controller = steal ? null : new AbortController();
    waiting = controller;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let mineResign: (() => void) | null = null;
    const mine = () => {
      if (closed || suspended) return Promise.resolve();
      if (waiting === controller) waiting = null;
      waiting?.abort();
      waiting = null;
      mineResign = () => {
        resign = null;
        release();
        follow();
      };
      resign = mineResign;
      lead();
      return held;
    };
    locks
      .request(options.name, steal ? { steal: true } : { signal: controller!.signal }, mine)
      .catch(() => undefined)
      .then(() => {
        // Released, stolen or aborted: follow, and wait for the lock again unless we gave it up.
        if (mineResign && resign === mineResign) mineResign();
        if (controller && waiting === controller) waiting = null;
        if (!closed && !suspended && !waiting && !resign) request(false);
      });
  }

  function tick(): void {
    const now = Date.now();
    const frozen = now - lastTick > silentMs;
    lastTick = now;
    if (locks) {
      if (!leading && !suspended && now - lastHeard > silentMs + options.random() * heartbeatMs) {
        lastHeard = now;
        request(true);
      }
      return;
    }
    options.announce(leading && !frozen);
    if (frozen && leading) return follow();
    let oldestLeader: string | null = null;
    let oldest = options.tabId;
    for (const [id, p] of peers) {
      if (now - p.at > silentMs) {
        peers.delete(id);
        continue;
      }
      if (p.leading && (oldestLeader === null || id < oldestLeader)) oldestLeader = id;
      if (id < oldest) oldest = id;
    }
    if (leading) {
      if (oldestLeader !== null && oldestLeader < options.tabId) follow();
    } else if (!suspended && oldestLeader === null && oldest === options.tabId && now - startedAt >= heartbeatMs) {
      lead();
    }
  }

  const timer = setInterval(tick, heartbeatMs);
  const onFreeze = () => {
    suspended = true;
    waiting?.abort();
    waiting = null;
    if (resign) resign();
    else follow();
    if (!locks) options.announce(false);
  };
  const onResume = () => {
    if (!suspended) return;
    suspended = false;
    lastHeard = lastTick = Date.now();
    request(false);
  };
  const events: Array<[string, () => void]> = [
    ['freeze', onFreeze],
    ['pagehide', onFreeze],
    ['resume', onResume],
    ['pageshow', onResume],
  ];
  for (const target of options.lifecycle) for (const [type, listener] of events) target.addEventListener(type, listener);
  if (locks) request(false);
  else options.announce(false);

  return {
    get leading() {
      return leading;
    },
    heard() {
      lastHeard = Date.now();
    },
    peer(id, isLeading) {
      if (id !== options.tabId) peers.set(id, { at: Date.now(), leading: isLeading });
      if (isLeading) lastHeard = Date.now();
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      for (const target of options.lifecycle) for (const [type, listener] of events) target.removeEventListener(type, listener);
      waiting?.abort();
      waiting = null;
      if (resign) resign();
      else follow();
      if (!locks) options.announce(false);
    },
  };
}
