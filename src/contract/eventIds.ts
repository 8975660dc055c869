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
