import { OrderDetail } from './OrderDetail';

export const metadata = { title: 'Order · trpc-live' };

export default async function OrderPage({ params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return <OrderDetail id={id} />;
}
