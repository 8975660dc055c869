/** Longest job id the contract accepts. */
export const MAX_JOB_ID_LENGTH = 200;
/** Path segments that are routes, never job ids. */
export const RESERVED_JOB_IDS: readonly string[] = Object.freeze(['counts', 'events']);

/**
 * The id rule of {@link isValidJobId} in words, for error messages. A function,
 * not a constant: a constant built with calls would be kept in every bundle.
 */
export function jobIdRule(): string {
  return `1 to ${MAX_JOB_ID_LENGTH} characters of well-formed UTF-16 without control characters, never ${RESERVED_JOB_IDS.map((name) => `"${name}"`).join(' or ')}`;
}

// Control characters (C0, DEL, C1) are never part of an id (nor of a cursor).
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
// A surrogate outside a high-low pair: such a string is not well-formed UTF-16,
// cannot be encoded as UTF-8 (`encodeURIComponent` throws URIError), so it cannot travel in a URL.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?:^|[^\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether `text` holds a control character (C0, DEL or C1), which no id or cursor of the contract may hold. */
export function hasControlCharacter(text: string): boolean {
  return CONTROL.test(text);
}

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
