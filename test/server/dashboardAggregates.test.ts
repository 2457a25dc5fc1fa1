/**
 * `dashboard.stats` reads aggregates that triggers keep (migration 4). The
 * oracle is the full scan of every order that `dashboardStats` ran before
 * (kept here verbatim, plus an id tie-break for a stable top 5): after any
 * sequence of creates, status changes, imports and deletes, and after the
 * migration's backfill of an existing database, both must agree.
 */
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { migrate, openDb, type Db } from '../../src/server/db/database';
import { migrations } from '../../src/server/db/migrations';
import { seed } from '../../src/server/db/seed';
import { dashboardStats, type DashboardStats } from '../../src/server/data/dashboard';
import { insertImportedOrders, type ImportedOrder } from '../../src/server/data/imports';
import { changeOrderStatus, createOrder, ORDER_STATUSES, type OrderStatus } from '../../src/server/data/orders';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const TENANTS = ['acme', 'globex'] as const;
const PRODUCTS = { acme: ['prd_acme_1', 'prd_acme_2', 'prd_acme_3', 'prd_acme_4'], globex: ['prd_globex_1', 'prd_globex_2', 'prd_globex_3'] };

/** The scan `dashboardStats` ran before the aggregates: every order and item of the tenant, per call. */
function scanStats(db: Db, tenantId: string, now: number): DashboardStats {
  const midnight = new Date(now);
  midnight.setHours(0, 0, 0, 0);
  const totals = db
    .prepare(
      `SELECT COUNT(*) AS orders,
         COALESCE(SUM(CASE WHEN status IN ('paid', 'shipped') THEN total_cents END), 0) AS revenueCents,
         COALESCE(SUM(CASE WHEN status = 'pending' THEN total_cents END), 0) AS pendingCents,
         COALESCE(SUM(created_at >= @midnight), 0) AS ordersToday,
         COALESCE(SUM(source = 'import'), 0) AS imported
       FROM orders WHERE tenant_id = @tenantId`,
    )
    .get({ tenantId, midnight: midnight.getTime() }) as Pick<DashboardStats, 'orders' | 'revenueCents' | 'pendingCents' | 'ordersToday' | 'imported'>;
  const byStatus = Object.fromEntries(ORDER_STATUSES.map((s) => [s, 0])) as Record<OrderStatus, number>;
  const counts = db.prepare('SELECT status, COUNT(*) AS n FROM orders WHERE tenant_id = ? GROUP BY status').all(tenantId) as Array<{
    status: OrderStatus;
    n: number;
  }>;
  for (const { status, n } of counts) byStatus[status] = n;
  const lowStock = db
    .prepare(
      `SELECT id, name, stock, low_stock_threshold AS lowStockThreshold FROM products
       WHERE tenant_id = ? AND stock <= low_stock_threshold ORDER BY stock, name`,
    )
    .all(tenantId) as DashboardStats['lowStock'];
  const topProducts = db
    .prepare(
      `SELECT p.id, p.name, SUM(i.quantity) AS units, SUM(i.quantity * i.unit_price_cents) AS revenueCents
       FROM order_items i JOIN orders o ON o.id = i.order_id JOIN products p ON p.id = i.product_id
       WHERE o.tenant_id = ? AND o.status != 'cancelled'
       GROUP BY p.id ORDER BY units DESC, p.name, p.id LIMIT 5`,
    )
    .all(tenantId) as DashboardStats['topProducts'];
  return { ...totals, byStatus, lowStock, topProducts };
}

type Op =
  | { kind: 'create'; tenant: 0 | 1; items: Array<[number, number]>; ageMs: number }
  | { kind: 'status'; pick: number; status: OrderStatus }
  | { kind: 'import'; tenant: 0 | 1; rows: Array<{ product: number; quantity: number; status: OrderStatus; ageMs: number }> }
  | { kind: 'delete'; pick: number };

