import { JobNotFoundError } from '../../contract/errors';
import { isTerminal } from '../../contract/states';
import type { Job, JobClient, JobOutputPart } from '../../contract/types';
import { createJobWatcher } from '../createJobWatcher';
import { DEFAULT_POLL_INTERVAL, type JobSnapshot, type JobWatcherEnvironment, type WatchHandle } from '../watcher/types';
import { createHubReads } from './hubReads';
import { toWire, type HubMessage, type HubMethod, type TabMessage } from './protocol';

/** The leader tab's hub: the one watcher (and output subscriptions) that talks to the server for every tab. */
export interface Hub {
  /** Handles a tab's message (this tab's own too). */
  receive(message: TabMessage): void;
  /** Stops everything: watches, subscriptions, timers. Tabs re-register with the next hub. */
  close(): void;
}

/** What {@link createHub} needs. */
export interface HubOptions {
  /** The hub's id (its tab's id). */
  id: string;
  /** The real client, asked at every request. */
  client: () => JobClient;
  /** Sends a message to every tab (this tab's included). */
  post(message: HubMessage): void;
  /** The heartbeat, in ms: a beat is posted this often. */
  heartbeatMs: number;
  /** How long `list` / `getPendingCount` answers are reused, in ms. */
  readTtlMs: number;
}

interface TabState {
  visible: boolean;
  online: boolean;
  seenAt: number;
  /** Watched ids → the interval asked for (null: default). */
  watches: Map<string, number | null>;
  /** Output subscriptions → the last seq this tab has. */
  outputs: Map<string, number>;
}

interface HubJob {
  handle: WatchHandle;
  stop: () => void;
  sent: Job | undefined;
  error: Error | null;
  /** The hub's polls of it are paused (every tab hidden, and the client has no push). */
  paused: boolean;
}

interface HubOutput {
  unsubscribe: () => void;
  /** Parts received since the subscription started, newest last (kept for tabs joining later). */
  buffer: JobOutputPart[];
  /** The seq the subscription started after. */
  after: number;
}

/**
 * A tab silent this long (ms; or 3 beats, if longer) is taken to have crashed: its watches are dropped.
 * Long, because a hidden tab's timers may run only once a minute (Chrome's intensive throttling);
 * a tab that closes normally says goodbye on `pagehide`.
 */
const SILENT_TAB_MS = 120_000;

/** Parts kept per job for tabs that subscribe later. */
const MAX_BUFFERED_PARTS = 500;

/**
 * Creates the hub. It watches the union of what every tab watches with one
 * job watcher over the real client (each id at the smallest interval any tab
 * asks for, pushed when the client can push), polls while any tab is visible,
 * and sends every new snapshot to all tabs. A tab's own reads (its watcher's
 * first read and safety polls) are answered from the hub's snapshot while it
 * is fresh, else by one read shared with the hub's watcher.
 */
