/** The rules of streamed output, defined once in src/contract/output.ts. */
import { describe, expect, it } from 'vitest';
import { JobProtocolError, JobRequestError } from '../../src/contract/errors';
import {
  checkOutputInput,
  DEFAULT_STORED_OUTPUT_PARTS,
  formatOutputRequest,
  isSafeOutputUrl,
  JOB_OUTPUT_KINDS,
  MAX_OUTPUT_PAGE_PARTS,
  MAX_OUTPUT_PART_LENGTH,
  outputAfterProblem,
  outputInputProblem,
  outputLimitProblem,
  parseOutputEvent,
  parseOutputPage,
  parseOutputPart,
  parseOutputParts,
  parseOutputRequest,
} from '../../src/contract/output';

const AT = '2030-01-01T00:00:00.000Z';
const part = (seq: number, extra: Record<string, unknown> = {}) => ({ seq, kind: 'text', text: `t${seq}`, at: AT, ...extra });

/** The error `fn` throws (fails the test when it does not). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a throw');
}

/** The field a `JobProtocolError` thrown by `fn` names. */
function protocolField(fn: () => unknown): string {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(JobProtocolError);
  return (error as JobProtocolError).field;
}

function expectBadRequest(fn: () => unknown): void {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(JobRequestError);
  expect(error).toMatchObject({ status: 400, code: 'bad_request' });
}

describe('limits', () => {
  it('are the documented ones', () => {
    expect(JOB_OUTPUT_KINDS).toEqual(['text', 'log', 'data', 'image']);
    expect(Object.isFrozen(JOB_OUTPUT_KINDS)).toBe(true);
    expect(MAX_OUTPUT_PART_LENGTH).toBe(256 * 1024);
    expect(MAX_OUTPUT_PAGE_PARTS).toBe(500);
    expect(DEFAULT_STORED_OUTPUT_PARTS).toBe(10_000);
  });
});

describe('isSafeOutputUrl', () => {
  it.each([
    'https://example.com/preview.png',
    'http://localhost:3000/a.png?x=1#y',
    'HTTPS://EXAMPLE.COM/A.PNG',
    'data:image/png;base64,iVBORw0KGgo=',
    'data:image/svg+xml,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%2F%3E',
    'DATA:IMAGE/JPEG;base64,AAAA',
  ])('allows %s', (url) => {
    expect(isSafeOutputUrl(url)).toBe(true);
  });

  it.each([
    'javascript:alert(1)',
    'JAVASCRIPT:alert(1)',
    'JavaScript:alert(1)',
    ' javascript:alert(1)',
    '  javascript:alert(1)  ',
    'java\tscript:alert(1)',
    '\u0000javascript:alert(1)',
    'vbscript:msgbox(1)',
    'VBScript:msgbox(1)',
    'data:text/html,<script>alert(1)</script>',
    'data:text/html;base64,PHNjcmlwdD4=',
    'DATA:TEXT/HTML,x',
    'data:,hello',
    'data:image/png',
    'blob:https://example.com/6f1c0e4e',
    'file:///etc/passwd',
    'ftp://example.com/a.png',
    '//example.com/a.png',
    '/relative.png',
    'preview.png',
    'https://',
    'https:\\\\example.com/a.png',
    ' https://example.com/a.png',
    'https://example.com/a.png ',
    'https://example.com/a b.png',
    'https://example.com/a\n.png',
    '',
  ])('refuses %j', (url) => {
    expect(isSafeOutputUrl(url)).toBe(false);
  });

  it('refuses anything but a string', () => {
    for (const value of [undefined, null, 42, {}, ['https://example.com/a.png'], new URL('https://example.com/a.png')]) {
      expect(isSafeOutputUrl(value)).toBe(false);
    }
  });
});

