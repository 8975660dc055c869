// @vitest-environment node
import { createParser } from 'eventsource-parser';
import fc from 'fast-check';
import { JobProtocolError } from '../../src/contract/errors';
import { createSseParser, MAX_EVENT_STREAM_LINE_LENGTH, type SseEvent } from '../../src/core/sseParser';

/**
 * The event-stream reader behind push: the WHATWG HTML "event stream
 * interpretation" rules, reporting events as `eventsource-parser` does.
 */

/** Every event read from `chunks`, fed one by one. */
function parse(...chunks: string[]): SseEvent[] {
  const events: SseEvent[] = [];
  const parser = createSseParser((event) => events.push(event));
  for (const chunk of chunks) parser.feed(chunk);
  return events;
}

const event = (data: string, type?: string, id?: string): SseEvent => ({ id, event: type, data });

describe('createSseParser', () => {
  describe('line endings', () => {
    it.each([
      ['LF', '\n'],
      ['CRLF', '\r\n'],
      ['CR', '\r'],
    ])('ends lines with %s', (_name, eol) => {
      // The trailing `:` comment completes a final CR (see below).
      const stream = ['event: job', 'id: 1', 'data: a', 'data: b', '', 'data: c', '', ':'].join(eol);
      expect(parse(stream)).toEqual([event('a\nb', 'job', '1'), event('c')]);
    });

    it('reads a stream mixing LF, CRLF and CR', () => {
      expect(parse('data: a\ndata: b\r\ndata: c\rdata: d\n\r\n')).toEqual([event('a\nb\nc\nd')]);
      expect(parse('data: a\ndata: b\r\ndata: c\rdata: d\n\n')).toEqual([event('a\nb\nc\nd')]);
    });

    it('takes a CR ending one chunk and an LF starting the next as one line ending', () => {
      // Two line endings here would make a blank line and dispatch `a` early, and `b` alone.
      expect(parse('data: a\r', '\ndata: b\r', '\n\r', '\n')).toEqual([event('a\nb')]);
      expect(parse('data: a\r', '', '\n', '\r', '\n')).toEqual([event('a')]);
    });

    it('takes a CR ending one chunk and anything but LF next as a line ending of its own', () => {
      expect(parse('data: a\r', '\r', ': next\n')).toEqual([event('a')]);
      expect(parse('data: a\r', '\r', '\r')).toEqual([event('a')]);
      expect(parse('data: a\r', 'data: b\r', '\n\n')).toEqual([event('a\nb')]);
    });

    it('reads a line a CR ends once a later chunk brings a line ending (as eventsource-parser does)', () => {
      const events: SseEvent[] = [];
      const parser = createSseParser((e) => events.push(e));
      parser.feed('data: a\r\r');
      expect(events).toEqual([]);
      parser.feed('data: b');
      expect(events).toEqual([]);
      parser.feed('\r');
      expect(events).toEqual([event('a')]);
    });

    it('reads lines split anywhere across chunks', () => {
      const stream = 'event: job\nid: 7\ndata: {"id":"a"}\n\n';
      for (let i = 0; i <= stream.length; i++) {
        expect(parse(stream.slice(0, i), stream.slice(i))).toEqual([event('{"id":"a"}', 'job', '7')]);
      }
      expect(parse(...stream)).toEqual([event('{"id":"a"}', 'job', '7')]);
    });

    it('dispatches an event once its blank line is complete, not before', () => {
      const events: SseEvent[] = [];
      const parser = createSseParser((e) => events.push(e));
      parser.feed('data: a\n');
      expect(events).toEqual([]);
      parser.feed('\n');
      expect(events).toEqual([event('a')]);
    });
  });

  describe('byte order mark', () => {
    it('drops a U+FEFF that starts the stream', () => {
      expect(parse('\uFEFFdata: a\n\n')).toEqual([event('a')]);
      expect(parse('\uFEFF', 'data: a\n\n')).toEqual([event('a')]);
      expect(parse('', '\uFEFFdata: a\n\n')).toEqual([event('a')]);
    });

    it('drops only one, and only at the start', () => {
      // `\uFEFFdata` is then an unknown field.
      expect(parse('\uFEFF\uFEFFdata: a\n\n')).toEqual([]);
      expect(parse('data: a\n\n\uFEFFdata: b\n\n')).toEqual([event('a')]);
      expect(parse('d', '\uFEFFata: a\n\n')).toEqual([]);
      expect(parse('data: \uFEFFa\n\n')).toEqual([event('\uFEFFa')]);
    });
  });

  describe('fields', () => {
    it('ignores comment lines', () => {
      expect(parse(': heartbeat\n\n')).toEqual([]);
      expect(parse(':\ndata: a\n: between\ndata: b\n:data: c\n\n')).toEqual([event('a\nb')]);
    });

    it('removes one space after the colon, and only one', () => {
      expect(parse('data:a\n\n')).toEqual([event('a')]);
      expect(parse('data: a\n\n')).toEqual([event('a')]);
      expect(parse('data:  a \n\n')).toEqual([event(' a ')]);
      expect(parse('data:\ta\n\n')).toEqual([event('\ta')]);
      expect(parse('event:  job\ndata: a\n\n')).toEqual([event('a', ' job')]);
      expect(parse('id:  1\ndata: a\n\n')).toEqual([event('a', undefined, ' 1')]);
    });

    it('splits at the first colon: the value may hold more', () => {
      expect(parse('data: {"a":"b:c"}\n\n')).toEqual([event('{"a":"b:c"}')]);
      expect(parse('data:: a\n\n')).toEqual([event(': a')]);
    });

    it('joins data lines with \\n', () => {
      expect(parse('data: a\ndata:\ndata: b\ndata\n\n')).toEqual([event('a\n\nb\n')]);
    });

    it('reads a line without a colon as the field with an empty value', () => {
      expect(parse('data\n\n')).toEqual([event('')]);
      expect(parse('data\ndata\n\n')).toEqual([event('\n')]);
      expect(parse('event: job\nevent\ndata: a\n\n')).toEqual([event('a')]);
      expect(parse('id: 1\nid\ndata: a\n\n')).toEqual([event('a', undefined, '')]);
    });

    it('reports an empty or absent event type as undefined', () => {
      expect(parse('event:\ndata: a\n\n')).toEqual([event('a')]);
      expect(parse('data: a\n\n')[0]).toHaveProperty('event', undefined);
    });

    it('keeps the last value of a repeated event or id field', () => {
      expect(parse('event: a\nevent: b\nid: 1\nid: 2\ndata: x\n\n')).toEqual([event('x', 'b', '2')]);
    });

    it('ignores unknown fields and retry', () => {
      expect(parse('foo: bar\nData: x\ndata : y\n data: z\nretry: 1000\nretry: x\ndata: a\n\n')).toEqual([event('a')]);
      expect(parse('retry: 1000\n\n')).toEqual([]);
    });

    it('is case-sensitive about field names', () => {
      expect(parse('Event: job\nID: 1\ndata: a\n\n')).toEqual([event('a')]);
    });
  });

  describe('dispatch', () => {
    it('dispatches nothing for a block without data, and resets its event type and id', () => {
      expect(parse('\n\n\n')).toEqual([]);
      expect(parse('event: job\nid: 1\n\ndata: a\n\n')).toEqual([event('a')]);
    });

    it('dispatches an empty data field', () => {
      expect(parse('data:\n\n')).toEqual([event('')]);
      expect(parse('data: \n\n')).toEqual([event('')]);
    });

    it('removes only the last \\n of the data', () => {
      expect(parse('data:\ndata:\n\n')).toEqual([event('\n')]);
    });

    it('does not dispatch an event the stream ends before finishing', () => {
      expect(parse('data: a\n')).toEqual([]);
      expect(parse('data: a')).toEqual([]);
    });

    it('hands over the event types and data as sent, without interpreting them', () => {
      expect(parse('event: missing\ndata: {"id":"x"}\n\nevent: ü ✓ 🎉\ndata: ü ✓ 🎉\n\n')).toEqual([
        event('{"id":"x"}', 'missing'),
        event('ü ✓ 🎉', 'ü ✓ 🎉'),
      ]);
    });
  });

  describe('id', () => {
    it('ignores an id containing U+0000', () => {
      expect(parse('id: 1\0\ndata: a\n\n')).toEqual([event('a')]);
      expect(parse('id: 1\nid: 2\0\ndata: a\n\n')).toEqual([event('a', undefined, '1')]);
      expect(parse('id: \0\ndata: a\n\n')).toEqual([event('a')]);
    });

    it('reports an empty id (the server resetting the last event ID) as the empty string', () => {
      expect(parse('id:\ndata: a\n\n')).toEqual([event('a', undefined, '')]);
    });

    it('reports the id with the event it came with only: the caller keeps the last event ID', () => {
      // `EventSource`'s last event ID persists across events; the push client keeps it per stream
      // and overwrites it with each event's non-empty id.
      expect(parse('id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n')).toEqual([
        event('a', undefined, '1'),
        event('b'),
        event('c', undefined, '2'),
      ]);
    });
  });
});

