import { z } from 'zod';
import { liveStreamInput, liveWatchInput, toTRPCError } from 'trpc-live/trpc';
import { authedProcedure, live, router, streamProcedure } from '../trpc/init';

const connectionInput = z.object({ connectionId: z.string().min(1).max(64) }).strict();

/**
 * Pauses or resumes the caller's own stream. Security: the hub checks the
 * owner (tenant and user); another user's stream is NOT_FOUND, the same
 * answer as a closed one. Hub errors answer through the library's mapping
 * (`toTRPCError`), like the stream's own.
 */
function setPaused(ctx: { session: { tenantId: string; userId: string } }, connectionId: string, paused: boolean) {
  try {
    live.hub().setPaused(connectionId, paused, { scope: ctx.session.tenantId, groups: { user: ctx.session.userId } });
  } catch (error) {
    throw toTRPCError(error);
  }
  return { paused };
}

export const liveRouter = router({
  /**
   * The tenant's live signals. Served by the fast transport in production
   * (same context, input and middleware) and by the stock route in `next dev`.
   */
  stream: streamProcedure
    .input(liveStreamInput.optional())
    .subscription(({ ctx, input, signal }) => live.stream(ctx, input, signal)),

  /**
   * Every tab of the browser is hidden: hold the stream's idempotent signals
   * as dirty keys (latest per key) until {@link resume}.
   */
  pause: authedProcedure.input(connectionInput).mutation(({ ctx, input }) => setPaused(ctx, input.connectionId, true)),

  /** A tab is visible again: deliver what is pending at once. */
  resume: authedProcedure.input(connectionInput).mutation(({ ctx, input }) => setPaused(ctx, input.connectionId, false)),

  /**
   * Which pushed queries the caller's stream watches (every tab of the
   * browser, batched by the client). Each added watch is authorized by
   * calling the query with this call's context; another user's stream is
   * NOT_FOUND. After a change the server computes each watched query once
   * per tenant and pushes the result on the stream.
   */
  watch: authedProcedure.input(liveWatchInput).mutation(({ ctx, input }) => live.watch(ctx, input)),
});
