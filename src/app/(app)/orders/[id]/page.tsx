import { HydrateClient, prefetch, trpc } from '../../../../server/trpc/prefetch';
import { OrderDetail } from './OrderDetail';

export const metadata = { title: 'Order · trpc-live' };

/** Rendered with the order's data (tRPC's server prefetch); the live stream replays what changed since. */
export default async function OrderPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  await prefetch(trpc.orders.byId.queryOptions({ id }));
  return (
    <HydrateClient>
      <OrderDetail id={id} />
    </HydrateClient>
  );
}
