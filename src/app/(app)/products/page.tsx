import { ProductsView } from './ProductsView';

export const metadata = { title: 'Products · trpc-live' };

export default function ProductsPage() {
  return <ProductsView />;
}
