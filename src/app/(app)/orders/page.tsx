import { OrdersView } from './OrdersView';

export default function OrdersPage() {
  return <OrdersView />;
}
