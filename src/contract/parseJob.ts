import { JobProtocolError } from './errors';
import { JOB_STATES } from './states';
import type { Job, JobBatch, JobPage, JobState, PendingCount } from './types';


type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(field: string, problem: string): never {
  throw new JobProtocolError(field, problem);
}

function isIsoDate(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0 && !Number.isNaN(Date.parse(value));
}

function isString(value: unknown): boolean {
  return typeof value === 'string';
}

function isCount(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 0;
}

/** A field that must be present. */
const REQUIRED = 0;
/** A field that may be `undefined` (absent). */
const OPTIONAL = 1;
/** A field that may be `null` or `undefined`; its problem text then ends in " or null". */
const NULLABLE = 2;

/**
 * One field check: the field, what a present value must pass, the problem
 * reported otherwise, whether it may be absent, and checks of the fields of
 * the (object) value. Checked in order: the first failing one is reported.
 */
type FieldRule = readonly [
  key: string,
  test: (value: unknown) => boolean,
  problem: string,
  presence?: typeof REQUIRED | typeof OPTIONAL | typeof NULLABLE,
  fields?: readonly FieldRule[],
];

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

/** Checks `obj`'s fields against `rules`, in order; throws {@link JobProtocolError} for the first that fails. */
function checkFields(obj: Obj, rules: readonly FieldRule[], path: string): void {
  for (const [key, test, problem, presence = REQUIRED, fields] of rules) {
    const value = obj[key];
    if (presence === NULLABLE ? value == null : presence === OPTIONAL && value === undefined) continue;
    if (!test(value)) fail(path + key, presence === NULLABLE ? `${problem} or null` : problem);
    if (fields) checkFields(value as Obj, fields, `${path}${key}.`);
  }
}

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
