import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { fenceHeader, LIVE_FENCE_HEADER } from '../live/trpc';
import { createContext } from './context';
import { appRouter } from './routers/_app';

/** Where tRPC is mounted. */
export const TRPC_ENDPOINT = '/api/trpc';

/**
 * The stock tRPC HTTP handler (fetch API): the Next.js route serves it, and
 * tests mount it on a loopback port. Adds the read-your-writes fence header.
 */
export function handleTrpcRequest(req: Request): Promise<Response> {
  return fetchRequestHandler({
    endpoint: TRPC_ENDPOINT,
    req,
    router: appRouter,
    createContext: ({ req, resHeaders, info }) =>
      createContext({ headers: req.headers, resHeaders, connectionParams: info.connectionParams }),
    responseMeta({ ctx }) {
      const fence = fenceHeader(ctx?.live);
      return fence ? { headers: { [LIVE_FENCE_HEADER]: fence } } : {};
    },
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') console.error(`[trpc] ${path ?? '?'}:`, error);
    },
  });
}
