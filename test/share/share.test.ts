/** Tab sharing in jsdom: several "tabs" in one process over a fake BroadcastChannel and fake Web Locks. */
import { createMemoryJobBackend, type MemoryJobBackend } from '../../src/testing';
import { pollingClient, reads } from '../core/watcher.fakes';
import type { ShareSubscribeHint } from '../../src/core/share/shareClientAcrossTabs';
import { crash, fakeBrowser, openTab, type AppTab } from './fakes';

const settle = (ms = 0) => vi.advanceTimersByTimeAsync(ms);
const leaderOf = (tabs: AppTab[]) => tabs.filter((t) => t.shared.isLeader);
const statusIn = (t: AppTab, id: string) => t.watcher.getSnapshot(id).job?.status;
/** Subscribes as the watcher's push unit does when it passes its interval along. */
const subscribeAt = (t: AppTab, id: string, pollInterval: number) =>
  (t.shared.subscribe as (id: string, listener: { next(): void }, hint: ShareSubscribeHint) => () => void)(id, { next() {} }, { pollInterval });
const subscribes = (backend: MemoryJobBackend) => backend.calls.filter((c) => c.method === 'subscribe').length;

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

describe('tab sharing: one connection for every tab', () => {
  it('gives every tab the leader’s snapshots, pushed', async () => {
    const browser = fakeBrowser();
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const tabs = [0, 1, 2].map(() => openTab(browser, backend));
    for (const t of tabs) t.watcher.watch(job.id);
    await settle(200);
    for (const t of tabs) expect(statusIn(t, job.id)).toBe('pending');
    backend.start(job.id);
    backend.progress(job.id, 0.5, 'half');
    await settle(10);
    for (const t of tabs) {
      expect(t.watcher.getSnapshot(job.id).job?.progress).toBe(0.5);
      expect(t.watcher.getSnapshot(job.id).connection).toBe('live');
    }
    // One subscription for the whole browser.
    expect(subscribes(backend)).toBe(1);
    for (const t of tabs) t.shared.close();
  });

  it('answers the tabs’ safety polls from the leader’s fresh snapshot, without asking the server', async () => {
    const browser = fakeBrowser();
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const tabs = [0, 1, 2, 3].map(() => openTab(browser, backend));
    for (const t of tabs) t.watcher.watch(job.id);
    await settle(200);
    const before = reads(backend);
    // Four tabs, each with its 30 s safety poll due: all answered by the live hub.
    await settle(65_000);
    expect(reads(backend) - before).toBeLessThanOrEqual(2); // the hub's own safety polls only
    for (const t of tabs) t.shared.close();
  });

  it('costs five tabs what one tab costs (polling client)', async () => {
    const count = async (n: number) => {
      const browser = fakeBrowser();
      const backend = createMemoryJobBackend();
      const ids = Array.from({ length: 10 }, () => backend.create().id);
      const tabs = Array.from({ length: n }, () => openTab(browser, pollingClient(backend)));
      for (const t of tabs) for (const id of ids) t.watcher.watch(id);
      await settle(1000);
      const start = reads(backend);
      await settle(20_000);
      const used = reads(backend) - start;
      for (const t of tabs) t.shared.close();
      return used;
    };
    const one = await count(1);
    const five = await count(5);
    expect(one).toBeGreaterThanOrEqual(9);
    expect(five).toBeLessThanOrEqual(Math.ceil(one * 1.1));
  });

  it('watches each job at the smallest interval any tab asks for', async () => {
    const browser = fakeBrowser();
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const a = openTab(browser, pollingClient(backend));
    const b = openTab(browser, pollingClient(backend));
    const offA = subscribeAt(a, job.id, 5000);
    await settle(100);
    let start = reads(backend);
    await settle(20_000);
    expect(reads(backend) - start).toBe(4);
    const offB = subscribeAt(b, job.id, 1000);
    await settle(100);
    start = reads(backend);
    await settle(10_000);
    expect(reads(backend) - start).toBeGreaterThanOrEqual(9);
    expect(reads(backend) - start).toBeLessThanOrEqual(11);
    offA();
    offB();
    a.shared.close();
    b.shared.close();
  });
});