const tenantArb = fc.constantFrom(0 as const, 1 as const);
const statusArb = fc.constantFrom(...ORDER_STATUSES);
// Today, yesterday, last month, a day ahead (imports allow up to a day in the future), or far back.
const ageArb = fc.oneof(fc.integer({ min: 0, max: 2 * DAY }), fc.integer({ min: -DAY, max: 0 }), fc.constantFrom(40 * DAY, 60 * 365 * DAY));
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('create' as const),
    tenant: tenantArb,
    items: fc.array(fc.tuple(fc.nat(3), fc.integer({ min: 1, max: 5 })), { minLength: 1, maxLength: 3 }),
    ageMs: ageArb,
  }),
  fc.record({ kind: fc.constant('status' as const), pick: fc.nat(), status: statusArb }),
  fc.record({
    kind: fc.constant('import' as const),
    tenant: tenantArb,
    rows: fc.array(fc.record({ product: fc.nat(3), quantity: fc.integer({ min: 1, max: 9 }), status: statusArb, ageMs: ageArb }), {
      minLength: 1,
      maxLength: 6,
    }),
  }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
);

function apply(db: Db, op: Op, now: number): void {
  const orderIds = () => (db.prepare('SELECT id, tenant_id AS tenantId FROM orders ORDER BY id').all() as Array<{ id: string; tenantId: string }>);
  if (op.kind === 'create') {
    const tenant = TENANTS[op.tenant];
    const items = op.items.map(([p, quantity]) => ({ productId: PRODUCTS[tenant][p % PRODUCTS[tenant].length]!, quantity }));
    createOrder(db, tenant, { customer: 'Fuzz', items }, now - op.ageMs);
  } else if (op.kind === 'status') {
    const all = orderIds();
    const order = all[op.pick % all.length];
    if (order) changeOrderStatus(db, order.tenantId, order.id, op.status, now);
  } else if (op.kind === 'import') {
    const tenant = TENANTS[op.tenant];
    const rows: ImportedOrder[] = op.rows.map((r) => ({
      customer: 'Imported',
      productId: PRODUCTS[tenant][r.product % PRODUCTS[tenant].length]!,
      quantity: r.quantity,
      unitPriceCents: 100 + r.product,
      status: r.status,
      createdAt: now - r.ageMs,
    }));
    insertImportedOrders(db, tenant, rows, now);
  } else {
    // Nothing in the app deletes orders; a script might, and the aggregates must follow.
    const all = orderIds();
    const order = all[op.pick % all.length];
    if (order) db.prepare('DELETE FROM orders WHERE id = ?').run(order.id);
  }
}

/** Compares the aggregates with the scan for both tenants at `now` and at the start of the next day. */
function expectAgreement(db: Db, now: number): void {
  const tomorrow = new Date(now);
  tomorrow.setHours(24, 0, 0, 0);
  for (const tenant of TENANTS) {
    for (const at of [now, tomorrow.getTime()]) expect(dashboardStats(db, tenant, at)).toEqual(scanStats(db, tenant, at));
  }
}

const plentyOfStock = (db: Db) => db.prepare('UPDATE products SET stock = 100000').run();

describe('dashboard aggregates', () => {
  const open: Db[] = [];
  afterEach(() => {
    for (const db of open.splice(0)) db.close();
  });

  it('match a full scan of the orders after any sequence of creates, status changes, imports and deletes', () => {
    const now = new Date(2026, 5, 15, 13, 30).getTime();
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        const db = openDb(':memory:');
        try {
          plentyOfStock(db);
          for (const op of ops) apply(db, op, now);
          expectAgreement(db, now);
        } finally {
          db.close();
        }
      }),
      { numRuns: 60 },
    );
  });

  it('are backfilled from existing orders when an older database migrates', () => {
    const now = Date.now();
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
        // A database at migration 3 (before the aggregates), written with the same operations.
        const db = new Database(':memory:');
        try {
          db.pragma('foreign_keys = ON');
          for (let v = 0; v < 3; v++) db.exec(migrations[v]!);
          db.pragma('user_version = 3');
          seed(db);
          plentyOfStock(db);
          for (const op of ops) apply(db, op, now);
          migrate(db);
          expectAgreement(db, now);
          // And the triggers keep them right from there.
          apply(db, { kind: 'import', tenant: 0, rows: [{ product: 1, quantity: 2, status: 'paid', ageMs: 0 }] }, now);
          expectAgreement(db, now);
        } finally {
          db.close();
        }
      }),
      { numRuns: 30 },
    );
  });

  it('count the seeded demo orders (seed writes through the triggers)', () => {
    const db = openDb(':memory:');
    open.push(db);
    const now = Date.now();
    expectAgreement(db, now);
    expect(dashboardStats(db, 'acme', now).orders).toBe(3);
  });
});
