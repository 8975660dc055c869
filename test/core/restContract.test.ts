// @vitest-environment node
import fc from 'fast-check';
import { heartbeatAnnouncement, parseHeartbeatAnnouncement } from '../../src/contract/heartbeat';
import { isValidJobId, MAX_JOB_ID_LENGTH } from '../../src/contract/ids';
import { jobRequestTarget } from '../../src/contract/routes';

/** Whether `s` is well-formed UTF-16 (every surrogate in a pair), computed code unit by code unit. */
function wellFormed(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const unit = s.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i += 1;
    } else if (unit >= 0xdc00 && unit <= 0xdfff) {
      return false;
    }
  }
  return true;
}

describe('isValidJobId: well-formed UTF-16 only', () => {
  it.each([
    ['a lone high surrogate at the end', 'a\uD800'],
    ['a lone high surrogate at the start', '\uD800a'],
    ['a lone low surrogate', 'a\uDC00b'],
    ['a lone low surrogate first', '\uDC00'],
    ['a reversed pair', '\uDC00\uD800'],
    ['a high surrogate followed by another high one', '\uD83D\uD83D\uDE00'],
  ])('refuses %s', (_name, id) => {
    expect(isValidJobId(id)).toBe(false);
  });

  it.each([
    ['an emoji (a surrogate pair)', '🎉'],
    ['pairs back to back', '🎉🎉x🎉'],
    ['the dot segments', '.'],
    ['two dots', '..'],
    ['unicode', 'jöb-✓-日本'],
  ])('accepts %s', (_name, id) => {
    expect(isValidJobId(id)).toBe(true);
  });

  it('accepts an id exactly when it is 1–200 units, well-formed, without control characters and not reserved; every accepted id can be requested', () => {
    const unit = fc.oneof(
      fc.constantFrom('\uD800', '\uDBFF', '\uDC00', '\uDFFF', '\uD83D', '\uDE00', 'a', '.', '/', '%', '\u0000', '\u0085'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    );
    fc.assert(
      fc.property(fc.string({ unit, maxLength: 12 }), (id) => {
        const expected =
          id.length > 0 &&
          id.length <= MAX_JOB_ID_LENGTH &&
          wellFormed(id) &&
          !/[\u0000-\u001f\u007f-\u009f]/.test(id) &&
          id !== 'counts' &&
          id !== 'events';
        expect(isValidJobId(id)).toBe(expected);
        if (expected) {
          // A valid id always has a request target (encodeURIComponent throws URIError on lone surrogates).
          expect(() => jobRequestTarget(id, 'cancel')).not.toThrow();
        }
      }),
      { numRuns: 3000 },
    );
  }, 60_000);
});

describe('heartbeat announcement', () => {
  it('is the comment `heartbeat <ms>`, read back exactly', () => {
    expect(heartbeatAnnouncement(60_000)).toBe('heartbeat 60000');
    expect(parseHeartbeatAnnouncement(heartbeatAnnouncement(60_000))).toBe(60_000);
    expect(parseHeartbeatAnnouncement('heartbeat 15000')).toBe(15_000);
  });

  it.each(['heartbeat', 'heartbeat ', 'heartbeat -5', 'heartbeat 1e9', 'heartbeat 60000 ms', ' heartbeat 1', 'Heartbeat 1', 'ping'])(
    'reads %j as no announcement',
    (comment) => {
      expect(parseHeartbeatAnnouncement(comment)).toBeNull();
    },
  );
});
