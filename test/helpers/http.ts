import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { incomingMessageToRequest } from '@trpc/server/adapters/node-http';
import type { LiveTransport } from '../../src/live/node';
import { createAppLiveTransport } from '../../src/server/liveTransport';
import { handleTrpcRequest } from '../../src/server/trpcHandler';

/** Writes a fetch Response to a Node response, streaming the body until either side ends. */
async function sendResponse(response: Response, res: ServerResponse): Promise<void> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, key) => {
    if (key !== 'set-cookie') headers[key] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers['set-cookie'] = cookies;
  res.writeHead(response.status, headers);
  if (!response.body) return void res.end();
  const reader = response.body.getReader();
  res.once('close', () => void reader.cancel().catch(() => undefined));
  for (;;) {
    const { done, value } = await reader.read();
    if (done || res.destroyed) break;
    if (!res.write(value)) await new Promise((resolve) => res.once('drain', resolve));
  }
  res.end();
}

/** Options of {@link serveTrpc}. */
export interface ServeTrpcOptions {
  /**
   * Who serves GET /api/trpc/live.stream: `stock` (tRPC's fetch handler, as
   * in `next dev`) or `fast` (the fast transport, as in `src/main.ts`).
   * Everything else always goes to the stock handler. @default 'stock'
   */
  transport?: 'stock' | 'fast';
}

/**
 * Serves the app's real tRPC fetch handler (the one the Next route uses) on a
 * loopback port, through tRPC's own Node adapters; with `transport: 'fast'`
 * the live stream goes through the fast transport as in production.
 */
export async function serveTrpc(
  options: ServeTrpcOptions = {},
): Promise<{ server: Server; url: string; live: LiveTransport | null; close(): Promise<void> }> {
  const live = options.transport === 'fast' ? createAppLiveTransport() : null;
  const server = createServer((req, res) => {
    if (live?.handle(req, res)) return;
    const request = incomingMessageToRequest(req, res, { maxBodySize: 1_000_000 });
    handleTrpcRequest(request)
      .then((response) => sendResponse(response, res))
      .catch((error: unknown) => {
        console.error('[test server]', error);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    live,
    close: () =>
      new Promise<void>((resolve) => {
        live?.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
