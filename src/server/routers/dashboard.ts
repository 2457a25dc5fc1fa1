import { authedProcedure, router } from '../trpc/init';
import { dashboardStats } from '../data/dashboard';

export const dashboardRouter = router({
  /** Revenue, order counts, low stock and best sellers. Read by every change of `orders` and `products` (registry), pushed per tenant. */
  stats: authedProcedure.query(({ ctx }) => dashboardStats(ctx.db, ctx.session.tenantId)),
});
