import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll } from 'vitest';

/** A loopback HTTP server whose requests' responses go, in arrival order, to the handlers the test queued. */
export interface ResponseServer {
  /** `http://127.0.0.1:<port>/` (set once the suite's `beforeAll` ran). */
  readonly url: string;
  /** Handlers for the next requests: the first request's response goes to the first one. */
  readonly pending: Array<(res: ServerResponse) => void>;
}

/**
 * Starts a {@link ResponseServer} for the calling suite (`beforeAll`) and
 * closes it, with every connection, after it (`afterAll`). For tests of
 * code that writes to a real `ServerResponse` over a real socket.
 */
export function useResponseServer(): ResponseServer {
  let server: Server;
  const state = { url: '', pending: [] as Array<(res: ServerResponse) => void> };
  beforeAll(async () => {
    server = createServer((_req, res) => state.pending.shift()!(res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return state;
}
