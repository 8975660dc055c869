import { createActivity } from '../../src/core/watcher/environment';
import { EMPTY_SNAPSHOT } from '../../src/core/watcher/snapshots';
import { newEntry, type Entry } from '../../src/core/watcher/entry';
import { connectionOf, effectiveInterval, intervalOf, mayRead, pollsWhenHidden, wantsPush } from '../../src/core/watcher/policy';
import type { WatchOptions } from '../../src/core';
import { makeJob } from '../helpers';

function entryWith(...options: WatchOptions[]): Entry {
  const e = newEntry('a', makeJob({ id: 'a', status: 'pending' }), -Infinity, EMPTY_SNAPSHOT);
  for (const o of options) e.registrations.add(() => o);
  return e;
}

function hiddenPage() {
  return createActivity({ isVisible: () => false, isOnline: () => true, subscribe: () => () => {} }, () => {}, pollsWhenHidden);
}

describe('watcher policy', () => {
  it('polls at the shortest interval any watcher asks for, 2 s by default, ignoring bad values', () => {
    expect(intervalOf(entryWith({}))).toBe(2000);
    expect(intervalOf(entryWith({ pollInterval: 5000 }, { pollInterval: 1000 }))).toBe(1000);
    expect(intervalOf(entryWith({ pollInterval: () => false }))).toBe(false);
    expect(intervalOf(entryWith({ pollInterval: -1 }, { pollInterval: Number.NaN }))).toBe(false);
    expect(intervalOf(entryWith())).toBe(false);
  });

  it('drops to the safety poll while live, and pauses or slows while hidden as asked', () => {
    const none = createActivity(null, () => {}, pollsWhenHidden);
    const e = entryWith({ pollInterval: 1000 });
    expect(effectiveInterval(e, none, 30_000)).toBe(1000);
    e.live = true;
    expect(effectiveInterval(e, none, 30_000)).toBe(30_000);
    const hidden = hiddenPage();
    expect(hidden.paused(entryWith({}))).toBe(true);
    expect(hidden.paused(entryWith({}, { pollWhenHidden: true }))).toBe(false);
    hidden.setHiddenPollInterval(60_000);
    expect(effectiveInterval(entryWith({}), hidden, 30_000)).toBe(60_000);
  });

  it('reads, pushes and names the connection by the job state', () => {
    const none = createActivity(null, () => {}, pollsWhenHidden);
    const e = entryWith({});
    expect(mayRead(e)).toBe(true);
    expect(wantsPush(e)).toBe(true);
    expect(wantsPush(entryWith({ live: false }))).toBe(false);
    expect(connectionOf(e, none)).toBe('polling');
    expect(connectionOf(entryWith({ pollInterval: () => false }), none)).toBe('idle');
    expect(connectionOf(e, hiddenPage())).toBe('paused');
    e.live = true;
    expect(connectionOf(e, none)).toBe('live');
    e.error = new Error('x');
    expect(connectionOf(e, none)).toBe('error');
    e.job = makeJob({ id: 'a', status: 'completed' });
    expect(mayRead(e)).toBe(false);
    expect(wantsPush(e)).toBe(false);
    expect(connectionOf(e, none)).toBe('idle');
    e.fatal = true;
    expect(connectionOf(e, none)).toBe('error');
    expect(connectionOf(newEntry('b', undefined, -Infinity, EMPTY_SNAPSHOT), none)).toBe('idle');
  });
});
