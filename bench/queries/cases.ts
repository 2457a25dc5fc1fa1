import type { Db } from '../../src/server/db/database';
import { insertNotification } from '../../src/server/data/notifications';
import { createImport } from '../../src/server/data/imports';
import type { Caller } from '../../test/helpers/app';
import { insertManyOrders } from '../../test/helpers/manyOrders';

/** The tenant that holds the orders; every case reads it as its admin. */
export const TENANT = 'acme';

/** Order count of the goal (issue 17 item 7): each query at this many orders in one tenant. */
export const GOAL_ORDERS = 100_000;

/** The goal: each query the server may compute for its watchers, in ms, at {@link GOAL_ORDERS}. */
export const GOAL_MS = 5;

/** Ids the cases read by: a recent order, a product, an import. */
export interface CaseIds {
  readonly orderId: string;
  readonly productId: string;
  readonly importId: string;
}

/** One query call as a page (or a registry binding) makes it. */
export interface QueryCase {
  readonly name: string;
  /** Where the app reads it. */
  readonly page: string;
  call(caller: Caller, ids: CaseIds): Promise<unknown>;
}

/** Orders per page of the orders view (`OrdersView.tsx`'s PAGE). */
const PAGE = 50;

/**
 * Every query procedure a page keeps live (the registry's query bindings in
 * `src/trpc/resources.ts`), with the inputs the pages send; an orders search
 * in its costly forms (a miss reads past every order without an index).
 */
export const QUERY_CASES: readonly QueryCase[] = [
  { name: 'dashboard.stats', page: 'dashboard, orders', call: (c) => c.dashboard.stats() },
  { name: 'orders.list {limit: 6}', page: 'dashboard', call: (c) => c.orders.list({ limit: 6 }) },
  { name: 'orders.list {limit: 50}', page: 'orders', call: (c) => c.orders.list({ limit: PAGE }) },
  { name: 'orders.list {status: cancelled}', page: 'orders', call: (c) => c.orders.list({ status: 'cancelled', limit: PAGE }) },
  { name: "orders.list {search: 'Hopper 1'} (hit)", page: 'orders', call: (c) => c.orders.list({ search: 'Hopper 1', limit: PAGE }) },
  { name: "orders.list {search: 'Knuth 99'} (rare)", page: 'orders', call: (c) => c.orders.list({ search: 'Knuth 99', limit: PAGE }) },
  { name: "orders.list {search: 'nobody at all'} (miss)", page: 'orders', call: (c) => c.orders.list({ search: 'nobody at all', limit: PAGE }) },
  {
    name: "orders.list {status: paid, search: 'zzz'} (miss)",
    page: 'orders',
    call: (c) => c.orders.list({ status: 'paid', search: 'zzz', limit: PAGE }),
  },
  { name: "orders.list {search: 'zq'} (2-char miss)", page: 'orders', call: (c) => c.orders.list({ search: 'zq', limit: PAGE }) },
  { name: 'orders.byId', page: 'order', call: (c, ids) => c.orders.byId({ id: ids.orderId }) },
  { name: 'products.list', page: 'products, new order, imports', call: (c) => c.products.list() },
  { name: 'products.byId', page: '(registry)', call: (c, ids) => c.products.byId({ id: ids.productId }) },
  { name: 'notifications.list', page: 'notifications', call: (c) => c.notifications.list() },
  { name: 'imports.list', page: 'imports', call: (c) => c.imports.list() },
  { name: 'imports.byId', page: '(registry)', call: (c, ids) => c.imports.byId({ id: ids.importId }) },
];

/**
 * Fills {@link TENANT} with `orders` orders (`insertManyOrders`: deterministic,
 * oldest first), one notification per order (the app writes one per created
 * order) and `orders / 100` imports, and returns the ids the cases read.
 */
export function seedTenant(db: Db, orders: number): CaseIds {
  insertManyOrders(db, TENANT, orders);
  const now = Date.now();
  db.transaction(() => {
    for (let i = 0; i < orders; i++) {
      insertNotification(db, TENANT, { kind: 'order.created', title: `Order #${i + 1}`, link: `/orders/x${i}` }, now - (orders - i) * 1000);
    }
    for (let i = 0; i < Math.ceil(orders / 100); i++) {
      createImport(db, { tenantId: TENANT, userId: 'usr_alice', fileName: `orders-${i}.csv`, totalRows: 10 }, now - (orders - i) * 1000);
    }
  })();
  const one = <T>(sql: string) => (db.prepare(sql).get(TENANT) as { id: T }).id;
  return {
    orderId: one<string>('SELECT id FROM orders WHERE tenant_id = ? ORDER BY number DESC LIMIT 1'),
    productId: one<string>('SELECT id FROM products WHERE tenant_id = ? ORDER BY id LIMIT 1'),
    importId: one<string>('SELECT id FROM imports WHERE tenant_id = ? ORDER BY created_at DESC LIMIT 1'),
  };
}
