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
