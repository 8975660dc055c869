import { checkFields, fail, isIsoDate, isObject, type FieldRule } from './fields';
import { badRequest } from './listFilter';
import type { JobOutputInput, JobOutputKind, JobOutputPage, JobOutputPart } from './types';

/**
 * The rules of streamed output, defined once: which parts are valid, how big
 * they may be, which image URLs are shown, and how pages and output events
 * are read from the wire.
 */

/** The kinds of output part, in the order the docs list them. */
export const JOB_OUTPUT_KINDS: readonly JobOutputKind[] = Object.freeze(['text', 'log', 'data', 'image']);

/** Largest part, measured as the length of its JSON text (256 KiB): bigger ones are refused, never cut. */
export const MAX_OUTPUT_PART_LENGTH = 256 * 1024;

/** Default and largest number of parts in one output page or one `output` event. */
export const MAX_OUTPUT_PAGE_PARTS = 500;

/** Parts a store keeps per job unless told otherwise; older ones are trimmed (the page says `trimmed`). */
export const DEFAULT_STORED_OUTPUT_PARTS = 10_000;

/**
 * Whether `url` may be shown as an image: `http:`/`https:` URLs and `data:image/…`
 * URLs only (never `javascript:`, `vbscript:`, `file:`, `blob:` or `data:text/html`).
 */
export function isSafeOutputUrl(url: unknown): url is string {
  // No white space at either end (nor anywhere in an http(s) URL); `test` would read a non-string as its String().
  return typeof url === 'string' && /^(https?:\/\/\S+|data:image\/[a-z0-9.+-]+[;,](.*\S)?)$/is.test(url);
}

/** Room for `,"seq":<largest safe integer>` in a part's JSON. */
const SEQ_ROOM = 24;
/** Room for `,"at":"<ISO 8601 time of any date>"` in a part's JSON. */
const AT_ROOM = 36;

/**
 * What is wrong with a part: the field at fault (`''` for the part as a whole: not an object,
 * not JSON, too long) and the problem in words; `null` when it is valid. `seq` is not looked at.
 */
function partProblem(part: unknown): [field: string, message: string] | null {
  if (!isObject(part)) return ['', 'an output part must be an object'];
  const { kind, text, url, alt, data, at } = part;
  if (!JOB_OUTPUT_KINDS.includes(kind as JobOutputKind)) return ['kind', `kind must be one of ${JOB_OUTPUT_KINDS.join(', ')}`];
  if ((kind === 'text' || kind === 'log') && typeof text !== 'string') return ['text', `a ${kind} part needs text (a string)`];
  if (text !== undefined && typeof text !== 'string') return ['text', 'text must be a string'];
  if (kind === 'image' && !isSafeOutputUrl(url)) return ['url', 'an image part needs an http(s) or data:image URL'];
  if (url !== undefined && kind !== 'image') return ['url', 'only image parts have a url'];
  if (alt !== undefined && typeof alt !== 'string') return ['alt', 'alt must be a string'];
  // `data: undefined` would vanish on the wire (JSON has no undefined), so it counts as missing.
  if (kind === 'data' && data === undefined) return ['data', 'a data part needs data (a JSON value)'];
  if (at !== undefined && !isIsoDate(at)) return ['at', 'at must be an ISO 8601 date string'];
  // Measured as stored: a part without `seq` or `at` gets room for the ones the store adds,
  // so a part accepted on append always reads back within the limit.
  let json: number | undefined;
  try {
    json = JSON.stringify(part)?.length;
  } catch {
    // A cycle, a BigInt: no JSON.
  }
  if (json === undefined) return ['', 'an output part must be JSON'];
  if (json + (part.seq === undefined ? SEQ_ROOM : 0) + (at === undefined ? AT_ROOM : 0) > MAX_OUTPUT_PART_LENGTH) {
    return ['', `an output part may be at most ${MAX_OUTPUT_PART_LENGTH} characters of JSON`];
  }
  return null;
}

/**
 * Why `part` is not a valid part to append (kind, text, url, alt, data, `at` when given, and
 * size), as a store refuses it in a 400 `bad_request`; `null` when it is valid. `seq` is not
 * looked at: the store assigns it.
 */
export function outputInputProblem(part: unknown): string | null {
  return partProblem(part)?.[1] ?? null;
}

/** Throws a 400 `bad_request` `JobRequestError` when {@link outputInputProblem} finds one; returns the part typed. */
export function checkOutputInput(part: unknown): JobOutputInput {
  const problem = outputInputProblem(part);
  if (problem !== null) throw badRequest(problem);
  return part as JobOutputInput;
}

/** What a part read from the wire has besides what an appended one has. */
const WIRE_PART_RULES: readonly FieldRule[] = [
  ['seq', (seq) => Number.isInteger(seq) && (seq as number) >= 1, 'must be a positive integer'],
  ['at', isIsoDate, 'must be an ISO 8601 date string'],
];

/**
 * Reads one part from the wire. Throws `JobProtocolError` naming the field (`parts[3].url`)
 * for a part that breaks the contract: a wrong kind, a non-integer `seq`, a missing `at`,
 * an unsafe image URL or an over-long part.
 */
