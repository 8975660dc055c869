import { clsx } from 'clsx';
import { forwardRef } from 'react';
import type { CSSProperties, ForwardedRef, HTMLAttributes, ReactElement, ReactNode, RefAttributes } from 'react';
import { JobNotFoundError, JobUnauthorizedError, isFatalJobError } from '../core/errors';
import type { Job, JobState } from '../core/types';
import type { JobConnection, UseJobStatusOptions } from '../react/types';
import { useJobStatus } from '../react/useJobStatus';
import { defaultJobStatusIcons } from './icons';
import type { JobStatusIcons } from './icons';
import { defaultJobStatusLabels, mergeLabels, resolve } from './labels';
import type { JobStatusLabels, ValueOrFunction } from './labels';

/**
 * What a {@link JobStatus} shows; also its `data-state` attribute:
 * - a {@link JobState} (`pending`, `processing`, `completed`, `failed`, `cancelled`) once the job is known;
 * - `loading` while waiting for the first answer (also while that first request is being retried);
 * - `error` when watching ended with nothing to show: the job was not found, the
 *   caller may not see it, or it vanished while it was still running;
 * - `idle` when nothing is watched: `jobId` is `null`/`undefined`, or `enabled`
 *   is `false` before any answer. The region is then empty.
 */
export type JobStatusState = JobState | 'loading' | 'error' | 'idle';

/** The state {@link JobStatus} passes to its `className` and `style` functions. */
export interface JobStatusRenderState<TResult = unknown> {
  /** What is shown; also the `data-state` attribute. */
  state: JobStatusState;
  /** The latest job, or `undefined` before the first answer. Kept through transient errors. */
  job: Job<TResult> | undefined;
  /** The last error, transient (watching goes on) or final, or `null`. */
  error: Error | null;
  /** How the job is being kept fresh; also the `data-connection` attribute. */
  connection: JobConnection;
  /** Whether the job is completed, failed or cancelled. */
  isTerminal: boolean;
}

/** What a `children` function of {@link JobStatus} receives. */
export interface JobStatusRenderProps<TResult = unknown> extends JobStatusRenderState<TResult> {
  /** The text the default content shows for the current state, e.g. `"Queued"`; empty when `idle`. */
  label: string;
  /** All labels, the defaults merged with the `labels` prop. */
  labels: JobStatusLabels;
  /** The `detailed` prop. */
  detailed: boolean;
}

/** Props of {@link JobStatus}. The options of `useJobStatus` pass through. */
export interface JobStatusProps<TResult = unknown>
  extends UseJobStatusOptions<TResult>,
    Omit<HTMLAttributes<HTMLSpanElement>, 'children' | 'className' | 'style' | 'role' | 'onError'> {
  /** The job to watch. `null` or `undefined` watches nothing and leaves the (still mounted) region empty. */
  jobId: string | null | undefined;
  /**
   * Adds a detail line: the progress message while processing, the retry count
   * ("Retry 2 of 3") once the job has retried, the error message when it failed
   * (or "Last error: …" while a retry is pending or running). Sets `data-detailed`.
   * Default `false`.
   */
  detailed?: boolean;
  /** Replaces some or all of the default English texts. */
  labels?: Partial<JobStatusLabels>;
  /** Replaces the icon of some states; `null` shows no icon for that state. Icons are always `aria-hidden`. */
  icons?: JobStatusIcons;
  /** Classes added to `jobwatch-status`, or a function of the render state returning them. */
  className?: ValueOrFunction<string | undefined, JobStatusRenderState<TResult>>;
  /** Inline style, or a function of the render state returning it. */
  style?: ValueOrFunction<CSSProperties | undefined, JobStatusRenderState<TResult>>;
  /**
   * Replaces the default content (icon, label, detail line, notice) inside the
   * status region, which stays in place. A function receives the render state,
   * the current `label` and all `labels`. Render text: the region is announced
   * by its text. It is a `<span>`, so use phrasing content only.
   */
  children?: ReactNode | ((props: JobStatusRenderProps<TResult>) => ReactNode);
}

function deriveState(
  jobId: string | null | undefined,
  job: Job<unknown> | undefined,
  isTerminal: boolean,
  isLoading: boolean,
  error: Error | null,
): JobStatusState {
  if (jobId == null) return 'idle';
  const fatal = isFatalJobError(error);
  // A job that vanished (404/401) mid-run is no longer truthfully "processing";
  // a terminal one is final, so whatever came after it cannot change it.
  if (job && (isTerminal || !fatal)) return job.status;
  if (error && (fatal || !isLoading)) return 'error';
  if (isLoading) return 'loading';
  return 'idle';
}

function stateLabel(state: JobStatusState, error: Error | null, labels: JobStatusLabels): string {
  switch (state) {
    case 'idle':
      return '';
    case 'error':
      if (error instanceof JobNotFoundError) return labels.notFound;
      if (error instanceof JobUnauthorizedError) return labels.unauthorized;
      return labels.loadError;
    default:
      return labels[state];
  }
}

