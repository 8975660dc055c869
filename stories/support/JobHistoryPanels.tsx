import { memo, useEffect, useId, useRef, useState } from 'react';
import { isTerminal } from '../../src/index';
import type { Job, JobState } from '../../src/index';
import { JobList } from '../../src/components/JobList';
import { imageGeneration } from '../../src/testing/index';
import type { MemoryJobBackend } from '../../src/testing/index';
import { useStoryBackend } from './jobwatch';
import './demo.css';

/**
 * `useJobs` through `<JobList>`: a project's job history, paged with the
 * server's cursor, and every active job of every project. Active rows follow
 * the provider's shared watcher (push here, since the in-memory backend has
 * `subscribe`; batched polls otherwise); finished rows are never read again.
 * The test-only variants add "Requests to the backend" under each list: which
 * jobs were read or followed after the list itself.
 */
export interface JobHistoryProps {
  /** `meta.projectId` of the listed jobs (the history story). */
  projectId: string;
  /** Jobs per page: `filter.limit`. */
  limit: number;
  /** `refetchInterval` of the list, in ms, or `false` (jobwatch's default). */
  refetchInterval: number | false;
  /** How long a generated job waits in the queue, in ms. */
  queuedMs: number;
  /** How long a generated job runs, in ms. */
  runningMs: number;
}

const STATE_LABELS: Record<JobState, string> = {
  pending: 'Queued',
  processing: 'Processing',
  completed: 'Completed',
  failed: 'Failed',
  cancelled: 'Cancelled',
};

function promptOf(job: Job): string {
  return typeof job.meta?.prompt === 'string' ? job.meta.prompt : job.id;
}

/** What a row says: state as text, progress and step while it runs, the error when it failed. */
function rowText(job: Job): string {
  let text = STATE_LABELS[job.status];
  if (job.status === 'processing' && typeof job.progress === 'number') text += ` ${Math.round(job.progress * 100)}%`;
  if (job.status === 'processing' && job.progressMessage) text += ` · ${job.progressMessage}`;
  if (job.status === 'failed' && job.error) text += ` · ${job.error.message}`;
  return text;
}

/** One row, rendered from its job. Memoized: a row whose job did not change does not render again. */
const JobRow = memo(function JobRow({
  job,
  showProject,
  onSettled,
}: {
  job: Job;
  showProject?: boolean;
  onSettled?: (job: Job) => void;
}) {
  const settled = isTerminal(job);
  useEffect(() => {
    // Once per row, when it is first rendered settled (the job object is the one of that render).
    if (settled) onSettled?.(job);
  }, [settled]);
  return (
    <li data-state={job.status} className="jw-history__row">
      <span className="jw-history__prompt">
        {promptOf(job)}
        {showProject && <small className="jw-history__project"> · {String(job.meta?.projectId ?? '')}</small>}
      </span>
      <span className="jw-history__state">{rowText(job)}</span>
    </li>
  );
});

/** The ids of jobs read (getStatus, getStatuses) or followed (subscribe) by the watcher so far. */
function followedIds(backend: MemoryJobBackend): string[] {
  const ids = new Set<string>();
  for (const call of backend.calls) {
    if (call.method === 'getStatus' || call.method === 'subscribe') ids.add(call.args[0] as string);
    if (call.method === 'getStatuses') for (const id of call.args[0] as string[]) ids.add(id);
  }
  return [...ids].sort();
}

/**
 * Test-only instrumentation: what the backend was asked so far. Re-reads the
 * backend's call log while mounted, so the panel stays current between row changes.
 */
export function RequestLog() {
  const backend = useStoryBackend();
  const [, setTick] = useState(0);
  useEffect(() => {
    const timer = setInterval(() => setTick((n) => n + 1), 250);
    return () => clearInterval(timer);
  }, []);
  const lists = backend.calls.filter((call) => call.method === 'list').length;
  const ids = followedIds(backend);
  return (
    <dl
      aria-label="Requests to the backend"
      style={{ display: 'grid', gridTemplateColumns: 'auto 1fr', gap: '0.25rem 0.75rem', margin: 0, color: '#4b5563', fontSize: '0.875rem' }}
    >
      <dt>List reads</dt>
      <dd data-testid="list-reads" style={{ margin: 0 }}>
        {lists}
      </dd>
      <dt>Jobs read or followed</dt>
      <dd data-testid="followed" style={{ margin: 0 }}>
        {ids.length > 0 ? ids.join(', ') : 'none'}
      </dd>
    </dl>
  );
}

