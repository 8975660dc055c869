export * from './core/coreExports';
// Tab sharing (`shareClientAcrossTabs`) is in jobwatch/core only: here the provider loads it on demand.
export type {
  ShareAcrossTabsOptions,
  ShareableJobClient,
  ShareChannel,
  SharedJobClient,
  ShareLocks,
} from './core/share/types';
export type { ShareSubscribeHint } from './core/share/shareClientAcrossTabs';
export { JobClientProvider, useJobClient, type JobClientProviderProps } from './react/JobClientProvider';
export { useJobStatus } from './react/useJobStatus';
export { usePendingJobsCount, DEFAULT_COUNT_INTERVAL } from './react/usePendingJobsCount';
// jobKeys, createJobKeys and jobStatusQueryOptions come with jobwatch/core above (one definition, no React).
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
  type JobStatusActions,
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
export {
  JobProgress,
  type JobProgressProps,
  type JobProgressRenderProps,
  type JobProgressRenderState,
  type JobProgressState,
} from './components/JobProgress';
export {
  defaultJobProgressLabels,
  type JobProgressLabels,
  type JobProgressValueTextInfo,
} from './components/progressLabels';
export { useJobs, type UseJobsFilter, type UseJobsOptions, type UseJobsResult } from './react/useJobs';
export { JobList, type JobListProps } from './components/JobList';
export { useCancelJob, type UseCancelJobResult } from './react/useCancelJob';
export { useRetryJob, type UseRetryJobResult } from './react/useRetryJob';
export type { UseJobMutationResult } from './react/useJobMutation';
export {
  useTrackedJobs,
  MAX_TRACKED_JOBS,
  type JobIdStorage,
  type UseTrackedJobsOptions,
  type UseTrackedJobsResult,
} from './react/useTrackedJobs';
export {
  useJobNotifications,
  DEFAULT_HIDDEN_POLL_INTERVAL,
  type JobNotificationPermission,
  type UseJobNotificationsOptions,
  type UseJobNotificationsResult,
} from './react/useJobNotifications';
export { useJobOutput, type UseJobOutputOptions, type UseJobOutputResult } from './react/useJobOutput';
export {
  JobOutput,
  type JobOutputAnnounceOptions,
  type JobOutputProps,
  type JobOutputRenderProps,
  type JobOutputRenderState,
  type JobOutputState,
} from './components/JobOutput';
export { defaultJobOutputLabels, type JobOutputLabels } from './components/outputLabels';
export type { JobShareMode, JobShareOptions } from './react/shareTabs';
