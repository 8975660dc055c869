/**
 * Constants and small helpers of the REST contract, shared by
 * `createFetchJobClient` and `createJobHandler` so both sides agree.
 *
 * | request | answer |
 * |---|---|
 * | `GET {base}/{id}` | 200 Job · 404 `not_found` |
 * | `GET {base}?ids=a,b,c` | 200 `{ jobs, missing }` |
 * | `GET {base}?status=pending,processing&limit=20&cursor=…&meta.projectId=p1` | 200 `{ jobs, nextCursor }` |
 * | `GET {base}/counts?meta.projectId=p1` | 200 `{ pending, processing }` |
 * | `POST {base}/{id}/cancel` | 200 Job · 409 `not_cancellable` |
 * | `POST {base}/{id}/retry` | 200 Job · 409 `not_retryable` |
 * | `GET {base}/events?ids=a,b` | `text/event-stream`: events `job` (data: Job) and `missing` (data: `{ id }`) |
 * | `GET {base}?id=..`, `POST {base}?id=..&action=cancel` | the query form of the per-job routes (see {@link jobRequestTarget}) |
 */

/** At most this many ids in one batch read or one event stream. */
export const MAX_IDS_PER_REQUEST = 100;
/** Longest job id the contract accepts. */
export const MAX_JOB_ID_LENGTH = 200;
/** Page size when a list request gives none. */
export const DEFAULT_LIST_LIMIT = 20;
/** Largest page size. */
export const MAX_LIST_LIMIT = 100;
/** Longest list cursor accepted. Store cursors are short tokens; a longer one is garbage. */
export const MAX_CURSOR_LENGTH = 1000;
/** Path segments that are routes, never job ids. */
export const RESERVED_JOB_IDS: readonly string[] = Object.freeze(['counts', 'events']);
/** The event stream sends a comment this often, so proxies and clients know it is alive (ms). */
export const HEARTBEAT_INTERVAL_MS = 15_000;

const HEARTBEAT_ANNOUNCEMENT = /^heartbeat ([0-9]{1,15})$/;

/**
 * The comment text (after `: `) with which an event stream announces its
 * heartbeat interval right after connecting: `heartbeat 60000`, sent as the
 * line `: heartbeat 60000`. A client then waits three such intervals of
 * silence before taking the stream for dead.
 */
export function heartbeatAnnouncement(intervalMs: number): string {
  return `heartbeat ${Math.round(intervalMs)}`;
}

/** The interval a {@link heartbeatAnnouncement} comment announces, in ms, or `null` for any other comment. */
export function parseHeartbeatAnnouncement(comment: string): number | null {
  const match = HEARTBEAT_ANNOUNCEMENT.exec(comment);
  return match ? Number(match[1]) : null;
}

/** The JSON body of every error answer. */
export interface JobErrorBody {
  /** What went wrong: a code for programs, a message for people. */
  error: {
    /** Machine-readable: `bad_request`, `unauthorized`, `not_found`, `method_not_allowed`, `not_cancellable`, `not_retryable`, `internal_error`. */
    code: string;
    /** Human-readable explanation. */
    message: string;
  };
}

// Control characters (C0, DEL, C1) are never part of an id.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// A surrogate outside a high-low pair: such a string is not well-formed UTF-16,
// cannot be encoded as UTF-8 (`encodeURIComponent` throws URIError), so it cannot travel in a URL.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether `id` is acceptable as a job id: 1–200 characters (UTF-16 code units),
 * well-formed UTF-16 (no lone surrogate), no control characters, not a reserved route name.
 */
export function isValidJobId(id: unknown): id is string {
  return (
    typeof id === 'string' &&
    id.length > 0 &&
    id.length <= MAX_JOB_ID_LENGTH &&
    !CONTROL.test(id) &&
    !LONE_SURROGATE.test(id) &&
    !RESERVED_JOB_IDS.includes(id)
  );
}

/** Encodes ids for `?ids=`: each id percent-encoded (so commas inside ids survive), joined by commas. */
export function formatIdList(ids: readonly string[]): string {
  return ids.map(encodeURIComponent).join(',');
}

