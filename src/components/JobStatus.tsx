import { clsx } from 'clsx';
import { forwardRef, useCallback, useId, useRef, useState } from 'react';
import type { CSSProperties, ForwardedRef, HTMLAttributes, ReactElement, ReactNode, RefAttributes } from 'react';
import { isFatalJobError } from '../contract/errors';
import type { Job, JobState } from '../contract/types';
import type { JobConnection, UseJobStatusOptions } from '../react/types';
import { useJobStatus } from '../react/useJobStatus';
import { defaultJobStatusIcons } from './icons';
import type { JobStatusIcons } from './icons';
import { defaultJobStatusLabels, mergeLabels, resolve } from './labels';
import type { JobStatusLabels, ValueOrFunction } from './labels';
import { JobStatusActionButtons, wantedActions } from './JobStatusActions';
import type { ActionFailure, JobStatusActions } from './JobStatusActions';
import { splitWatchOptions, viewState, viewStateLabel } from './viewState';
import type { JobViewState } from './viewState';

export type { JobStatusActions } from './JobStatusActions';

/**
 * What a {@link JobStatus} shows; also its `data-state` attribute. The view
 * state every job view shares (the same type as `JobProgressState`):
 * - a {@link JobState} (`pending`, `processing`, `completed`, `failed`, `cancelled`) once the job is known;
 * - `loading` while waiting for the first answer (also while that first request is being retried);
 * - `error` when watching ended with nothing to show: the job was not found, the
 *   caller may not see it, or it vanished while it was still running;
 * - `idle` when nothing is watched: `jobId` is `null`/`undefined`, or `enabled`
 *   is `false` before any answer. The region is then empty.
 */
export type JobStatusState = JobViewState;

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
   * @default false
   */
  detailed?: boolean;
  /** Replaces some or all of the default English texts. */
  labels?: Partial<JobStatusLabels>;
  /**
   * Offers Cancel (while pending or processing) and Retry (once failed)
   * buttons, each only when the provider's client has the method. `true`
   * offers both; `{ cancel: true }` or `{ retry: true }` one. Default `false`.
   *
   * The buttons are real `<button type="button">` elements with text labels,
   * rendered right after the status region, not inside it (see
   * {@link JobStatus}). They act through `useCancelJob` / `useRetryJob`, so the
   * status changes at once and is put back if the server fails; while a
   * request is in flight the button reads "Cancelling…" / "Retrying…" and
   * both buttons are `aria-disabled` (not `disabled`, which would drop
   * keyboard focus). A failure adds "Could not cancel the job" (or "Could not
   * retry the job") to the region's default content.
   * @default false
   */
  actions?: boolean | JobStatusActions;
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

function JobStatusWithRef<TResult>(props: JobStatusProps<TResult>, ref: ForwardedRef<HTMLSpanElement>) {
  const [watchOptions, htmlProps] = splitWatchOptions<TResult, JobStatusProps<TResult>>(props);
  const {
    jobId,
    detailed = false,
    actions,
    labels: labelOverrides,
    icons,
    className,
    style,
    children,
    ...rest
  } = htmlProps;

  const { job, error, connection, isLoading, isTerminal } = useJobStatus<TResult>(jobId, watchOptions);

  const labels = mergeLabels(defaultJobStatusLabels, labelOverrides);
  const state = viewState(jobId, job, isTerminal, isLoading, error);
  const renderState: JobStatusRenderState<TResult> = { state, job, error, connection, isTerminal };
  const label = viewStateLabel(state, error, labels);

  const wanted = wantedActions(actions);
  const withActions = jobId != null && (wanted.cancel || wanted.retry);
  const generatedId = useId();
  const statusId = rest.id ?? generatedId;
  const [failure, setFailure] = useState<ActionFailure | null>(null);
  const failed = withActions && failure?.jobId === jobId && failure.state === state ? failure.action : null;
  const actionError = failed === 'cancel' ? labels.cancelFailed : failed === 'retry' ? labels.retryFailed : null;

  const statusRef = useRef<HTMLSpanElement | null>(null);
  const setRefs = useCallback(
    (node: HTMLSpanElement | null) => {
      statusRef.current = node;
      if (typeof ref === 'function') ref(node);
      else if (ref) ref.current = node;
    },
    [ref],
  );

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
        actionError={actionError}
      />
    );
  }

  return (
    <>
      <span
        {...rest}
        ref={setRefs}
        // With actions, the region takes focus when the button that had it goes away.
        id={withActions ? statusId : rest.id}
        tabIndex={withActions ? (rest.tabIndex ?? -1) : rest.tabIndex}
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
      {withActions && (
        <JobStatusActionButtons
          jobId={jobId}
          state={state}
          cancel={wanted.cancel}
          retry={wanted.retry}
          labels={labels}
          statusId={statusId}
          statusRef={statusRef}
          onFailure={setFailure}
        />
      )}
    </>
  );
}

interface DefaultContentProps {
  state: JobViewState;
  job: Job<unknown> | undefined;
  error: Error | null;
  connection: JobConnection;
  label: string;
  labels: JobStatusLabels;
  icons: JobStatusIcons | undefined;
  detailed: boolean;
  actionError: string | null;
}

function DefaultContent({ state, job, error, connection, label, labels, icons, detailed, actionError }: DefaultContentProps) {
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
      {actionError !== null && (
        <>
          {' '}
          <span className="jobwatch-status__action-error">{actionError}</span>
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
 * With `actions`, Cancel and Retry buttons follow the region as its next
 * sibling, `<span class="jobwatch-actions" data-state="…">` holding
 * `<button class="jobwatch-action" data-action="cancel|retry">`: JobStatus
 * then renders two elements, and the region stays the only `role="status"`
 * one. The buttons are kept out of the live region on purpose: inside it,
 * every change of the (atomic) region would read "Cancel" or "Retrying…" out
 * with the status, and the status text would no longer be the status alone.
 * Each button is described by the region (`aria-describedby`), so it is
 * heard as "Cancel, button, Processing". The region then also gets an `id`
 * (yours if given) and `tabIndex={-1}`: when the focused button goes away
 * (the job got cancelled or retried), focus moves to the region instead of
 * being lost. `ref`, `className`, `style` and the other props still go to the
 * region.
 *
 * Parts (stable class names): `jobwatch-status` (the region),
 * `jobwatch-status__icon`, `jobwatch-status__label`, `jobwatch-status__updating`
 * ("(updating…)", while a processing job is watched), `jobwatch-status__detail`
 * (the detailed line, holding `jobwatch-status__message`, `jobwatch-status__retry`
 * and `jobwatch-status__error`) and `jobwatch-status__notice` ("Connection
 * problem, retrying…", while requests fail transiently and a job is still
 * active or loading), `jobwatch-status__action-error` (a failed cancel or
 * retry). Import `jobwatch/styles.css` for the default look; without
 * it nothing is coloured or animated.
 *
 * @example
 * <JobStatus jobId={jobId} detailed onComplete={() => refetchImages()} />
 * <JobStatus jobId={jobId} detailed actions />
 */
export const JobStatus = ForwardedJobStatus as (<TResult = unknown>(
  props: JobStatusProps<TResult> & RefAttributes<HTMLSpanElement>,
) => ReactElement | null);
