import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { authedProcedure, router } from '../../trpc/init';
import { createOrder, getOrder, listOrders, ORDER_STATUSES, updateOrderStatus, type Order } from '../data/orders';
import { domain } from './errors';

const orderId = z.string().min(1).max(64);

export const ordersRouter = router({
  list: authedProcedure
    .input(
      z
        .object({
          status: z.enum(ORDER_STATUSES).optional(),
          search: z.string().trim().max(100).optional(),
          limit: z.number().int().min(1).max(200).optional(),
        })
        .strict()
        .optional(),
    )
    .query(({ ctx, input }) => listOrders(ctx.db, ctx.session.tenantId, input ?? {})),

  byId: authedProcedure.input(z.object({ id: orderId }).strict()).query(({ ctx, input }) => {
    const order = getOrder(ctx.db, ctx.session.tenantId, input.id);
    if (!order) throw new TRPCError({ code: 'NOT_FOUND', message: `Order ${input.id} does not exist` });
    return order;
  }),

  create: authedProcedure
    .meta({
      invalidates: ({ output }: { output: Order }) => [
        { resource: 'orders', id: output.id, action: 'created' },
        ...output.items.map((item) => ({ resource: 'products' as const, id: item.productId, action: 'updated' as const })),
      ],
    })
    .input(
      z
        .object({
          customer: z.string().trim().min(1, 'Customer is required').max(120),
          items: z
            .array(z.object({ productId: z.string().min(1).max(64), quantity: z.number().int().min(1).max(1000) }).strict())
            .min(1, 'An order needs at least one item')
            .max(50),
        })
        .strict(),
    )
    .mutation(({ ctx, input }) => domain(() => createOrder(ctx.db, ctx.session.tenantId, input))),

  updateStatus: authedProcedure
    .meta({ invalidates: ({ input }: { input: { id: string } }) => [{ resource: 'orders', id: input.id, action: 'updated' }] })
    .input(z.object({ id: orderId, status: z.enum(ORDER_STATUSES) }).strict())
    .mutation(({ ctx, input }) => domain(() => updateOrderStatus(ctx.db, ctx.session.tenantId, input.id, input.status))),
});
