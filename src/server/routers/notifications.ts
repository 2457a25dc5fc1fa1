import { z } from 'zod';
import { authedProcedure, router } from '../trpc/init';
import { listNotifications } from '../data/notifications';

export const notificationsRouter = router({
  /** The tenant's newest notifications (the toasts' history). */
  list: authedProcedure
    .input(z.object({ limit: z.number().int().min(1).max(200).optional() }).strict().optional())
    .query(({ ctx, input }) => listNotifications(ctx.db, ctx.session.tenantId, input?.limit ?? 50)),
});
