// @vitest-environment node
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFetchJobClient, type JobOutputPart } from 'jobwatch/core';
import { createMemoryJobBackend } from 'jobwatch/testing';
import { createJobHandler } from '../src/server/index';
import { toNodeListener } from '../src/server/node';
import { bytes, waitFor } from './shared';

/**
 * Resume of streamed output over real HTTP on 127.0.0.1: a client has
 * followed PARTS parts on the fetch client's event stream; the server drops
 * the connection; MISSING more parts are appended while it is away. The
 * client reconnects by itself, naming the last part it delivered
 * (`output=<id>:<seq>`), so the new connection should carry only the missing
 * parts. Measured: the bytes each response wrote (the server's
 * `res.write`/`res.end` wrapped) and the output parts each carried (read back
 * from the SSE it wrote), for the first connection, the reconnect, and a
 * fresh subscription replaying everything, side by side.
 */

const PARTS = 10_000;
const MISSING = 100;

/** One response the server wrote: its request line, its bytes, and the output seqs its SSE carried. */
interface Wire {
  url: string;
  bytes: number;
  seqs: number[];
  res: http.ServerResponse;
}

/** The seqs of every `event: output` block in `text` (complete blocks only). */
function outputSeqs(text: string): number[] {
  const seqs: number[] = [];
  for (const block of text.split('\n\n')) {
    if (!/^event: output$/m.test(block)) continue;
    const data = block
      .split('\n')
      .filter((line) => line.startsWith('data:'))
      .map((line) => line.slice(5).replace(/^ /, ''))
      .join('\n');
    for (const part of (JSON.parse(data) as { parts: JobOutputPart[] }).parts) seqs.push(part.seq);
  }
  return seqs;
}

describe(`output resume: a reconnect after ${PARTS.toLocaleString('en')} parts, over HTTP on 127.0.0.1`, () => {
  it('bytes on the wire: reconnect vs full replay', async ({ task }) => {
    const backend = createMemoryJobBackend({ maxOutputParts: PARTS * 2 });
    const id = backend.create({ owner: 'bench' }).id;
    backend.start(id);
    const append = (from: number, count: number) => {
      for (let i = from; i < from + count; i++) backend.appendOutput(id, { kind: 'text', text: ` token-${i}` });
    };
    append(1, PARTS);

    const handler = createJobHandler({ store: backend, basePath: '/api/jobs', authorize: () => ({ owner: 'bench' }), onError: () => {} });
    const listener = toNodeListener(handler, { onError: () => {} });
    const wires: Wire[] = [];
    const server = http.createServer((req, res) => {
      const wire: Wire = { url: req.url ?? '', bytes: 0, seqs: [], res };
      wires.push(wire);
      let text = '';
      const count = (chunk: unknown, encoding?: unknown) => {
        if (chunk === undefined || chunk === null || typeof chunk === 'function') return;
        const buffer = typeof chunk === 'string' ? Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8') : Buffer.from(chunk as Uint8Array);
        wire.bytes += buffer.length;
        text += buffer.toString('utf8');
        const end = text.lastIndexOf('\n\n');
        if (end >= 0) {
          wire.seqs.push(...outputSeqs(text.slice(0, end)));
          text = text.slice(end + 2);
        }
      };
      const write = res.write.bind(res) as (...args: unknown[]) => boolean;
      const end = res.end.bind(res) as (...args: unknown[]) => http.ServerResponse;
      res.write = ((...args: unknown[]) => {
        count(args[0], args[1]);
        return write(...args);
      }) as typeof res.write;
      res.end = ((...args: unknown[]) => {
        count(args[0], args[1]);
        return end(...args);
      }) as typeof res.end;
      listener(req, res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/jobs`;
    const streams = () => wires.filter((wire) => wire.url.startsWith('/api/jobs/events'));

    // 1. A client follows the output from the start: the first connection carries all PARTS.
    const client = createFetchJobClient({ baseUrl });
    const delivered: number[] = [];
    const stop = client.subscribeOutput!(id, { after: 0 }, { next: (parts) => delivered.push(...parts.map((part) => part.seq)) });
    await waitFor(() => delivered.length === PARTS, `${PARTS} parts delivered`, 60_000);
    const [first] = streams();

    // 2. The server drops the connection; MISSING parts come while the client is away.
    first!.res.destroy();
    append(PARTS + 1, MISSING);
    await waitFor(() => delivered.length === PARTS + MISSING, `the ${MISSING} missing parts after the reconnect`, 60_000);
    // Let anything else the reconnect would send arrive before counting.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const reconnect = streams()[1]!;
    stop();

    // 3. What a replay from the start costs: a fresh client asking for everything.
    const fresh = createFetchJobClient({ baseUrl });
    const replayed: number[] = [];
    const stopFresh = fresh.subscribeOutput!(id, { after: 0 }, { next: (parts) => replayed.push(...parts.map((part) => part.seq)) });
    await waitFor(() => replayed.length === PARTS + MISSING, 'the full replay', 60_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const replay = streams().at(-1)!;
    stopFresh();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));

    const expectedMissing = Array.from({ length: MISSING }, (_, i) => PARTS + 1 + i);
    const onlyMissing = JSON.stringify(reconnect.seqs) === JSON.stringify(expectedMissing);
    const exactlyOnce = delivered.every((seq, i) => seq === i + 1) && delivered.length === PARTS + MISSING;
    const summary = (wire: Wire) => ({ url: wire.url, bytes: wire.bytes, parts: wire.seqs.length, firstSeq: wire.seqs[0] ?? null, lastSeq: wire.seqs.at(-1) ?? null });
    const percent = (reconnect.bytes / replay.bytes) * 100;
    task.meta.bench = {
      section: 'output',
      key: 'resume',
      rows: [
        {
          measurement: `output resume after ${PARTS.toLocaleString('en')} parts (${MISSING} missed)`,
          variant: 'reconnect (output=<id>:<last seq>)',
          figure: `${bytes(reconnect.bytes)}, ${reconnect.seqs.length} parts (seq ${reconnect.seqs[0] ?? '–'}–${reconnect.seqs.at(-1) ?? '–'}) · ${percent.toFixed(2)}% of a full replay`,
          target: `only the ${MISSING} missing parts, each delivered once`,
          pass: onlyMissing && exactlyOnce,
        },
        {
          measurement: `output resume after ${PARTS.toLocaleString('en')} parts (${MISSING} missed)`,
          variant: 'full replay (a fresh subscription)',
          figure: `${bytes(replay.bytes)}, ${replay.seqs.length} parts · first connection ${bytes(first!.bytes)}, ${first!.seqs.length} parts`,
          target: 'none (comparison)',
          pass: null,
        },
      ],
      data: { parts: PARTS, missing: MISSING, first: summary(first!), reconnect: summary(reconnect), replay: summary(replay), onlyMissing, exactlyOnce },
    };
  });
});
