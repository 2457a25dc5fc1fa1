import { live, router } from '../trpc/init';
import { authRouter } from './auth';
import { dashboardRouter } from './dashboard';
import { importsRouter } from './imports';
import { inspectorRouter } from './inspector';
import { liveRouter } from './live';
import { notificationsRouter } from './notifications';
import { ordersRouter } from './orders';
import { productsRouter } from './products';

/**
 * The app's router, handed to the live binding (`live.bindRouter`) so the
 * function form of `invalidates` sees the parsed input. Bound here rather
 * than imported by init.ts: every router imports init.ts, so importing this
 * module there would close a cycle.
 */
export const appRouter = live.bindRouter(
  router({
    auth: authRouter,
    orders: ordersRouter,
    products: productsRouter,
    dashboard: dashboardRouter,
    notifications: notificationsRouter,
    imports: importsRouter,
    inspector: inspectorRouter,
    live: liveRouter,
  }),
);

export type AppRouter = typeof appRouter;
