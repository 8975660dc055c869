import type { JobViewState } from './viewState';

/** What {@link JobProgressLabels.valueText} is given to build a progress bar's `aria-valuetext` (also its visible value text). */
export interface JobProgressValueTextInfo {
  /** What the bar shows; also its `data-state` (a `JobProgressState`). */
  state: JobViewState;
  /** The text of the state, e.g. `"Queued"` or `"Job not found"`; empty when `idle`. */
  label: string;
  /** Fraction done, 0..1 (1 once completed), or `null` when indeterminate. */
  progress: number | null;
  /** `progress` as whole percent, rounded down so 100 means done (also `aria-valuenow`), or `null`. */
  percent: number | null;
  /** When the job is expected to finish (`useJobStatus`'s `eta`), or `null`. May be in the past: "any moment now". */
  eta: Date | null;
  /** The time the text is for, epoch ms. */
  now: number;
  /** All labels, the defaults merged with the `labels` prop, to build on. */
  labels: JobProgressLabels;
}

/**
 * Every string {@link JobProgress} produces. Pass a partial object as its
 * `labels` prop to translate or reword: replace `percent` and `timeLeft` to
 * keep the default sentence, or `valueText` to write the whole sentence. The
 * sentence is both the `aria-valuetext` and the visible value text, so screen
 * readers and sighted users get the same words.
 */
export interface JobProgressLabels {
  /** A job waiting to start. Default `"Queued"`. */
  pending: string;
  /** A running job whose progress is unknown (indeterminate). Default `"Processing"`. */
  processing: string;
  /** A finished job. Default `"Completed"`. */
  completed: string;
  /** A failed job. Default `"Failed"`. */
  failed: string;
  /** A cancelled job. Default `"Cancelled"`. */
  cancelled: string;
  /** Before the first answer. Default `"Loading job status…"`. */
  loading: string;
  /** The job does not exist (or the caller may not see it). Default `"Job not found"`. */
  notFound: string;
  /** The server refused the caller. Default `"Not allowed to see this job"`. */
  unauthorized: string;
  /** Watching ended on any other error. Default `"Could not load job status"`. */
  loadError: string;
  /** A running job's progress, given in whole percent. Default `"45%"`. */
  percent: (percent: number) => string;
  /**
   * The time left, given in ms (0 or less: any moment now). Default `"less than a
   * minute left"` under a minute, then `"about 1 minute left"`, `"about 2 minutes
   * left"` (rounded to the nearest minute), `"about 1 hour left"`, `"about 3 hours
   * left"` (from 60 minutes, nearest hour), `"about 2 days left"` (from 24 hours).
   */
  timeLeft: (remainingMs: number) => string;
  /**
   * The whole `aria-valuetext`, also shown as the visible value text (unless
   * `valueLabel` replaces what is shown). Default: the percent while a job runs with known
   * progress, else the state's label, followed by the time left while the job is
   * pending or processing and an ETA is known: `"45%, about 2 minutes left"`,
   * `"Processing"`, `"Queued, about 5 minutes left"`, `"Completed"`.
   */
  valueText: (info: JobProgressValueTextInfo) => string;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function about(count: number, unit: string): string {
  return `about ${count} ${unit}${count === 1 ? '' : 's'} left`;
}

/** The English labels {@link JobProgress} uses unless its `labels` prop replaces them. */
export const defaultJobProgressLabels: JobProgressLabels = {
  pending: 'Queued',
  processing: 'Processing',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
  loading: 'Loading job status…',
  notFound: 'Job not found',
  unauthorized: 'Not allowed to see this job',
  loadError: 'Could not load job status',
  percent: (percent) => `${percent}%`,
  timeLeft: (remainingMs) => {
    if (remainingMs < MINUTE) return 'less than a minute left';
    const minutes = Math.round(remainingMs / MINUTE);
    if (minutes < 60) return about(minutes, 'minute');
    const hours = Math.round(remainingMs / HOUR);
    if (hours < 24) return about(hours, 'hour');
    return about(Math.round(remainingMs / DAY), 'day');
  },
  valueText: ({ state, label, percent, eta, now, labels }) => {
    const head = state === 'processing' && percent !== null ? labels.percent(percent) : label;
    if (eta === null || (state !== 'pending' && state !== 'processing')) return head;
    return `${head}, ${labels.timeLeft(eta.getTime() - now)}`;
  },
};
