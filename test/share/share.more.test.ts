/** Tab sharing in jsdom, continued: the election without locks, errors, output, lists and counts, mutations. */
import { JobNotFoundError } from '../../src/core';
import { createMemoryJobBackend } from '../../src/testing';
import { pollingClient, reads } from '../core/watcher.fakes';
import { crash, fakeBrowser, openTab, type AppTab } from './fakes';

const settle = (ms = 0) => vi.advanceTimersByTimeAsync(ms);
/** Lets the fake channel deliver (its messages are timers), then gives the call's outcome. */
async function answer<T>(call: Promise<T>): Promise<T> {
  call.catch(() => undefined);
  await settle(50);
  return call;
}
const leaderOf = (tabs: AppTab[]) => tabs.filter((t) => t.shared.isLeader);

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

describe('tab sharing without Web Locks (heartbeat election)', () => {
  it('elects the oldest live tab, and the next oldest when it goes silent', async () => {
    const browser = fakeBrowser();
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const tabs = [0, 1, 2].map(() => openTab(browser, pollingClient(backend), { noLocks: true }));
    for (const t of tabs) t.watcher.watch(job.id);
    await settle(3000);
    expect(leaderOf(tabs)).toEqual([tabs[0]]);
    crash(browser, tabs[0]!);
    await settle(4000);
    const rest = tabs.slice(1);
    expect(leaderOf(rest)).toEqual([tabs[1]]);
    backend.start(job.id);
    await settle(2500);
    for (const t of rest) expect(t.watcher.getSnapshot(job.id).job?.status).toBe('processing');
    for (const t of rest) t.shared.close();
  });
});

