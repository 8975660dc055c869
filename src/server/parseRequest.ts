import { isJobState, JOB_STATES } from '../contract/states';
import { DEFAULT_LIST_LIMIT, listLimitProblem, MAX_IDS_PER_REQUEST } from '../contract/limits';
import { isEventId } from '../contract/eventIds';
import { isValidJobId, MAX_JOB_ID_LENGTH, RESERVED_JOB_IDS } from '../contract/ids';
import { isValidCursor, MAX_CURSOR_LENGTH } from '../contract/cursors';
import { metaFilterProblem } from '../contract/meta';
import type { JobFilter, JobState } from '../contract/types';
import { badRequest } from '../contract/listFilter';
import { parseOutputRequest } from '../contract/output';

/** A route of the REST contract, before its input is validated. */
export type JobRoute =
  | { kind: 'collection' }
  | { kind: 'counts' }
  | { kind: 'events' }
  | { kind: 'job'; rawId: string }
  | { kind: 'cancel'; rawId: string }
  | { kind: 'retry'; rawId: string }
  | { kind: 'output'; rawId: string }
  /**
   * `{base}?id=…` (GET), `{base}?id=…&action=output` (GET) or `{base}?id=…&action=cancel|retry`
   * (POST): a per-job request with the id in the query, the only way `.` and `..` travel. `action`
   * is what the query names, read leniently before authorization: `null` when absent, `'other'`
   * for anything but cancel/retry/output.
   */
  | { kind: 'query'; action: 'cancel' | 'retry' | 'output' | 'other' | null };

/**
 * Normalizes `basePath`: '' or '/' serve from the root, a trailing slash is
 * dropped. Throws `TypeError` for anything that is not an absolute path.
 */
export function normalizeBasePath(basePath: string): string {
  if (typeof basePath !== 'string' || !/^(\/[^?#]*)?$/.test(basePath)) {
    throw new TypeError(`createJobHandler: basePath must be an absolute path such as "/api/jobs", got ${JSON.stringify(basePath)}`);
  }
  return basePath.replace(/\/+$/, '');
}

/**
 * Finds the route of a (still percent-encoded) pathname under `base`, or
 * `null` when it is none of ours. Segments are matched whole, so `/api/jobsX`
 * is not under `/api/jobs`. One trailing slash is tolerated; empty segments
 * (`//`) are not. `counts` and `events` are matched raw: an encoded spelling
 * such as `%63ounts` is taken as an id and refused when decoded.
 */
export function matchRoute(pathname: string, base: string): JobRoute | null {
  if (!pathname.startsWith(base)) return null;
  let rest = pathname.slice(base.length);
  if (rest !== '' && !rest.startsWith('/')) return null;
  rest = rest.slice(1);
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  if (rest === '') return { kind: 'collection' };
  const segments = rest.split('/');
  if (segments.some((segment) => segment === '')) return null;
  const [first, second] = segments as [string, string | undefined];
  if (segments.length === 1) {
    if (first === 'counts') return { kind: 'counts' };
    if (first === 'events') return { kind: 'events' };
    return { kind: 'job', rawId: first };
  }
  if (segments.length === 2 && !RESERVED_JOB_IDS.includes(first)) {
    if (second === 'cancel') return { kind: 'cancel', rawId: first };
    if (second === 'retry') return { kind: 'retry', rawId: first };
    if (second === 'output') return { kind: 'output', rawId: first };
  }
  return null;
}

/** Decodes a job id from a path segment (percent-encoding only: `+` is a plus sign in paths). */
export function decodePathId(rawId: string): string {
  let id: string;
  try {
    id = decodeURIComponent(rawId);
  } catch {
    throw badRequest('Malformed percent-encoding in the job id');
  }
  checkId(id);
  return id;
}

/** Refuses an id the contract does not allow (empty, too long, control characters, a route name) with a 400. */
export function checkId(id: string): void {
  if (id === '') throw badRequest('Job ids must not be empty');
  if (!isValidJobId(id)) {
    throw badRequest(
      RESERVED_JOB_IDS.includes(id)
        ? `"${id}" is a route name, never a job id`
        : `Invalid job id: 1 to ${MAX_JOB_ID_LENGTH} characters without control characters`,
    );
  }
}

/**
 * Splits a query string into decoded names → RAW values. Values stay raw so
 * each parameter decodes its own way (`ids` splits on commas before decoding).
 * A parameter given twice is refused rather than guessed at.
 */
export function parseQuery(search: string): Map<string, string> {
  const params = new Map<string, string>();
  const query = search.startsWith('?') ? search.slice(1) : search;
  if (query === '') return params;
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeQueryPart(eq === -1 ? pair : pair.slice(0, eq), 'a query parameter name');
    if (params.has(name)) throw badRequest(`Query parameter "${name}" is given more than once`);
    params.set(name, eq === -1 ? '' : pair.slice(eq + 1));
  }
  return params;
}

/**
 * Decodes one query component as `application/x-www-form-urlencoded` (`+` is
 * a space), which is what URLSearchParams and HTML forms send. The contract's
 * `formatIdList` percent-encodes `+`, so both spellings decode the same.
 */
export function decodeQueryPart(raw: string, what: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    throw badRequest(`Malformed percent-encoding in ${what}`);
  }
}

/**
 * Reads the integer query parameter `name` (at most `digits` decimal digits), or `undefined`
 * when it is absent; throws a 400 `bad_request` with `problem`'s words when it is not acceptable.
 */
