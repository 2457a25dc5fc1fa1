import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { nodeHandlerFromFetch, type LiveTransport } from 'trpc-live/node';
import { createAppLiveTransport } from '../../src/server/appLiveTransport';
import { handleTrpcRequestFrom } from '../../src/server/trpcHandler';
import { DEMO_PASSWORD } from '../../src/server/db/seed';

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
  const trpc = nodeHandlerFromFetch((request, req) => handleTrpcRequestFrom(request, req.socket.remoteAddress), {
    maxBodySize: null, // as in src/main.ts: the handler bounds bodies per procedure
    onError: (error) => console.error('[test server]', error),
  });
  const server = createServer((req, res) => {
    if (live?.handle(req, res)) return;
    trpc(req, res);
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

/**
 * Signs in over HTTP as the browser does (same-origin JSON POST to
 * `auth.signIn` with a seeded user's password); resolves with the
 * `live_session=<token>` cookie pair. Throws when the sign-in fails.
 */
export async function signInOverHttp(url: string, email: string): Promise<string> {
  const res = await fetch(`${url}/api/trpc/auth.signIn`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: url },
    body: JSON.stringify({ json: { email, password: DEMO_PASSWORD } }),
  });
  await res.arrayBuffer();
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('live_session='));
  if (!res.ok || !cookie) throw new Error(`sign-in of ${email} failed: ${res.status}`);
  return cookie.split(';')[0]!;
}