export function createHub(options: HubOptions): Hub {
  const { post, id: hub } = options;
  const tabs = new Map<string, TabState>();
  const jobs = new Map<string, HubJob>();
  const outputs = new Map<string, HubOutput>();
  const reads = createHubReads(options.client);
  const cached = new Map<string, { at: number; answer: Promise<unknown> }>();
  const envListeners = new Set<() => void>();
  /** Unknown tabs already asked to say hello. */
  const asked = new Set<string>();
  let wasVisible = false;
  const silentTabMs = Math.max(SILENT_TAB_MS, 3 * options.heartbeatMs);
  let closed = false;

  const environment: JobWatcherEnvironment = {
    isVisible: () => [...tabs.values()].some((t) => t.visible),
    isOnline: () => tabs.get(hub)?.online ?? true,
    subscribe(listener) {
      envListeners.add(listener);
      return () => envListeners.delete(listener);
    },
  };
  const watcher = createJobWatcher({
    client: reads.client(),
    environment,
    // A job changing status changes counts and lists: answers kept for them are stale.
    onJobStatusChange: () => cached.clear(),
  });

  function environmentChanged(): void {
    for (const listener of [...envListeners]) listener();
  }

  /** The smallest interval any tab asks for `id`. */
  function intervalOf(id: string): number {
    let best: number | null = null;
    for (const tab of tabs.values()) {
      const asked = tab.watches.get(id);
      if (asked === undefined) continue;
      const ms = asked ?? DEFAULT_POLL_INTERVAL;
      if (best === null || ms < best) best = ms;
    }
    return best ?? DEFAULT_POLL_INTERVAL;
  }

  function publish(id: string): void {
    const entry = jobs.get(id);
    if (!entry) return;
    const snapshot: JobSnapshot = watcher.getSnapshot(id);
    if (snapshot.job && snapshot.job !== entry.sent) {
      entry.sent = snapshot.job;
      post({ t: 'job', hub, job: snapshot.job });
    }
    const paused = snapshot.connection === 'paused';
    // Tabs stop relying on the hub's pushes: one that polls while hidden reads (through the hub) again.
    if (paused && !entry.paused) post({ t: 'paused', hub, id });
    entry.paused = paused;
    if (snapshot.error !== entry.error) {
      entry.error = snapshot.error;
      if (snapshot.error) post({ t: 'lost', hub, id, error: toWire(snapshot.error), fatal: snapshot.fatal });
    }
  }

  /** Starts watching `id` for the hub (or follows a change of intervals); returns the job already known, for a tab joining later. */
  function watch(id: string): Job | undefined {
    const existing = jobs.get(id);
    if (existing) {
      existing.handle.update();
      return existing.sent;
    }
    const entry: HubJob = {
      handle: watcher.watch(id, () => ({ pollInterval: intervalOf(id), live: true })),
      stop: watcher.subscribe(id, () => publish(id)),
      sent: undefined,
      error: null,
      paused: false,
    };
    jobs.set(id, entry);
    publish(id);
    return undefined;
  }

  /** Sends one tab the jobs the hub already has among `ids`. */
  function catchUp(to: string, ids: Iterable<string>): void {
    const list: Job[] = [];
    for (const id of ids) {
      const job = watch(id);
      if (job) list.push(job);
    }
    if (list.length > 0) post({ t: 'jobs', hub, to, jobs: list });
  }

  function unwatchIfUnused(id: string): void {
    const entry = jobs.get(id);
    if (!entry) return;
    for (const tab of tabs.values()) if (tab.watches.has(id)) return entry.handle.update();
    jobs.delete(id);
    entry.stop();
    entry.handle.release();
    reads.forget(id);
  }

  /** What the hub can answer for `id` without asking the server: a fresh job, a recent failure, or nothing. */
  function known(id: string): Job | Error | undefined {
    const snapshot = watcher.getSnapshot(id);
    const now = Date.now();
    if (snapshot.fatal && snapshot.error) return snapshot.error;
    const interval = intervalOf(id);
    const failedAt = reads.failedAt(id);
    if (snapshot.error && failedAt !== undefined && now - failedAt < interval) return snapshot.error;
    if (!snapshot.job || snapshot.error) return undefined;
    if (isTerminal(snapshot.job) || snapshot.connection === 'live') return snapshot.job;
    const freshAt = reads.freshAt(id);
    return freshAt !== undefined && now - freshAt < interval ? snapshot.job : undefined;
  }

  /** A tab's status read: fresh answers from the snapshots, the rest read (one request, shared). */
  async function statuses(ids: string[]): Promise<{ jobs: Job[]; missing: string[]; errors: ReturnType<typeof toWire>[] }> {
    const answers = new Map<string, Job | Error>();
    const toRead: string[] = [];
    for (const id of ids) {
      const answer = known(id);
      if (answer === undefined) toRead.push(id);
      else answers.set(id, answer);
    }
    if (toRead.length > 0) {
      for (const [id, answer] of await reads.read(toRead)) {
        answers.set(id, answer);
        if (!(answer instanceof Error)) watcher.ingest(answer);
      }
    }
    const result = { jobs: [] as Job[], missing: [] as string[], errors: [] as ReturnType<typeof toWire>[] };
    for (const [id, answer] of answers) {
      if (!(answer instanceof Error)) result.jobs.push(answer);
      else if (answer instanceof JobNotFoundError) result.missing.push(id);
      else result.errors.push({ ...toWire(answer), jobId: id });
    }
    return result;
  }

  /** Calls the real client for a tab; `list` and `getPendingCount` answers are shared for `readTtlMs`. */
  function call(method: HubMethod, args: unknown[]): Promise<unknown> {
    if (method === 'statuses') return statuses(args[0] as string[]);
    const client = options.client() as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    if (typeof client[method] !== 'function') return Promise.reject(new TypeError(`jobwatch: the client has no ${method}`));
    const shared = method === 'list' || method === 'getPendingCount';
    const key = `${method}\n${JSON.stringify(args)}`;
    const hit = shared ? cached.get(key) : undefined;
    if (hit && Date.now() - hit.at < options.readTtlMs) return hit.answer;
    const answer = client[method]!(...args);
    if (shared && options.readTtlMs > 0) {
      cached.set(key, { at: Date.now(), answer });
      answer.catch(() => cached.get(key)?.answer === answer && cached.delete(key));
    }
    if (method === 'cancel' || method === 'retry') void answer.then((job) => watcher.replace(job as Job), () => undefined);
    return answer;
  }

  function output(id: string, after: number): void {
    const existing = outputs.get(id);
    if (existing) {
      // A tab joining later gets what the hub already has after its own last part.
      const missed = existing.buffer.filter((p) => p.seq > after);
      if (missed.length > 0) post({ t: 'parts', hub, id, parts: missed, done: false, trimmed: false });
      return;
    }
    const subscribeOutput = options.client().subscribeOutput;
    if (!subscribeOutput) return;
    const state: HubOutput = { unsubscribe: () => undefined, buffer: [], after };
    outputs.set(id, state);
    state.unsubscribe = subscribeOutput.call(options.client(), id, { after }, {
      next(parts, info) {
        if (outputs.get(id) !== state) return;
        state.buffer.push(...parts);
        if (state.buffer.length > MAX_BUFFERED_PARTS) state.buffer.splice(0, state.buffer.length - MAX_BUFFERED_PARTS);
        post({ t: 'parts', hub, id, parts, done: info?.done === true, trimmed: info?.trimmed === true });
      },
      error(error) {
        if (outputs.get(id) !== state) return;
        outputs.delete(id);
        post({ t: 'outputError', hub, id, error: toWire(error) });
      },
    });
  }

  function unoutputIfUnused(id: string): void {
    for (const tab of tabs.values()) if (tab.outputs.has(id)) return;
    const state = outputs.get(id);
    outputs.delete(id);
    state?.unsubscribe();
  }

  function tabOf(tabId: string): TabState {
    let tab = tabs.get(tabId);
    if (!tab) {
      tab = { visible: false, online: true, seenAt: Date.now(), watches: new Map(), outputs: new Map() };
      tabs.set(tabId, tab);
    }
    return tab;
  }

  function dropTab(tabId: string): void {
    const tab = tabs.get(tabId);
    if (!tab) return;
    tabs.delete(tabId);
    for (const id of tab.watches.keys()) unwatchIfUnused(id);
    for (const id of tab.outputs.keys()) unoutputIfUnused(id);
    visibilityMaybeChanged();
  }

  function visibilityMaybeChanged(): void {
    const visible = environment.isVisible();
    if (visible !== wasVisible) {
      wasVisible = visible;
      environmentChanged();
    }
  }

  function receive(m: TabMessage): void {
    if (closed || m.t === 'peer') return;
    if (m.t === 'bye') return dropTab(m.from);
    if (m.t !== 'hello' && !tabs.has(m.from)) {
      // A tab this hub does not know (it joined before the hub, or was dropped as silent): asked once to say hello.
      if (!asked.has(m.from)) {
        asked.add(m.from);
        post({ t: 'lead', hub });
      }
      if (m.t !== 'call') return;
    }
    const tab = tabOf(m.from);
    tab.seenAt = Date.now();
    switch (m.t) {
      case 'hello': {
        tab.visible = m.visible;
        tab.online = m.online;
        const before = new Set(tab.watches.keys());
        asked.delete(m.from);
        tab.watches = new Map(m.watch.map((w) => [w.id, w.interval]));
        catchUp(m.from, tab.watches.keys());
        for (const id of before) if (!tab.watches.has(id)) unwatchIfUnused(id);
        tab.outputs = new Map(m.output.map((o) => [o.id, o.after]));
        for (const o of m.output) output(o.id, o.after);
        visibilityMaybeChanged();
        environmentChanged();
        return;
      }
      case 'state': {
        const changed = tab.online !== m.online;
        tab.visible = m.visible;
        tab.online = m.online;
        if (changed) environmentChanged();
        return visibilityMaybeChanged();
      }
      case 'watch':
        tab.watches.set(m.id, m.interval);
        return catchUp(m.from, [m.id]);
      case 'unwatch':
        tab.watches.delete(m.id);
        return unwatchIfUnused(m.id);
      case 'output':
        tab.outputs.set(m.id, m.after);
        return output(m.id, m.after);
      case 'unoutput':
        tab.outputs.delete(m.id);
        return unoutputIfUnused(m.id);
      case 'call': {
        const reply = (ok: boolean, value: unknown) => {
          if (!closed) post({ t: 'answer', hub, to: m.from, req: m.req, ok, value });
        };
        call(m.method, m.args).then(
          (value) => reply(true, value),
          (error: unknown) => reply(false, toWire(error)),
        );
        return;
      }
    }
  }

  const beat = setInterval(() => {
    post({ t: 'beat', hub });
    const now = Date.now();
    for (const [tabId, tab] of tabs) if (tabId !== hub && now - tab.seenAt > silentTabMs) dropTab(tabId);
  }, options.heartbeatMs);
  post({ t: 'lead', hub });

  return {
    receive,
    close() {
      if (closed) return;
      closed = true;
      clearInterval(beat);
      for (const entry of jobs.values()) {
        entry.stop();
        entry.handle.release();
      }
      jobs.clear();
      for (const state of outputs.values()) state.unsubscribe();
      outputs.clear();
      tabs.clear();
    },
  };
}