export function integerParam(
  params: Map<string, string>,
  name: string,
  digits: number,
  problem: (value: unknown) => string | null,
): number | undefined {
  const raw = params.get(name);
  if (raw === undefined) return undefined;
  const text = decodeQueryPart(raw, name);
  const value = text.length > 0 && text.length <= digits && /^[0-9]+$/.test(text) ? Number(text) : NaN;
  const refusal = problem(value);
  if (refusal) throw badRequest(refusal);
  return value;
}

/** Refuses every parameter `accepts` does not allow, naming the first one. */
export function checkParams(params: Map<string, string>, accepts: (name: string) => boolean, expected: string): void {
  for (const name of params.keys()) {
    if (!accepts(name)) {
      throw badRequest(expected ? `Unknown query parameter "${name}"; expected ${expected}` : `Unknown query parameter "${name}"; this route takes none`);
    }
  }
}

/**
 * Parses `ids=a,b%2Cc`: split on the raw commas, then each id decoded, so ids
 * containing commas survive. Duplicates are dropped (first occurrence kept);
 * empty, invalid and more than {@link MAX_IDS_PER_REQUEST} ids are refused.
 */
export function parseIds(raw: string | undefined): string[] {
  if (raw === undefined || raw === '') throw badRequest('ids must list at least one job id');
  const ids = new Set<string>();
  for (const part of raw.split(',')) {
    const id = decodeQueryPart(part, 'ids');
    if (id === '') throw badRequest('ids must not contain an empty id');
    checkId(id);
    ids.add(id);
  }
  if (ids.size > MAX_IDS_PER_REQUEST) throw badRequest(`At most ${MAX_IDS_PER_REQUEST} ids per request, got ${ids.size}`);
  return [...ids];
}

/**
 * Parses the event stream's `output=a:17,b` (raw, as `parseOutputRequest` reads it): each id
 * checked with the id rule and required to be one of `ids`, duplicates refused, at most
 * {@link MAX_IDS_PER_REQUEST}; all 400 `bad_request`. `[]` when absent.
 */
export function parseStreamOutput(raw: string | undefined, ids: string[]): Array<[id: string, after: number]> {
  if (raw === undefined) return [];
  if (raw === '') throw badRequest('output must list at least one job id (or be left out)');
  const entries = parseOutputRequest(raw);
  if (entries.length > MAX_IDS_PER_REQUEST) throw badRequest(`At most ${MAX_IDS_PER_REQUEST} output ids per request, got ${entries.length}`);
  const watched = new Set(ids);
  const seen = new Set<string>();
  for (const [id] of entries) {
    checkId(id);
    if (!watched.has(id)) throw badRequest(`output id "${id}" must also be listed in ids`);
    if (seen.has(id)) throw badRequest(`output lists "${id}" more than once`);
    seen.add(id);
  }
  return entries;
}

/** Whether a parameter name is a meta filter (`meta.<key>`). */
export function isMetaParam(name: string): boolean {
  return name.startsWith('meta.');
}

/**
 * `meta.<key>=<value>` pairs as `filter.meta`, or `undefined` when there are
 * none. Built with `Object.fromEntries`, so a key like `__proto__` is a plain
 * own property rather than a prototype change. Over the contract's limits
 * (`MAX_META_FILTERS` filters, keys and values up to `MAX_META_FILTER_LENGTH`
 * characters: every store matches each job against each filter) → 400.
 */
export function parseMeta(params: Map<string, string>): Record<string, string> | undefined {
  const entries: Array<[string, string]> = [];
  for (const [name, raw] of params) {
    if (!isMetaParam(name)) continue;
    const key = name.slice('meta.'.length);
    if (key === '') throw badRequest('meta filters need a key: meta.<key>=<value>');
    entries.push([key, decodeQueryPart(raw, `meta.${key}`)]);
  }
  if (entries.length === 0) return undefined;
  const meta = Object.fromEntries(entries);
  const problem = metaFilterProblem(meta);
  if (problem) throw badRequest(problem);
  return meta;
}

/** Parses the list parameters (`status`, `limit`, `cursor`, `meta.*`) into a filter with its limit resolved. */
export function parseListFilter(params: Map<string, string>): JobFilter & { limit: number } {
  const filter: JobFilter & { limit: number } = { limit: DEFAULT_LIST_LIMIT };

  const rawStatus = params.get('status');
  if (rawStatus !== undefined) {
    const states = new Set<JobState>();
    for (const part of rawStatus.split(',')) {
      const state = decodeQueryPart(part, 'status');
      if (!isJobState(state)) {
        throw badRequest(
          state === ''
            ? `status must list one or more of ${JOB_STATES.join(', ')}`
            : `Unknown status "${state}"; expected one or more of ${JOB_STATES.join(', ')}`,
        );
      }
      states.add(state as JobState);
    }
    // One state is passed as a string: the simplest store can compare it directly.
    filter.status = states.size === 1 ? [...states][0] : [...states];
  }

  const limit = integerParam(params, 'limit', 4, listLimitProblem);
  if (limit !== undefined) filter.limit = limit;

  const rawCursor = params.get('cursor');
  if (rawCursor !== undefined) {
    const cursor = decodeQueryPart(rawCursor, 'cursor');
    if (!isValidCursor(cursor)) throw badRequest(`Invalid cursor: 1 to ${MAX_CURSOR_LENGTH} characters without control characters`);
    filter.cursor = cursor;
  }

  const meta = parseMeta(params);
  if (meta) filter.meta = meta;
  return filter;
}


/**
 * The `Last-Event-ID` header when it is an event-stream position (one or two non-negative
 * integers joined by `-`), else `null`: a malformed one is ignored (a full snapshot is always safe).
 */
export function parseLastEventId(header: string | null): string | null {
  return isEventId(header) ? header : null;
}
