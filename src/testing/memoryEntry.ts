/**
 * What the memory backend keeps per job, shared by its store, scripts, push
 * and controls: the stored entry with its script and subscriptions, and the
 * copy rule for what goes in and out (its own module, so those modules import
 * it and not each other).
 */
import type { Job, JobOutputInput, JobOutputListener, JobOutputPart, JobSubscriptionListener } from '../contract/types';

/** The script of a job, with its defaults resolved. */
export interface Script {
  /** ms the first attempt waits in `pending`. */
  queuedMs: number;
  /** ms each attempt runs; `undefined`: the job stays `processing` once started. */
  runningMs: number | undefined;
  /** Progress steps of each attempt, spread evenly over `runningMs`. */
  steps: Array<{ progress: number; message: string | null }>;
  /** How many attempts fail before one succeeds. */
  failures: number;
  /** How many automatic retries a failing job makes. */
  maxRetries: number;
  /** `error.message` of a failed attempt. */
  errorMessage: string;
  /** ms a retried attempt waits in `pending`. */
  retryDelayMs: number;
  /** Whether `estimatedCompletionAt` is reported while processing. */
  reportEta: boolean;
  /** Output parts each attempt emits, by ms after the attempt started, in time order. */
  output: Array<{ offsetMs: number; part: JobOutputInput }>;
}

/** One output subscription to one job. */
export interface OutputSubscriber {
  /** Who hears of the job's new parts. */
  listener: JobOutputListener;
  /** False until the first delivery (always asynchronous). */
  primed: boolean;
  /** True once unsubscribed, ended by its `done` delivery, or refused. */
  closed: boolean;
  /** `seq` of the last part delivered (or the `after` asked for). */
  lastSeq: number;
}

/** A job's output as the backend keeps it. */
export interface EntryOutput {
  /** The parts still kept, oldest first, with consecutive `seq`s ending at {@link lastSeq}. */
  parts: JobOutputPart[];
  /** `seq` of the newest part; 0 before the first. */
  lastSeq: number;
  /** Open output subscriptions to this job. */
  subscribers: Set<OutputSubscriber>;
}

/** One subscription to one job. */
export interface Subscriber {
  /** Who hears of the job's changes. */
  listener: JobSubscriptionListener;
  /** False until the first delivery (always in a microtask), so nothing reaches the listener during `subscribe`. */
  primed: boolean;
  /** True once unsubscribed, ended by a terminal delivery, or told the job is unknown. */
  closed: boolean;
  /** `version` of the last job delivered; older or equal ones are not delivered again. */
  lastVersion: number;
}

/** One stored job with what the backend keeps beside it. */
export interface Entry {
  /** The stored job. Replaced, never mutated, on every change, so queued snapshots stay as they were. */
  job: Job;
  /** Who the job belongs to; `undefined`: only owner-less calls see it. */
  owner: string | undefined;
  /** Creation order: breaks ties between equal `createdAt`s and positions cursors. */
  seq: number;
  /** `createdAt` in epoch ms. */
  createdMs: number;
  /** The spec's result, used by a script's success and by `complete(id)`. */
  result: unknown;
  /** The job's script, kept after manual controls so `retry` can play it again. */
  script: Script | null;
  /** Whether the script drives the job now; manual controls turn it off. */
  scripted: boolean;
  /** When the current phase began: the pending wait or the running attempt. */
  phaseAt: number;
  /** How long the current pending phase lasts. */
  waitMs: number;
  /** Index of the next progress step of the running attempt. */
  nextStep: number;
  /** Index of the next scripted output part of the running attempt. */
  nextOutput: number;
  /** The job's output parts and output subscriptions. */
  output: EntryOutput;
  /** Open subscriptions to this job. */
  subscribers: Set<Subscriber>;
}

/** structuredClone keeps `undefined` fields and Dates that JSON would drop. */
export function copy<T>(value: T): T {
  return value === undefined ? value : structuredClone(value);
}
