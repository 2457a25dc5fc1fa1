import { TRPCError, type AnyTRPCRouter } from '@trpc/server';
import { MAX_IMPORT_BODY_BYTES } from './routers/imports';
import { trpcErrorResponse } from './trpcErrorResponse';

/** Largest request body of a tRPC call, in bytes, unless {@link BODY_LIMITS} raises it for its procedure. */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;

/**
 * Procedures whose input needs a larger body. A batch gets the largest limit
 * of the procedures it names (as if each were called alone).
 */
const BODY_LIMITS: Readonly<Record<string, number>> = {
  'imports.start': MAX_IMPORT_BODY_BYTES,
};

/** The largest body any tRPC call may have: what a transport in front must let through. */
export const MAX_TRPC_BODY_BYTES = Math.max(DEFAULT_MAX_BODY_BYTES, ...Object.values(BODY_LIMITS));

/** The body limit of a request to `pathname` (`<endpoint>/<path>[,<path>…]`). */
export function maxBodyBytesFor(pathname: string, endpoint: string): number {
  let paths: string[];
  try {
    paths = decodeURIComponent(pathname.slice(endpoint.length + 1)).split(',');
  } catch {
    // Malformed %-encoding names no procedure: the default limit, and tRPC answers 400 for the path (was a 500
    // before the body was read, found by a black-box probe: `POST /api/trpc/%E0%A4%A`).
    return DEFAULT_MAX_BODY_BYTES;
  }
  let limit = DEFAULT_MAX_BODY_BYTES;
  for (const path of paths) limit = Math.max(limit, BODY_LIMITS[path] ?? 0);
  return limit;
}

function tooLarge(limit: number, pathname: string, endpoint: string): TRPCError {
  const paths = pathname.slice(endpoint.length + 1);
  const which = paths && BODY_LIMITS[paths] !== undefined ? `the limit of ${paths}` : 'the limit of this request';
  return new TRPCError({
    code: 'PAYLOAD_TOO_LARGE',
    message: `The request body is larger than ${limit.toLocaleString('en')} bytes (${(limit / 1_048_576).toFixed(1)} MiB), ${which}`,
  });
}

/**
 * Bounds the body of a tRPC request by its procedure's limit: a declared
 * `Content-Length` above it is answered at once, without reading, one within
 * it is trusted (the HTTP parser delivers no more); a body without one is
 * counted as it is read and fails past the limit, which tRPC
 * answers with that error. Either way the client gets 413
 * (`PAYLOAD_TOO_LARGE`) with a message naming the limit. Serves the Next
 * route (which sets no limit of its own on route handlers) and the Node
 * entry alike.
 *
 * Security duty: no request body larger than its procedure needs is held in
 * memory; the largest, {@link MAX_TRPC_BODY_BYTES}, only for the procedures
 * that declare it.
 */
export function limitRequestBody(req: Request, router: AnyTRPCRouter, endpoint: string): Request | Response {
  if (!req.body) return req;
  const { pathname } = new URL(req.url);
  const limit = maxBodyBytesFor(pathname, endpoint);
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (declared > limit) return trpcErrorResponse(router, tooLarge(limit, pathname, endpoint));
  // A declared length within the limit bounds the body already: Node's HTTP parser (behind the Node entry and
  // the Next route alike) delivers exactly Content-Length bytes and refuses a request that also sends
  // Transfer-Encoding. Only a body without one is counted: the counting TransformStream and the second Request
  // were ~0.2 ms of server CPU per tRPC POST (production CPU profile of 200 order mutations).
  if (declared >= 0) return req;
  let size = 0;
  const counted = req.body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        size += chunk.byteLength;
        if (size > limit) controller.error(tooLarge(limit, pathname, endpoint));
        else controller.enqueue(chunk);
      },
    }),
    // Not cancelling the source: on Node that destroys the socket before the 413 is written; the transport
    // drops what is left of the body instead (see nodeHandlerFromFetch).
    { preventCancel: true },
  );
  return new Request(req.url, { method: req.method, headers: req.headers, body: counted, signal: req.signal, duplex: 'half' } as RequestInit);
}

