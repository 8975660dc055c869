import type { Job } from '../contract/types';

/** When a job is expected to finish, as {@link EtaEstimator.update} reports it. */
export interface EtaEstimate {
  /**
   * Expected completion time, epoch ms. Never earlier than the `now` it was
   * computed at: a time already past reads as "any moment now".
   */
  at: number;
  /**
   * `server`: the job's own `estimatedCompletionAt`;
   * `progress`: estimated from the progress rate observed so far.
   */
  source: 'server' | 'progress';
  /**
   * For a `progress` estimate: the time (epoch ms) after which it no longer
   * holds unless progress moves again. Nothing new may arrive by then (an
   * unchanged job sends no update), so call `update` again at that time: it
   * then answers `null`. `null` for a `server` estimate.
   */
  staleAt: number | null;
}

/** Tuning of {@link createEtaEstimator}. The defaults suit jobs from seconds to hours. */
export interface EtaEstimatorOptions {
  /** Timed changes of progress to observe before an estimate is shown. Default 3. */
  minSamples?: number;
  /** Time those changes must span, in ms, before an estimate is shown. Default 3000. */
  minSpanMs?: number;
  /** Progress (0..1) those changes must cover before an estimate is shown. Default 0.02. */
  minProgress?: number;
  /**
   * How fast older changes of progress lose weight in the fitted pace: each
   * change multiplies the weight of those before it by `1 - smoothing`. Lower
   * is steadier, higher follows a change of pace sooner. Above 0, below 1.
   * Default 0.2 (about the last ten changes count).
   */
  smoothing?: number;
  /**
   * Progress that does not move for this many times the usual gap between
   * its changes is stalled, and the estimate is hidden. Default 3.
   */
  stallFactor?: number;
  /** ...but never sooner than this, in ms, so a job reporting many times a second is not called stalled by a hiccup. Default 5000. */
  minStallMs?: number;
}

/** Estimates when one job finishes; see {@link createEtaEstimator}. */
export interface EtaEstimator {
  /**
   * Feeds the latest snapshot of the job (call it with every new snapshot, and
   * again at `staleAt`) and returns the current estimate, or `null` when there
   * is no honest one.
   *
   * @param job the job as last seen
   * @param now when it was seen, epoch ms (`Date.now()`)
   */
  update(job: Job, now: number): EtaEstimate | null;
}

interface Sample {
  t: number;
  p: number;
}

/**
 * Creates an estimator of a job's completion time, for one job as one watcher
 * sees it (the hooks make one per hook instance and job id). No React, no
 * timers: it only uses the snapshots and times it is given.
 *
 * Rules, in order:
 * - a terminal job has no ETA (`null`);
 * - the server's `estimatedCompletionAt` wins while the job is pending or
 *   processing (a time in the past is clamped to `now`);
 * - otherwise, while processing with a numeric `progress`, an estimate from
 *   the observed pace: shown only after a warm-up (`minSamples` timed changes
 *   of progress spanning `minSpanMs` and `minProgress`); smoothed (a line of
 *   time over progress fitted to every change, older ones weighing less, so
 *   one early or late update barely moves it, where a rate from the last two
 *   updates would jump); never before `now`; hidden while progress stalls (no
 *   change for `stallFactor` × the usual gap, at least `minStallMs`), and once
 *   progress moves again it warms up afresh, since the old pace no longer
 *   tells much;
 * - `null` while progress is indeterminate (`null`/absent) or the job is
 *   pending;
 * - a new attempt (`retryCount` changes) or a restart (progress goes down)
 *   drops everything observed.
 *
 * The first snapshot seen of a running job is not timed: its progress may
 * have been reached long before, so the pace is measured from the first
 * change seen (or from the start, when the job was seen pending or
 * indeterminate before).
 *
 * @example
 * const estimator = createEtaEstimator();
 * let recheck: ReturnType<typeof setTimeout> | undefined;
 * const show = () => {
 *   const { job } = watcher.getSnapshot(id);
 *   const eta = job ? estimator.update(job, Date.now()) : null;
 *   clearTimeout(recheck);
 *   // An unchanged job sends nothing: look again when the estimate goes stale.
 *   if (eta?.staleAt != null) recheck = setTimeout(show, eta.staleAt - Date.now());
 *   render(eta ? new Date(eta.at) : null);
 * };
 * watcher.subscribe(id, show);
 */
