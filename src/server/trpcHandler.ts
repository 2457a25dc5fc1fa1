import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { fenceHeader, LIVE_FENCE_HEADER } from '../live/trpc';
import { MAX_BATCH_SIZE } from '../trpc/batchLimit';
import { createContext } from './context';
import { getRequestLimits, type RequestAdmission } from './requestLimits';
import { appRouter } from './routers/_app';

/** Where tRPC is mounted. */
export const TRPC_ENDPOINT = '/api/trpc';

/**
 * The stock tRPC HTTP handler (fetch API): the Next.js route serves it, and
 * tests mount it on a loopback port. Adds the read-your-writes fence header.
 */
export async function handleTrpcRequest(req: Request): Promise<Response> {
  // Batches of at most MAX_BATCH_SIZE calls; per user, a bound on requests in flight and turns for their calls.
  const admission = getRequestLimits().begin();
  try {
    return admission.finish(await handleAdmitted(req, admission));
  } catch (error) {
    admission.abandon();
    throw error;
  }
}

function handleAdmitted(req: Request, admission: RequestAdmission): Promise<Response> {
  return fetchRequestHandler({
    endpoint: TRPC_ENDPOINT,
    req,
    router: appRouter,
    maxBatchSize: MAX_BATCH_SIZE,
    createContext: async ({ req, resHeaders, info }) =>
      admission.admit(await createContext({ headers: req.headers, resHeaders, connectionParams: info.connectionParams }), info, resHeaders),
    responseMeta({ ctx }) {
      const fence = fenceHeader(ctx?.live);
      return fence ? { headers: { [LIVE_FENCE_HEADER]: fence } } : {};
    },
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') console.error(`[trpc] ${path ?? '?'}:`, error);
    },
  });
}
