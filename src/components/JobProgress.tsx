import { clsx } from 'clsx';
import { forwardRef, useEffect, useReducer } from 'react';
import type { CSSProperties, ForwardedRef, HTMLAttributes, ReactElement, ReactNode, RefAttributes } from 'react';
import type { Job, JobState } from '../contract/types';
import type { UseJobStatusOptions } from '../react/types';
import { useJobStatus } from '../react/useJobStatus';
import { mergeLabels, resolve } from './labels';
import type { ValueOrFunction } from './labels';
import { defaultJobProgressLabels } from './progressLabels';
import type { JobProgressLabels } from './progressLabels';
import { splitWatchOptions, viewState, viewStateLabel } from './viewState';
import type { JobViewState } from './viewState';

/**
 * What a {@link JobProgress} shows; also its `data-state` attribute. The view
 * state every job view shares (the same type as `JobStatusState`):
 * - a {@link JobState} (`pending`, `processing`, `completed`, `failed`, `cancelled`) once the job is known;
 * - `loading` while waiting for the first answer;
 * - `error` when watching ended with nothing to show (not found, not allowed,
 *   or the job vanished while it was still running);
 * - `idle` when nothing is watched (`jobId` is `null`/`undefined`, or `enabled`
 *   is `false` before any answer).
 */
export type JobProgressState = JobViewState;

/** The state {@link JobProgress} passes to its `className` and `style` functions. */
export interface JobProgressRenderState<TResult = unknown> {
  /** What is shown; also the `data-state` attribute. */
  state: JobProgressState;
  /** The latest job, or `undefined` before the first answer. */
  job: Job<TResult> | undefined;
  /**
   * Fraction done, 0..1, as the bar shows it (1 once completed), or `null` when
   * indeterminate; also the `--jobwatch-progress` variable.
   */
  progress: number | null;
  /** When the job is expected to finish (see `useJobStatus`'s `eta`), or `null`. */
  eta: Date | null;
  /** The last error, transient (watching goes on) or final, or `null`. */
  error: Error | null;
  /** Whether the job is completed, failed or cancelled. */
  isTerminal: boolean;
}

/** What a `children` function of {@link JobProgress} receives. */
export interface JobProgressRenderProps<TResult = unknown> extends JobProgressRenderState<TResult> {
  /** `progress` in whole percent, rounded down (also `aria-valuenow`), or `null` when indeterminate. */
  percent: number | null;
  /** The `aria-valuetext`, e.g. `"45%, about 2 minutes left"`; also the visible value text by default. Empty when `idle`. */
  valueText: string;
  /** All labels, the defaults merged with the `labels` prop. */
  labels: JobProgressLabels;
}