export function createEtaEstimator(options: EtaEstimatorOptions = {}): EtaEstimator {
  const {
    minSamples = 3,
    minSpanMs = 3000,
    minProgress = 0.02,
    smoothing = 0.2,
    stallFactor = 3,
    minStallMs = 5000,
  } = options;
  if (!(smoothing > 0 && smoothing < 1)) throw new RangeError(`smoothing must be above 0 and below 1, got ${smoothing}`);

  const keep = 1 - smoothing;

  /** Job id and attempt the observations belong to. */
  let attempt: string | undefined;
  /** Progress last seen in this attempt: `undefined` before any snapshot, `null` while pending or indeterminate. */
  let last: number | null | undefined;
  // The warm-up state below starts as `restartWarmUp` leaves it (it is called right away).
  /** First timed change since the (re)start of the warm-up, and the latest one. */
  let anchor: Sample | null;
  let latest: Sample | null;
  let samples: number;
  let warm: boolean;
  /** Usual ms between changes of progress (smoothed). */
  let gap: number;
  /**
   * Exponentially weighted sums of the changes (progress q and time x in ms,
   * both counted from the anchor): a least-squares line of time over progress, the newest change
   * weighing most. Fitting every change (not just the last two) averages out
   * uneven gaps; the weights let it follow a change of pace.
   */
  let sumW: number;
  let sumQ: number;
  let sumX: number;
  let sumQQ: number;
  let sumQX: number;

  function restartWarmUp(): void {
    anchor = null;
    latest = null;
    samples = 0;
    warm = false;
    gap = 0;
    sumW = sumQ = sumX = sumQQ = sumQX = 0;
  }
  restartWarmUp();

  /** How long progress may stay put before it counts as stalled. */
  function stallMs(): number {
    return Math.max(minStallMs, stallFactor * gap);
  }

  /** Records a change of progress to `p`, seen at `t`. */
  function observe(t: number, p: number): void {
    if (!anchor || !latest || t - latest.t > stallMs()) {
      restartWarmUp();
      anchor = { t, p };
    } else if (t > latest.t) {
      const dt = t - latest.t;
      gap = warm ? smoothing * dt + keep * gap : (t - anchor.t) / samples;
    }
    latest = { t, p };
    samples += 1;
    const q = p - anchor.p;
    const x = t - anchor.t;
    sumW = keep * sumW + 1;
    sumQ = keep * sumQ + q;
    sumX = keep * sumX + x;
    sumQQ = keep * sumQQ + q * q;
    sumQX = keep * sumQX + q * x;
    if (!warm) warm = samples >= minSamples && t - anchor.t >= minSpanMs && p - anchor.p >= minProgress;
  }

  /** Where the fitted line reaches progress 1, epoch ms; `null` when it does not rise. */
  function fittedEnd(): number | null {
    if (!anchor) return null;
    const meanQ = sumQ / sumW;
    const meanX = sumX / sumW;
    const varQ = sumQQ / sumW - meanQ * meanQ;
    if (!(varQ > 0)) return null;
    const msPerProgress = (sumQX / sumW - meanQ * meanX) / varQ;
    if (!(msPerProgress > 0)) return null;
    return anchor.t + meanX + (1 - anchor.p - meanQ) * msPerProgress;
  }

  return {
    update(job, now) {
      const key = `${job.id}\n${job.retryCount ?? 0}`;
      if (key !== attempt) {
        attempt = key;
        last = undefined;
        restartWarmUp();
      }
      if (job.status !== 'pending' && job.status !== 'processing') {
        attempt = undefined;
        return null;
      }

      const raw = job.status === 'processing' ? job.progress : null;
      const progress = typeof raw === 'number' && Number.isFinite(raw) ? Math.min(1, Math.max(0, raw)) : null;
      if (progress === null) {
        restartWarmUp();
      } else if (typeof last === 'number' && progress < last) {
        // Restarted: what was measured belongs to the earlier run.
        restartWarmUp();
        observe(now, progress);
      } else if (last !== undefined && progress !== last) {
        observe(now, progress);
      }
      last = progress;

      const server = job.estimatedCompletionAt ? Date.parse(job.estimatedCompletionAt) : NaN;
      if (Number.isFinite(server)) return { at: Math.max(server, now), source: 'server', staleAt: null };

      if (progress === null || !latest || !warm) return null;
      const staleAt = latest.t + stallMs();
      if (now >= staleAt) return null;
      const at = fittedEnd();
      return at === null ? null : { at: Math.max(at, now), source: 'progress', staleAt };
    },
  };
}
