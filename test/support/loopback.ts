import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A node:http server listening on 127.0.0.1 (a random port), with its connections tracked. */
export interface LoopbackServer {
  /** The server itself. */
  server: Server;
  /** `http://127.0.0.1:<port>`. */
  origin: string;
  /** Cuts every open connection, as a proxy restart would; the server goes on listening. */
  dropConnections(): void;
  /** Cuts every connection and stops listening. */
  close(): Promise<void>;
}

/** Starts `handle` on a real node:http server on 127.0.0.1 and resolves once it listens. */
export async function listenOnLoopback(handle: RequestListener): Promise<LoopbackServer> {
  const sockets = new Set<Socket>();
  const server = createServer(handle);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const dropConnections = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    server,
    origin: `http://127.0.0.1:${port}`,
    dropConnections,
    close: () =>
      new Promise<void>((resolve) => {
        dropConnections();
        server.close(() => resolve());
      }),
  };
}
