// @vitest-environment node
import fc from 'fast-check';
import { compareEventIds, isEventId } from '../../src/contract/eventIds';

/**
 * Event-stream positions (`Last-Event-ID`): an `updatedAt` in ms, or a change-log position
 * such as a Redis stream id (`1732800000000-3`). Compared number by number, exactly.
 */

/** The reference: both segments as BigInt (a missing second one is 0), compared as a pair. */
function referenceCompare(a: string, b: string): number {
  const parse = (id: string): [bigint, bigint] => {
    const [first, second = '0'] = id.split('-');
    return [BigInt(first!), BigInt(second)];
  };
  const [a1, a2] = parse(a);
  const [b1, b2] = parse(b);
  if (a1 !== b1) return a1 < b1 ? -1 : 1;
  if (a2 !== b2) return a2 < b2 ? -1 : 1;
  return 0;
}

const sign = (n: number): number => Math.sign(n) + 0; // +0: no -0 in the comparisons

/**
 * One segment: 1 to 20 digits. Mixed so that equal values, leading zeros, values around
 * 2^53 and the full 20-digit range all come up often.
 */
const segment: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[0-9]{1,20}$/),
  fc.integer({ min: 0, max: 12 }).map(String),
  fc
    .tuple(fc.bigInt({ min: 2n ** 53n - 3n, max: 2n ** 53n + 3n }), fc.integer({ min: 0, max: 3 }))
    .map(([n, zeros]) => '0'.repeat(zeros) + String(n)),
  fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 4 })).map(([n, zeros]) => '0'.repeat(zeros) + String(n)),
  fc.bigInt({ min: 0n, max: 10n ** 20n - 1n }).map(String),
);
const eventId: fc.Arbitrary<string> = fc.oneof(segment, fc.tuple(segment, segment).map(([a, b]) => `${a}-${b}`));

describe('isEventId', () => {
  it.each([
    '0',
    '7',
    '1732800000000',
    '1732800000000-3',
    '0-0',
    '007',
    '007-000',
    '9'.repeat(20),
    `${'9'.repeat(20)}-${'9'.repeat(20)}`,
    '0'.repeat(20),
  ])('accepts %j', (value) => {
    expect(isEventId(value)).toBe(true);
  });

  it.each([
    '',
    '-',
    '-1',
    '-1-2',
    '1-',
    '-0',
    '1--2',
    '1.5',
    '1.0',
    '1e3',
    '1_000',
    '0x10',
    '+1',
    '1-2-3',
    '0-0-0',
    ' 1',
    '1 ',
    '1 -2',
    '1- 2',
    '\t1',
    '1\n',
    '1-2\n',
    '١٢', // Arabic-Indic digits are not [0-9]
    '１２', // full-width digits either
    'abc',
    '1'.repeat(21),
    `1-${'1'.repeat(21)}`,
    `${'0'.repeat(21)}`,
    'NaN',
    'Infinity',
  ])('rejects the string %j', (value) => {
    expect(isEventId(value)).toBe(false);
  });

  it.each([
    ['a number', 1],
    ['zero', 0],
    ['a bigint', 1n],
    ['null', null],
    ['undefined', undefined],
    ['an object', {}],
    ['an array holding a valid id', ['1']],
    ['a String object', new String('1')],
    ['an object that stringifies to an id', { toString: () => '1' }],
    ['true', true],
  ])('rejects %s', (_name, value) => {
    expect(isEventId(value)).toBe(false);
  });

  it('accepts every id the generator makes, and the reference parses each', () => {
    fc.assert(
      fc.property(eventId, (id) => {
        expect(isEventId(id)).toBe(true);
        expect(referenceCompare(id, id)).toBe(0);
      }),
    );
  }, 60_000);
});

describe('compareEventIds', () => {
  it.each([
    ['1', '2', -1],
    ['2', '1', 1],
    ['9', '10', -1],
    ['9-5', '10-0', -1],
    ['10-0', '9-5', 1],
    ['10-0', '9-99999999999999999999', 1],
    ['1732800000000-3', '1732800000000-10', -1],
    ['1732800000000-10', '1732800000001-0', -1],
    ['1732800000000-3', '1732800000000-3', 0],
    ['10', '10-0', 0],
    ['10-0', '10', 0],
    ['10', '10-1', -1],
    ['10-1', '10', 1],
    ['0', '0-0', 0],
    ['007', '7', 0],
    ['007-003', '7-3', 0],
    ['0010', '9', 1],
    ['0009', '10', -1],
    ['000', '0', 0],
    ['1-010', '1-9', 1],
    ['00000000000000000001', '1-0', 0],
  ] as const)('compares %j with %j: %i', (a, b, expected) => {
    expect(sign(compareEventIds(a, b))).toBe(expected);
    expect(sign(compareEventIds(b, a))).toBe(-expected + 0);
  });

  it('compares ids beyond 2^53 exactly, not as floats', () => {
    // Both parse to the same double: 9007199254740992.
    expect(Number('9007199254740993')).toBe(Number('9007199254740992'));
    expect(sign(compareEventIds('9007199254740993', '9007199254740992'))).toBe(1);
    expect(sign(compareEventIds('9007199254740992', '9007199254740993'))).toBe(-1);
    expect(sign(compareEventIds('1-9007199254740993', '1-9007199254740992'))).toBe(1);
    expect(sign(compareEventIds('18446744073709551615', '18446744073709551614'))).toBe(1);
    expect(sign(compareEventIds('99999999999999999999', '99999999999999999998'))).toBe(1);
    expect(sign(compareEventIds('99999999999999999999-0', '99999999999999999999-1'))).toBe(-1);
    expect(compareEventIds('18446744073709551615-18446744073709551615', '18446744073709551615-18446744073709551615')).toBe(0);
  });

  it('agrees in sign with a BigInt reference', () => {
    fc.assert(
      fc.property(eventId, eventId, (a, b) => {
        expect(sign(compareEventIds(a, b))).toBe(referenceCompare(a, b));
      }),
      { numRuns: 2000 },
    );
  }, 60_000);

  it('is antisymmetric, and 0 exactly for ids naming the same position', () => {
    fc.assert(
      fc.property(eventId, eventId, (a, b) => {
        expect(sign(compareEventIds(a, b))).toBe(-sign(compareEventIds(b, a)) + 0);
        expect(compareEventIds(a, a)).toBe(0);
        // Leading zeros and a trailing "-0" never change the position.
        const padded = a
          .split('-')
          .map((part) => (part.length < 20 ? `0${part}` : part))
          .join('-');
        expect(isEventId(padded)).toBe(true);
        expect(compareEventIds(a, padded)).toBe(0);
        if (!a.includes('-')) expect(compareEventIds(a, `${a}-0`)).toBe(0);
      }),
      { numRuns: 2000 },
    );
  }, 60_000);

  it('is transitive', () => {
    fc.assert(
      fc.property(eventId, eventId, eventId, (a, b, c) => {
        if (compareEventIds(a, b) <= 0 && compareEventIds(b, c) <= 0) expect(compareEventIds(a, c)).toBeLessThanOrEqual(0);
      }),
      { numRuns: 1000 },
    );
  }, 60_000);

  it('sorts like the reference', () => {
    fc.assert(
      fc.property(fc.array(eventId, { maxLength: 30 }), (ids) => {
        const sorted = [...ids].sort(compareEventIds);
        for (let i = 1; i < sorted.length; i++) expect(referenceCompare(sorted[i - 1]!, sorted[i]!)).toBeLessThanOrEqual(0);
      }),
    );
  }, 60_000);
});