describe('tab sharing: errors, output, lists and mutations', () => {
  it('a job the server does not know ends watching in every tab with JobNotFoundError', async () => {
    const browser = fakeBrowser();
    const backend = createMemoryJobBackend();
    const tabs = [0, 1].map(() => openTab(browser, backend));
    for (const t of tabs) t.watcher.watch('nope');
    await settle(500);
    for (const t of tabs) {
      const snapshot = t.watcher.getSnapshot('nope');
      expect(snapshot.fatal).toBe(true);
      expect(snapshot.error).toBeInstanceOf(JobNotFoundError);
    }
    await expect(answer(tabs[1]!.shared.getStatus('nope'))).rejects.toBeInstanceOf(JobNotFoundError);
    for (const t of tabs) t.shared.close();
  });

  it('shares one output subscription; each tab gets every part once, a tab joining later included', async () => {
    const browser = fakeBrowser();
    const backend = createMemoryJobBackend();
    const job = backend.create();
    backend.start(job.id);
    const [a, b] = [0, 1].map(() => openTab(browser, backend));
    await settle(10);
    const got: Record<string, number[]> = { a: [], b: [] };
    const offA = a!.shared.subscribeOutput!(job.id, {}, { next: (parts) => got.a!.push(...parts.map((p) => p.seq)) });
    await settle(50);
    backend.appendOutput(job.id, { kind: 'text', text: 'one ' });
    backend.appendOutput(job.id, { kind: 'text', text: 'two ' });
    await settle(50);
    const offB = b!.shared.subscribeOutput!(job.id, { after: 1 }, { next: (parts) => got.b!.push(...parts.map((p) => p.seq)) });
    await settle(50);
    backend.appendOutput(job.id, { kind: 'text', text: 'three' });
    await settle(50);
    expect(got.a).toEqual([1, 2, 3]);
    expect(got.b).toEqual([2, 3]);
    expect(backend.calls.filter((c) => c.method === 'subscribeOutput')).toHaveLength(1);
    const page = await answer(b!.shared.readOutput!(job.id, { after: 0 }));
    expect(page.parts.map((p) => p.text).join('')).toBe('one two three');
    offA();
    offB();
    a!.shared.close();
    b!.shared.close();
  });

  it('answers identical counts and lists of several tabs with one request, until a job changes status', async () => {
    const browser = fakeBrowser();
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const tabs = [0, 1, 2].map(() => openTab(browser, pollingClient(backend)));
    tabs[0]!.watcher.watch(job.id);
    await settle(100);
    const counted = () => backend.calls.filter((c) => c.method === 'getPendingCount').length;
    const counts = await answer(Promise.all(tabs.map((t) => t.shared.getPendingCount())));
    expect(counts).toEqual([{ pending: 1, processing: 0 }, { pending: 1, processing: 0 }, { pending: 1, processing: 0 }]);
    expect(counted()).toBe(1);
    backend.start(job.id);
    await settle(2100);
    expect(await answer(tabs[2]!.shared.getPendingCount())).toEqual({ pending: 0, processing: 1 });
    expect(counted()).toBe(2);
    const pages = await answer(Promise.all(tabs.map((t) => t.shared.list({ status: 'processing' }))));
    expect(pages.map((p) => p.jobs.map((j) => j.id))).toEqual([[job.id], [job.id], [job.id]]);
    expect(backend.calls.filter((c) => c.method === 'list')).toHaveLength(1);
    for (const t of tabs) t.shared.close();
  });

  it('cancels through the leader, and every tab sees the cancelled job at once', async () => {
    const browser = fakeBrowser();
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const tabs = [0, 1].map(() => openTab(browser, pollingClient(backend)));
    for (const t of tabs) t.watcher.watch(job.id);
    await settle(100);
    const follower = tabs.find((t) => !t.shared.isLeader)!;
    const before = reads(backend);
    expect((await answer(follower.shared.cancel!(job.id))).status).toBe('cancelled');
    await settle(20);
    for (const t of tabs) expect(t.watcher.getSnapshot(job.id).job?.status).toBe('cancelled');
    expect(reads(backend)).toBe(before);
    for (const t of tabs) t.shared.close();
  });

  it('a hidden tab that asks to poll while hidden gets reads through the leader when every tab is hidden', async () => {
    const browser = fakeBrowser();
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const tabs = [0, 1].map(() => openTab(browser, pollingClient(backend)));
    for (const t of tabs) t.watcher.watch(job.id, { pollWhenHidden: t === tabs[1] });
    await settle(500);
    for (const t of tabs) t.page.setVisible(false);
    await settle(100);
    backend.start(job.id);
    await settle(4100);
    expect(tabs[1]!.watcher.getSnapshot(job.id).job?.status).toBe('processing');
    for (const t of tabs) t.shared.close();
  });

  it('an aborted call rejects at once with an AbortError; a closed client rejects', async () => {
    const browser = fakeBrowser();
    const backend = createMemoryJobBackend();
    const t = openTab(browser, backend);
    const controller = new AbortController();
    const pending = t.shared.list({}, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
    t.shared.close();
    await expect(t.shared.getPendingCount()).rejects.toThrow(/closed/);
    expect(() => openTab(browser, backend, { key: '' })).toThrow(TypeError);
  });
});

describe('tab sharing: page lifecycle', () => {
  it('a leader being frozen gives the lead up at once and queues again when resumed; pagehide says goodbye', async () => {
    const browser = fakeBrowser();
    const backend = createMemoryJobBackend();
    const job = backend.create();
    const pages = [new EventTarget(), new EventTarget()];
    const tabs = pages.map((lifecycle) => openTab(browser, pollingClient(backend), { lifecycle }));
    tabs[1]!.watcher.watch(job.id);
    await settle(500);
    expect(leaderOf(tabs)).toEqual([tabs[0]]);
    pages[0]!.dispatchEvent(new Event('freeze'));
    await settle(10);
    expect(leaderOf(tabs)).toEqual([tabs[1]]);
    pages[0]!.dispatchEvent(new Event('resume'));
    await settle(10);
    expect(leaderOf(tabs)).toEqual([tabs[1]]);
    // The follower watching another job leaves (pagehide): the leader's hub stops reading that job.
    const other = backend.create();
    tabs[0]!.watcher.watch(other.id);
    const readsOf = (id: string) =>
      backend.calls.filter((c) => (c.method === 'getStatus' || c.method === 'getStatuses') && JSON.stringify(c.args).includes(`"${id}"`)).length;
    await settle(5000);
    expect(readsOf(other.id)).toBeGreaterThanOrEqual(2);
    pages[0]!.dispatchEvent(new Event('pagehide'));
    // A page in the back/forward cache runs nothing more.
    browser.freeze(tabs[0]!.tab);
    await settle(100);
    const before = readsOf(other.id);
    await settle(10_000);
    expect(readsOf(other.id)).toBe(before);
    expect(readsOf(job.id)).toBeGreaterThan(0);
    for (const t of tabs) t.shared.close();
  });
});
