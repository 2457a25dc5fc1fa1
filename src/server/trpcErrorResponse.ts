import type { AnyTRPCRouter, TRPCError } from '@trpc/server';
import { getHTTPStatusCodeFromError } from '@trpc/server/http';
import { getErrorShape, transformTRPCResponse } from '@trpc/server/unstable-core-do-not-import';

/**
 * A whole-request error answered before tRPC's handler runs, in the bytes
 * tRPC's handler would send: the router's error shape (its `errorFormatter`)
 * through its transformer, with the HTTP status of the error's code, so a
 * tRPC client shows the message. Leans on tRPC's unstable core
 * (`getErrorShape`), like the stream errors of `live/node`.
 */
export function trpcErrorResponse(router: AnyTRPCRouter, error: TRPCError): Response {
  const config = router._def._config;
  const shape = getErrorShape({ config, error, type: 'unknown', path: undefined, input: undefined, ctx: undefined });
  return new Response(JSON.stringify(transformTRPCResponse(config, { error: shape })), {
    status: getHTTPStatusCodeFromError(error),
    headers: { 'content-type': 'application/json' },
  });
}
