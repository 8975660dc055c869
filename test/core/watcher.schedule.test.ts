import { COALESCE_MS, FIRST_READ_WINDOW_MS } from '../../src/core/watcher/clock';
import { createScheduler, type Planned } from '../../src/core/watcher/schedule';

interface Job extends Planned {
  id: string;
}

/** A scheduler over `n` fake jobs; every timer firing is recorded as [time, ids due]. */
function setup(n = 3, heldUntil = () => -Infinity) {
  const jobs: Job[] = Array.from({ length: n }, (_, i) => ({ id: `j${i}`, dueAt: null, group: null }));
  const rounds: Array<[number, string[]]> = [];
  const scheduler = createScheduler<Job>(
    jobs,
    () => heldUntil(),
    (due) => {
      rounds.push([Date.now(), due.map((j) => j.id)]);
      // As the watcher does: a due job is taken off the plan (keeping its clock).
      for (const j of due) scheduler.plan(j, null, j.group);
    },
  );
  return { jobs, rounds, scheduler };
}

beforeEach(() => vi.useFakeTimers({ now: 0 }));
afterEach(() => vi.useRealTimers());

describe('watcher schedule: the timer', () => {
  it('arms one timer for the earliest plan and hands every job due together to onDue, in entries order', async () => {
    const { jobs, rounds, scheduler } = setup();
    scheduler.plan(jobs[2]!, 1000);
    scheduler.plan(jobs[0]!, 1000 + COALESCE_MS);
    scheduler.plan(jobs[1]!, 5000);
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(1);
    await vi.advanceTimersByTimeAsync(1000);
    expect(rounds).toEqual([[1000, ['j0', 'j2']]]);
    await vi.advanceTimersByTimeAsync(4000);
    expect(rounds).toEqual([
      [1000, ['j0', 'j2']],
      [5000, ['j1']],
    ]);
  });

  it('re-arms once per tick however many plans change, and leaves no timer once nothing is planned', async () => {
    const { jobs, rounds, scheduler } = setup();
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    for (let t = 10; t < 100; t += 10) scheduler.plan(jobs[0]!, 1000 - t);
    scheduler.plan(jobs[1]!, 2000);
    await vi.advanceTimersByTimeAsync(0);
    expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
    scheduler.plan(jobs[0]!, null);
    scheduler.plan(jobs[1]!, null);
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(rounds).toEqual([]);
    setTimeoutSpy.mockRestore();
  });

  it('moves a plan before the Retry-After hold to its end', async () => {
    let held = 30_000;
    const { jobs, rounds, scheduler } = setup(1, () => held);
    scheduler.plan(jobs[0]!, 0);
    expect(jobs[0]!.dueAt).toBe(30_000);
    await vi.advanceTimersByTimeAsync(29_999);
    expect(rounds).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(rounds).toEqual([[30_000, ['j0']]]);
    held = -Infinity;
    scheduler.plan(jobs[0]!, 31_000);
    expect(jobs[0]!.dueAt).toBe(31_000);
  });
});

describe('watcher schedule: shared clocks', () => {
  it('puts the first job of an interval one interval away, and later ones on its ticks at least half an interval away', async () => {
    const { jobs, scheduler } = setup();
    const first = scheduler.next(2000);
    expect(first).toBe(2000);
    scheduler.plan(jobs[0]!, first, 2000);
    await vi.advanceTimersByTimeAsync(700);
    // 700 + 1000 = 1700 → the tick at 2000.
    expect(scheduler.next(2000)).toBe(2000);
    await vi.advanceTimersByTimeAsync(800);
    // 1500 + 1000 = 2500 → the tick at 4000.
    expect(scheduler.next(2000)).toBe(4000);
  });

  it('forgets a clock once its last job leaves it', async () => {
    const { jobs, scheduler } = setup();
    scheduler.plan(jobs[0]!, scheduler.next(2000), 2000);
    scheduler.plan(jobs[1]!, scheduler.next(2000), 2000);
    await vi.advanceTimersByTimeAsync(700);
    scheduler.plan(jobs[0]!, null);
    expect(scheduler.next(2000)).toBe(2000);
    scheduler.plan(jobs[1]!, null);
    expect(scheduler.next(2000)).toBe(2700);
  });
});

describe('watcher schedule: first reads (semantic 12)', () => {
  it('reads a lone first job at once', () => {
    const { scheduler } = setup();
    expect(scheduler.first()).toBe(0);
  });

  it('joins a round already planned within one batching window', () => {
    const { jobs, scheduler } = setup();
    scheduler.plan(jobs[0]!, FIRST_READ_WINDOW_MS - 10);
    expect(scheduler.first()).toBe(FIRST_READ_WINDOW_MS - 10);
    scheduler.plan(jobs[0]!, FIRST_READ_WINDOW_MS + 500);
    expect(scheduler.first()).toBe(0);
  });

  it('puts first reads spread over time into one round per window, never waiting more than a window', async () => {
    const { scheduler } = setup();
    const at: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = Date.now();
      const due = scheduler.first();
      expect(due - t).toBeLessThanOrEqual(FIRST_READ_WINDOW_MS);
      at.push(due);
      await vi.advanceTimersByTimeAsync(10);
    }
    // 20 mounts over 200 ms: one round per window, not one each.
    expect(new Set(at).size).toBeLessThanOrEqual(200 / FIRST_READ_WINDOW_MS + 1);
  });
});
