import { JobProtocolError } from './errors';

/**
 * The checks of payload fields that every parser of the contract shares
 * (jobs, batches, pages, output parts): a rule table walked in order, the
 * first failing field reported as a `JobProtocolError` naming it.
 */

/** A payload object, its fields not yet checked. */
export type Obj = Record<string, unknown>;

/** Whether `value` is a plain object (not `null`, not an array). */
export function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Throws the {@link JobProtocolError} for `field` (a path such as `jobs[3].status`; `''` for the whole payload). */
export function fail(field: string, problem: string): never {
  throw new JobProtocolError(field, problem);
}

/** Whether `value` is a non-empty date string that `Date.parse` reads (ISO 8601 on the wire). */
export function isIsoDate(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0 && !Number.isNaN(Date.parse(value));
}

/** Whether `value` is a string. */
export function isString(value: unknown): boolean {
  return typeof value === 'string';
}

/** Whether `value` is an integer of 0 or more. */
export function isCount(value: unknown): boolean {
  return Number.isInteger(value) && (value as number) >= 0;
}

/** A field that must be present. */
export const REQUIRED = 0;
/** A field that may be `undefined` (absent). */
export const OPTIONAL = 1;
/** A field that may be `null` or `undefined`; its problem text then ends in " or null". */
export const NULLABLE = 2;

/**
 * One field check: the field, what a present value must pass, the problem
 * reported otherwise, whether it may be absent, and checks of the fields of
 * the (object) value. Checked in order: the first failing one is reported.
 */
export type FieldRule = readonly [
  key: string,
  test: (value: unknown) => boolean,
  problem: string,
  presence?: typeof REQUIRED | typeof OPTIONAL | typeof NULLABLE,
  fields?: readonly FieldRule[],
];

/** Checks `obj`'s fields against `rules`, in order; throws {@link JobProtocolError} for the first that fails. */
export function checkFields(obj: Obj, rules: readonly FieldRule[], path: string): void {
  for (const [key, test, problem, presence = REQUIRED, fields] of rules) {
    const value = obj[key];
    if (presence === NULLABLE ? value == null : presence === OPTIONAL && value === undefined) continue;
    if (!test(value)) fail(path + key, presence === NULLABLE ? `${problem} or null` : problem);
    if (fields) checkFields(value as Obj, fields, `${path}${key}.`);
  }
}
