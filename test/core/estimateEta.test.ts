import { createEtaEstimator } from '../../src/core/estimateEta';
import type { EtaEstimate } from '../../src/core/estimateEta';
import type { Job, JobState } from '../../src/contract/types';

const START = Date.UTC(2026, 0, 1, 12, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString();

function job(progress: number | null, extra: Partial<Job> & { status?: JobState } = {}): Job {
  return { id: 'j1', status: 'processing', progress, createdAt: iso(START), updatedAt: iso(START), retryCount: 0, ...extra };
}

/** A small seeded PRNG (mulberry32), so the noisy jobs are the same on every run. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Feeds `(progress, at)` snapshots in order and returns every answer. */
function feed(estimator: ReturnType<typeof createEtaEstimator>, steps: Array<[progress: number, at: number]>) {
  return steps.map(([progress, at]) => ({ progress, at, eta: estimator.update(job(progress), at) }));
}

describe('the server estimate', () => {
  it("takes the server's estimatedCompletionAt from the first snapshot", () => {
    const estimator = createEtaEstimator();
    const eta = estimator.update(job(0.1, { estimatedCompletionAt: iso(START + 120_000) }), START);
    expect(eta).toEqual({ at: START + 120_000, source: 'server', staleAt: null });
  });

  it('wins over an estimate of its own, also for an indeterminate job', () => {
    const estimator = createEtaEstimator();
    const serverEta = iso(START + 500_000);
    let eta: EtaEstimate | null = null;
    // Observed pace: 1% per second, which would say about 90 s left at the end.
    for (let i = 0; i <= 10; i++) eta = estimator.update(job(i / 100, { estimatedCompletionAt: serverEta }), START + i * 1000);
    expect(eta).toEqual({ at: START + 500_000, source: 'server', staleAt: null });
    expect(estimator.update(job(null, { estimatedCompletionAt: serverEta }), START + 11_000)?.at).toBe(START + 500_000);
  });

  it('reads a time in the past as "any moment now": clamped to now, never negative', () => {
    const estimator = createEtaEstimator();
    const now = START + 60_000;
    const eta = estimator.update(job(0.9, { estimatedCompletionAt: iso(START) }), now);
    expect(eta?.at).toBe(now);
  });

  it('is given for a queued job, and dropped once the job ended', () => {
    const estimator = createEtaEstimator();
    const at = iso(START + 300_000);
    expect(estimator.update(job(null, { status: 'pending', estimatedCompletionAt: at }), START)?.at).toBe(START + 300_000);
    for (const status of ['completed', 'failed', 'cancelled'] as const) {
      expect(estimator.update(job(1, { status, estimatedCompletionAt: at }), START + 1000)).toBeNull();
    }
  });

  it('ignores a value that is not a date, falling back to the observed pace', () => {
    const estimator = createEtaEstimator();
    const answers = [0, 0.01, 0.02, 0.03, 0.04].map((p, i) =>
      estimator.update(job(p, { estimatedCompletionAt: 'soon' }), START + i * 2000),
    );
    expect(answers.slice(0, 3)).toEqual([null, null, null]);
    expect(answers[4]?.source).toBe('progress');
  });
});

describe('the estimate from observed progress', () => {
  it('is within 20% of the truth on a linear job after the warm-up, polled every 2 s with uneven latency', () => {
    // Runs 0 → 1 over 300 s; first seen 47 s in; each answer is 0–400 ms old when it arrives.
    const estimator = createEtaEstimator();
    const duration = 300_000;
    const rand = random(7);
    const answers: Array<{ now: number; eta: EtaEstimate | null }> = [];
    for (let now = START + 47_000; now < START + duration; now += 2000) {
      const reportedAt = now - rand() * 400;
      const progress = Math.floor(((reportedAt - START) / duration) * 1000) / 1000;
      answers.push({ now, eta: estimator.update(job(progress), now) });
    }

    // Warm-up: the first snapshot is not timed; then three timed changes spanning 3 s and 2% (0.67% a poll).
    const firstShown = answers.findIndex((a) => a.eta !== null);
    expect(firstShown).toBe(5);
    const shown = answers.slice(firstShown);
    expect(shown.map((a) => a.eta?.source)).toEqual(shown.map(() => 'progress'));
    for (const { now, eta } of shown) {
      const left = START + duration - now;
      expect(Math.abs(eta!.at - (START + duration))).toBeLessThanOrEqual(Math.max(0.2 * left, 1000));
    }
  });

  it('shows nothing until three timed changes span 3 s and 2% of progress', () => {
    const estimator = createEtaEstimator();
    // Quick changes of 0.1% each: enough changes, not enough time or progress.
    const quick = feed(estimator, [
      [0.1, START],
      [0.101, START + 500],
      [0.102, START + 1000],
      [0.103, START + 1500],
      [0.104, START + 2000],
    ]);
    expect(quick.every((a) => a.eta === null)).toBe(true);

    // Enough time now, still not 2% of progress since the first timed change (0.101).
    expect(estimator.update(job(0.11), START + 4000)).toBeNull();
    expect(estimator.update(job(0.125), START + 6000)?.source).toBe('progress');
  });

  it('does not time the first snapshot: a job first seen half done is not taken for a fast one', () => {
    // 50% was reached long before the hook saw it; then 1% every 2 s, so 100 s are left at 50%.
    const estimator = createEtaEstimator();
    const answers = feed(
      estimator,
      Array.from({ length: 8 }, (_, i): [number, number] => [0.5 + i * 0.01, START + 500 + i * 2000]),
    );
    const last = answers.at(-1)!;
    const truth = last.at + (1 - last.progress) * 200_000;
    expect(Math.abs(last.eta!.at - truth)).toBeLessThan(0.2 * (truth - last.at));
  });

  it('times the start when the job was seen queued first', () => {
    const estimator = createEtaEstimator();
    estimator.update(job(null, { status: 'pending' }), START);
    // Started at 10 s with progress 0 already reported: that moment counts.
    const answers = feed(estimator, [
      [0, START + 10_000],
      [0.02, START + 12_000],
      [0.04, START + 14_000],
    ]);
    expect(answers[2]?.eta?.at).toBeCloseTo(START + 110_000, -2);
  });

  it('follows a change of pace within about ten changes', () => {
    const estimator = createEtaEstimator();
    let now = START;
    let progress = 0;
    estimator.update(job(progress), now);
    for (let i = 0; i < 20; i++) estimator.update(job((progress += 0.01)), (now += 2000));
    // Twice as fast from here: 2% per 2 s.
    let eta: EtaEstimate | null = null;
    for (let i = 0; i < 12; i++) eta = estimator.update(job((progress += 0.02)), (now += 2000));
    const truth = now + ((1 - progress) / 0.02) * 2000;
    expect(Math.abs(eta!.at - truth)).toBeLessThan(0.2 * (truth - now));
  });

  it('is hidden while progress stalls (no change for 3× the usual gap), then warms up afresh', () => {
    const estimator = createEtaEstimator();
    let now = START;
    for (let i = 0; i <= 10; i++) estimator.update(job(i * 0.01), (now = START + i * 2000));
    const shown = estimator.update(job(0.1), now + 1000);
    expect(shown?.source).toBe('progress');
    // Changes came every 2 s: stalled after 6 s without one.
    expect(shown?.staleAt).toBe(now + 6000);
    expect(estimator.update(job(0.1), now + 5999)?.source).toBe('progress');
    expect(estimator.update(job(0.1), now + 6000)).toBeNull();
    expect(estimator.update(job(0.1), now + 60_000)).toBeNull();

    // Moving again: hidden until a new warm-up, since the old pace says little now.
    now += 60_000;
    const resumed = feed(estimator, [
      [0.11, now],
      [0.12, now + 2000],
      [0.13, now + 4000],
    ]);
    expect(resumed.map((a) => a.eta)).toEqual([null, null, expect.objectContaining({ source: 'progress' })]);
  });

  it('waits at least 5 s before calling a fast-reporting job stalled', () => {
    const estimator = createEtaEstimator();
    let now = START;
    for (let i = 0; i <= 50; i++) estimator.update(job(i * 0.001), (now = START + i * 100));
    const eta = estimator.update(job(0.05), now);
    expect(eta?.staleAt).toBe(now + 5000);
    expect(estimator.update(job(0.05), now + 4000)).not.toBeNull();
    expect(estimator.update(job(0.05), now + 5000)).toBeNull();
  });

  it('never answers a time before now', () => {
    // An estimate that has run out while the job still runs.
    const passed = createEtaEstimator();
    feed(passed, [
      [0.9, START],
      [0.92, START + 1000],
      [0.94, START + 2000],
      [0.96, START + 3000],
      [0.98, START + 4000],
    ]);
    expect(passed.update(job(0.98), START + 5500)?.at).toBe(START + 5500);
    expect(passed.update(job(1), START + 6000)?.at).toBe(START + 6000);

    // And any uneven, stalling, restarting job.
    const rand = random(3);
    for (let run = 0; run < 50; run++) {
      const estimator = createEtaEstimator();
      let now = START;
      let progress = 0;
      for (let i = 0; i < 200; i++) {
        now += rand() < 0.05 ? 20_000 * rand() : 3000 * rand();
        const r = rand();
        progress = r < 0.02 ? progress * rand() : Math.min(1, progress + (r < 0.3 ? 0 : 0.02 * rand()));
        const eta = estimator.update(job(progress), now);
        if (eta) expect(eta.at).toBeGreaterThanOrEqual(now);
      }
    }
  });
});

describe('smoothing', () => {
  it("keeps a noisy-but-linear job's estimate steady: at most 25% of the time left between updates, 10% once settled", () => {
    // 1% every 2 s on average, each report up to ±0.8 s early or late: gaps from 0.4 s to 3.6 s.
    const estimator = createEtaEstimator();
    const rand = random(42);
    const end = START + 200_000;
    const reports = Array.from({ length: 96 }, (_, k): [number, number] => [k / 100, START + k * 2000 + (rand() - 0.5) * 1600]);
    const answers = feed(estimator, reports);

    let previous: number | null = null;
    for (const [k, { at, eta }] of answers.entries()) {
      if (!eta) continue;
      const left = end - at;
      expect(Math.abs(eta.at - end)).toBeLessThanOrEqual(0.3 * left);
      if (previous !== null) {
        const jump = Math.abs(eta.at - previous);
        expect(jump).toBeLessThanOrEqual((k < 15 ? 0.25 : 0.1) * left);
      }
      previous = eta.at;
    }
    expect(answers.filter((a) => a.eta).length).toBeGreaterThan(90);

    // For comparison, the pace of the last gap alone swings by more than the whole time left.
    const naiveJumps = reports.slice(2).map(([p, t], i) => {
      const [p1, t1] = reports[i + 1]!;
      const [p0, t0] = reports[i]!;
      const naive = (pp: number, tt: number, dp: number, dt: number) => tt + ((1 - pp) * dt) / dp;
      return Math.abs(naive(p, t, p - p1, t - t1) - naive(p1, t1, p1 - p0, t1 - t0)) / (end - t);
    });
    expect(Math.max(...naiveJumps)).toBeGreaterThan(1);
  });
});

describe('what the estimate is about', () => {
  it('is null while progress is indeterminate, and times the first number after it', () => {
    const estimator = createEtaEstimator();
    for (let i = 0; i < 5; i++) expect(estimator.update(job(null), START + i * 2000)).toBeNull();
    const answers = feed(estimator, [
      [0.1, START + 10_000],
      [0.12, START + 12_000],
      [0.14, START + 14_000],
    ]);
    expect(answers[2]?.eta?.at).toBeCloseTo(START + 100_000, -2);
  });

  it('is null for a queued job without a server estimate', () => {
    expect(createEtaEstimator().update(job(0.3, { status: 'pending' }), START)).toBeNull();
  });

  it('starts over when the job is retried (retryCount changes)', () => {
    const estimator = createEtaEstimator();
    for (let i = 0; i <= 5; i++) estimator.update(job(i * 0.05), START + i * 2000);
    expect(estimator.update(job(0.25), START + 10_500)).not.toBeNull();

    const retried = (p: number, at: number) => estimator.update(job(p, { retryCount: 1 }), at);
    expect(retried(0.3, START + 11_000)).toBeNull();
    expect(retried(0.35, START + 13_000)).toBeNull();
    expect(retried(0.4, START + 15_000)).toBeNull();
    expect(retried(0.45, START + 17_000)?.source).toBe('progress');
  });

  it('starts over when progress goes down (the job restarted)', () => {
    const estimator = createEtaEstimator();
    for (let i = 0; i <= 5; i++) estimator.update(job(0.5 + i * 0.05), START + i * 2000);
    const answers = feed(estimator, [
      [0.05, START + 12_000],
      [0.1, START + 14_000],
      [0.15, START + 16_000],
    ]);
    expect(answers.map((a) => a.eta?.source ?? null)).toEqual([null, null, 'progress']);
    // The new run's own pace: 5% per 2 s from 15%.
    expect(answers[2]?.eta?.at).toBeCloseTo(START + 16_000 + 34_000, -2);
  });

  it('gives the same answer when fed the same snapshot twice (safe under StrictMode)', () => {
    const once = createEtaEstimator();
    const twice = createEtaEstimator();
    for (let i = 0; i <= 6; i++) {
      const snapshot = job(i * 0.02);
      const a = once.update(snapshot, START + i * 2000);
      twice.update(snapshot, START + i * 2000);
      expect(twice.update(snapshot, START + i * 2000)).toEqual(a);
    }
  });

  it('rejects a smoothing outside (0, 1)', () => {
    expect(() => createEtaEstimator({ smoothing: 0 })).toThrow(RangeError);
    expect(() => createEtaEstimator({ smoothing: 1 })).toThrow(RangeError);
  });
});