const EVENT_ID = /^[0-9]{1,20}(?:-[0-9]{1,20})?$/;

/**
 * Whether `value` is an event-stream position: one or two non-negative integers joined by
 * `-` (an `updatedAt` in ms, or a log position such as a Redis stream id `1732800000000-3`).
 */
export function isEventId(value: unknown): value is string {
  return typeof value === 'string' && EVENT_ID.test(value);
}

function compareDigits(a: string, b: string): number {
  const x = a.replace(/^0+(?=.)/, '');
  const y = b.replace(/^0+(?=.)/, '');
  return x.length - y.length || (x < y ? -1 : x > y ? 1 : 0);
}

/** Orders two {@link isEventId event ids} number by number (`"9-5"` < `"10-0"`; `"10"` is `"10-0"`). */
export function compareEventIds(a: string, b: string): number {
  const [a1 = '0', a2 = '0'] = a.split('-');
  const [b1 = '0', b2 = '0'] = b.split('-');
  return compareDigits(a1, b1) || compareDigits(a2, b2);
}

/** The per-job actions of the contract: `POST {base}/{id}/cancel` and `POST {base}/{id}/retry`. */
export type JobAction = 'cancel' | 'retry';

/**
 * Whether `id` is a dot segment (`.` or `..`). URL parsers remove such a
 * segment from a path (`/api/jobs/..` is `/api/`), so these ids travel in the
 * query instead: `GET {base}?id=..` and `POST {base}?id=..&action=cancel`.
 * The server accepts the query form for every id.
 */
export function isDotSegmentId(id: string): boolean {
  return id === '.' || id === '..';
}

/**
 * Where a per-job request goes, relative to the base URL: `{ path: '/a%2Fb/cancel', query: '' }`,
 * or, for a {@link isDotSegmentId dot-segment id}, `{ path: '', query: 'id=..&action=cancel' }`.
 */
export function jobRequestTarget(id: string, action?: JobAction): { path: string; query: string } {
  if (isDotSegmentId(id)) {
    return { path: '', query: `id=${encodeURIComponent(id)}${action ? `&action=${action}` : ''}` };
  }
  return { path: `/${encodeURIComponent(id)}${action ? `/${action}` : ''}`, query: '' };
}

/** At most this many `meta.*` filters in one request. */
export const MAX_META_FILTERS = 20;
/** Longest `meta.*` filter key, and longest filter value. */
export const MAX_META_FILTER_LENGTH = 200;

/**
 * Why a `meta` filter breaks the contract's limits (too many keys, a key or
 * value too long, an empty key), or `null` when it is acceptable.
 */
export function metaFilterProblem(meta: Readonly<Record<string, string>> | undefined): string | null {
  if (meta === undefined) return null;
  const entries = Object.entries(meta);
  if (entries.length > MAX_META_FILTERS) return `at most ${MAX_META_FILTERS} meta filters are allowed, got ${entries.length}`;
  for (const [key, value] of entries) {
    if (key === '') return 'meta filters need a key: meta.<key>=<value>';
    if (key.length > MAX_META_FILTER_LENGTH) return `meta filter keys are at most ${MAX_META_FILTER_LENGTH} characters`;
    if (String(value).length > MAX_META_FILTER_LENGTH) return `meta filter values are at most ${MAX_META_FILTER_LENGTH} characters (meta.${key})`;
  }
  return null;
}

/**
 * Whether a job's `meta` matches a filter: every filter key is present on the
 * job and equal as a string (`meta.count=3` matches `3` and `"3"`).
 */
export function matchesMetaFilter(
  jobMeta: Readonly<Record<string, unknown>> | null | undefined,
  filter: Readonly<Record<string, string>> | undefined,
): boolean {
  if (!filter) return true;
  const meta = jobMeta ?? {};
  for (const key of Object.keys(filter)) {
    if (!Object.prototype.hasOwnProperty.call(meta, key) || String(meta[key]) !== String(filter[key])) return false;
  }
  return true;
}