/** Props of {@link JobProgress}. The options of `useJobStatus` pass through. */
export interface JobProgressProps<TResult = unknown>
  extends UseJobStatusOptions<TResult>,
    Omit<
      HTMLAttributes<HTMLDivElement>,
      'children' | 'className' | 'style' | 'role' | 'onError' | 'aria-valuenow' | 'aria-valuemin' | 'aria-valuemax' | 'aria-valuetext'
    > {
  /** The job to watch. `null` or `undefined` watches nothing; the (still mounted) bar is then `idle`. */
  jobId: string | null | undefined;
  /**
   * The accessible name. Default `"Job progress"`, unless `aria-labelledby`
   * names the bar (e.g. after the id of a visible heading). Name it after what
   * runs when a page has several bars: `"Image generation"`.
   * @default "Job progress"
   */
  'aria-label'?: string;
  /** Replaces some or all of the default English texts, including the whole `aria-valuetext` (`valueText`). */
  labels?: Partial<JobProgressLabels>;
  /** Classes added to `jobwatch-progress`, or a function of the render state returning them. */
  className?: ValueOrFunction<string | undefined, JobProgressRenderState<TResult>>;
  /** Inline style, or a function of the render state returning it. `--jobwatch-progress` is set on top of it. */
  style?: ValueOrFunction<CSSProperties | undefined, JobProgressRenderState<TResult>>;
  /**
   * Whether the value text is shown below the track: the same words as the
   * `aria-valuetext` ("45%, about 2 minutes left", "Queued", "Completed"), in a
   * `jobwatch-progress__value` element. Default `true`; `false` leaves a bare
   * bar (React Aria's `showValueLabel`). Nothing is shown while `idle`.
   * @default true
   */
  showValueText?: boolean;
  /**
   * Replaces what the value text shows (React Aria's `valueLabel`): a node, or
   * a function of the render props (`percent`, `valueText`, `eta`, `job`…).
   * `null` shows nothing. Rendered as text, never as HTML. It is hidden from screen readers, which
   * hear `aria-valuetext` instead: to change the words for everyone, replace
   * `labels.valueText` (or `percent` / `timeLeft`), which feeds both.
   */
  valueLabel?: ReactNode | ((props: JobProgressRenderProps<TResult>) => ReactNode);
  /**
   * Replaces the default content inside the progress bar (a
   * `jobwatch-progress__track` holding the `jobwatch-progress__bar`, and the
   * value text). A function receives the render state, `percent`, `valueText`
   * and all `labels`, e.g. to draw your own bar. Content of a progress bar is
   * presentational: screen readers read its name and `aria-valuetext`, not its
   * content.
   */
  children?: ReactNode | ((props: JobProgressRenderProps<TResult>) => ReactNode);
}

/** The name of a bar that is given neither `aria-label` nor `aria-labelledby`. */
const DEFAULT_NAME = 'Job progress';

/**
 * How often the time left is read again while an ETA is shown: a job that
 * does not change brings no new render, yet its time left runs down.
 */
const CLOCK_MS = 15_000;

/** The fraction the bar shows: a completed job is done whatever it reported; no job, no value. */
function shownProgress(state: JobProgressState, progress: number | null): number | null {
  if (state === 'completed') return 1;
  if (progress === null || state === 'idle' || state === 'loading' || state === 'error') return null;
  return Math.min(1, Math.max(0, progress));
}

/** `Date.now()`, read again every {@link CLOCK_MS} while `running`. */
function useClock(running: boolean): number {
  const [, tick] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    if (!running) return;
    const timer = setInterval(tick, CLOCK_MS);
    return () => clearInterval(timer);
  }, [running]);
  return Date.now();
}

function JobProgressWithRef<TResult>(props: JobProgressProps<TResult>, ref: ForwardedRef<HTMLDivElement>) {
  const [watchOptions, htmlProps] = splitWatchOptions<TResult, JobProgressProps<TResult>>(props);
  const {
    jobId,
    labels: labelOverrides,
    className,
    style,
    children,
    showValueText = true,
    valueLabel,
    'aria-label': ariaLabel,
    ...rest
  } = htmlProps;

  const { job, progress: reported, eta, error, isLoading, isTerminal } = useJobStatus<TResult>(jobId, watchOptions);

  const labels = mergeLabels(defaultJobProgressLabels, labelOverrides);
  const state = viewState(jobId, job, isTerminal, isLoading, error);
  const progress = shownProgress(state, reported);
  // Rounded down, so 100% means done; the epsilon keeps 0.29 * 100 = 28.999… at 29.
  const percent = progress === null ? null : Math.min(100, Math.floor(progress * 100 + 1e-9));
  const now = useClock(eta !== null && (state === 'pending' || state === 'processing'));
  const label = viewStateLabel(state, error, labels);
  const valueText = state === 'idle' ? '' : labels.valueText({ state, label, progress, percent, eta, now, labels });

  const renderState: JobProgressRenderState<TResult> = { state, job, progress, eta, error, isTerminal };
  const renderProps: JobProgressRenderProps<TResult> = { ...renderState, percent, valueText, labels };
  const ownStyle = resolve(style, renderState);
  const variable = progress === null ? undefined : ({ '--jobwatch-progress': String(progress) } as CSSProperties);

  return (
    <div
      {...rest}
      ref={ref}
      role="progressbar"
      aria-label={ariaLabel ?? (rest['aria-labelledby'] ? undefined : DEFAULT_NAME)}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={percent ?? undefined}
      aria-valuetext={valueText === '' ? undefined : valueText}
      className={clsx('jobwatch-progress', resolve(className, renderState))}
      style={ownStyle || variable ? { ...ownStyle, ...variable } : undefined}
      data-state={state}
    >
      {typeof children === 'function'
        ? children(renderProps)
        : children !== undefined
          ? children
          : defaultContent(!showValueText ? null : valueLabel === undefined ? valueText : resolve(valueLabel, renderProps))}
    </div>
  );
}

