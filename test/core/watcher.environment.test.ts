import type { JobWatcherEnvironment } from '../../src/core';
import { browserEnvironment, createActivity } from '../../src/core/watcher/environment';

/** A page whose visibility and connectivity the test sets; counts its subscriptions. */
function fakePage() {
  let visible = true;
  let online = true;
  const listeners = new Set<() => void>();
  let subscribes = 0;
  const environment: JobWatcherEnvironment = {
    isVisible: () => visible,
    isOnline: () => online,
    subscribe(listener) {
      subscribes += 1;
      listeners.add(listener);
      return () => void listeners.delete(listener);
    },
  };
  return {
    environment,
    listeners,
    subscribes: () => subscribes,
    set(state: { visible?: boolean; online?: boolean }) {
      visible = state.visible ?? visible;
      online = state.online ?? online;
      for (const l of [...listeners]) l();
    },
  };
}

const no = () => false;
const yes = () => true;
/** The jobs of these tests are their own answer to whether they poll while hidden. */
const ask = (pollsWhenHidden: () => boolean) => pollsWhenHidden();

describe('watcher environment: createActivity', () => {
  it('never pauses nor slows without an environment (a server, or environment: null)', () => {
    const activity = createActivity(null, () => {}, ask);
    expect(activity.paused(no)).toBe(false);
    activity.setHiddenPollInterval(60_000);
    expect(activity.slowed(2000, no)).toBe(2000);
    activity.retain();
    activity.release();
    expect(activity.resumed()).toBe(false);
  });

  it('pauses while hidden unless the job polls when hidden, and always while offline', () => {
    const page = fakePage();
    const activity = createActivity(page.environment, () => {}, ask);
    expect(activity.paused(no)).toBe(false);
    page.set({ visible: false });
    expect(activity.paused(no)).toBe(true);
    expect(activity.paused(yes)).toBe(false);
    page.set({ visible: true, online: false });
    expect(activity.paused(no)).toBe(true);
    expect(activity.paused(yes)).toBe(true);
  });

  it('asks whether the job polls when hidden only while hidden', () => {
    const page = fakePage();
    const activity = createActivity(page.environment, () => {}, ask);
    const asks = vi.fn(() => false);
    activity.paused(asks);
    activity.slowed(2000, asks);
    expect(asks).not.toHaveBeenCalled();
    page.set({ visible: false });
    activity.paused(asks);
    expect(asks).toHaveBeenCalledTimes(1);
  });

  it('slows a hidden page to the hidden poll interval instead of pausing, while one is set', () => {
    const page = fakePage();
    const activity = createActivity(page.environment, () => {}, ask);
    activity.setHiddenPollInterval(60_000);
    expect(activity.slowed(2000, no)).toBe(2000);
    page.set({ visible: false });
    expect(activity.paused(no)).toBe(false);
    expect(activity.slowed(2000, no)).toBe(60_000);
    expect(activity.slowed(120_000, no)).toBe(120_000);
    expect(activity.slowed(2000, yes)).toBe(2000);
    activity.setHiddenPollInterval(false);
    expect(activity.paused(no)).toBe(true);
    expect(activity.slowed(2000, no)).toBe(2000);
  });

  it('subscribes once while anything is retained, and unsubscribes with the last release', () => {
    const page = fakePage();
    const onChange = vi.fn();
    const activity = createActivity(page.environment, onChange, ask);
    expect(page.subscribes()).toBe(0);
    activity.retain();
    activity.retain();
    expect(page.subscribes()).toBe(1);
    page.set({ visible: false });
    expect(onChange).toHaveBeenCalledTimes(1);
    activity.release();
    expect(page.listeners.size).toBe(1);
    activity.release();
    expect(page.listeners.size).toBe(0);
    page.set({ visible: true });
    expect(onChange).toHaveBeenCalledTimes(1);
  });

  it('says resumed once when the page becomes visible and online again', () => {
    const page = fakePage();
    const activity = createActivity(page.environment, () => {}, ask);
    activity.retain();
    expect(activity.resumed()).toBe(false);
    page.set({ visible: false });
    expect(activity.resumed()).toBe(false);
    page.set({ visible: true, online: false });
    expect(activity.resumed()).toBe(false);
    page.set({ online: true });
    expect(activity.resumed()).toBe(true);
    expect(activity.resumed()).toBe(false);
  });

  it('looks the browser environment up only at first use', () => {
    const listener = vi.fn();
    const add = vi.spyOn(document, 'addEventListener');
    const activity = createActivity(undefined, listener, ask);
    expect(add).not.toHaveBeenCalled();
    activity.retain();
    expect(add).toHaveBeenCalledWith('visibilitychange', listener);
    activity.release();
    add.mockRestore();
  });
});

describe('watcher environment: browserEnvironment', () => {
  it('reads document visibility and navigator.onLine, and follows their events', () => {
    const env = browserEnvironment()!;
    expect(env.isVisible()).toBe(document.visibilityState !== 'hidden');
    const online = vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
    expect(env.isOnline()).toBe(false);
    online.mockRestore();
    const listener = vi.fn();
    const off = env.subscribe(listener);
    window.dispatchEvent(new Event('offline'));
    window.dispatchEvent(new Event('online'));
    document.dispatchEvent(new Event('visibilitychange'));
    expect(listener).toHaveBeenCalledTimes(3);
    off();
    window.dispatchEvent(new Event('online'));
    expect(listener).toHaveBeenCalledTimes(3);
  });
});
