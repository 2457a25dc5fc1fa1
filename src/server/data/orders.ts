import type { Db } from '../db/database';
import { newId } from '../db/ids';
import { DomainError } from './domainError';
import { statements } from '../db/statements';

export const ORDER_STATUSES = ['pending', 'paid', 'shipped', 'cancelled'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

export interface OrderItem {
  productId: string;
  productName: string;
  quantity: number;
  unitPriceCents: number;
}

/** Where an order came from. */
export type OrderSource = 'manual' | 'import';

export interface OrderSummary {
  id: string;
  number: number;
  customer: string;
  status: OrderStatus;
  totalCents: number;
  source: OrderSource;
  createdAt: Date;
  updatedAt: Date;
}

export interface Order extends OrderSummary {
  items: OrderItem[];
}

interface OrderRow {
  id: string;
  number: number;
  customer: string;
  status: OrderStatus;
  total_cents: number;
  source: OrderSource;
  created_at: number;
  updated_at: number;
}

const toSummary = (row: OrderRow): OrderSummary => ({
  id: row.id,
  number: row.number,
  customer: row.customer,
  status: row.status,
  totalCents: row.total_cents,
  source: row.source,
  createdAt: new Date(row.created_at),
  updatedAt: new Date(row.updated_at),
});

export { DomainError };

export interface ListOrdersFilter {
  status?: OrderStatus;
  search?: string;
  limit?: number;
}

const SUMMARY_COLUMNS = 'id, number, customer, status, total_cents, source, created_at, updated_at';

/**
 * Index entries a customer search reads per slice. A search that matches
 * nothing reads every order of the tenant: 9.5 ms at 100,000 orders in one
 * go (`npx tsx scripts/procedure-times.ts`, loaded 2-core machine), so it
 * reads them 5,000 at a time (~1 ms) and lets other work run in between.
 */
export const SEARCH_SLICE = 5_000;

/**
 * Shortest search (in characters) the trigram index `order_search`
 * (`db/searchMigration.ts`) can answer: it indexes every 3 consecutive
 * characters of a customer.
 */
export const TRIGRAM_CHARS = 3;

/**
 * Most orders a search shorter than {@link TRIGRAM_CHARS} reads through the
 * customers it matches (`order_customers`, `db/customersMigration.ts`): they
 * are read by customer and sorted, ~2 ms for a term on a few thousand orders.
 * A term on more orders than this is frequent, so scanning newest first in
 * slices finds a page soon.
 */
export const SHORT_SEARCH_ORDERS = SEARCH_SLICE;

/**
 * Newest orders of a tenant, optionally filtered by status or customer text.
 * A search first reads the newest {@link SEARCH_SLICE} orders: a term on
 * ≥ 1% of them fills a page of 50 there. If it needs more, a search of at
 * least {@link TRIGRAM_CHARS} characters takes the remaining matches from the
 * trigram index, so a term that matches few or no orders reads those, not
 * every order. A shorter search takes them from the tenant's customers it
 * matches when those have at most {@link SHORT_SEARCH_ORDERS} orders, else
 * reads on, newest first in slices, awaiting `pause` between slices (the
 * router passes the caller's turn, so one search cannot hold the event loop).
 *
 * Measured at 100,000 orders in a tenant (`npm run bench -- queries`, loaded
 * 2-core machine, medians of 3 runs): a miss 36 -> 1.1 ms, a rare term 13 ->
 * 2.0 ms, a frequent one 1.2 ms either way. A first window of 1,000 instead of
 * 5,000 made a miss 0.6 ms but a term on 1-2% of the orders 6-10 ms (the index
 * then reads thousands of matches). A 1-2 character miss read every order, in
 * slices, 18.8 ms; through the customers 0.4 ms (`db/customersMigration.ts`).
 */
export async function listOrders(
  db: Db,
  tenantId: string,
  filter: ListOrdersFilter = {},
  pause: () => Promise<void> | undefined = () => undefined,
): Promise<OrderSummary[]> {
  const byStatus = filter.status ? 'AND status = @status' : '';
  const params = { tenantId, status: filter.status ?? null, limit: filter.limit ?? 50 };
  if (!filter.search) {
    const rows = statements(db)
      .prepare(
        `SELECT ${SUMMARY_COLUMNS} FROM orders WHERE tenant_id = @tenantId ${byStatus}
         ORDER BY created_at DESC, number DESC LIMIT @limit`,
      )
      .all(params) as OrderRow[];
    return rows.map(toSummary);
  }
  const search = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
  // Both read the covering index (tenant_id[, status], created_at DESC, number DESC, customer) only.
  const window = `SELECT rowid, customer FROM orders WHERE tenant_id = @tenantId ${byStatus}
    AND (created_at, number) < (@beforeCreated, @beforeNumber) ORDER BY created_at DESC, number DESC LIMIT @slice`;
  const matches = statements(db).prepare(
    `SELECT ${SUMMARY_COLUMNS} FROM orders WHERE rowid IN (SELECT rowid FROM (${window}) WHERE customer LIKE @search ESCAPE '\\')
     ORDER BY created_at DESC, number DESC LIMIT @limit`,
  );
  const last = statements(db).prepare(
    `SELECT created_at AS createdAt, number FROM orders WHERE tenant_id = @tenantId ${byStatus}
     AND (created_at, number) < (@beforeCreated, @beforeNumber) ORDER BY created_at DESC, number DESC LIMIT 1 OFFSET @slice - 1`,
  );
  // The index's candidates (every tenant's) are checked against the order itself: tenant, status, and the
  // LIKE, which the index only approximates (it folds case beyond ASCII). CROSS JOIN: candidates first.
  const indexed = statements(db).prepare(
    `SELECT ${SUMMARY_COLUMNS.replace(/\w+/g, (column) => `o.${column}`)} FROM order_search s CROSS JOIN orders o ON o.rowid = s.rowid
     WHERE s.order_search MATCH @phrase AND o.tenant_id = @tenantId ${byStatus.replace('status', 'o.status')}
     AND (o.created_at, o.number) < (@beforeCreated, @beforeNumber) AND o.customer LIKE @search ESCAPE '\\'
     ORDER BY o.created_at DESC, o.number DESC LIMIT @limit`,
  );
  // A short search: the tenant's distinct customers it matches, then their orders by customer (newest first).
  const customers = statements(db).prepare(
    `SELECT customer, orders FROM order_customers WHERE tenant_id = @tenantId AND customer LIKE @search ESCAPE '\\'`,
  );
  const byCustomers = statements(db).prepare(
    `SELECT ${SUMMARY_COLUMNS} FROM orders INDEXED BY orders_by_tenant_customer
     WHERE tenant_id = @tenantId AND customer IN (SELECT value FROM json_each(@customers)) ${byStatus}
     AND (created_at, number) < (@beforeCreated, @beforeNumber) ORDER BY created_at DESC, number DESC LIMIT @limit`,
  );
  const useIndex = [...filter.search].length >= TRIGRAM_CHARS;
  let shortDone = useIndex;
  // One FTS5 phrase: the search as a substring (a double quote doubled), whatever characters it holds.
  const phrase = `"${filter.search.replace(/"/g, '""')}"`;
  const found: OrderRow[] = [];
  let before = { beforeCreated: Number.MAX_SAFE_INTEGER, beforeNumber: Number.MAX_SAFE_INTEGER };
  for (;;) {
    const slice = { ...params, ...before, search, slice: SEARCH_SLICE, limit: params.limit - found.length };
    found.push(...(matches.all(slice) as OrderRow[]));
    const end = last.get(slice) as { createdAt: number; number: number } | undefined;
    if (found.length >= params.limit || !end) break;
    before = { beforeCreated: end.createdAt, beforeNumber: end.number };
    if (useIndex) {
      found.push(...(indexed.all({ ...params, ...before, search, phrase, limit: params.limit - found.length }) as OrderRow[]));
      break;
    }
    if (!shortDone) {
      shortDone = true;
      const matched = customers.all({ tenantId, search }) as Array<{ customer: string; orders: number }>;
      if (matched.reduce((sum, c) => sum + c.orders, 0) <= SHORT_SEARCH_ORDERS) {
        const names = JSON.stringify(matched.map((c) => c.customer));
        found.push(...(byCustomers.all({ ...params, ...before, customers: names, limit: params.limit - found.length }) as OrderRow[]));
        break;
      }
    }
    await pause();
  }
  return found.map(toSummary);
}

/** One order of a tenant with its items, or `null`. */
export function getOrder(db: Db, tenantId: string, id: string): Order | null {
  const row = statements(db)
    .prepare(
      'SELECT id, number, customer, status, total_cents, source, created_at, updated_at FROM orders WHERE tenant_id = ? AND id = ?',
    )
    .get(tenantId, id) as OrderRow | undefined;
  if (!row) return null;
  const items = statements(db)
    .prepare(
      `SELECT i.product_id AS productId, p.name AS productName, i.quantity, i.unit_price_cents AS unitPriceCents
       FROM order_items i JOIN products p ON p.id = i.product_id WHERE i.order_id = ? ORDER BY p.name`,
    )
    .all(id) as OrderItem[];
  return { ...toSummary(row), items };
}

export interface CreateOrderInput {
  customer: string;
  items: Array<{ productId: string; quantity: number }>;
}

/**
 * Creates an order and takes its items out of stock, in one transaction.
 * @throws DomainError NOT_FOUND for an unknown product, CONFLICT when stock is short.
 */
export function createOrder(db: Db, tenantId: string, input: CreateOrderInput, now = Date.now()): Order {
  const id = newId('ord');
  db.transaction(() => {
    const product = statements(db).prepare('SELECT id, name, price_cents, stock FROM products WHERE tenant_id = ? AND id = ?');
    const take = statements(db).prepare('UPDATE products SET stock = stock - ?, updated_at = ? WHERE id = ? AND stock >= ?');
    const insertItem = statements(db).prepare(
      'INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) VALUES (?, ?, ?, ?)',
    );
    const merged = new Map<string, number>();
    for (const item of input.items) merged.set(item.productId, (merged.get(item.productId) ?? 0) + item.quantity);
    const next = statements(db).prepare('SELECT COALESCE(MAX(number), 0) + 1 AS n FROM orders WHERE tenant_id = ?').get(tenantId) as {
      n: number;
    };
    let total = 0;
    const lines: Array<[string, number, number]> = [];
    for (const [productId, quantity] of merged) {
      const row = product.get(tenantId, productId) as { price_cents: number; stock: number; name: string } | undefined;
      if (!row) throw new DomainError('NOT_FOUND', `Product ${productId} does not exist`);
      if (take.run(quantity, now, productId, quantity).changes !== 1) {
        throw new DomainError('CONFLICT', `Only ${row.stock} of ${row.name} left in stock`);
      }
      total += row.price_cents * quantity;
      lines.push([productId, quantity, row.price_cents]);
    }
    statements(db).prepare(
      `INSERT INTO orders (id, tenant_id, number, customer, status, total_cents, created_at, updated_at)
       VALUES (?, ?, ?, ?, 'pending', ?, ?, ?)`,
    ).run(id, tenantId, next.n, input.customer, total, now, now);
    for (const [productId, quantity, price] of lines) insertItem.run(id, productId, quantity, price);
  })();
  return getOrder(db, tenantId, id)!;
}

/**
 * Changes an order's status and says what it was before (so callers can act
 * on a transition, e.g. notify on "paid" once).
 * @throws DomainError NOT_FOUND for an order of another tenant or none.
 */
export function changeOrderStatus(
  db: Db,
  tenantId: string,
  id: string,
  status: OrderStatus,
  now = Date.now(),
): { order: Order; previous: OrderStatus; changed: boolean } {
  const previous = db.transaction(() => {
    const row = statements(db).prepare('SELECT status FROM orders WHERE tenant_id = ? AND id = ?').get(tenantId, id) as
      | { status: OrderStatus }
      | undefined;
    if (!row) throw new DomainError('NOT_FOUND', `Order ${id} does not exist`);
    // Setting the status it already has changes nothing, not even updated_at.
    if (row.status !== status) {
      statements(db).prepare('UPDATE orders SET status = ?, updated_at = ? WHERE tenant_id = ? AND id = ?').run(status, now, tenantId, id);
    }
    return row.status;
  })();
  return { order: getOrder(db, tenantId, id)!, previous, changed: previous !== status };
}

/**
 * Changes an order's status.
 * @throws DomainError NOT_FOUND for an order of another tenant or none.
 */
export function updateOrderStatus(db: Db, tenantId: string, id: string, status: OrderStatus, now = Date.now()): Order {
  return changeOrderStatus(db, tenantId, id, status, now).order;
}
