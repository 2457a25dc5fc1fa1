import { fetchRequestHandler } from '@trpc/server/adapters/fetch';
import { withLiveRetryHint } from 'trpc-live/next';
import { fenceHeader, LIVE_FENCE_HEADER } from 'trpc-live/trpc';
import { MAX_BATCH_SIZE } from '../trpc/batchLimit';
import { createContext } from './context';
import { oversizedBatchResponse } from './batchGuard';
import { limitRequestBody } from './bodyLimit';
import { crossSiteRefusalResponse } from './csrfGuard';
import { getRequestLimits, type RequestAdmission } from './requestLimits';
import { appRouter } from './routers/_app';

/** Where tRPC is mounted. */
export const TRPC_ENDPOINT = '/api/trpc';

/**
 * The stock tRPC HTTP handler (fetch API): the Next.js route serves it, and
 * tests mount it on a loopback port. Adds the read-your-writes fence header.
 */
export function handleTrpcRequest(req: Request): Promise<Response> {
  return handleTrpcRequestFrom(req, undefined);
}

/**
 * {@link handleTrpcRequest} with the socket's peer address, which the Node
 * entry knows and the Next route does not (per-address sign-in limits).
 */
export async function handleTrpcRequestFrom(request: Request, remoteAddress: string | undefined): Promise<Response> {
  // Security: a POST that could carry or set the session cookie must be same-origin JSON (csrfGuard.ts).
  const crossSite = crossSiteRefusalResponse(request, appRouter);
  if (crossSite) return crossSite;
  // Batches of at most MAX_BATCH_SIZE calls, refused before any call runs or the body is read.
  const oversized = oversizedBatchResponse(request, appRouter, TRPC_ENDPOINT);
  if (oversized) return oversized;
  // Bodies bounded per procedure (bodyLimit.ts): 413 naming the limit, on this path and the Next route alike.
  const req = limitRequestBody(request, appRouter, TRPC_ENDPOINT);
  if (req instanceof Response) return req;
  // Per user, a bound on requests in flight and turns for their calls.
  const admission = getRequestLimits().begin();
  try {
    // A live stream the server closes (drain, rotation) ends with the hint's `retry:`, as on the fast transport.
    return admission.finish(withLiveRetryHint(await handleAdmitted(req, admission, remoteAddress), appRouter));
  } catch (error) {
    admission.abandon();
    throw error;
  }
}

function handleAdmitted(req: Request, admission: RequestAdmission, remoteAddress: string | undefined): Promise<Response> {
  return fetchRequestHandler({
    endpoint: TRPC_ENDPOINT,
    req,
    router: appRouter,
    maxBatchSize: MAX_BATCH_SIZE,
    createContext: async ({ req, resHeaders, info }) =>
      admission.admit(
        await createContext({ headers: req.headers, resHeaders, connectionParams: info.connectionParams, remoteAddress }),
        info,
        resHeaders,
      ),
    responseMeta({ ctx }) {
      const fence = fenceHeader(ctx?.publishLog);
      return fence ? { headers: { [LIVE_FENCE_HEADER]: fence } } : {};
    },
    onError({ error, path }) {
      if (error.code === 'INTERNAL_SERVER_ERROR') console.error(`[trpc] ${path ?? '?'}:`, error);
    },
  });
}
