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
    // As trpcHandler.ts builds it: headers, response headers and tRPC connection params.
    createContext: ({ req, headers, resHeaders, info }) => {
      const input = { headers, resHeaders, connectionParams: info.connectionParams, remoteAddress: req.socket.remoteAddress };
      return createContext(input);
    },
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') console.error(`[trpc] ${path}:`, error);
    },
  });
}
