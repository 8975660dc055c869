/** At most this many ids in one batch read or one event stream. */
export const MAX_IDS_PER_REQUEST = 100;
/** Page size when a list request gives none. */
export const DEFAULT_LIST_LIMIT = 20;
/** Largest page size. */
export const MAX_LIST_LIMIT = 100;

/**
 * Why `limit` is not an acceptable page size (an integer from 1 to
 * {@link MAX_LIST_LIMIT}), as a store or handler answers it in a 400
 * `bad_request`; `null` when it is acceptable.
 */
export function listLimitProblem(limit: unknown): string | null {
  return Number.isInteger(limit) && (limit as number) >= 1 && (limit as number) <= MAX_LIST_LIMIT
    ? null
    : `limit must be an integer from 1 to ${MAX_LIST_LIMIT}`;
}
