import { liveStreamInput } from '../../live/trpc';
import { authedProcedure, live, router } from '../../trpc/init';

export const liveRouter = router({
  /**
   * The tenant's live signals. Served by the fast transport in production
   * (same context, input and middleware) and by the stock route in `next dev`.
   */
  stream: authedProcedure
    .input(liveStreamInput.optional())
    .subscription(({ ctx, input, signal }) => live.stream(ctx, input, signal)),
});