export function parseOutputPart(value: unknown, where = 'part'): JobOutputPart {
  if (!isObject(value)) fail(where, 'must be an object');
  checkFields(value, WIRE_PART_RULES, `${where}.`);
  const problem = partProblem(value);
  if (problem) fail(problem[0] ? `${where}.${problem[0]}` : where, problem[1]);
  return value as unknown as JobOutputPart;
}

/**
 * Reads a list of parts: each valid, `seq` strictly increasing with no gaps (a seq that
 * goes backwards or repeats is a `JobProtocolError` on `parts[i].seq`).
 */
export function parseOutputParts(value: unknown, where = 'parts'): JobOutputPart[] {
  if (!Array.isArray(value)) fail(where, 'must be an array');
  // Every part is checked before the order is.
  const parts = value.map((part, i) => parseOutputPart(part, `${where}[${i}]`));
  parts.forEach((part, i) => {
    const before = parts[i - 1]?.seq;
    if (before !== undefined && part.seq !== before + 1) fail(`${where}[${i}].seq`, `must follow ${before} without a gap`);
  });
  return parts;
}

/** Reads a {@link JobOutputPage} (`GET {base}/{id}/output`); throws `JobProtocolError` naming the field. */
export function parseOutputPage(value: unknown): JobOutputPage {
  if (!isObject(value)) fail('', 'an output page must be an object');
  const parts = parseOutputParts(value.parts);
  const { done, trimmed } = value;
  if (typeof done !== 'boolean') fail('done', 'must be a boolean');
  if (trimmed !== undefined && typeof trimmed !== 'boolean') fail('trimmed', 'must be a boolean');
  return trimmed ? { parts, done, trimmed } : { parts, done };
}

/** The data of an `output` event on the event stream. */
export interface JobOutputEvent {
  /** The job the parts belong to. */
  id: string;
  /** New parts, in `seq` order with no gaps. */
  parts: JobOutputPart[];
  /** The job is terminal and these are its last parts. */
  done?: boolean;
  /** Parts before these were dropped by the store. */
  trimmed?: boolean;
}

/** Reads the data of an `output` event; throws `JobProtocolError` naming the field. */
export function parseOutputEvent(value: unknown): JobOutputEvent {
  if (!isObject(value)) fail('', 'an output event must be an object');
  if (typeof value.id !== 'string' || value.id === '') fail('id', 'must be a non-empty string');
  const event: JobOutputEvent = { id: value.id, parts: parseOutputParts(value.parts) };
  if (value.done === true) event.done = true;
  if (value.trimmed === true) event.trimmed = true;
  return event;
}

/**
 * Why `after` is not an acceptable output position (an integer ≥ 0), for a 400
 * `bad_request`; `null` when it is acceptable.
 */
export function outputAfterProblem(after: unknown): string | null {
  return Number.isSafeInteger(after) && (after as number) >= 0 ? null : 'after must be an integer of 0 or more';
}

/**
 * Why `limit` is not an acceptable output page size (1 to {@link MAX_OUTPUT_PAGE_PARTS});
 * `null` when it is acceptable.
 */
export function outputLimitProblem(limit: unknown): string | null {
  return Number.isInteger(limit) && (limit as number) >= 1 && (limit as number) <= MAX_OUTPUT_PAGE_PARTS
    ? null
    : `limit must be an integer from 1 to ${MAX_OUTPUT_PAGE_PARTS}`;
}

/**
 * The `output` query value of the event stream: ids whose output the stream should carry,
 * each optionally with the last part the client has (`a:17` resumes after part 17).
 * `formatOutputRequest([['a', 17], ['b', 0]])` is `"a:17,b"`; ids are percent-encoded.
 */
export function formatOutputRequest(entries: ReadonlyArray<readonly [id: string, after: number]>): string {
  return entries
    .map(([id, after]) => (after > 0 ? `${encodeURIComponent(id)}:${after}` : encodeURIComponent(id)))
    .join(',');
}

/**
 * Reads the raw (still percent-encoded) `output` query value, as {@link formatOutputRequest}
 * writes it and as `ids=` is read; throws a 400 `bad_request` for a malformed entry or
 * position. Returns `[id, after]` pairs in the order given (ids not yet checked against the id rule).
 */
export function parseOutputRequest(value: string): Array<[id: string, after: number]> {
  if (value === '') return [];
  return value.split(',').map((entry) => {
    // Ids are percent-encoded, so a raw `:` can only separate the position; a second one is malformed.
    const pieces = entry.split(':');
    if (pieces.length > 2) throw badRequest('output entries are id or id:position, with the id percent-encoded');
    const rawId = pieces[0]!;
    const rawAfter = pieces[1] ?? '0';
    let id: string;
    try {
      id = decodeURIComponent(rawId.replace(/\+/g, '%20'));
    } catch {
      throw badRequest('output has malformed percent-encoding');
    }
    if (id === '') throw badRequest('output has an empty id');
    if (!/^[0-9]{1,15}$/.test(rawAfter)) throw badRequest(`output position for "${id}" must be an integer of 0 or more`);
    return [id, Number(rawAfter)];
  });
}
