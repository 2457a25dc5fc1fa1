import type Database from 'better-sqlite3';
import { hashPassword } from '../auth/password';

/** Password of every seeded demo user (listed in README). */
export const DEMO_PASSWORD = 'demo1234';

/** The seeded sign-ins, listed in README. */
export const demoUsers = [
  { id: 'usr_alice', tenantId: 'acme', email: 'alice@acme.test', name: 'Alice Admin', role: 'admin' },
  { id: 'usr_bob', tenantId: 'acme', email: 'bob@acme.test', name: 'Bob Staff', role: 'staff' },
  { id: 'usr_carol', tenantId: 'globex', email: 'carol@globex.test', name: 'Carol Admin', role: 'admin' },
  { id: 'usr_dave', tenantId: 'globex', email: 'dave@globex.test', name: 'Dave Staff', role: 'staff' },
] as const;

const tenants = [
  { id: 'acme', name: 'Acme Outfitters' },
  { id: 'globex', name: 'Globex Gadgets' },
];

const products: Record<string, Array<[sku: string, name: string, priceCents: number, stock: number]>> = {
  acme: [
    ['ACM-TENT', 'Trail Tent 2P', 24900, 14],
    ['ACM-PACK', 'Summit Pack 40L', 12900, 30],
    ['ACM-LAMP', 'Head Lamp', 3900, 6],
    ['ACM-STOVE', 'Pocket Stove', 5900, 22],
  ],
  globex: [
    ['GLX-HUB', 'USB-C Hub', 4900, 40],
    ['GLX-KEYS', 'Mech Keyboard', 11900, 8],
    ['GLX-CAM', 'Web Camera 4K', 8900, 4],
  ],
};

/** Seeds demo tenants, users, products and orders into an empty database. */
export function seed(db: Database.Database): void {
  const count = db.prepare('SELECT COUNT(*) AS n FROM tenants').get() as { n: number };
  if (count.n > 0) return;
  const passwordHash = hashPassword(DEMO_PASSWORD);
  const now = Date.now();
  db.transaction(() => {
    const insertTenant = db.prepare('INSERT INTO tenants (id, name) VALUES (?, ?)');
    const insertUser = db.prepare(
      'INSERT INTO users (id, tenant_id, email, name, role, password_hash) VALUES (?, ?, ?, ?, ?, ?)',
    );
    const insertProduct = db.prepare(
      'INSERT INTO products (id, tenant_id, sku, name, price_cents, stock, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const insertOrder = db.prepare(
      'INSERT INTO orders (id, tenant_id, number, customer, status, total_cents, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const insertItem = db.prepare(
      'INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) VALUES (?, ?, ?, ?)',
    );
    for (const tenant of tenants) insertTenant.run(tenant.id, tenant.name);
    for (const user of demoUsers) {
      insertUser.run(user.id, user.tenantId, user.email, user.name, user.role, passwordHash);
    }
    for (const [tenantId, list] of Object.entries(products)) {
      list.forEach(([sku, name, price, stock], i) => {
        insertProduct.run(`prd_${tenantId}_${i + 1}`, tenantId, sku, name, price, stock, now);
      });
      const customers = ['Ada Lovelace', 'Grace Hopper', 'Alan Turing'];
      customers.forEach((customer, i) => {
        const product = list[i % list.length]!;
        const id = `ord_${tenantId}_${i + 1}`;
        const created = now - (customers.length - i) * 3_600_000;
        insertOrder.run(id, tenantId, i + 1, customer, i === 0 ? 'paid' : 'pending', product[2], created, created);
        insertItem.run(id, `prd_${tenantId}_${(i % list.length) + 1}`, 1, product[2]);
      });
    }
  })();
}
