import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { authedProcedure, router } from '../trpc/init';
import { adjustStock, getProduct, listProducts, MAX_STOCK, setLowStockThreshold } from '../data/products';
import { domain } from '../trpc/domainErrors';

const productId = z.string().min(1).max(64);

export const productsRouter = router({
  list: authedProcedure.query(({ ctx }) => listProducts(ctx.db, ctx.session.tenantId)),

  byId: authedProcedure.input(z.object({ id: productId }).strict()).query(({ ctx, input }) => {
    const product = getProduct(ctx.db, ctx.session.tenantId, input.id);
    if (!product) throw new TRPCError({ code: 'NOT_FOUND', message: `Product ${input.id} does not exist` });
    return product;
  }),

  /** Receives (positive) or writes off (negative) stock. */
  adjustStock: authedProcedure
    .meta({ invalidates: { resources: ['products'], keys: ({ input }: { input: { id: string } }) => [{ resource: 'products', id: input.id, action: 'updated' }] } })
    .input(
      z
        .object({
          id: productId,
          delta: z
            .number()
            .int()
            .min(-MAX_STOCK)
            .max(MAX_STOCK)
            .refine((n) => n !== 0, 'Change the stock by at least one unit'),
        })
        .strict(),
    )
    .mutation(({ ctx, input }) => domain(() => adjustStock(ctx.db, ctx.session.tenantId, input.id, input.delta))),

  setLowStockThreshold: authedProcedure
    .meta({ invalidates: { resources: ['products'], keys: ({ input }: { input: { id: string } }) => [{ resource: 'products', id: input.id, action: 'updated' }] } })
    .input(z.object({ id: productId, threshold: z.number().int().min(0).max(10_000) }).strict())
    .mutation(({ ctx, input }) =>
      domain(() => setLowStockThreshold(ctx.db, ctx.session.tenantId, input.id, input.threshold)),
    ),
});