function JobStatusWithRef<TResult>(props: JobStatusProps<TResult>, ref: ForwardedRef<HTMLSpanElement>) {
  const {
    jobId,
    detailed = false,
    labels: labelOverrides,
    icons,
    className,
    style,
    children,
    pollInterval,
    enabled,
    live,
    pollWhenHidden,
    onComplete,
    onError,
    onSettled,
    onStatusChange,
    ...rest
  } = props;

  const { job, error, connection, isLoading, isTerminal } = useJobStatus<TResult>(jobId, {
    pollInterval,
    enabled,
    live,
    pollWhenHidden,
    onComplete,
    onError,
    onSettled,
    onStatusChange,
  });

  const labels = mergeLabels(defaultJobStatusLabels, labelOverrides);
  const state = deriveState(jobId, job, isTerminal, isLoading, error);
  const renderState: JobStatusRenderState<TResult> = { state, job, error, connection, isTerminal };
  const label = stateLabel(state, error, labels);

  let content: ReactNode;
  if (typeof children === 'function') {
    content = children({ ...renderState, label, labels, detailed });
  } else if (children !== undefined) {
    content = children;
  } else {
    content = (
      <DefaultContent
        state={state}
        job={job}
        error={error}
        connection={connection}
        label={label}
        labels={labels}
        icons={icons}
        detailed={detailed}
      />
    );
  }

  return (
    <span
      {...rest}
      ref={ref}
      role="status"
      aria-live="polite"
      aria-atomic="true"
      className={clsx('jobwatch-status', resolve(className, renderState))}
      style={resolve(style, renderState)}
      data-state={state}
      data-connection={connection}
      data-detailed={detailed ? '' : undefined}
    >
      {content}
    </span>
  );
}

interface DefaultContentProps {
  state: JobStatusState;
  job: Job<unknown> | undefined;
  error: Error | null;
  connection: JobConnection;
  label: string;
  labels: JobStatusLabels;
  icons: JobStatusIcons | undefined;
  detailed: boolean;
}

function DefaultContent({ state, job, error, connection, label, labels, icons, detailed }: DefaultContentProps) {
  if (state === 'idle') return null;

  const override = icons?.[state];
  const icon = override === undefined ? defaultJobStatusIcons[state] : override;

  const active = state === 'pending' || state === 'processing';
  // "(updating…)" promises the text will change by itself: only true while watching works.
  const updating = state === 'processing' && (connection === 'polling' || connection === 'live' || connection === 'paused');
  const connectionProblem = (active || state === 'loading') && error != null && !isFatalJobError(error);

  let message: string | null = null;
  let retry: string | null = null;
  let jobError: string | null = null;
  if (detailed && job) {
    if (state === 'processing' && job.progressMessage) message = job.progressMessage;
    const retryCount = job.retryCount ?? 0;
    if (retryCount > 0) retry = labels.retry(retryCount, job.maxRetries ?? null);
    const errorMessage = job.error?.message;
    if (errorMessage) {
      if (state === 'failed') jobError = errorMessage;
      else if (active) jobError = labels.lastError(errorMessage);
    }
  }
  const hasDetail = message !== null || retry !== null || jobError !== null;

  // Spaces between parts keep the text readable (and announced as words) without the stylesheet.
  return (
    <>
      {icon != null && icon !== false && (
        <span className="jobwatch-status__icon" aria-hidden="true">
          {icon}
        </span>
      )}
      <span className="jobwatch-status__label">{label}</span>
      {updating && (
        <>
          {' '}
          <span className="jobwatch-status__updating">{labels.updating}</span>
        </>
      )}
      {hasDetail && (
        <>
          {' '}
          <span className="jobwatch-status__detail">
            {message !== null && <span className="jobwatch-status__message">{message}</span>}
            {message !== null && (retry !== null || jobError !== null) && ' '}
            {retry !== null && <span className="jobwatch-status__retry">{retry}</span>}
            {retry !== null && jobError !== null && ' '}
            {jobError !== null && <span className="jobwatch-status__error">{jobError}</span>}
          </span>
        </>
      )}
      {connectionProblem && (
        <>
          {' '}
          <span className="jobwatch-status__notice">{labels.connectionError}</span>
        </>
      )}
    </>
  );
}

// Pure: bundlers drop it when JobStatus is not imported.
const ForwardedJobStatus = /* @__PURE__ */ forwardRef(JobStatusWithRef);

/**
 * Shows the live status of one job as text, with an icon. Watches the job with
 * `useJobStatus` (its options pass through as props) inside a
 * `JobClientProvider`.
 *
 * Renders one `<span role="status" aria-live="polite" aria-atomic="true">`
 * that stays mounted in every state, also while loading, after an error and
 * when `jobId` becomes `null` (it is then empty), so screen readers announce
 * each change of its text. Every state has a text label; icons are
 * decoration (`aria-hidden`). Texts are rendered as text, never as HTML.
 *
 * Data attributes (for styling):
 * - `data-state`: see {@link JobStatusState} —
 *   `[data-state="pending"]`, `[data-state="processing"]`, `[data-state="completed"]`,
 *   `[data-state="failed"]`, `[data-state="cancelled"]`, `[data-state="loading"]`,
 *   `[data-state="error"]`, `[data-state="idle"]`;
 * - `data-connection`: how the job is kept fresh — `idle`, `polling`, `live`,
 *   `paused` or `error` (a request failed and is being retried, or watching stopped);
 * - `data-detailed`: present with `detailed`.
 *
 * Parts (stable class names): `jobwatch-status` (the region),
 * `jobwatch-status__icon`, `jobwatch-status__label`, `jobwatch-status__updating`
 * ("(updating…)", while a processing job is watched), `jobwatch-status__detail`
 * (the detailed line, holding `jobwatch-status__message`, `jobwatch-status__retry`
 * and `jobwatch-status__error`) and `jobwatch-status__notice` ("Connection
 * problem, retrying…", while requests fail transiently and a job is still
 * active or loading). Import `jobwatch/styles.css` for the default look; without
 * it nothing is coloured or animated.
 *
 * @example
 * <JobStatus jobId={jobId} detailed onComplete={() => refetchImages()} />
 */
export const JobStatus = ForwardedJobStatus as (<TResult = unknown>(
  props: JobStatusProps<TResult> & RefAttributes<HTMLSpanElement>,
) => ReactElement | null);
