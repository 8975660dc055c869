import { clsx } from 'clsx';
import { forwardRef } from 'react';
import type { CSSProperties, HTMLAttributes, ReactNode } from 'react';
import type { UsePendingJobsCountOptions } from '../react/types';
import { usePendingJobsCount } from '../react/usePendingJobsCount';
import { defaultPendingJobsBadgeLabels, mergeLabels, resolve } from './labels';
import type { PendingJobsBadgeLabels, ValueOrFunction } from './labels';

/** The state {@link PendingJobsBadge} passes to its `className`, `style` and `children` functions. */
export interface PendingJobsBadgeRenderState {
  /** `"processing"` while at least one job runs, `"pending"` while all active jobs wait; also `data-state`. */
  state: 'pending' | 'processing';
  /** Jobs waiting to start. */
  pending: number;
  /** Jobs running. */
  processing: number;
  /** `pending + processing`, always at least 1 (the badge is not rendered at 0). */
  total: number;
}

/** What a `children` function of {@link PendingJobsBadge} receives. */
export interface PendingJobsBadgeRenderProps extends PendingJobsBadgeRenderState {
  /** All labels, the defaults merged with the `labels` prop. */
  labels: PendingJobsBadgeLabels;
}

/** Props of {@link PendingJobsBadge}. The options of `usePendingJobsCount` pass through. */
export interface PendingJobsBadgeProps
  extends UsePendingJobsCountOptions,
    Omit<HTMLAttributes<HTMLSpanElement>, 'children' | 'className' | 'style'> {
  /**
   * Replaces some or all of the default English texts.
   *
   * @default the English texts ("3 active jobs", "(2 pending, 1 processing)")
   */
  labels?: Partial<PendingJobsBadgeLabels>;
  /** Classes added to `jobwatch-badge`, or a function of the counts returning them. */
  className?: ValueOrFunction<string | undefined, PendingJobsBadgeRenderState>;
  /** Inline style, or a function of the counts returning it. */
  style?: ValueOrFunction<CSSProperties | undefined, PendingJobsBadgeRenderState>;
  /**
   * Replaces the default content (count, label, breakdown). A function receives
   * the counts and all `labels`. Keep text that says what the number counts:
   * a bare number means nothing to a screen reader.
   */
  children?: ReactNode | ((props: PendingJobsBadgeRenderProps) => ReactNode);
}

/**
 * Shows how many jobs are active (pending or processing), counted with
 * `usePendingJobsCount` (its options pass through as props) inside a
 * `JobClientProvider`. Renders nothing (`null`) while loading and while no
 * job is active; last good counts stay shown through transient errors.
 *
 * Otherwise renders one `<span class="jobwatch-badge">` whose text reads
 * "3 active jobs (2 pending, 1 processing)": the number in
 * `jobwatch-badge__count`, what it counts in `jobwatch-badge__label` (the
 * default stylesheet hides it visually, screen readers still read it) and the
 * split in `jobwatch-badge__breakdown`. Inside a link or button the text
 * becomes part of its accessible name. It is not a live region, since it
 * mounts and unmounts; to announce count changes, put it in an element with
 * `role="status"` that stays mounted.
 *
 * Data attribute (for styling): `data-state` — `[data-state="processing"]`
 * while at least one job runs, `[data-state="pending"]` while every active
 * job waits.
 *
 * @example
 * <a href="/jobs">Jobs <PendingJobsBadge filter={{ meta: { projectId } }} /></a>
 */
export const PendingJobsBadge = /* @__PURE__ */ forwardRef<HTMLSpanElement, PendingJobsBadgeProps>(function PendingJobsBadge(props, ref) {
  const { filter, pollInterval, enabled, labels: labelOverrides, className, style, children, ...rest } = props;
  const { pending, processing, total } = usePendingJobsCount({ filter, pollInterval, enabled });

  if (total <= 0) return null;

  const labels = mergeLabels(defaultPendingJobsBadgeLabels, labelOverrides);
  const renderState: PendingJobsBadgeRenderState = {
    state: processing > 0 ? 'processing' : 'pending',
    pending,
    processing,
    total,
  };

  let content: ReactNode;
  if (typeof children === 'function') {
    content = children({ ...renderState, labels });
  } else if (children !== undefined) {
    content = children;
  } else {
    // Spaces keep the words apart when the label is hidden visually or the stylesheet is absent.
    content = (
      <>
        <span className="jobwatch-badge__count">{total}</span>{' '}
        <span className="jobwatch-badge__label">{labels.activeJobs(total)}</span>{' '}
        <span className="jobwatch-badge__breakdown">{labels.breakdown(pending, processing)}</span>
      </>
    );
  }

  return (
    <span
      {...rest}
      ref={ref}
      className={clsx('jobwatch-badge', resolve(className, renderState))}
      style={resolve(style, renderState)}
      data-state={renderState.state}
    >
      {content}
    </span>
  );
});
