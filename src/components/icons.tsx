import { clsx } from 'clsx';
import type { ReactNode, SVGProps } from 'react';
import type { JobViewState } from './viewState';

/** Props of the default icons: any SVG attribute; `className` is added to the icon's own class. */
export type JobIconProps = SVGProps<SVGSVGElement>;

// Icons are decoration: the text label beside them carries the meaning, so they
// are hidden from assistive technology and take the text colour and size.
function Svg({ children, className, ...props }: JobIconProps & { children: ReactNode }) {
  return (
    <svg
      xmlns="http://www.w3.org/2000/svg"
      viewBox="0 0 24 24"
      width="1em"
      height="1em"
      fill="none"
      stroke="currentColor"
      strokeWidth={2}
      strokeLinecap="round"
      strokeLinejoin="round"
      aria-hidden="true"
      focusable="false"
      className={clsx('jobwatch-icon', className)}
      {...props}
    >
      {children}
    </svg>
  );
}

/** A clock: the default icon of a pending job. */
export function ClockIcon({ className, ...props }: JobIconProps) {
  return (
    <Svg className={className} {...props}>
      <circle cx="12" cy="12" r="9" />
      <path d="M12 7v5l3 2" />
    </Svg>
  );
}

/**
 * An open ring: the default icon of a processing job and of the loading state.
 * It carries the class `jobwatch-spinner`, which the stylesheet rotates (and
 * holds still under `prefers-reduced-motion: reduce`); give your own icon that
 * class to have it spin too. Without the stylesheet it does not move.
 */
export function SpinnerIcon({ className, ...props }: JobIconProps) {
  return (
    <Svg className={clsx('jobwatch-spinner', className)} {...props}>
      <path d="M12 3a9 9 0 1 0 9 9" />
    </Svg>
  );
}

/** A check in a circle: the default icon of a completed job. */
export function CheckIcon({ className, ...props }: JobIconProps) {
  return (
    <Svg className={className} {...props}>
      <circle cx="12" cy="12" r="9" />
      <path d="m8 12 3 3 5-6" />
    </Svg>
  );
}

/** A cross in a circle: the default icon of a failed job. */
export function CrossIcon({ className, ...props }: JobIconProps) {
  return (
    <Svg className={className} {...props}>
      <circle cx="12" cy="12" r="9" />
      <path d="m9 9 6 6M15 9l-6 6" />
    </Svg>
  );
}

/** A struck-through circle: the default icon of a cancelled job. */
export function CancelledIcon({ className, ...props }: JobIconProps) {
  return (
    <Svg className={className} {...props}>
      <circle cx="12" cy="12" r="9" />
      <path d="M5.6 5.6l12.8 12.8" />
    </Svg>
  );
}

/** A warning triangle: the default icon when the job could not be loaded. */
export function AlertIcon({ className, ...props }: JobIconProps) {
  return (
    <Svg className={className} {...props}>
      <path d="M10.3 3.9 2.4 18a2 2 0 0 0 1.7 3h15.8a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z" />
      <path d="M12 9v4M12 17h.01" />
    </Svg>
  );
}

/** The states of {@link JobStatus} that show an icon (`idle` shows nothing). */
export type JobStatusIconState = Exclude<JobViewState, 'idle'>;

/**
 * Icons per state for {@link JobStatus}'s `icons` prop. A missing (or
 * `undefined`) entry keeps the default icon; `null` shows no icon.
 */
export type JobStatusIcons = Partial<Record<JobStatusIconState, ReactNode>>;

/** The icons {@link JobStatus} shows unless its `icons` prop replaces them. */
export const defaultJobStatusIcons: Record<JobStatusIconState, ReactNode> = {
  pending: <ClockIcon />,
  processing: <SpinnerIcon />,
  completed: <CheckIcon />,
  failed: <CrossIcon />,
  cancelled: <CancelledIcon />,
  loading: <SpinnerIcon />,
  error: <AlertIcon />,
};