describe('createSseParser: limits', () => {
  it('caps a line at MAX_EVENT_STREAM_LINE_LENGTH (1 MiB): an endless line without a line ending is a JobProtocolError', () => {
    expect(MAX_EVENT_STREAM_LINE_LENGTH).toBe(1_048_576);
    const events: SseEvent[] = [];
    const parser = createSseParser((e) => events.push(e));
    parser.feed('data: ok\n\n');
    const piece = 'x'.repeat(64 * 1024);
    let fed = 0;
    let error: unknown;
    try {
      // Without a cap this loop would buffer 64 MiB and more.
      for (let i = 0; i < 1024; i++) {
        parser.feed(piece);
        fed += piece.length;
      }
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(JobProtocolError);
    expect(fed).toBeLessThanOrEqual(MAX_EVENT_STREAM_LINE_LENGTH);
    expect(events).toEqual([event('ok')]);
    // Broken for good: the caller reconnects with a new parser.
    expect(() => parser.feed('\n\ndata: more\n\n')).toThrow(JobProtocolError);
    expect(events).toEqual([event('ok')]);
  });

  it('refuses an over-long line that arrives whole, with its line ending', () => {
    const events: SseEvent[] = [];
    const parser = createSseParser((e) => events.push(e), { maxLineLength: 16 });
    expect(() => parser.feed(`data: ${'y'.repeat(11)}\n`)).toThrow(JobProtocolError);
    expect(events).toEqual([]);
  });

  it('accepts a line of exactly the limit, cut anywhere', () => {
    const line = `data: ${'z'.repeat(10)}`; // 16 characters
    expect(parse(line.slice(0, 7), line.slice(7), '\r', '\n\n')).toEqual([event('z'.repeat(10))]);
    const events: SseEvent[] = [];
    const parser = createSseParser((e) => events.push(e), { maxLineLength: 16 });
    parser.feed(line.slice(0, 5));
    parser.feed(line.slice(5));
    parser.feed('\r');
    parser.feed('\n\n');
    expect(events).toEqual([event('z'.repeat(10))]);
  });

  it("caps an event's data, however many short lines carry it", () => {
    const parser = createSseParser(() => {}, { maxLineLength: 32 });
    expect(() => {
      for (let i = 0; i < 100; i++) parser.feed('data: abcdefgh\n');
    }).toThrow(JobProtocolError);
  });
});

describe('createSseParser: comments', () => {
  it('reports every comment line to onComment, less the colon and one leading space', () => {
    const comments: string[] = [];
    const events: SseEvent[] = [];
    const parser = createSseParser((e) => events.push(e), { onComment: (text) => comments.push(text) });
    parser.feed(': heartbeat 60000\n\n:\n:  two spaces\r\n:x\rdata: a\n: inside an event\n\n');
    expect(comments).toEqual(['heartbeat 60000', '', ' two spaces', 'x', 'inside an event']);
    expect(events).toEqual([event('a')]);
  });
});

/** A stream as `eventsource-parser` reads it, after the same chunks. */
function referenceEvents(chunks: readonly string[]): SseEvent[][] {
  const events: SseEvent[] = [];
  const parser = createParser({ onEvent: (e) => events.push({ id: e.id, event: e.event, data: e.data }) });
  return chunks.map((chunk) => {
    parser.feed(chunk);
    return [...events];
  });
}

function ourEvents(chunks: readonly string[]): SseEvent[][] {
  const events: SseEvent[] = [];
  const parser = createSseParser((e) => events.push(e));
  return chunks.map((chunk) => {
    parser.feed(chunk);
    return [...events];
  });
}

const eol = fc.constantFrom('\n', '\r', '\r\n');
/** Text with the characters that matter to the format, plus any others. */
const text = fc.string({
  unit: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(':', ' ', ' ', '\0', '\uFEFF', '\r', '\n', 'a', '1', '{', '"') },
    { weight: 2, arbitrary: fc.constantFrom('é', '✓', '🎉', '\u2028', '\u00EF', '\u00BB', '\u00BF') },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  ),
  maxLength: 8,
});
const name = fc.oneof(
  fc.constantFrom('data', 'data', 'data', 'event', 'id', 'retry', 'Data', 'dat', 'data ', ' data', 'foo', ''),
  text,
);
const separator = fc.constantFrom(':', ': ', ':  ', '', ': :');
const line = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(name, separator, text).map(([n, s, v]) => n + s + v) },
  { weight: 2, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: text.map((t) => `:${t}`) },
  { weight: 1, arbitrary: fc.constantFrom('retry: 1000', 'id: 12', 'id: 1\0', 'event: job', 'data') },
);
const stream = fc
  .tuple(fc.constantFrom('', '', '\uFEFF'), fc.array(fc.tuple(line, eol), { maxLength: 30 }))
  .map(([bom, lines]) => bom + lines.map(([l, e]) => l + e).join(''));