describe('outputInputProblem and checkOutputInput', () => {
  it.each([
    { kind: 'text', text: 'Once' },
    { kind: 'text', text: '' },
    { kind: 'log', text: 'Loading model' },
    { kind: 'data', data: { step: 1, scores: [0.1, 0.9] } },
    { kind: 'data', data: null },
    { kind: 'data', data: 0 },
    { kind: 'data', data: false },
    { kind: 'image', url: 'https://example.com/p.png' },
    { kind: 'image', url: 'data:image/png;base64,AAAA', alt: 'A preview' },
    { kind: 'log', text: 'with a time', at: AT },
  ])('accepts %j', (input) => {
    expect(outputInputProblem(input)).toBeNull();
    expect(checkOutputInput(input)).toBe(input);
  });

  it.each<[string, unknown, RegExp]>([
    ['not an object', null, /must be an object/],
    ['a string', 'text', /must be an object/],
    ['an array', [{ kind: 'text', text: 'x' }], /must be an object/],
    ['no kind', { text: 'x' }, /kind must be one of text, log, data, image/],
    ['an unknown kind', { kind: 'video', url: 'https://example.com/v.mp4' }, /kind must be one of/],
    ['a kind in capitals', { kind: 'TEXT', text: 'x' }, /kind must be one of/],
    ['text without text', { kind: 'text' }, /a text part needs text/],
    ['log with a number', { kind: 'log', text: 42 }, /a log part needs text/],
    ['text that is not a string', { kind: 'data', data: 1, text: 5 }, /text must be a string/],
    ['an image without a url', { kind: 'image', alt: 'x' }, /http\(s\) or data:image URL/],
    ['a javascript: image', { kind: 'image', url: 'javascript:alert(1)' }, /http\(s\) or data:image URL/],
    ['a data:text/html image', { kind: 'image', url: 'data:text/html,<b>x</b>' }, /http\(s\) or data:image URL/],
    ['a url on a text part', { kind: 'text', text: 'x', url: 'https://example.com/' }, /only image parts have a url/],
    ['an alt that is not a string', { kind: 'image', url: 'https://example.com/p.png', alt: 3 }, /alt must be a string/],
    ['data without data', { kind: 'data' }, /a data part needs data/],
    ['data: undefined', { kind: 'data', data: undefined }, /a data part needs data/],
    ['an at that is no date', { kind: 'log', text: 'x', at: 'yesterday' }, /at must be an ISO 8601 date/],
    ['an at that is a number', { kind: 'log', text: 'x', at: 1_700_000_000_000 }, /at must be an ISO 8601 date/],
    ['data that is not JSON', { kind: 'data', data: 10n }, /must be JSON/],
    ['a 1 MB text part', { kind: 'text', text: 'x'.repeat(1024 * 1024) }, /at most 262144 characters of JSON/],
    ['a 1 MB data part', { kind: 'data', data: { blob: 'x'.repeat(1024 * 1024) } }, /at most 262144/],
  ])('refuses %s (400 bad_request)', (_name, input, message) => {
    expect(outputInputProblem(input)).toMatch(message);
    expectBadRequest(() => checkOutputInput(input));
    expect((thrown(() => checkOutputInput(input)) as Error).message).toMatch(message);
  });

  it('refuses circular data', () => {
    const data: Record<string, unknown> = {};
    data.self = data;
    expect(outputInputProblem({ kind: 'data', data })).toMatch(/must be JSON/);
  });

  it('measures the size as JSON text as stored (with seq and at): exactly the limit passes, one more character is refused', () => {
    const base = JSON.stringify({ kind: 'text', text: '', seq: 1, at: AT }).length;
    const fits = { kind: 'text', text: 'x'.repeat(MAX_OUTPUT_PART_LENGTH - base), seq: 1, at: AT };
    expect(JSON.stringify(fits).length).toBe(MAX_OUTPUT_PART_LENGTH);
    expect(outputInputProblem(fits)).toBeNull();
    expect(outputInputProblem({ ...fits, text: `${fits.text}x` })).toMatch(/at most/);
    // Without seq and at, room is kept for the ones the store adds: what is accepted always reads back.
    const input = { kind: 'text', text: fits.text };
    expect(outputInputProblem(input)).toMatch(/at most/);
    const stored = { ...input, text: input.text.slice(0, -64), seq: Number.MAX_SAFE_INTEGER, at: new Date(8.64e15).toISOString() };
    expect(outputInputProblem({ kind: 'text', text: stored.text })).toBeNull();
    expect(() => parseOutputPart(stored)).not.toThrow();
    // Escapes count: a quote is two characters of JSON.
    expect(outputInputProblem({ kind: 'text', text: '"'.repeat(MAX_OUTPUT_PART_LENGTH / 2) })).toMatch(/at most/);
  });
});

