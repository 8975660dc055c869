import { useCallback, useRef } from 'react';
import { useCancelJob } from '../react/useCancelJob';
import { useIsomorphicLayoutEffect } from '../react/useIsomorphicLayoutEffect';
import { useRetryJob } from '../react/useRetryJob';
import type { JobStatusLabels } from './labels';
import type { JobViewState } from './viewState';

/** Which action buttons a {@link JobStatus} offers (each only when the client supports it). */
export interface JobStatusActions {
  /** A Cancel button while the job is pending or processing (needs the client's `cancel`). */
  cancel?: boolean;
  /** A Retry button once the job failed (needs the client's `retry`). */
  retry?: boolean;
}

/** @internal Which actions a `JobStatus` `actions` prop asks for: `true` both, an object the ones set to `true`. */
export function wantedActions(actions: boolean | JobStatusActions | undefined): { cancel: boolean; retry: boolean } {
  if (!actions) return { cancel: false, retry: false };
  if (actions === true) return { cancel: true, retry: true };
  return { cancel: actions.cancel === true, retry: actions.retry === true };
}

/** @internal A cancel or retry that failed, shown while the job is still in the state it was put back to. */
export interface ActionFailure {
  /** The job the action was for. */
  jobId: string;
  /** Which action failed. */
  action: 'cancel' | 'retry';
  /** The view state when the action was sent (the one the failed optimistic update is put back to). */
  state: JobViewState;
}

/** @internal Props of {@link JobStatusActionButtons}. */
export interface JobStatusActionButtonsProps {
  /** The job the buttons act on. */
  jobId: string;
  /** What the status region shows; decides which buttons are offered. */
  state: JobViewState;
  /** Whether a Cancel button was asked for. */
  cancel: boolean;
  /** Whether a Retry button was asked for. */
  retry: boolean;
  /** The button texts (`cancelAction`, `cancelling`, `retryAction`, `retrying`). */
  labels: JobStatusLabels;
  /** The id of the status region, which describes each button. */
  statusId: string;
  /** The status region, focused when a focused button goes away. */
  statusRef: { readonly current: HTMLSpanElement | null };
  /** Told of a failed action, and with `null` when a new one is sent. */
  onFailure: (failure: ActionFailure | null) => void;
}

/**
 * @internal The Cancel and Retry buttons of a `JobStatus` with `actions`,
 * rendered beside the status region (never inside it: a live region would
 * read them out). Acts through `useCancelJob` / `useRetryJob`; while a request
 * is in flight its button reads "Cancelling…" / "Retrying…" and both are
 * `aria-disabled`. Renders nothing when no button applies.
 */
export function JobStatusActionButtons({
  jobId,
  state,
  cancel,
  retry,
  labels,
  statusId,
  statusRef,
  onFailure,
}: JobStatusActionButtonsProps) {
  const cancelJob = useCancelJob();
  const retryJob = useRetryJob();
  const cancelling = cancelJob.isPending && cancelJob.variables === jobId;
  const retrying = retryJob.isPending && retryJob.variables === jobId;
  const busy = cancelling || retrying;
  // A button stays while its request is in flight, though the optimistic state no longer offers it.
  const showCancel = cancel && cancelJob.supported && (state === 'pending' || state === 'processing' || cancelling);
  const showRetry = retry && retryJob.supported && (state === 'failed' || retrying);

  // A focused button that goes away (its job was cancelled or retried) hands focus to the region, not to <body>.
  const focusLost = useRef(false);
  const onFocusLost = useCallback(() => {
    focusLost.current = true;
  }, []);
  useIsomorphicLayoutEffect(() => {
    if (!focusLost.current) return;
    focusLost.current = false;
    statusRef.current?.focus();
  });

  if (!showCancel && !showRetry) return null;

  const run = (action: 'cancel' | 'retry') => {
    if (busy) return;
    const before = state;
    onFailure(null);
    (action === 'cancel' ? cancelJob : retryJob).mutate(jobId, {
      onError: () => onFailure({ jobId, action, state: before }),
    });
  };

  // A space keeps the buttons apart from the status text without the stylesheet.
  return (
    <>
      {' '}
      <span className="jobwatch-actions" data-state={state}>
        {showCancel && (
          <ActionButton
            action="cancel"
            label={cancelling ? labels.cancelling : labels.cancelAction}
            busy={busy}
            describedBy={statusId}
            onActivate={() => run('cancel')}
            onFocusLost={onFocusLost}
          />
        )}
        {showCancel && showRetry && ' '}
        {showRetry && (
          <ActionButton
            action="retry"
            label={retrying ? labels.retrying : labels.retryAction}
            busy={busy}
            describedBy={statusId}
            onActivate={() => run('retry')}
            onFocusLost={onFocusLost}
          />
        )}
      </span>
    </>
  );
}

interface ActionButtonProps {
  action: 'cancel' | 'retry';
  label: string;
  busy: boolean;
  describedBy: string;
  onActivate: () => void;
  onFocusLost: () => void;
}

/** One action button: a real `<button type="button">`, `aria-disabled` (keeping focus) while busy. */
function ActionButton({ action, label, busy, describedBy, onActivate, onFocusLost }: ActionButtonProps) {
  const ref = useRef<HTMLButtonElement>(null);
  useIsomorphicLayoutEffect(() => {
    const node = ref.current;
    // Runs before the button leaves the DOM, while it still has focus.
    return () => {
      if (node && node.ownerDocument.activeElement === node) onFocusLost();
    };
  }, [onFocusLost]);
  return (
    <button
      ref={ref}
      type="button"
      className="jobwatch-action"
      data-action={action}
      aria-disabled={busy || undefined}
      aria-describedby={describedBy}
      onClick={busy ? undefined : onActivate}
    >
      {label}
    </button>
  );
}
