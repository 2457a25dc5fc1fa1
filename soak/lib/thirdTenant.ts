import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openDb } from '../../src/server/db/database';

/** The third tenant the chaos scenario adds to the two seeded ones. */
export const THIRD_TENANT = { id: 'initech', name: 'Initech Supplies', admin: 'usr_ian', staff: 'usr_ivy' } as const;

/**
 * A data folder whose database is migrated and seeded by the app's own
 * `openDb` (tenants acme and globex), plus a third tenant with users,
 * products and orders in the seed's shapes. The server is started on it
 * afterwards, so the app itself serves all three.
 */
export function createThreeTenantDataDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'trpc-live-soak-chaos-'));
  const db = openDb(path.join(dir, 'app.db'));
  const now = Date.now();
  const t = THIRD_TENANT;
  db.transaction(() => {
    db.prepare('INSERT INTO tenants (id, name) VALUES (?, ?)').run(t.id, t.name);
    const user = db.prepare('INSERT INTO users (id, tenant_id, email, name, role, password_hash) VALUES (?, ?, ?, ?, ?, ?)');
    // No password: these users only ever hold minted session tokens.
    user.run(t.admin, t.id, 'ian@initech.test', 'Ian Admin', 'admin', 'x');
    user.run(t.staff, t.id, 'ivy@initech.test', 'Ivy Staff', 'staff', 'x');
    const product = db.prepare(
      'INSERT INTO products (id, tenant_id, sku, name, price_cents, stock, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const products = [
      ['INI-STAPLER', 'Red Stapler', 1900, 500],
      ['INI-TPS', 'TPS Cover Sheets', 900, 800],
      ['INI-MUG', 'Coffee Mug', 1200, 300],
      ['INI-CHAIR', 'Desk Chair', 15900, 60],
    ] as const;
    products.forEach(([sku, name, price, stock], i) => product.run(`prd_${t.id}_${i + 1}`, t.id, sku, name, price, stock, now));
    const order = db.prepare(
      'INSERT INTO orders (id, tenant_id, number, customer, status, total_cents, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const item = db.prepare('INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) VALUES (?, ?, ?, ?)');
    for (let i = 0; i < 3; i++) {
      order.run(`ord_${t.id}_${i + 1}`, t.id, i + 1, `Customer ${i + 1}`, 'pending', products[i]![2], now, now);
      item.run(`ord_${t.id}_${i + 1}`, `prd_${t.id}_${i + 1}`, 1, products[i]![2]);
    }
    // Plenty of stock everywhere, so most order creations succeed.
    db.prepare('UPDATE products SET stock = stock + 1000').run();
  })();
  db.close();
  return dir;
}
