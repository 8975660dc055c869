import { JobProtocolError } from './errors';
import { JOB_STATES } from './isTerminal';
import type { Job, JobBatch, JobPage, JobState, PendingCount } from './types';


type Obj = Record<string, unknown>;

function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fail(field: string, problem: string): never {
  throw new JobProtocolError(field, problem);
}

function isIsoDate(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && !Number.isNaN(Date.parse(value));
}

function optionalDate(obj: Obj, key: string, prefix: string): void {
  const value = obj[key];
  if (value != null && !isIsoDate(value)) fail(prefix + key, 'must be an ISO 8601 date string or null');
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
  if (typeof value.status !== 'string' || !JOB_STATES.includes(value.status as JobState)) {
    fail(path + 'status', `must be one of ${JOB_STATES.join(', ')}`);
  }
  const { progress } = value;
  if (progress != null && (typeof progress !== 'number' || !(progress >= 0 && progress <= 1))) {
    fail(path + 'progress', 'must be a number from 0 to 1 or null');
  }
  if (value.progressMessage != null && typeof value.progressMessage !== 'string') {
    fail(path + 'progressMessage', 'must be a string or null');
  }
  if (value.retryCount !== undefined && !(Number.isInteger(value.retryCount) && (value.retryCount as number) >= 0)) {
    fail(path + 'retryCount', 'must be a non-negative integer');
  }
  if (value.maxRetries != null && !(Number.isInteger(value.maxRetries) && (value.maxRetries as number) >= 0)) {
    fail(path + 'maxRetries', 'must be a non-negative integer or null');
  }
  if (value.error != null) {
    if (!isObject(value.error)) fail(path + 'error', 'must be an object or null');
    if (typeof value.error.message !== 'string') fail(path + 'error.message', 'must be a string');
    if (value.error.code !== undefined && typeof value.error.code !== 'string') fail(path + 'error.code', 'must be a string');
  }
  if (!isIsoDate(value.createdAt)) fail(path + 'createdAt', 'must be an ISO 8601 date string');
  if (!isIsoDate(value.updatedAt)) fail(path + 'updatedAt', 'must be an ISO 8601 date string');
  optionalDate(value, 'startedAt', path);
  optionalDate(value, 'finishedAt', path);
  optionalDate(value, 'estimatedCompletionAt', path);
  if (value.version !== undefined && !(typeof value.version === 'number' && Number.isFinite(value.version))) {
    fail(path + 'version', 'must be a finite number');
  }
  if (value.meta !== undefined) {
    if (!isObject(value.meta)) fail(path + 'meta', 'must be an object');
    for (const [key, metaValue] of Object.entries(value.meta)) {
      const t = typeof metaValue;
      if (metaValue !== null && t !== 'string' && t !== 'number' && t !== 'boolean') {
        fail(`${path}meta.${key}`, 'must be a string, number, boolean or null');
      }
    }
  }
  return value as unknown as Job<TResult>;
}

/** Checks a batch answer `{ jobs, missing }`; throws {@link JobProtocolError} otherwise. */
export function parseJobBatch(value: unknown): JobBatch {
  if (!isObject(value)) fail('', 'batch answer must be an object');
  if (!Array.isArray(value.jobs)) fail('jobs', 'must be an array');
  if (!Array.isArray(value.missing) || value.missing.some((id) => typeof id !== 'string')) {
    fail('missing', 'must be an array of strings');
  }
  value.jobs.forEach((job, i) => parseJob(job, `jobs[${i}].`));
  return value as unknown as JobBatch;
}

/** Checks a page answer `{ jobs, nextCursor }`; throws {@link JobProtocolError} otherwise. */
export function parseJobPage(value: unknown): JobPage {
  if (!isObject(value)) fail('', 'page answer must be an object');
  if (!Array.isArray(value.jobs)) fail('jobs', 'must be an array');
  if (value.nextCursor !== null && typeof value.nextCursor !== 'string') fail('nextCursor', 'must be a string or null');
  value.jobs.forEach((job, i) => parseJob(job, `jobs[${i}].`));
  return value as unknown as JobPage;
}

/** Checks a count answer `{ pending, processing }`; throws {@link JobProtocolError} otherwise. */
export function parsePendingCount(value: unknown): PendingCount {
  if (!isObject(value)) fail('', 'count answer must be an object');
  for (const key of ['pending', 'processing'] as const) {
    const n = value[key];
    if (!(Number.isInteger(n) && (n as number) >= 0)) fail(key, 'must be a non-negative integer');
  }
  return value as unknown as PendingCount;
}
