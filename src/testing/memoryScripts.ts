/**
 * Job scripts of the memory backend: a spec's scripted lifecycle resolved with
 * its defaults, when its next change is due, and how that change is played.
 */
import type { Job, JobOutputInput } from '../contract/types';
import { iso } from './memoryClock';
import { copy, type Entry, type Script } from './memoryEntry';
import { toOutputScript } from './memoryOutputScript';
import type { JobSpec, JobSpecStep } from './memoryTypes';

/** A change of an entry's job, applied at time `at`. */
export type JobUpdate = (entry: Entry, at: number, patch: Partial<Job>) => void;

/** Appends a scripted output part to an entry's job, stamped with time `at`. */
export type JobOutputEmit = (entry: Entry, at: number, part: JobOutputInput) => void;

/** The patch of a job that ends now in `status`. */
export function finishedPatch(at: number, status: 'completed' | 'failed' | 'cancelled'): Partial<Job> {
  return { status, finishedAt: iso(at), progress: null, progressMessage: null, estimatedCompletionAt: null };
}

/** Back to pending for attempt `attempt + 1`; the last error stays. */
export function nextAttemptPatch(attempt: number): Partial<Job> {
  return {
    status: 'pending',
    retryCount: attempt + 1,
    progress: null,
    progressMessage: null,
    startedAt: null,
    estimatedCompletionAt: null,
  };
}

/** The patch of a job completing with `result` (a function is called with the job). */
export function completedPatch(entry: Entry, at: number, result: unknown): Partial<Job> {
  const value = typeof result === 'function' ? (result as (job: Job) => unknown)(copy(entry.job)) : result;
  // A completed job carries no error: UIs show `error` as what went wrong, and nothing did in the end.
  return { ...finishedPatch(at, 'completed'), progress: 1, error: null, ...(value === undefined ? {} : { result: copy(value) }) };
}

/** Rounded to whole ms so timestamps are exact and timers land on them. */
function stepOffset(runningMs: number, step: number, steps: number): number {
  return Math.round((step * runningMs) / steps);
}

function checkCount(name: keyof JobSpec, value: number | undefined, kind: 'ms' | 'integer' | 'count'): void {
  if (value === undefined) return;
  const ok =
    kind === 'ms' ? Number.isFinite(value) && value >= 0 : Number.isInteger(value) ? value >= 0 : kind === 'count' && value === Infinity;
  if (!ok) throw new RangeError(`JobSpec.${name} must be ${kind === 'ms' ? 'a finite number' : 'an integer'} ≥ 0, got ${value}`);
}

/** Resolves a spec's script with its defaults; `null` when the spec has none. Throws `RangeError` for a bad one. */
export function toScript(spec: JobSpec): Script | null {
  checkCount('queuedMs', spec.queuedMs, 'ms');
  checkCount('runningMs', spec.runningMs, 'ms');
  checkCount('retryDelayMs', spec.retryDelayMs, 'ms');
  checkCount('failures', spec.failures, 'count'); // Infinity: never succeeds
  checkCount('maxRetries', spec.maxRetries, 'integer');
  if (typeof spec.steps === 'number') checkCount('steps', spec.steps, 'integer');
  const output = toOutputScript(spec);
  if (spec.queuedMs === undefined && spec.runningMs === undefined) return null;

  // Steps are spread over the running time, so without one there is nothing to spread them over.
  const raw: Array<string | JobSpecStep> =
    spec.runningMs === undefined ? [] : typeof spec.steps === 'number' ? Array.from({ length: spec.steps }, () => ({})) : (spec.steps ?? []);
  const steps = raw.map((step, i) => {
    const { progress = i / raw.length, message = null } = typeof step === 'string' ? { message: step } : step;
    if (!(progress >= 0 && progress <= 1)) throw new RangeError(`JobSpec.steps[${i}].progress must be from 0 to 1, got ${progress}`);
    return { progress, message };
  });
  const queuedMs = spec.queuedMs ?? 0;
  return {
    queuedMs,
    runningMs: spec.runningMs,
    steps,
    failures: spec.failures ?? 0,
    maxRetries: spec.maxRetries ?? 3,
    errorMessage: spec.errorMessage ?? 'Generation failed',
    retryDelayMs: spec.retryDelayMs ?? queuedMs,
    reportEta: spec.reportEta ?? false,
    output,
  };
}

