import path from 'node:path';
import { hashPassword } from '../../src/server/auth/password';
import { openDb } from '../../src/server/db/database';

/** Password of every benchmark user. */
export const BENCH_PASSWORD = 'bench1234';

/** What the benchmark seeded for one tenant. */
export interface SeededTenant {
  readonly id: string;
  /** The simulated users (browsers). */
  readonly users: readonly string[];
  /** The separate account that runs the tenant's mutations. */
  readonly actor: string;
  readonly products: readonly string[];
  /** The products' SKUs (what a CSV import names). */
  readonly skus: readonly string[];
  /** Order ids, newest first. */
  readonly orders: readonly string[];
}

/** Size of the seeded data. */
export interface SeedPlan {
  readonly tenants: number;
  readonly usersPerTenant: number;
  readonly productsPerTenant: number;
  readonly ordersPerTenant: number;
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * Creates `$dataDir/app.db` (migrated, with the app's demo seed) and adds the
 * benchmark's tenants: users, an actor each, products with stock far from
 * their low-stock thresholds (so no mutation triggers a stock alert, whose
 * notification would be published after an await), and orders spread over
 * the past hours. Runs before the server starts; the server opens the same file.
 */
export function seedBenchData(dataDir: string, plan: SeedPlan): SeededTenant[] {
  const db = openDb(path.join(dataDir, 'app.db'));
  const passwordHash = hashPassword(BENCH_PASSWORD);
  const now = Date.now();
  const tenants: SeededTenant[] = [];
  try {
    db.transaction(() => {
      const insertTenant = db.prepare('INSERT INTO tenants (id, name) VALUES (?, ?)');
      const insertUser = db.prepare('INSERT INTO users (id, tenant_id, email, name, role, password_hash) VALUES (?, ?, ?, ?, ?, ?)');
      const insertProduct = db.prepare(
        'INSERT INTO products (id, tenant_id, sku, name, price_cents, stock, low_stock_threshold, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      const insertOrder = db.prepare(
        'INSERT INTO orders (id, tenant_id, number, customer, status, total_cents, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      );
      const insertItem = db.prepare('INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) VALUES (?, ?, ?, ?)');
      const statuses = ['pending', 'paid', 'shipped', 'cancelled'] as const;
      for (let t = 1; t <= plan.tenants; t++) {
        const tenantId = `bench${pad(t)}`;
        insertTenant.run(tenantId, `Bench Tenant ${pad(t)}`);
        const users: string[] = [];
        for (let u = 1; u <= plan.usersPerTenant; u++) {
          const email = `user${pad(u)}@${tenantId}.test`;
          insertUser.run(`usr_${tenantId}_${u}`, tenantId, email, `User ${pad(u)} of ${tenantId}`, u === 1 ? 'admin' : 'staff', passwordHash);
          users.push(email);
        }
        const actor = `actor@${tenantId}.test`;
        insertUser.run(`usr_${tenantId}_actor`, tenantId, actor, `Actor of ${tenantId}`, 'admin', passwordHash);
        const products: string[] = [];
        const skus: string[] = [];
        for (let p = 1; p <= plan.productsPerTenant; p++) {
          const id = `prd_${tenantId}_${p}`;
          skus.push(`SKU-${pad(t)}-${pad(p)}`);
          insertProduct.run(id, tenantId, skus.at(-1), `Product ${p}`, 1000 + p * 250, 500_000, 5, now);
          products.push(id);
        }
        const orders: string[] = [];
        for (let o = 1; o <= plan.ordersPerTenant; o++) {
          const id = `ord_${tenantId}_${o}`;
          const created = now - (plan.ordersPerTenant - o + 1) * 60_000;
          const product = o % plan.productsPerTenant;
          insertOrder.run(id, tenantId, o, `Customer ${o}`, statuses[o % statuses.length], 1000 + (product + 1) * 250, created, created);
          insertItem.run(id, products[product], 1, 1000 + (product + 1) * 250);
          orders.unshift(id);
        }
        tenants.push({ id: tenantId, users, actor, products, skus, orders });
      }
    })();
  } finally {
    db.close();
  }
  return tenants;
}
