import type { AnyTRPCRouter } from '@trpc/server';
import { fetchRequestHandler, type FetchHandlerRequestOptions } from '@trpc/server/adapters/fetch';
import { LIVE_FENCE_HEADER } from '../shared/fence.ts';
import { fenceHeader, publishLogOf, withPublishLog } from '../trpc/publishLog.ts';
import { appendRetryHint } from '../trpc/retryHint.ts';

/** Options of {@link createLiveRouteHandler}: `fetchRequestHandler`'s, without `req`. */
export type LiveRouteHandlerOptions<TRouter extends AnyTRPCRouter> = Omit<FetchHandlerRequestOptions<TRouter>, 'req'>;

type ResponseMetaFn = (opts: { ctx?: unknown }) => { status?: number; headers?: unknown } | undefined;

/**
 * A Next.js App Router handler (`export { handler as GET, handler as POST }`)
 * that serves the router with tRPC's `fetchRequestHandler` and adds what live
 * invalidation needs:
 * - each request's context gets a publish log (`withPublishLog`), and a
 *   mutation's response carries the `x-trpc-live-fence` header listing what it
 *   published, so the mutating tab refetches at once and skips the stream's
 *   copy (read-your-writes);
 * - a live stream the server ends for a drain or a rotation ends with the
 *   reconnect hint's `retry:` field, as on the fast transport.
 * Every other option (`endpoint`, `createContext`, `onError`, `responseMeta`,
 * `maxBatchSize`…) passes through unchanged; the fence header is added to
 * what your own `responseMeta` returns.
 */
export function createLiveRouteHandler<TRouter extends AnyTRPCRouter>(
  options: LiveRouteHandlerOptions<TRouter>,
): (req: Request) => Promise<Response> {
  const createContext = (options as { createContext?: (opts: unknown) => unknown }).createContext;
  const responseMeta = (options as { responseMeta?: ResponseMetaFn }).responseMeta;
  const handlerOptions = {
    ...options,
    createContext: async (opts: unknown) => {
      const ctx = createContext ? await createContext(opts) : {};
      return typeof ctx === 'object' && ctx !== null ? withPublishLog(ctx) : ctx;
    },
    responseMeta: (opts: { ctx?: unknown }) => {
      const meta = responseMeta?.(opts) ?? {};
      const fence = fenceHeader(publishLogOf(opts.ctx));
      if (!fence) return meta;
      const headers = meta.headers instanceof Headers ? new Headers(meta.headers) : { ...(meta.headers as object | undefined) };
      if (headers instanceof Headers) headers.set(LIVE_FENCE_HEADER, fence);
      else (headers as Record<string, string>)[LIVE_FENCE_HEADER] = fence;
      return { ...meta, headers };
    },
  };
  return async (req) => {
    const response = await fetchRequestHandler({ ...(handlerOptions as unknown as FetchHandlerRequestOptions<TRouter>), req });
    return withLiveRetryHint(response, options.router);
  };
}

/**
 * A stock-route live stream's response with the reconnect hint's `retry:`
 * added at its end (see `appendRetryHint`); any other response unchanged.
 * For apps that call `fetchRequestHandler` themselves.
 */
export function withLiveRetryHint(response: Response, router: AnyTRPCRouter): Response {
  if (!response.body || !response.headers.get('content-type')?.startsWith('text/event-stream')) return response;
  const { transformer } = router._def._config;
  const body = appendRetryHint(response.body, (value) => transformer.output.deserialize(value));
  return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
}
