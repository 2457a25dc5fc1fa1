import { TRPCError } from '@trpc/server';
import { authedProcedure, live, router } from '../trpc/init';
import { getLiveStats } from '../liveStats';

/** How often the inspector's watch pushes a snapshot. */
export const INSPECTOR_INTERVAL_MS = 1000;

/** Resolves after `ms`, or at once when `signal` aborts (no timer outlives the stream). */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * The inspector shows every live connection of the tenant with user ids and
 * recent signal summaries: admins only (least exposure), staff get FORBIDDEN.
 */
const adminProcedure = authedProcedure.use(({ ctx, next }) => {
  if (ctx.session.role !== 'admin') throw new TRPCError({ code: 'FORBIDDEN', message: 'The live inspector is for admins only' });
  return next();
});

export const inspectorRouter = router({
  /** The caller tenant's picture of the live layer, once. */
  snapshot: adminProcedure.query(({ ctx }) => getLiveStats().snapshot(live.hub(), ctx.session.tenantId)),

  /**
   * The same picture pushed every second while the inspector page is open: a
   * server-side timer tied to the request's signal, not client polling. It is
   * a plain tRPC subscription, not a hub stream: watching does not show up
   * as a live connection or add signals to what it watches.
   */
  watch: adminProcedure.subscription(async function* ({ ctx, signal }) {
    const stats = getLiveStats();
    while (!signal?.aborted) {
      // A draining server ends the watch (retryable) so shutdown does not wait for it.
      if (live.hub().draining) throw new TRPCError({ code: 'SERVICE_UNAVAILABLE', message: 'Server restarting' });
      yield stats.snapshot(live.hub(), ctx.session.tenantId);
      await pause(INSPECTOR_INTERVAL_MS, signal);
    }
  }),
});
