import { checkFields, fail, isCount, isIsoDate, isObject, isString, NULLABLE, OPTIONAL, type FieldRule, type Obj } from './fields';
import { JOB_STATES } from './states';
import type { Job, JobBatch, JobPage, JobState, PendingCount } from './types';

const ISO_DATE = 'must be an ISO 8601 date string';
const COUNT = 'must be a non-negative integer';

/**
 * The fields of a {@link Job} after `id` and `status`, in the order they are
 * checked (`meta`'s values are checked last, in `parseJob`). Rules hold only
 * literals and functions (no calls or reads such as a bare `Number.isFinite`),
 * so bundlers drop the table where `parseJob` is unused.
 */
const JOB_FIELDS: readonly FieldRule[] = [
  ['progress', (p) => typeof p === 'number' && p >= 0 && p <= 1, 'must be a number from 0 to 1', NULLABLE],
  ['progressMessage', isString, 'must be a string', NULLABLE],
  ['retryCount', isCount, COUNT, OPTIONAL],
  ['maxRetries', isCount, COUNT, NULLABLE],
  [
    'error',
    isObject,
    'must be an object',
    NULLABLE,
    [
      ['message', isString, 'must be a string'],
      ['code', isString, 'must be a string', OPTIONAL],
    ],
  ],
  ['createdAt', isIsoDate, ISO_DATE],
  ['updatedAt', isIsoDate, ISO_DATE],
  ['startedAt', isIsoDate, ISO_DATE, NULLABLE],
  ['finishedAt', isIsoDate, ISO_DATE, NULLABLE],
  ['estimatedCompletionAt', isIsoDate, ISO_DATE, NULLABLE],
  ['version', (version) => Number.isFinite(version), 'must be a finite number', OPTIONAL],
  ['meta', isObject, 'must be an object', OPTIONAL],
];

const JOBS_FIELD: FieldRule = ['jobs', Array.isArray, 'must be an array'];
const BATCH_FIELDS: readonly FieldRule[] = [
  JOBS_FIELD,
  ['missing', (ids) => Array.isArray(ids) && ids.every(isString), 'must be an array of strings'],
];

const PAGE_FIELDS: readonly FieldRule[] = [
  JOBS_FIELD,
  ['nextCursor', (cursor) => cursor === null || isString(cursor), 'must be a string or null'],
];

/**
 * Checks that a value is a {@link Job} as the contract describes and returns it.
 * Throws {@link JobProtocolError} naming the first offending field otherwise.
 * Unknown extra fields are kept.
 *
 * @param value the untrusted payload
 * @param path prefix for field names in errors (e.g. `jobs[3].`)
 */
export function parseJob<TResult = unknown>(value: unknown, path = ''): Job<TResult> {
  if (!isObject(value)) fail(path.replace(/\.$/, ''), 'must be an object');
  if (typeof value.id !== 'string' || value.id === '') fail(path + 'id', 'must be a non-empty string');
  if (!JOB_STATES.includes(value.status as JobState)) fail(path + 'status', `must be one of ${JOB_STATES.join(', ')}`);
  checkFields(value, JOB_FIELDS, path);
  if (value.meta !== undefined) {
    for (const [key, metaValue] of Object.entries(value.meta as Obj)) {
      const t = typeof metaValue;
      if (metaValue !== null && t !== 'string' && t !== 'number' && t !== 'boolean') {
        fail(`${path}meta.${key}`, 'must be a string, number, boolean or null');
      }
    }
  }
  return value as unknown as Job<TResult>;
}

/** Checks the `{ jobs, missing }` envelope of a batch answer, not its jobs; throws {@link JobProtocolError} otherwise. */
export function parseBatchEnvelope(value: unknown): { jobs: unknown[]; missing: string[] } {
  if (typeof value !== 'object' || value === null) fail('', 'batch answer must be an object');
  checkFields(value as Obj, BATCH_FIELDS, '');
  return value as { jobs: unknown[]; missing: string[] };
}

/** Checks a batch answer `{ jobs, missing }`; throws {@link JobProtocolError} otherwise. */
export function parseJobBatch(value: unknown): JobBatch {
  // An array is not an answer object (`parseBatchEnvelope` alone would fault its `jobs`).
  const batch = parseBatchEnvelope(isObject(value) ? value : null);
  batch.jobs.forEach((job, i) => parseJob(job, `jobs[${i}].`));
  return batch as unknown as JobBatch;
}

/** Checks a page answer `{ jobs, nextCursor }`; throws {@link JobProtocolError} otherwise. */
export function parseJobPage(value: unknown): JobPage {
  if (!isObject(value)) fail('', 'page answer must be an object');
  checkFields(value, PAGE_FIELDS, '');
  (value.jobs as unknown[]).forEach((job, i) => parseJob(job, `jobs[${i}].`));
  return value as unknown as JobPage;
}

/** Checks a count answer `{ pending, processing }`; throws {@link JobProtocolError} otherwise. */
export function parsePendingCount(value: unknown): PendingCount {
  if (!isObject(value)) fail('', 'count answer must be an object');
  // Not `checkFields`: a bundle that only counts (usePendingJobsCount) stays small.
  for (const key of ['pending', 'processing'] as const) {
    const n = value[key];
    if (!(Number.isInteger(n) && (n as number) >= 0)) fail(key, 'must be a non-negative integer');
  }
  return value as unknown as PendingCount;
}

/**
 * Checks a job answered for `id` ({@link parseJob}) and that it is that job: an
 * answer with another id is a bug that could show one job's state as another's,
 * so it is a {@link JobProtocolError} on `id` too.
 */
export function parseJobFor<TResult = unknown>(value: unknown, id: string): Job<TResult> {
  const job = parseJob<TResult>(value);
  if (job.id !== id) fail('id', `must be "${id}", the id that was asked for`);
  return job;
}
