import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { createJobHandler, type JobStore } from 'jobwatch/server';

/** Adapts a Fetch-API handler to node:http, streaming the answer (the event stream needs that). */
export function toNodeListener(handler: (request: Request) => Promise<Response>) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    const controller = new AbortController();
    res.on('close', () => controller.abort()); // the client went away: ends the event stream
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers.set(name, Array.isArray(value) ? value.join(', ') : value);
    }
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const request = new Request(new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`), {
      method: req.method,
      headers,
      body: hasBody ? (Readable.toWeb(req) as ReadableStream) : undefined,
      signal: controller.signal,
      ...(hasBody ? { duplex: 'half' } : {}),
    });
    const response = await handler(request);
    res.writeHead(response.status, Object.fromEntries(response.headers));
    if (!response.body) return void res.end();
    const body = Readable.fromWeb(response.body as NodeReadableStream);
    res.on('close', () => body.destroy());
    body.pipe(res);
  };
}

/** A server answering the contract under /api/jobs; the caller is named by an x-user-id header (use your auth). */
export function createJobServer(store: JobStore) {
  const handleJobs = toNodeListener(
    createJobHandler({
      store,
      basePath: '/api/jobs',
      authorize: (request) => {
        const userId = request.headers.get('x-user-id');
        return userId ? { owner: userId } : null;
      },
    }),
  );
  return createServer((req, res) => {
    if (req.url === '/api/jobs' || req.url?.startsWith('/api/jobs/') || req.url?.startsWith('/api/jobs?')) {
      void handleJobs(req, res);
    } else {
      res.writeHead(404).end();
    }
  });
}
