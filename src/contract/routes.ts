/**
 * The routes of the REST contract, shared by `createFetchJobClient`,
 * `createJobHandler` and `createJobHandlers` so every side agrees.
 *
 * | request | answer |
 * |---|---|
 * | `GET {base}/{id}` | 200 Job · 404 `not_found` |
 * | `GET {base}?ids=a,b,c` | 200 `{ jobs, missing }` |
 * | `GET {base}?status=pending,processing&limit=20&cursor=…&meta.projectId=p1` | 200 `{ jobs, nextCursor }` |
 * | `GET {base}/counts?meta.projectId=p1` | 200 `{ pending, processing }` |
 * | `POST {base}/{id}/cancel` | 200 Job · 409 `not_cancellable` |
 * | `POST {base}/{id}/retry` | 200 Job · 409 `not_retryable` |
 * | `GET {base}/{id}/output?after=N&limit=M` | 200 `JobOutputPage` · 404 `not_found` |
 * | `GET {base}/events?ids=a,b&output=a:17` | `text/event-stream`: events `job` (data: Job), `missing` (data: `{ id }`) and `output` (data: `JobOutputEvent`) |
 * | `GET {base}?id=..`, `POST {base}?id=..&action=cancel`, `GET {base}?id=..&action=output` | the query form of the per-job routes (see {@link jobRequestTarget}) |
 */

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

/** The per-job actions of the contract: `POST {base}/{id}/cancel` and `POST {base}/{id}/retry`. */
export type JobAction = 'cancel' | 'retry';

/** The per-job routes below `{base}/{id}`: the actions, and `GET {base}/{id}/output`. */
export type JobSubRoute = JobAction | 'output';

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
 * or, for a {@link isDotSegmentId dot-segment id}, `{ path: '', query: 'id=..&action=cancel' }`
 * (`action=output` is the query form of `GET {base}/{id}/output`).
 */
export function jobRequestTarget(id: string, action?: JobSubRoute): { path: string; query: string } {
  if (isDotSegmentId(id)) {
    return { path: '', query: `id=${encodeURIComponent(id)}${action ? `&action=${action}` : ''}` };
  }
  return { path: `/${encodeURIComponent(id)}${action ? `/${action}` : ''}`, query: '' };
}
