import { JobNotFoundError, JobTransportError } from '../../src/core';
import { MAX_RETRY_AFTER_MS } from '../../src/contract/retryAfter';
import {
  createBackoff,
  jittered,
  MAX_BACKOFF_MS,
  MAX_TIMER_DELAY_MS,
  retryAfterOf,
  retryDelay,
  timerDelay,
  type Failing,
} from '../../src/core/watcher/backoff';

const failing = (): Failing => ({ failures: 0, retryAfterMs: 0 });

beforeEach(() => vi.useFakeTimers({ now: 1_000_000 }));
afterEach(() => vi.useRealTimers());

describe('watcher backoff: delays', () => {
  it('doubles per failure up to 30 s, with equal jitter (half fixed, half random)', () => {
    expect(jittered(1000, 1, () => 1)).toBe(2000);
    expect(jittered(1000, 1, () => 0)).toBe(1000);
    expect(jittered(1000, 3, () => 0.5)).toBe(6000);
    expect(jittered(1000, 20, () => 1)).toBe(MAX_BACKOFF_MS);
    expect(jittered(1000, 20, () => 0)).toBe(MAX_BACKOFF_MS / 2);
  });

  it('never retries sooner than the interval (at least 1 s) backs off to, nor than Retry-After', () => {
    expect(retryDelay(2000, 1, 0, () => 1)).toBe(4000);
    expect(retryDelay(2000, 2, 0, () => 1)).toBe(8000);
    expect(retryDelay(100, 1, 0, () => 1)).toBe(2000);
    expect(retryDelay(2000, 1, 60_000, () => 1)).toBe(60_000);
    expect(retryDelay(2000, 10, 1000, () => 1)).toBe(MAX_BACKOFF_MS);
  });

  it('reads Retry-After only from a JobTransportError, clamped to MAX_RETRY_AFTER_MS', () => {
    expect(retryAfterOf(new JobTransportError('slow', { status: 429, retryAfterMs: 5000 }))).toBe(5000);
    expect(retryAfterOf(new JobTransportError('slow', { status: 429, retryAfterMs: 40 * 86_400_000 }))).toBe(MAX_RETRY_AFTER_MS);
    expect(retryAfterOf(new JobTransportError('down', { status: 500 }))).toBe(0);
    expect(retryAfterOf(new JobNotFoundError('a'))).toBe(0);
    expect(retryAfterOf('boom')).toBe(0);
  });

  it('keeps timer delays within what setTimeout holds', () => {
    expect(timerDelay(-5)).toBe(0);
    expect(timerDelay(1234)).toBe(1234);
    expect(timerDelay(2 ** 40)).toBe(MAX_TIMER_DELAY_MS);
  });
});

describe('watcher backoff: createBackoff', () => {
  it('counts failures per job and forgets them on clear', () => {
    const backoff = createBackoff(() => 1);
    const a = failing();
    const b = failing();
    backoff.fail(a, new JobTransportError('down', { status: 503 }));
    backoff.fail(a, new TypeError('Failed to fetch'));
    expect(a).toEqual({ failures: 2, retryAfterMs: 0 });
    expect(b.failures).toBe(0);
    expect(backoff.delay(a, 2000)).toBe(8000);
    backoff.clear(a);
    expect(a).toEqual({ failures: 0, retryAfterMs: 0 });
  });

  it('keeps the Retry-After of the last failure for that job, and holds every request back for it', () => {
    const backoff = createBackoff(() => 1);
    const a = failing();
    expect(backoff.heldUntil()).toBe(-Infinity);
    backoff.fail(a, new JobTransportError('slow down', { status: 429, retryAfterMs: 60_000 }));
    expect(a.retryAfterMs).toBe(60_000);
    expect(backoff.delay(a, 2000)).toBe(60_000);
    expect(backoff.heldUntil()).toBe(Date.now() + 60_000);
    // A later failure without Retry-After forgets it for the job's delay, not for the hold.
    backoff.fail(a, new JobTransportError('down', { status: 500 }));
    expect(a.retryAfterMs).toBe(0);
    expect(backoff.heldUntil()).toBe(Date.now() + 60_000);
  });

  it('only ever lengthens the hold: a shorter Retry-After asked later does not shorten it', () => {
    const backoff = createBackoff(() => 1);
    backoff.hold(10_000);
    vi.advanceTimersByTime(1000);
    backoff.hold(2000);
    expect(backoff.heldUntil()).toBe(Date.now() + 9000);
    backoff.hold(0);
    backoff.hold(-5);
    expect(backoff.heldUntil()).toBe(Date.now() + 9000);
    backoff.hold(20_000);
    expect(backoff.heldUntil()).toBe(Date.now() + 20_000);
  });

  it('resubscribes after 1 s doubled per failed subscription, jittered by its random source', () => {
    expect(createBackoff(() => 1).resubscribeDelay(1)).toBe(2000);
    expect(createBackoff(() => 1).resubscribeDelay(3)).toBe(8000);
    expect(createBackoff(() => 0).resubscribeDelay(1)).toBe(1000);
    expect(createBackoff(() => 1).resubscribeDelay(30)).toBe(MAX_BACKOFF_MS);
  });
});
