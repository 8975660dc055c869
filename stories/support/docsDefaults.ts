import type { ArgTypes } from '@storybook/react-vite';
import { DEFAULT_COUNT_INTERVAL } from '../../src/index';
import { DEFAULT_POLL_INTERVAL } from '../../src/core/index';

/**
 * The "Default" column of the docs pages' props tables.
 *
 * Storybook's react-docgen reads defaults only from default parameter values
 * in the component's own code, never from JSDoc, and the components take most
 * of their props through options interfaces (`useJobStatus`'s and
 * `usePendingJobsCount`'s), so the column would read "–" for every prop. The
 * values here come from jobwatch's own constants where it has one, so the
 * table cannot drift from the code; the rest restate the JSDoc `@default` of
 * the prop (src/components/*.tsx, src/react/types.ts).
 */
export function defaultsTable(defaults: Record<string, string>): Partial<ArgTypes> {
  return Object.fromEntries(Object.entries(defaults).map(([name, summary]) => [name, { table: { defaultValue: { summary } } }]));
}

/** The `useJobStatus` options every job component (JobStatus, JobProgress) passes through. */
export const watchOptionDefaults = {
  pollInterval: String(DEFAULT_POLL_INTERVAL),
  enabled: 'true',
  live: 'true',
  pollWhenHidden: 'false',
} as const;

/** `<JobStatus>`'s defaults: the watch options, plus its own props. */
export const jobStatusDefaults = {
  ...watchOptionDefaults,
  detailed: 'false',
  actions: 'false',
  labels: 'English texts',
  icons: 'built-in icons',
} as const;

/** `<PendingJobsBadge>`'s defaults (`usePendingJobsCount`'s options, and its labels). */
export const pendingJobsBadgeDefaults = {
  filter: 'every job',
  pollInterval: String(DEFAULT_COUNT_INTERVAL),
  enabled: 'true',
  labels: 'English texts',
} as const;

/** `<JobList>`'s defaults (`useJobs`'s options). */
export const jobListDefaults = {
  filter: 'every job',
  enabled: 'true',
  pollInterval: String(DEFAULT_POLL_INTERVAL),
  live: 'true',
  refetchInterval: 'false',
} as const;

/**
 * `<JobProgress>`'s defaults, for `argTypes: defaultsTable(jobProgressDefaults)`
 * in stories/JobProgress.stories.tsx: the watch options, plus its own props
 * (as its JSDoc states them).
 */
export const jobProgressDefaults = {
  ...watchOptionDefaults,
  'aria-label': '"Job progress"',
  showValueText: 'true',
  labels: 'English texts',
} as const;