/** A project's history, newest first, a page at a time; "Generate image" adds a job and refetches the list. */
export function ProjectJobHistory({ projectId, limit, refetchInterval, queuedMs, runningMs }: JobHistoryProps) {
  const backend = useStoryBackend();
  const ids = useId();
  return (
    <section aria-labelledby={`${ids}-title`} className="jw-card">
      <div className="jw-card__head">
        <h2 id={`${ids}-title`} className="jw-card__title">
          Job history
        </h2>
        <p className="jw-card__hint">Newest first, live while running</p>
      </div>
      <JobList filter={{ meta: { projectId }, limit }} refetchInterval={refetchInterval}>
        {({ jobs, isLoading, error, hasNextPage, fetchNextPage, isFetchingNextPage, refetch }) => (
          <>
            <div>
              <button
                type="button"
                className="jw-button jw-button--primary"
                onClick={() => {
                  // Stands in for the app's generate mutation; a new job shows once the list is read again.
                  backend.create(imageGeneration({ meta: { projectId, prompt: 'A fox in the snow' }, queuedMs, runningMs }));
                  void refetch();
                }}
              >
                Generate image
              </button>
            </div>
            {isLoading && <p className="jw-empty">Loading jobs…</p>}
            {error && <p role="alert">Could not load jobs: {error.message}</p>}
            <ul aria-label="Jobs" className="jw-history">
              {jobs.map((job) => (
                <JobRow key={job.id} job={job} />
              ))}
            </ul>
            {hasNextPage && (
              <div>
                <button type="button" className="jw-button" onClick={() => void fetchNextPage()} disabled={isFetchingNextPage}>
                  {isFetchingNextPage ? 'Loading more…' : 'Load more'}
                </button>
              </div>
            )}
          </>
        )}
      </JobList>
    </section>
  );
}

/**
 * Every active job of every project. A job that finishes settles in place
 * (and is announced under "Just finished"), then leaves the list when the
 * list is read again (`refetchInterval`), which also brings in new jobs.
 */
export function AllActiveJobs({ limit, refetchInterval }: JobHistoryProps) {
  const ids = useId();
  const [finished, setFinished] = useState<Job[]>([]);
  const announced = useRef(new Set<string>());
  const onSettled = useRef((job: Job) => {
    if (announced.current.has(job.id)) return;
    announced.current.add(job.id);
    setFinished((list) => [job, ...list]);
  }).current;
  return (
    <section aria-labelledby={`${ids}-title`} className="jw-card">
      <JobList filter={{ status: ['pending', 'processing'], limit }} refetchInterval={refetchInterval}>
        {({ jobs, isLoading, error, hasNextPage, fetchNextPage, isFetchingNextPage }) => {
          const active = jobs.filter((job) => !isTerminal(job)).length;
          return (
            <>
              <h2 id={`${ids}-title`} className="jw-card__title">
                Active jobs{isLoading ? '' : ` (${active})`}
              </h2>
              {isLoading && <p className="jw-empty">Loading jobs…</p>}
              {error && <p role="alert">Could not load jobs: {error.message}</p>}
              {!isLoading && jobs.length === 0 && <p className="jw-empty">No active jobs.</p>}
              <ul aria-label="Jobs" className="jw-history">
                {jobs.map((job) => (
                  <JobRow key={job.id} job={job} showProject onSettled={onSettled} />
                ))}
              </ul>
              {hasNextPage && (
                <div>
                  <button type="button" className="jw-button" onClick={() => void fetchNextPage()} disabled={isFetchingNextPage}>
                    Load more
                  </button>
                </div>
              )}
            </>
          );
        }}
      </JobList>
      <section aria-label="Just finished">
        <h3 className="jw-card__title" style={{ fontSize: '0.875rem' }}>
          Just finished
        </h3>
        {/* The log wraps the list so the <ul> keeps its list semantics. */}
        <div role="log" aria-label="Just finished jobs" className="jw-card__hint">
          <ul style={{ margin: '0.25rem 0 0', paddingLeft: '1.25rem' }}>
            {finished.map((job) => (
              <li key={job.id}>
                {promptOf(job)}: {STATE_LABELS[job.status]}
              </li>
            ))}
          </ul>
        </div>
      </section>
    </section>
  );
}