/** What a running attempt does next: its next progress step, its next output part, or its end. */
type AttemptChange = 'step' | 'output' | 'end';

/**
 * The running attempt's next change and when it is due. At the same time a step
 * comes first, then output, then the end (so output due at `runningMs` is emitted before it).
 */
function nextAttemptChange(entry: Entry, script: Script, runningMs: number): { at: number; change: AttemptChange } {
  let next: { at: number; change: AttemptChange } = { at: entry.phaseAt + runningMs, change: 'end' };
  const output = script.output[entry.nextOutput];
  if (output && entry.phaseAt + output.offsetMs <= next.at) next = { at: entry.phaseAt + output.offsetMs, change: 'output' };
  if (entry.nextStep < script.steps.length) {
    const at = entry.phaseAt + stepOffset(runningMs, entry.nextStep, script.steps.length);
    if (at <= next.at) next = { at, change: 'step' };
  }
  return next;
}

/** When the script's next change is due, or null when nothing is scheduled. */
export function dueAt(entry: Entry): number | null {
  const { script } = entry;
  if (!script || !entry.scripted) return null;
  if (entry.job.status === 'pending') return entry.phaseAt + entry.waitMs;
  if (entry.job.status !== 'processing' || script.runningMs === undefined) return null;
  return nextAttemptChange(entry, script, script.runningMs).at;
}

/** Plays the script's next change, stamped with its due time `at`. */
function playScript(entry: Entry, script: Script, at: number, update: JobUpdate, emit: JobOutputEmit): void {
  if (entry.job.status === 'pending') {
    entry.phaseAt = at;
    entry.nextStep = 1;
    entry.nextOutput = 0;
    const first = script.steps[0];
    update(entry, at, {
      status: 'processing',
      startedAt: iso(at),
      progress: first ? first.progress : null,
      progressMessage: first ? first.message : null,
      estimatedCompletionAt: script.reportEta && script.runningMs !== undefined ? iso(at + script.runningMs) : null,
    });
    return;
  }
  const change = script.runningMs === undefined ? 'end' : nextAttemptChange(entry, script, script.runningMs).change;
  const step = script.steps[entry.nextStep];
  if (change === 'step' && step) {
    entry.nextStep += 1;
    update(entry, at, { progress: step.progress, progressMessage: step.message });
    return;
  }
  const output = script.output[entry.nextOutput];
  if (change === 'output' && output) {
    entry.nextOutput += 1;
    emit(entry, at, copy(output.part));
    return;
  }
  const attempt = entry.job.retryCount ?? 0;
  if (attempt >= script.failures) {
    update(entry, at, completedPatch(entry, at, entry.result));
  } else if (attempt < script.maxRetries) {
    entry.phaseAt = at;
    entry.waitMs = script.retryDelayMs;
    update(entry, at, { ...nextAttemptPatch(attempt), error: { message: script.errorMessage } });
  } else {
    update(entry, at, { ...finishedPatch(at, 'failed'), error: { message: script.errorMessage } });
  }
}

/**
 * Applies, in time order across all jobs, every scripted change due by `t`.
 * Ties go to the job created first (Map iteration order).
 */
export function settleScripts(entries: ReadonlyMap<string, Entry>, t: number, update: JobUpdate, emit: JobOutputEmit): void {
  for (;;) {
    let next: Entry | undefined;
    let nextAt = Infinity;
    for (const entry of entries.values()) {
      const at = dueAt(entry);
      if (at !== null && at <= t && at < nextAt) {
        next = entry;
        nextAt = at;
      }
    }
    if (!next || !next.script) return;
    playScript(next, next.script, nextAt, update, emit);
  }
}
