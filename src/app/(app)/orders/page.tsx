import { OrdersView } from './OrdersView';

export const metadata = { title: 'Orders · trpc-live' };

export default function OrdersPage() {
  return <OrdersView />;
}
