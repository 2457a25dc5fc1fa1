import { createLiveTransport, type LiveTransport } from 'trpc-live/node';
import { createContext } from './context';
import { appRouter } from './routers/_app';
import { TRPC_ENDPOINT } from './trpcHandler';

/**
 * The fast live transport wired to the app: the same router, context
 * factory and endpoint as the stock tRPC handler (`trpcHandler.ts`), so the
 * live stream is authenticated and validated by one code path. Mounted by
 * `src/main.ts` (and by tests through `serveTrpc({ transport: 'fast' })`).
 */
export function createAppLiveTransport(): LiveTransport {
  return createLiveTransport({
    router: appRouter,
    endpoint: TRPC_ENDPOINT,
    path: 'live.stream',
    // As trpcHandler.ts builds it (headers, response headers, tRPC connection params), but without the socket's
    // peer address: only sign-in's per-address limit reads `ctx.clientAddress`, never the live procedure, and
    // `req.socket.remoteAddress` is a getpeername() system call per stream open: ~18 µs, 3-4% of a reconnect's
    // server CPU in a 10,000-stream reconnect storm (CPU profile, 2026-12-07). The stream's `clientAddress` is
    // then what the stock route (Next, no socket) gives it: from X-Forwarded-For behind TRUST_PROXY, else null.
    createContext: ({ headers, resHeaders, info }) => createContext({ headers, resHeaders, connectionParams: info.connectionParams }),
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') console.error(`[trpc] ${path}:`, error);
    },
  });
}
