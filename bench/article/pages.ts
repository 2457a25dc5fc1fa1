import type { TRPCOptionsProxy } from '@trpc/tanstack-react-query';
import type { AppRouter } from '../../src/server/routers/_app';

/** A page of the app as a tab holds it: its name and the queries it keeps observed. */
export interface PageSpec {
  readonly name: string;
  /** The page's queries, built exactly as its components call `queryOptions`. */
  queries(trpc: TRPCOptionsProxy<AppRouter>, context: { orderId: string }): ReadonlyArray<{ queryKey: readonly unknown[] } & object>;
}

/**
 * The six live pages and the queries each issues, read from src/app/(app):
 * the layout (nav, live badge, toasts) issues none.
 * Keep in step with the components named in each comment.
 */
export const PAGES: readonly PageSpec[] = [
  // orders/OrdersView.tsx (list with the default filter, stats for the count) and orders/CreateOrder.tsx (products).
  {
    name: 'orders',
    queries: (trpc) => [trpc.orders.list.queryOptions({ limit: 50 }), trpc.dashboard.stats.queryOptions(), trpc.products.list.queryOptions()],
  },
  // orders/[id]/OrderDetail.tsx
  { name: 'order detail', queries: (trpc, { orderId }) => [trpc.orders.byId.queryOptions({ id: orderId })] },
  // products/ProductsView.tsx
  { name: 'products', queries: (trpc) => [trpc.products.list.queryOptions()] },
  // dashboard/DashboardView.tsx
  { name: 'dashboard', queries: (trpc) => [trpc.dashboard.stats.queryOptions(), trpc.orders.list.queryOptions({ limit: 6 })] },
  // notifications/NotificationsView.tsx
  { name: 'notifications', queries: (trpc) => [trpc.notifications.list.queryOptions()] },
  // imports/ImportsView.tsx
  { name: 'import', queries: (trpc) => [trpc.imports.list.queryOptions(), trpc.products.list.queryOptions()] },
];
