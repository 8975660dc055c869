import { createMemoryJobBackend } from '../../src/testing';
import { crash, fakeBrowser, openTab } from './fakes';

const settle = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

describe('tab sharing: leader election', () => {
  beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => vi.useRealTimers());

  it('elects exactly one leader among several tabs, and another when it closes', async () => {
    const browser = fakeBrowser();
    const backend = createMemoryJobBackend();
    const tabs = [0, 1, 2].map(() => openTab(browser, backend));
    await settle(10);
    expect(tabs.filter((t) => t.shared.isLeader)).toHaveLength(1);
    const leader = tabs.find((t) => t.shared.isLeader)!;
    crash(browser, leader);
    await settle(10);
    const rest = tabs.filter((t) => t !== leader);
    expect(rest.filter((t) => t.shared.isLeader)).toHaveLength(1);
    for (const t of rest) t.shared.close();
  });
});
