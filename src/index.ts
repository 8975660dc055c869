export * from './core/index';
export { JobClientProvider, useJobClient, type JobClientProviderProps } from './react/JobClientProvider';
export { useJobStatus } from './react/useJobStatus';
export { usePendingJobsCount, DEFAULT_COUNT_INTERVAL } from './react/usePendingJobsCount';
export { jobKeys } from './react/jobKeys';
export { jobStatusQueryOptions } from './react/jobStatusQueryOptions';
export type {
  JobConnection,
  PollInterval,
  UseJobStatusOptions,
  UseJobStatusResult,
  UsePendingJobsCountOptions,
  UsePendingJobsCountResult,
} from './react/types';
export {
  JobStatus,
  type JobStatusProps,
  type JobStatusRenderProps,
  type JobStatusRenderState,
  type JobStatusState,
} from './components/JobStatus';
export {
  PendingJobsBadge,
  type PendingJobsBadgeProps,
  type PendingJobsBadgeRenderProps,
  type PendingJobsBadgeRenderState,
} from './components/PendingJobsBadge';
export {
  defaultJobStatusLabels,
  defaultPendingJobsBadgeLabels,
  type JobStatusLabels,
  type PendingJobsBadgeLabels,
  type ValueOrFunction,
} from './components/labels';
export {
  AlertIcon,
  CancelledIcon,
  CheckIcon,
  ClockIcon,
  CrossIcon,
  SpinnerIcon,
  defaultJobStatusIcons,
  type JobIconProps,
  type JobStatusIconState,
  type JobStatusIcons,
} from './components/icons';