describe('parseOutputPart and parseOutputParts', () => {
  it('accepts valid parts as they are', () => {
    const parts = [part(4), { seq: 5, kind: 'image', url: 'https://example.com/p.png', alt: 'Preview', at: AT }, { seq: 6, kind: 'data', data: [1], at: AT }];
    expect(parseOutputParts(parts)).toEqual(parts);
    expect(parseOutputParts([])).toEqual([]);
    expect(parseOutputPart(part(1))).toEqual(part(1));
  });

  it.each<[string, unknown, string]>([
    ['not an object', 'x', 'parts[0]'],
    ['seq 0', part(0), 'parts[0].seq'],
    ['seq 1.5', part(1.5), 'parts[0].seq'],
    ['seq as a string', part(1, { seq: '1' }), 'parts[0].seq'],
    ['no at', part(1, { at: undefined }), 'parts[0].at'],
    ['an at that is no date', part(1, { at: 'soon' }), 'parts[0].at'],
    ['an unknown kind', part(1, { kind: 'audio' }), 'parts[0].kind'],
    ['text without text', part(1, { text: undefined }), 'parts[0].text'],
    ['a javascript: image', { seq: 1, kind: 'image', url: 'javascript:alert(1)', at: AT }, 'parts[0].url'],
    ['an image without a url', { seq: 1, kind: 'image', at: AT }, 'parts[0].url'],
    ['a url on a text part', part(1, { url: 'https://example.com/' }), 'parts[0].url'],
    ['an alt that is not a string', { seq: 1, kind: 'image', url: 'https://example.com/p.png', alt: {}, at: AT }, 'parts[0].alt'],
    ['data without data', { seq: 1, kind: 'data', at: AT }, 'parts[0].data'],
    ['an over-long part', part(1, { text: 'x'.repeat(MAX_OUTPUT_PART_LENGTH) }), 'parts[0]'],
  ])('names the field of %s', (_name, value, field) => {
    expect(protocolField(() => parseOutputParts([value]))).toBe(field);
  });

  it('names the part by its index', () => {
    expect(protocolField(() => parseOutputParts([part(1), part(2), { ...part(3), kind: 'x' }]))).toBe('parts[2].kind');
    expect(protocolField(() => parseOutputPart({ ...part(1), seq: -1 }, 'event.parts[7]'))).toBe('event.parts[7].seq');
  });

  it('refuses seqs that go backwards, repeat or skip, naming the seq', () => {
    expect(protocolField(() => parseOutputParts([part(2), part(1)]))).toBe('parts[1].seq');
    expect(protocolField(() => parseOutputParts([part(1), part(1)]))).toBe('parts[1].seq');
    expect(protocolField(() => parseOutputParts([part(1), part(2), part(4)]))).toBe('parts[2].seq');
    expect((thrown(() => parseOutputParts([part(1), part(3)])) as Error).message).toMatch(/must follow 1 without a gap/);
  });

  it('refuses a list that is not an array', () => {
    expect(protocolField(() => parseOutputParts({ 0: part(1) }))).toBe('parts');
    expect(protocolField(() => parseOutputParts(undefined, 'event.parts'))).toBe('event.parts');
  });
});

describe('parseOutputPage', () => {
  it('reads a page, keeping trimmed only when true', () => {
    expect(parseOutputPage({ parts: [part(1)], done: false })).toEqual({ parts: [part(1)], done: false });
    expect(parseOutputPage({ parts: [], done: true, trimmed: true })).toEqual({ parts: [], done: true, trimmed: true });
    expect(parseOutputPage({ parts: [part(3)], done: true, trimmed: false })).toEqual({ parts: [part(3)], done: true });
  });

  it.each<[string, unknown, string]>([
    ['not an object', [part(1)], ''],
    ['null', null, ''],
    ['no parts', { done: false }, 'parts'],
    ['a bad part', { parts: [part(1), part(1)], done: false }, 'parts[1].seq'],
    ['no done', { parts: [] }, 'done'],
    ['done as a string', { parts: [], done: 'true' }, 'done'],
    ['trimmed as a string', { parts: [], done: false, trimmed: 'yes' }, 'trimmed'],
  ])('names the field of %s', (_name, value, field) => {
    expect(protocolField(() => parseOutputPage(value))).toBe(field);
  });
});

describe('parseOutputEvent', () => {
  it('reads an event, keeping done and trimmed only when true', () => {
    expect(parseOutputEvent({ id: 'a', parts: [part(1)] })).toEqual({ id: 'a', parts: [part(1)] });
    expect(parseOutputEvent({ id: 'a', parts: [], done: true, trimmed: true })).toEqual({ id: 'a', parts: [], done: true, trimmed: true });
    expect(parseOutputEvent({ id: 'a', parts: [part(2)], done: false, trimmed: false })).toEqual({ id: 'a', parts: [part(2)] });
  });

  it.each<[string, unknown, string]>([
    ['not an object', 'x', ''],
    ['no id', { parts: [] }, 'id'],
    ['an empty id', { id: '', parts: [] }, 'id'],
    ['a numeric id', { id: 7, parts: [] }, 'id'],
    ['no parts', { id: 'a' }, 'parts'],
    ['a gap', { id: 'a', parts: [part(1), part(3)] }, 'parts[1].seq'],
    ['an unsafe image', { id: 'a', parts: [{ seq: 1, kind: 'image', url: 'vbscript:x', at: AT }] }, 'parts[0].url'],
  ])('names the field of %s', (_name, value, field) => {
    expect(protocolField(() => parseOutputEvent(value))).toBe(field);
  });
});