/** `s` cut at random places, with empty chunks now and then. */
function chunked(s: string): fc.Arbitrary<string[]> {
  return fc.uniqueArray(fc.integer({ min: 0, max: s.length }), { maxLength: 12 }).chain((cuts) =>
    fc.array(fc.integer({ min: 0, max: s.length }), { maxLength: 2 }).map((empties) => {
      const at = [...cuts, ...empties].sort((a, b) => a - b);
      const chunks: string[] = [];
      let from = 0;
      for (const cut of at) {
        chunks.push(s.slice(from, cut));
        from = cut;
      }
      chunks.push(s.slice(from));
      return chunks;
    }),
  );
}

describe('createSseParser against eventsource-parser', () => {
  it('reads every stream, cut anywhere, into the same events at the same time', () => {
    fc.assert(
      fc.property(
        stream.chain((s) => chunked(s)),
        (chunks) => {
          // eventsource-parser leaves a U+FEFF that starts the stream in place (its reader's
          // TextDecoder has dropped it); it is given the stream without it.
          const forReference = [...chunks];
          const first = forReference.findIndex((c) => c !== '');
          if (first !== -1) forReference[first] = forReference[first]!.replace(/^\uFEFF/, '');
          // It also drops a UTF-8 BOM read as Latin-1 from its first chunk: not a stream to compare.
          fc.pre(!forReference.join('').startsWith('\u00EF\u00BB\u00BF'));
          expect(ourEvents(chunks)).toEqual(referenceEvents(forReference));
        },
      ),
      { numRuns: 2000 },
    );
  }, 60_000);

  it('reads long random streams the same', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('data', 'event', 'id', ':', ' ', 'a', '\0', '\r', '\n', '\r\n', 'é'), maxLength: 200 }),
        fc.integer({ min: 1, max: 16 }),
        (s, size) => {
          const chunks: string[] = [];
          for (let i = 0; i < s.length; i += size) chunks.push(s.slice(i, i + size));
          expect(ourEvents(chunks)).toEqual(referenceEvents(chunks));
        },
      ),
      { numRuns: 500 },
    );
  }, 60_000);
});
