// @vitest-environment node
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createFetchJobClient, type FetchJobClient, type JobStore, type JobSubscriptionListener } from '../../src/core';
import { createJobHandler } from '../../src/server';
import { toNodeListener } from '../../src/server/node';
import { createMemoryJobBackend } from '../../src/testing';
import { describeJobStoreConformance } from '../support/jobStoreConformance';

/** The header the handler's `authorize` takes the caller's owner from. */
const OWNER_HEADER = 'x-owner';
const BASE_PATH = '/api/jobs';
/** A small output limit, so the suite's trimming case runs over HTTP too. */
const MAX_OUTPUT_PARTS = 8;

/**
 * The shared JobStore conformance suite through the whole HTTP path:
 * `createFetchJobClient` → a real `node:http` server on 127.0.0.1 (`toNodeListener`)
 * → `createJobHandler` → the in-memory backend. The store under test is an adapter
 * whose methods take `{ owner, signal }` like a JobStore and call a fetch client
 * sending that owner in `x-owner` (one client per owner, so subscriptions of one
 * owner share that client's multiplexed event stream). The suite's controls move
 * jobs on the backend directly. Every optional method is present (the fetch client
 * has them all, output included), so no case of the suite is skipped.
 *
 * Teardown fails the test when the handler or the node listener reported anything
 * unexpected (a 500), or when an event stream stays open on the server after its
 * last subscriber left; then it closes every socket and the server.
 */
describeJobStoreConformance('createFetchJobClient over node:http to createJobHandler (memory backend)', async () => {
  const backend = createMemoryJobBackend({ maxOutputParts: MAX_OUTPUT_PARTS });
  const unexpected: unknown[] = [];
  const handler = createJobHandler({
    store: backend,
    basePath: BASE_PATH,
    authorize: (request) => {
      const owner = request.headers.get(OWNER_HEADER);
      return owner ? { owner } : null;
    },
    onError: (error) => void unexpected.push(error),
  });
  const sockets = new Set<Socket>();
  /** Resolves once each socket the server accepted has closed. */
  const closed: Promise<void>[] = [];
  const listener = toNodeListener(handler, { onError: (error) => void unexpected.push(error) });
  /** Requests the server has not finished answering (an event stream counts until it ends). */
  let inFlight = 0;
  const server = createServer((req, res) => {
    inFlight += 1;
    res.once('close', () => void (inFlight -= 1));
    listener(req, res);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    closed.push(new Promise((resolve) => socket.once('close', () => resolve(void sockets.delete(socket)))));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}${BASE_PATH}`;

  const clients = new Map<string, FetchJobClient>();
  function clientFor(owner: string): FetchJobClient {
    let client = clients.get(owner);
    if (!client) {
      client = createFetchJobClient({ baseUrl, headers: { [OWNER_HEADER]: owner } });
      clients.set(owner, client);
    }
    return client;
  }

  /** Subscriptions still open, ended at teardown so no stream (or its reconnect timer) outlives a test. */
  const open = new Set<() => void>();

  const store: JobStore = {
    getStatus: (id, { owner, signal }) => clientFor(owner).getStatus(id, { signal }),
    getStatuses: (ids, { owner, signal }) => clientFor(owner).getStatuses(ids, { signal }),
    list: (filter, { owner, signal }) => clientFor(owner).list(filter, { signal }),
    getPendingCount: (filter, { owner, signal }) => clientFor(owner).getPendingCount(filter, { signal }),
    cancel: (id, { owner, signal }) => clientFor(owner).cancel(id, { signal }),
    retry: (id, { owner, signal }) => clientFor(owner).retry(id, { signal }),
    subscribe(id: string, listener: JobSubscriptionListener, { owner }) {
      const unsubscribe = clientFor(owner).subscribe!(id, listener);
      const stop = (): void => {
        open.delete(stop);
        unsubscribe();
      };
      open.add(stop);
      return stop;
    },
    readOutput: (id, { owner, signal, after, limit }) => clientFor(owner).readOutput(id, { signal, after, limit }),
    subscribeOutput(id, { owner, after }, listener) {
      const unsubscribe = clientFor(owner).subscribeOutput!(id, { after }, listener);
      const stop = (): void => {
        open.delete(stop);
        unsubscribe();
      };
      open.add(stop);
      return stop;
    },
  };

  return {
    store,
    controls: {
      create: async (spec) => backend.create(spec).id,
      start: async (id) => void backend.start(id),
      progress: async (id, fraction, message) => void backend.progress(id, fraction, message),
      complete: async (id, result) => void backend.complete(id, result),
      fail: async (id, message) => void backend.fail(id, message),
    },
    output: {
      appendOutput: async (id, part) => void backend.appendOutput(id, part),
      maxParts: MAX_OUTPUT_PARTS,
    },
    teardown: async () => {
      for (const stop of [...open]) stop();
      try {
        // Once nothing is subscribed the clients close their event streams by themselves (no
        // stream, and so no reconnect timer, outlives its last subscriber), before the server goes.
        await vi.waitFor(() => expect(inFlight, 'requests or event streams still open on the server').toBe(0));
      } finally {
        clients.clear();
        server.closeAllConnections();
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
        await Promise.all(closed);
      }
      expect(unexpected, 'errors the handler or node listener reported').toEqual([]);
    },
  };
});