describe('outputAfterProblem and outputLimitProblem', () => {
  it('accept integers in range', () => {
    for (const after of [0, 1, 17, Number.MAX_SAFE_INTEGER]) expect(outputAfterProblem(after)).toBeNull();
    for (const limit of [1, 20, MAX_OUTPUT_PAGE_PARTS]) expect(outputLimitProblem(limit)).toBeNull();
  });

  it('refuse anything else with a message', () => {
    for (const after of [-1, 1.5, NaN, Infinity, 2 ** 53, '1', null, undefined]) {
      expect(outputAfterProblem(after), String(after)).toMatch(/after must be an integer of 0 or more/);
    }
    for (const limit of [0, -1, MAX_OUTPUT_PAGE_PARTS + 1, 1.5, '10', null, undefined]) {
      expect(outputLimitProblem(limit), String(limit)).toMatch(/limit must be an integer from 1 to 500/);
    }
  });
});

describe('formatOutputRequest and parseOutputRequest', () => {
  it('write and read the documented form', () => {
    expect(formatOutputRequest([['a', 17], ['b', 0]])).toBe('a:17,b');
    expect(formatOutputRequest([])).toBe('');
    expect(parseOutputRequest('a:17,b')).toEqual([['a', 17], ['b', 0]]);
    expect(parseOutputRequest('')).toEqual([]);
    expect(parseOutputRequest('a:0')).toEqual([['a', 0]]);
    // As in query strings, a raw `+` is a space (formatOutputRequest writes `+` as %2B).
    expect(parseOutputRequest('a+b:3')).toEqual([['a b', 3]]);
  });

  it('percent-encodes ids, so commas, colons and percent signs inside ids survive', () => {
    expect(formatOutputRequest([['a,b', 2], ['c:d', 0], ['100%', 1]])).toBe('a%2Cb:2,c%3Ad,100%25:1');
  });

  const ids = ['a,b', 'a:b', 'x:17', '100%', '%2C', 'a+b', 'a b', ' lead and trail ', '..', '.', 'a/b', '?x#y&z=1', 'é', '日本語', '😀', 'a😀b', 'x'.repeat(200)];

  it.each(ids.map((id) => [JSON.stringify(id).slice(0, 30), id]))('round-trips %s at every position', (_name, id) => {
    const entries: Array<[string, number]> = [
      [id, 0],
      [id, 1],
      [id, 17],
      [id, 999_999_999_999_999],
    ];
    for (const entry of entries) expect(parseOutputRequest(formatOutputRequest([entry]))).toEqual([entry]);
    expect(parseOutputRequest(formatOutputRequest(entries))).toEqual(entries);
  });

  it('round-trips every id together, in order', () => {
    const entries = ids.map((id, i): [string, number] => [id, i]);
    const raw = formatOutputRequest(entries);
    expect(raw).not.toMatch(/[ +%](?![0-9A-F]{2})/); // nothing a query string would change
    expect(parseOutputRequest(raw)).toEqual(entries);
    // And through a real URL, read raw as the server reads `ids=`.
    const url = new URL(`https://example.com/jobs/events?ids=x&output=${raw}`);
    expect(parseOutputRequest(url.search.split('&output=')[1]!)).toEqual(entries);
  });

  it.each([
    ['a:', 'an empty position'],
    ['a:-1', 'a negative position'],
    ['a:1.5', 'a fractional position'],
    ['a:x', 'a position that is no number'],
    ['a:1e3', 'a position in exponent form'],
    ['a: 1', 'a position with a space'],
    ['a:1234567890123456', 'a position of 16 digits'],
    ['a:1:2', 'two colons'],
    [':5', 'an empty id with a position'],
    [',', 'empty entries'],
    ['a,,b', 'an empty entry between others'],
    ['a,', 'a trailing comma'],
    ['%E0%A4%A', 'broken percent-encoding'],
    ['%', 'a lone percent sign'],
    ['a%2', 'a cut percent escape'],
  ])('refuses %j (%s) with a 400', (raw) => {
    expectBadRequest(() => parseOutputRequest(raw));
  });
});
