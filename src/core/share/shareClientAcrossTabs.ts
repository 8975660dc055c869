import { abortError, JobNotFoundError, JobTransportError } from '../../contract/errors';
import type {
  Job,
  JobBatch,
  JobClient,
  JobOutputListener,
  JobRequestOptions,
  JobSubscriptionListener,
} from '../../contract/types';
import { browserEnvironment } from '../watcher/environment';
import { createElection } from './election';
import { createHub, type Hub } from './hub';
import {
  fromWire,
  isShareMessage,
  shareChannelName,
  type HubMessage,
  type HubMethod,
  type TabMessage,
  type WireError,
} from './protocol';
import {
  DEFAULT_SHARE_HEARTBEAT_MS,
  DEFAULT_SHARED_READ_TTL_MS,
  type ShareAcrossTabsOptions,
  type ShareChannel,
  type SharedJobClient,
  type ShareLocks,
} from './types';

/** A subscription's hint of how often its job should be read (the watcher's interval for it). */
export interface ShareSubscribeHint {
  /** The poll interval asked for, in ms; `false` or absent: the default. */
  pollInterval?: number | false;
}

interface Pending {
  method: HubMethod;
  args: unknown[];
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

interface JobSub {
  listener: JobSubscriptionListener;
  interval: number | null;
}

interface OutputSub {
  listener: JobOutputListener;
  lastSeq: number;
}

/** Calls that may be sent again to a new leader (reads); a mutation in flight during a handover fails instead. */
const isIdempotent = (method: HubMethod): boolean => method !== 'cancel' && method !== 'retry';

/** Where page lifecycle events arrive by default: `freeze`/`resume` on document, `pagehide`/`pageshow` on window. */
function defaultLifecycle(): EventTarget[] {
  return typeof document === 'undefined' || typeof window === 'undefined' ? [] : [document, window];
}

/**
 * Shares one client among the tabs of a browser: the tabs with the same
 * `key` elect a leader (Web Locks, or heartbeats where locks are missing);
 * only the leader's hub reads and subscribes with the real client, the other
 * tabs get its snapshots over a BroadcastChannel. Give the returned client
 * to each tab's watcher (the provider does this for `share="tabs"`):
 *
 * - `subscribe(id)` registers the id with the hub and delivers the hub's
 *   snapshots as pushes, so each tab's watcher drops to its safety poll;
 * - `getStatus` / `getStatuses` (first reads, safety polls) are answered
 *   from the hub's fresh snapshot, else by one read shared by all tabs;
 * - `list` and `getPendingCount` go through the hub too, in-flight and
 *   recent identical calls answered once (`readTtlMs`, cleared whenever a
 *   job changes status); `cancel`, `retry`, `readOutput` through the hub;
 * - `subscribeOutput` shares one output subscription per job, each tab
 *   receiving the parts after its own last one.
 *
 * The hub polls while any tab is visible. When the leader closes, crashes or
 * freezes, another tab becomes the leader, every tab registers again with
 * its hub and its stream opens with each job's current state, so nothing is
 * lost; callbacks run in each tab's own watcher, which lives on.
 *
 * @throws TypeError when `key` is empty or no BroadcastChannel is available.
 */
export function shareClientAcrossTabs(client: JobClient, options: ShareAcrossTabsOptions): SharedJobClient {
  if (typeof options.key !== 'string' || options.key === '') throw new TypeError('shareClientAcrossTabs: key must be a non-empty string');
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_SHARE_HEARTBEAT_MS;
  if (!(heartbeatMs > 0)) throw new RangeError(`shareClientAcrossTabs: heartbeatMs must be a positive number of ms, got ${String(heartbeatMs)}`);
  const name = shareChannelName(options.key);
  const openChannel =
    options.channel ??
    ((n: string): ShareChannel => {
      if (typeof BroadcastChannel !== 'function') throw new TypeError('shareClientAcrossTabs: BroadcastChannel is not available here; pass `channel`');
      return new BroadcastChannel(n) as unknown as ShareChannel;
    });
  const tabId =
    options.tabId ?? `${Date.now().toString(36).padStart(9, '0')}-${Math.random().toString(36).slice(2, 10)}`;
  const locks: ShareLocks | null =
    options.locks !== undefined
      ? options.locks
      : ((typeof navigator !== 'undefined' && (navigator as { locks?: ShareLocks }).locks) || null);
  const env = options.environment === undefined ? browserEnvironment() : options.environment;
  const channel = openChannel(name);
  let real = client;
  let hub: Hub | null = null;
  let hubId: string | null = null;
  let closed = false;
  let nextReq = 1;
  let helloQueued = false;
  const pending = new Map<number, Pending>();
  const jobSubs = new Map<string, Set<JobSub>>();
  const outputSubs = new Map<string, Set<OutputSub>>();

  const state = () => ({ visible: env ? env.isVisible() : true, online: env ? env.isOnline() : true });

  /** A message to the hub: delivered in this tab when it leads, else over the channel. */
  function toHub(message: TabMessage): void {
    if (closed && message.t !== 'bye') return;
    if (hub) {
      const local = hub;
      queueMicrotask(() => local.receive(message));
    } else channel.postMessage(message);
  }

  /** The hub's messages go to every other tab, and to this one. */
  function fromHub(message: HubMessage): void {
    channel.postMessage(message);
    queueMicrotask(() => onHubMessage(message));
  }

  function intervalOf(subs: Set<JobSub>): number | null {
    let best: number | null = null;
    for (const s of subs) if (s.interval !== null && (best === null || s.interval < best)) best = s.interval;
    return best;
  }

  /** Registers everything with the hub; several asks in one task send one hello. */
  function hello(): void {
    if (helloQueued) return;
    helloQueued = true;
    queueMicrotask(sendHello);
  }
  function sendHello(): void {
    helloQueued = false;
    toHub({
      t: 'hello',
      from: tabId,
      ...state(),
      watch: [...jobSubs].map(([id, subs]) => ({ id, interval: intervalOf(subs) })),
      output: [...outputSubs].map(([id, subs]) => ({ id, after: Math.min(...[...subs].map((s) => s.lastSeq)) })),
    });
  }

  /** A new leader: register everything with it, and send it the reads still waiting for an answer. */
  function adopt(id: string): void {
    hubId = id;
    election.heard();
    hello();
    for (const [req, p] of pending) {
      if (isIdempotent(p.method)) toHub({ t: 'call', from: tabId, req, method: p.method, args: p.args });
      else {
        pending.delete(req);
        p.reject(new JobTransportError(`jobwatch: the leader tab changed during ${p.method}; try again`));
      }
    }
  }

  function pushed(job: Job): void {
    for (const s of [...(jobSubs.get(job.id) ?? [])]) s.listener.next(job);
  }

  function onHubMessage(m: HubMessage): void {
    if (closed) return;
    if (m.hub !== hubId) {
      const mine = hub !== null && m.hub === tabId;
      // Another tab's hub while this one leads: a stale leader, ignored (the election settles it).
      if (hub && !mine) return;
      // A message of a hub that is not the one followed (announcements excepted): stale.
      if (!mine && m.t !== 'lead' && m.t !== 'beat' && hubId !== null) return;
      adopt(m.hub);
      if (m.t === 'lead' || m.t === 'beat') return;
    }
    election.heard();
    switch (m.t) {
      case 'lead':
        return hello();
      case 'beat':
        return;
      case 'job':
        return pushed(m.job);
      case 'jobs':
        if (m.to === tabId) for (const job of m.jobs) pushed(job);
        return;
      case 'lost': {
        const error = fromWire(m.error);
        for (const s of [...(jobSubs.get(m.id) ?? [])]) {
          if (m.fatal) s.listener.error?.(error);
          else s.listener.disconnected?.(error);
        }
        return;
      }
      case 'paused': {
        const error = new JobTransportError('jobwatch: the leader tab paused its polls (every tab is hidden)');
        for (const s of [...(jobSubs.get(m.id) ?? [])]) s.listener.disconnected?.(error);
        return;
      }
      case 'parts':
        for (const s of [...(outputSubs.get(m.id) ?? [])]) {
          const parts = m.parts.filter((p) => p.seq > s.lastSeq);
          if (parts.length === 0 && !m.done) continue;
          if (parts.length > 0) s.lastSeq = parts[parts.length - 1]!.seq;
          s.listener.next(parts, { done: m.done, trimmed: m.trimmed });
        }
        return;
      case 'outputError': {
        const error = fromWire(m.error);
        for (const s of [...(outputSubs.get(m.id) ?? [])]) s.listener.error?.(error);
        return;
      }
      case 'answer': {
        const p = m.to === tabId ? pending.get(m.req) : undefined;
        if (!p) return;
        pending.delete(m.req);
        return m.ok ? p.resolve(m.value) : p.reject(fromWire(m.value as WireError));
      }
    }
  }

  channel.onmessage = (event) => {
    const m = event.data;
    if (closed || !isShareMessage(m)) return;
    if ('hub' in m) return onHubMessage(m as HubMessage);
    const tm = m as TabMessage;
    if (tm.t === 'peer') return election.peer(tm.from, tm.leading);
    hub?.receive(tm);
  };

  const lifecycle = options.lifecycle === undefined ? defaultLifecycle() : options.lifecycle ? [options.lifecycle] : [];
  const election = createElection({
    name,
    tabId,
    locks,
    heartbeatMs,
    lifecycle,
    random: Math.random,
    announce: (leading) => channel.postMessage({ t: 'peer', from: tabId, leading } satisfies TabMessage),
    onLead() {
      hub = createHub({ id: tabId, client: () => real, post: fromHub, heartbeatMs, readTtlMs: options.readTtlMs ?? DEFAULT_SHARED_READ_TTL_MS });
      options.onLeaderChange?.(true);
    },
    onFollow() {
      hub?.close();
      hub = null;
      hubId = null;
      options.onLeaderChange?.(false);
    },
  });

  const sendState = () => toHub({ t: 'state', from: tabId, ...state() });
  const stopEnv = env?.subscribe(sendState) ?? null;
  const keepAlive = setInterval(sendState, heartbeatMs);
  // Leaving the page (closed, or into the back/forward cache): the hub forgets this tab at once; back: registers again.
  const onPageHide = () => toHub({ t: 'bye', from: tabId });
  const onPageShow = () => hello();
  for (const target of lifecycle) {
    target.addEventListener('pagehide', onPageHide);
    target.addEventListener('pageshow', onPageShow);
  }

  /** Asks the hub to call `method`; a local abort rejects at once (the hub's answer is then ignored). */
  function call<T>(method: HubMethod, args: unknown[], signal?: AbortSignal): Promise<T> {
    if (closed) return Promise.reject(new JobTransportError('jobwatch: this shared client is closed'));
    if (signal?.aborted) return Promise.reject(abortError(signal));
    return new Promise<T>((resolve, reject) => {
      const req = nextReq++;
      const onAbort = () => {
        pending.delete(req);
        reject(abortError(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const done = (f: (v: never) => void) => (value: unknown) => {
        signal?.removeEventListener('abort', onAbort);
        f(value as never);
      };
      pending.set(req, { method, args, resolve: done(resolve), reject: done(reject) });
      toHub({ t: 'call', from: tabId, req, method, args });
    });
  }

  async function getStatuses(ids: string[], o?: JobRequestOptions): Promise<JobBatch> {
    const answer = await call<{ jobs: Job[]; missing: string[]; errors: WireError[] }>('statuses', [[...new Set(ids)]], o?.signal);
    if (answer.errors.length > 0) throw fromWire(answer.errors[0]!);
    return { jobs: answer.jobs, missing: answer.missing };
  }

  const shared: SharedJobClient = {
    get isLeader() {
      return hub !== null;
    },
    async getStatus(id, o) {
      const batch = await getStatuses([id], o);
      const job = batch.jobs.find((j) => j.id === id);
      if (!job) throw new JobNotFoundError(id);
      return job;
    },
    getStatuses,
    list: (filter, o) => call('list', [filter ?? {}], o?.signal),
    getPendingCount: (filter, o) => call('getPendingCount', [filter ?? {}], o?.signal),
    subscribe(id, listener, hint?: ShareSubscribeHint) {
      const interval = typeof hint?.pollInterval === 'number' ? hint.pollInterval : null;
      const sub: JobSub = { listener, interval };
      let subs = jobSubs.get(id);
      if (!subs) jobSubs.set(id, (subs = new Set()));
      const before = subs.size === 0 ? undefined : intervalOf(subs);
      subs.add(sub);
      if (before === undefined || intervalOf(subs) !== before) toHub({ t: 'watch', from: tabId, id, interval: intervalOf(subs) });
      return () => {
        if (!subs.delete(sub)) return;
        if (subs.size === 0) {
          jobSubs.delete(id);
          toHub({ t: 'unwatch', from: tabId, id });
        }
      };
    },
    setClient(next) {
      real = next;
    },
    close() {
      if (closed) return;
      toHub({ t: 'bye', from: tabId });
      closed = true;
      clearInterval(keepAlive);
      stopEnv?.();
      for (const target of lifecycle) {
        target.removeEventListener('pagehide', onPageHide);
        target.removeEventListener('pageshow', onPageShow);
      }
      election.close();
      for (const p of pending.values()) p.reject(new JobTransportError('jobwatch: this shared client is closed'));
      pending.clear();
      jobSubs.clear();
      outputSubs.clear();
      channel.onmessage = null;
      channel.close();
    },
  };
  if (client.cancel) shared.cancel = (id) => call('cancel', [id]);
  if (client.retry) shared.retry = (id) => call('retry', [id]);
  if (client.readOutput) {
    shared.readOutput = (id, o) => {
      const { signal, ...rest } = o ?? {};
      return call('readOutput', [id, rest], signal);
    };
  }
  if (client.subscribeOutput) {
    shared.subscribeOutput = (id, o, listener) => {
      const sub: OutputSub = { listener, lastSeq: o.after ?? 0 };
      let subs = outputSubs.get(id);
      if (!subs) outputSubs.set(id, (subs = new Set()));
      subs.add(sub);
      toHub({ t: 'output', from: tabId, id, after: Math.min(...[...subs].map((s) => s.lastSeq)) });
      return () => {
        if (!subs.delete(sub)) return;
        if (subs.size === 0) {
          outputSubs.delete(id);
          toHub({ t: 'unoutput', from: tabId, id });
        }
      };
    };
  }
  const shareKey = (client as { shareKey?: unknown }).shareKey;
  if (typeof shareKey === 'string') Object.assign(shared, { shareKey });
  return shared;
}
