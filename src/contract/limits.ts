/** At most this many ids in one batch read or one event stream. */
export const MAX_IDS_PER_REQUEST = 100;
/** Page size when a list request gives none. */
export const DEFAULT_LIST_LIMIT = 20;
/** Largest page size. */
export const MAX_LIST_LIMIT = 100;

/** Whether `limit` is an acceptable page size: an integer from 1 to {@link MAX_LIST_LIMIT}. */
export function isValidListLimit(limit: unknown): limit is number {
  return Number.isInteger(limit) && (limit as number) >= 1 && (limit as number) <= MAX_LIST_LIMIT;
}

/** What a store or handler answers (as a 400 `bad_request`) for a page size that is not {@link isValidListLimit valid}. */
export const LIST_LIMIT_RULE = `limit must be an integer from 1 to ${MAX_LIST_LIMIT}`;
