import { authedProcedure, router } from '../../trpc/init';
import { listProducts } from '../data/products';

export const productsRouter = router({
  list: authedProcedure.query(({ ctx }) => listProducts(ctx.db, ctx.session.tenantId)),
});