describe('tab sharing: handover', () => {
  it('a follower takes over within one interval when the leader closes, losing no update', async () => {
    const browser = fakeBrowser();
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const tabs = [0, 1, 2].map(() => openTab(browser, pollingClient(backend)));
    for (const t of tabs) t.watcher.watch(job.id);
    await settle(2500);
    const [leader] = leaderOf(tabs);
    crash(browser, leader!);
    const rest = tabs.filter((t) => t !== leader);
    backend.start(job.id);
    await settle(2000);
    expect(leaderOf(rest)).toHaveLength(1);
    for (const t of rest) expect(statusIn(t, job.id)).toBe('processing');
    for (const t of rest) t.shared.close();
  });

  it('a frozen leader (no heartbeat) is replaced: a follower steals the lock, the old one follows when it thaws', async () => {
    const browser = fakeBrowser();
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const tabs = [0, 1].map(() => openTab(browser, backend));
    for (const t of tabs) t.watcher.watch(job.id);
    await settle(500);
    const [leader] = leaderOf(tabs);
    const follower = tabs.find((t) => t !== leader)!;
    browser.freeze(leader!.tab);
    await settle(4000);
    expect(follower.shared.isLeader).toBe(true);
    backend.start(job.id);
    await settle(100);
    expect(statusIn(follower, job.id)).toBe('processing');
    browser.thaw(leader!.tab);
    await settle(100);
    expect(leader!.shared.isLeader).toBe(false);
    backend.complete(job.id);
    await settle(2500);
    expect(statusIn(leader!, job.id)).toBe('completed');
    expect(leader!.settled).toEqual([job.id]);
    expect(follower.settled).toEqual([job.id]);
    for (const t of tabs) t.shared.close();
  });

  it('a job settling while the leader changes is seen terminal in every tab, settled once per tab', async () => {
    const browser = fakeBrowser();
    const backend = createMemoryJobBackend();
    const job = backend.create();
    backend.start(job.id);
    const tabs = [0, 1, 2].map(() => openTab(browser, backend));
    for (const t of tabs) t.watcher.watch(job.id);
    await settle(500);
    const [leader] = leaderOf(tabs);
    crash(browser, leader!);
    backend.complete(job.id, { ok: true });
    const rest = tabs.filter((t) => t !== leader);
    await settle(2000);
    for (const t of rest) {
      expect(statusIn(t, job.id)).toBe('completed');
      expect(t.settled).toEqual([job.id]);
    }
    await settle(60_000);
    for (const t of rest) expect(t.settled).toEqual([job.id]);
    for (const t of rest) t.shared.close();
  });
});

describe('tab sharing: visibility and scopes', () => {
  it('polls while any tab is visible, pauses when all are hidden', async () => {
    const browser = fakeBrowser();
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const tabs = [0, 1].map(() => openTab(browser, pollingClient(backend)));
    for (const t of tabs) t.watcher.watch(job.id);
    await settle(500);
    tabs[0]!.page.setVisible(false);
    let start = reads(backend);
    await settle(10_000);
    expect(reads(backend) - start).toBeGreaterThanOrEqual(4);
    tabs[1]!.page.setVisible(false);
    await settle(100);
    start = reads(backend);
    await settle(10_000);
    expect(reads(backend) - start).toBe(0);
    tabs[0]!.page.setVisible(true);
    await settle(100);
    expect(reads(backend) - start).toBe(1);
    for (const t of tabs) t.shared.close();
  });

  it('never shares between different keys (scopes or clients)', async () => {
    const browser = fakeBrowser();
    const one = createMemoryJobBackend();
    const two = createMemoryJobBackend();
    const a = openTab(browser, one, { key: 'api-one' });
    const b = openTab(browser, two, { key: 'api-two' });
    await settle(10);
    expect(a.shared.isLeader).toBe(true);
    expect(b.shared.isLeader).toBe(true);
    const job = two.create();
    b.watcher.watch(job.id);
    await settle(200);
    expect(statusIn(b, job.id)).toBe('pending');
    expect(one.calls).toHaveLength(0);
    a.shared.close();
    b.shared.close();
  });
});
