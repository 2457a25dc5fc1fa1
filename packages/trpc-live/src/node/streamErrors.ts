import type { AnyTRPCRouter, TRPCError } from '@trpc/server';
import { getErrorShape } from '@trpc/server/unstable-core-do-not-import';
import { sseSerializedError } from './sseFormat.ts';

/**
 * Builds a live stream's `serialized-error` events with the router's own error shape.
 * @remarks Unstable: see {@link createStreamErrors}.
 */
export interface StreamErrors {
  /**
   * The event for `error` (as tRPC's `formatError` of the SSE producer shapes it). A stream the
   * close policy ends with an error (`streamEnd`) gets it with no input or context, as the stock route's.
   */
  event(error: TRPCError, input?: unknown, ctx?: unknown): string;
}

/**
 * Error events of the live procedure at `path`: `getErrorShape` (the
 * router's `errorFormatter`) serialized with the router's transformer, as
 * tRPC's route does for a subscription.
 *
 * @remarks Unstable: calls `getErrorShape` from
 * `@trpc/server/unstable-core-do-not-import`, so the error a client gets
 * from the fast transport is byte for byte the one the stock route sends.
 * It may change with tRPC's internals. See the package README, "Entry points, and what is unstable".
 */
export function createStreamErrors(router: AnyTRPCRouter, path: string): StreamErrors {
  const config = router._def._config;
  return {
    event: (error, input, ctx) =>
      sseSerializedError(
        config.transformer.output.serialize(getErrorShape({ config, error, type: 'subscription', path, input, ctx })),
      ),
  };
}