/**
 * The track with its filled part, then the value text. The text repeats the
 * `aria-valuetext` word for word, so it is `aria-hidden`: a screen reader hears
 * the value once, from the progressbar itself (and the progressbar's children
 * are presentational anyway). Naming the bar after the text with
 * `aria-labelledby` or `aria-describedby` would read the value twice.
 */
function defaultContent(value: ReactNode) {
  return (
    <>
      <div className="jobwatch-progress__track">
        <div className="jobwatch-progress__bar" />
      </div>
      {value !== null && value !== undefined && value !== false && value !== '' && (
        <span className="jobwatch-progress__value" aria-hidden="true">
          {value}
        </span>
      )}
    </>
  );
}

// Pure: bundlers drop it when JobProgress is not imported.
const ForwardedJobProgress = /* @__PURE__ */ forwardRef(JobProgressWithRef);

/**
 * Shows how far one job is, with an honest estimate of the time left. Watches
 * the job with `useJobStatus` (its options pass through as props) inside a
 * `JobClientProvider`.
 *
 * Renders one `<div role="progressbar">` that stays mounted in every state,
 * with `aria-valuemin="0"` and `aria-valuemax="100"`; `aria-valuenow` (whole
 * percent, rounded down) only while the progress is known — it is left out
 * while indeterminate, as React Aria does; `aria-valuetext` such as
 * `"45%, about 2 minutes left"`, `"Processing"` or `"Queued"` (see
 * {@link JobProgressLabels}); and an accessible name, `"Job progress"` unless
 * `aria-label` or `aria-labelledby` says otherwise. The same value text is
 * shown below the track for sighted users (`showValueText`, `valueLabel`). The time left is the
 * hook's `eta`: the server's estimate, or one from the observed pace once it
 * is steady, hidden while progress stalls.
 *
 * It is deliberately not a live region: screen readers read it when the user
 * gets to it, and do not announce every tick. To announce that a job finished,
 * put a `<JobStatus>` beside it.
 *
 * Styling:
 * - `--jobwatch-progress`: the fraction done, `0`..`1` (`1` once completed),
 *   set inline while the progress is known and absent while indeterminate, e.g.
 *   `width: calc(var(--jobwatch-progress) * 100%)` or `transform: scaleX(var(--jobwatch-progress))`;
 * - `data-state`: see {@link JobProgressState} — `[data-state="pending"]`,
 *   `[data-state="processing"]`, `[data-state="completed"]`, `[data-state="failed"]`,
 *   `[data-state="cancelled"]`, `[data-state="loading"]`, `[data-state="error"]`,
 *   `[data-state="idle"]`; indeterminate is `:not([aria-valuenow])`;
 * - parts: `jobwatch-progress` (the whole), `jobwatch-progress__track` (the
 *   empty track), `jobwatch-progress__bar` (the filled part) and
 *   `jobwatch-progress__value` (the value text, `aria-hidden` since it repeats
 *   `aria-valuetext`). Import `jobwatch/styles.css` for the default look; without
 *   it nothing is drawn or animated, and the value text is plain text.
 *
 * @example
 * <h2 id="gen-title">Generating your image</h2>
 * <JobProgress jobId={jobId} aria-labelledby="gen-title" onComplete={() => refetchImages()} />
 */
export const JobProgress = ForwardedJobProgress as (<TResult = unknown>(
  props: JobProgressProps<TResult> & RefAttributes<HTMLDivElement>,
) => ReactElement | null);
