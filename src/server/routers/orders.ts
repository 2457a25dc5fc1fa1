import { TRPCError } from '@trpc/server';
import { z } from 'zod';
import { authedProcedure, live, router } from '../trpc/init';
import { changeOrderStatus, createOrder, getOrder, listOrders, ORDER_STATUSES, type Order } from '../data/orders';
import { getProduct } from '../data/products';
import { notify } from '../notify';
import { takeTurn } from '../requestLimits';
import { domain } from '../trpc/domainErrors';

// One formatter for the process: toLocaleString with options builds an Intl.NumberFormat per call
// (~20 us warm, 0.06 ms per order mutation in a production CPU profile); format() on a kept one ~0.5 us.
const dollars = new Intl.NumberFormat('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const money = (cents: number) => `$${dollars.format(cents / 100)}`;

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
    // A search yields between slices of its scan: the next slice waits for this user's next turn.
    .query(({ ctx, input }) => listOrders(ctx.db, ctx.session.tenantId, input ?? {}, () => takeTurn(ctx, 'query'))),

  byId: authedProcedure.input(z.object({ id: orderId }).strict()).query(({ ctx, input }) => {
    const order = getOrder(ctx.db, ctx.session.tenantId, input.id);
    if (!order) throw new TRPCError({ code: 'NOT_FOUND', message: `Order ${input.id} does not exist` });
    return order;
  }),

  create: authedProcedure
    .meta({
      invalidates: {
        resources: ['orders', 'products'],
        keys: ({ output }: { output: Order }) => [
          { resource: 'orders', id: output.id, action: 'created' },
          ...output.items.map((item) => ({ resource: 'products' as const, id: item.productId, action: 'updated' as const })),
        ],
      },
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
    .mutation(async ({ ctx, input }) => {
      const tenantId = ctx.session.tenantId;
      const order = domain(() => createOrder(ctx.db, tenantId, input));
      const hub = live.hub();
      await notify(ctx.db, hub, tenantId, {
        kind: 'order.created',
        title: `Order #${order.number} from ${order.customer}`,
        body: `${money(order.totalCents)} · by ${ctx.session.name}`,
        link: `/orders/${order.id}`,
      });
      for (const item of order.items) {
        const product = getProduct(ctx.db, tenantId, item.productId);
        // Notify once, when this order took the product to or under its threshold.
        if (product && product.stock <= product.lowStockThreshold && product.stock + item.quantity > product.lowStockThreshold) {
          await notify(ctx.db, hub, tenantId, {
            kind: 'stock.low',
            title: `Low stock: ${product.name}`,
            body: `${product.stock} left (threshold ${product.lowStockThreshold})`,
            link: '/products',
          });
        }
      }
      return order;
    }),

  updateStatus: authedProcedure
    .meta({
      invalidates: {
        resources: ['orders'],
        // Setting the status an order already has changes nothing: no reader needs to refetch.
        keys: ({ input, output }: { input: { id: string }; output: { changed: boolean } }) =>
          output.changed ? [{ resource: 'orders', id: input.id, action: 'updated' }] : [],
      },
    })
    .input(z.object({ id: orderId, status: z.enum(ORDER_STATUSES) }).strict())
    .mutation(async ({ ctx, input }) => {
      const { order, previous, changed } = domain(() => changeOrderStatus(ctx.db, ctx.session.tenantId, input.id, input.status));
      if (order.status === 'paid' && previous !== 'paid') {
        await notify(ctx.db, live.hub(), ctx.session.tenantId, {
          kind: 'order.paid',
          title: `Order #${order.number} paid`,
          body: `${money(order.totalCents)} from ${order.customer}`,
          link: `/orders/${order.id}`,
        });
      }
      // `changed`: false when the order already had this status (nothing was written or published).
      return { ...order, changed };
    }),
});
