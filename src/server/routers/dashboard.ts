import { authedProcedure, router } from '../trpc/init';
import { dashboardStats } from '../data/dashboard';

export const dashboardRouter = router({
  /** Revenue, order counts, low stock and best sellers. A dependent of `orders` and `products` in the registry. */
  stats: authedProcedure.query(({ ctx }) => dashboardStats(ctx.db, ctx.session.tenantId)),
});
