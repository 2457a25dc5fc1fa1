import { router } from '../trpc/init';
import { authRouter } from './auth';
import { dashboardRouter } from './dashboard';
import { importsRouter } from './imports';
import { inspectorRouter } from './inspector';
import { liveRouter } from './live';
import { notificationsRouter } from './notifications';
import { ordersRouter } from './orders';
import { productsRouter } from './products';

export const appRouter = router({
  auth: authRouter,
  orders: ordersRouter,
  products: productsRouter,
  dashboard: dashboardRouter,
  notifications: notificationsRouter,
  imports: importsRouter,
  inspector: inspectorRouter,
  live: liveRouter,
});

export type AppRouter = typeof appRouter;
