import type { Db } from '../../src/server/db/database';

/** Options of {@link insertManyOrders}. */
export interface ManyOrdersOptions {
  /** Newest creation time; orders spread over the 60 days before it (a few per cent today). @default Date.now() */
  now?: number;
  /** Share of orders from an import. @default 0.3 */
  importedShare?: number;
}

const STATUSES = ['pending', 'paid', 'shipped', 'cancelled'] as const;
const CUSTOMERS = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Edsger Dijkstra', 'Barbara Liskov', 'Donald Knuth'];
const DAY_MS = 86_400_000;

/**
 * Writes `count` orders (one or two items each, of the tenant's existing
 * products) straight into SQLite, in one transaction: a tenant at 100,000
 * orders in about a second, for load tests and measurements. Deterministic
 * (no randomness), so two runs measure the same data.
 */
export function insertManyOrders(db: Db, tenantId: string, count: number, options: ManyOrdersOptions = {}): void {
  const now = options.now ?? Date.now();
  const importedEvery = Math.round(1 / (options.importedShare ?? 0.3));
  const products = db.prepare('SELECT id, price_cents AS price FROM products WHERE tenant_id = ? ORDER BY id').all(tenantId) as Array<{
    id: string;
    price: number;
  }>;
  if (products.length === 0) throw new Error(`tenant ${tenantId} has no products`);
  const first = (db.prepare('SELECT COALESCE(MAX(number), 0) + 1 AS n FROM orders WHERE tenant_id = ?').get(tenantId) as { n: number }).n;
  const insertOrder = db.prepare(
    `INSERT INTO orders (id, tenant_id, number, customer, status, total_cents, source, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertItem = db.prepare('INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (let i = 0; i < count; i++) {
      const number = first + i;
      const id = `ord_${tenantId}_bulk_${number}`;
      const a = products[i % products.length]!;
      const b = products[(i * 7 + 3) % products.length]!;
      const qa = 1 + (i % 3);
      const qb = b.id === a.id ? 0 : i % 2;
      // Oldest first, so numbers and creation times grow together; every 25th is from today.
      const created = i % 25 === 0 ? now - (i % 3_600_000) : now - Math.floor(((count - i) / count) * 60 * DAY_MS) - DAY_MS;
      const status = STATUSES[(i * 5 + (i >> 3)) % STATUSES.length]!;
      const source = i % importedEvery === 0 ? 'import' : 'manual';
      insertOrder.run(id, tenantId, number, `${CUSTOMERS[i % CUSTOMERS.length]} ${i % 997}`, status, qa * a.price + qb * b.price, source, created, created);
      insertItem.run(id, a.id, qa, a.price);
      if (qb) insertItem.run(id, b.id, qb, b.price);
    }
  })();
}
