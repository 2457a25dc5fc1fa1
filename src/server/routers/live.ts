import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { liveStreamInput } from '../../live/trpc';
import { authedProcedure, live, router } from '../../trpc/init';

const connectionInput = z.object({ connectionId: z.string().min(1).max(64) }).strict();

/**
 * The caller's own stream by id (from its `hello`). Security: a stream of
 * another user or tenant is NOT_FOUND, indistinguishable from a closed one.
 */
function ownConnection(ctx: { session: { tenantId: string; userId: string } }, connectionId: string) {
  const connection = live.hub().connection(connectionId);
  if (!connection || connection.scope !== ctx.session.tenantId || connection.groups.user !== ctx.session.userId) {
    throw new TRPCError({ code: 'NOT_FOUND', message: 'No such live connection' });
  }
  return connection;
}

export const liveRouter = router({
  /**
   * The tenant's live signals. Served by the fast transport in production
   * (same context, input and middleware) and by the stock route in `next dev`.
   */
  stream: authedProcedure
    .input(liveStreamInput.optional())
    .subscription(({ ctx, input, signal }) => live.stream(ctx, input, signal)),

  /**
   * Holds the stream's idempotent signals as dirty keys (every tab of the
   * browser is hidden): nothing is written until {@link resume}, which sends
   * the latest state per key.
   */
  pause: authedProcedure.input(connectionInput).mutation(({ ctx, input }) => {
    const connection = ownConnection(ctx, input.connectionId);
    connection.pause();
    return { paused: connection.paused };
  }),

  /** Resumes a paused stream and writes what is pending at once. */
  resume: authedProcedure.input(connectionInput).mutation(({ ctx, input }) => {
    const connection = ownConnection(ctx, input.connectionId);
    connection.resume();
    return { paused: connection.paused };
  }),
});
