import { router } from '../../trpc/init';
import { authRouter } from './auth';
import { liveRouter } from './live';
import { ordersRouter } from './orders';
import { productsRouter } from './products';

export const appRouter = router({
  auth: authRouter,
  orders: ordersRouter,
  products: productsRouter,
  live: liveRouter,
});

export type AppRouter = typeof appRouter;
