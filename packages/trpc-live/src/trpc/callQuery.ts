import { TRPCError, type AnyTRPCRouter } from '@trpc/server';
// tRPC's own call path (procedure lookup, input parsers, middleware, output); @trpc/* is pinned to
// one exact version, so this internal entry point cannot drift under us.
import { callProcedure, getTRPCErrorFromUnknown } from '@trpc/server/unstable-core-do-not-import';

/** Longest refusal message passed on to the client. */
const MAX_MESSAGE_LENGTH = 300;

/**
 * Calls query `path` with `input` (as the client passes it) and `ctx`, the
 * way tRPC's HTTP handler does: the procedure's input parsers and its
 * middleware run, so a caller who may not fetch it gets the same error.
 *
 * @remarks Unstable: uses `callProcedure` from
 * `@trpc/server/unstable-core-do-not-import`. See the package README,
 * "Entry points, and what is unstable".
 */
export function callQuery(router: AnyTRPCRouter, path: string, input: unknown, ctx: unknown): Promise<unknown> {
  return callProcedure({
    router,
    path,
    type: 'query',
    ctx,
    getRawInput: async () => input,
    signal: undefined,
    batchIndex: 0,
  });
}

/**
 * What a caller may be told about a failed query: the message of a client
 * error (NOT_FOUND, FORBIDDEN, BAD_REQUEST…), which the app wrote for
 * clients, shortened; never the text of a server error.
 */
export function safeMessage(error: unknown): string {
  const trpcError = error instanceof TRPCError ? error : getTRPCErrorFromUnknown(error);
  if (trpcError.code === 'INTERNAL_SERVER_ERROR') return 'The query failed on the server';
  return trpcError.message.length > MAX_MESSAGE_LENGTH ? `${trpcError.message.slice(0, MAX_MESSAGE_LENGTH)}…` : trpcError.message;
}

/** True for errors a query throws on purpose for its caller (4xx), as opposed to a server failure. */
export function isClientError(error: unknown): boolean {
  return getTRPCErrorFromUnknown(error).code !== 'INTERNAL_SERVER_ERROR';
}
