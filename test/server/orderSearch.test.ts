/**
 * `orders.list`'s customer search reads the trigram index `order_search`
 * (migration 6), or for 1-2 characters the tenant's customers
 * (`order_customers`, migration 7), once the newest slice of orders has not
 * filled the page. Both are kept by triggers; the oracle here is plain JavaScript over every
 * order of the tenant (SQLite's LIKE: a substring, case folded for ASCII
 * letters only), newest first. After any sequence of creates, imports of old
 * orders, renames, status changes and deletes, and after an older database
 * migrates, both must agree, for any search (quotes, FTS5 syntax, LIKE
 * wildcards, non-ASCII case included).
 */
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { insertImportedOrders } from '../../src/server/data/imports';
import { changeOrderStatus, createOrder, listOrders, ORDER_STATUSES, SEARCH_SLICE, type OrderStatus } from '../../src/server/data/orders';
import { migrate, openDb, type Db } from '../../src/server/db/database';
import { migrations } from '../../src/server/db/migrations';
import { seed } from '../../src/server/db/seed';
import { insertManyOrders } from '../helpers/manyOrders';

const DAY = 86_400_000;
const TENANTS = ['acme', 'globex'] as const;
/** Letters that catch the usual mistakes: ASCII and non-ASCII case, LIKE wildcards and escape, FTS5 syntax, quotes. */
const LETTERS = ['a', 'b', 'A', 'B', 'z', ' ', 'é', 'É', 'ß', '%', '_', '\\', '"', '*', '(', ':', '^', '-'];

/** SQLite's LIKE folding: ASCII letters only. */
const foldAscii = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());

interface OrderRow {
  id: string;
  customer: string;
  status: OrderStatus;
  createdAt: number;
  number: number;
}

/** Every order of a tenant, newest first. */
const ordersOf = (db: Db, tenantId: string) =>
  (db.prepare('SELECT id, customer, status, created_at AS createdAt, number FROM orders WHERE tenant_id = ?').all(tenantId) as OrderRow[]).sort(
    (a, b) => b.createdAt - a.createdAt || b.number - a.number,
  );

/** The oracle: the tenant's orders (newest first), filtered in JavaScript. */
function expected(rows: readonly OrderRow[], search: string, status: OrderStatus | undefined, limit: number): string[] {
  return rows
    .filter((r) => (!status || r.status === status) && foldAscii(r.customer).includes(foldAscii(search)))
    .slice(0, limit)
    .map((r) => r.id);
}

const nameArb = fc.array(fc.constantFrom(...LETTERS), { minLength: 1, maxLength: 8 }).map((cs) => cs.join(''));

type Op =
  | { kind: 'create'; tenant: 0 | 1; customer: string }
  | { kind: 'import'; tenant: 0 | 1; customers: string[]; ageDays: number }
  | { kind: 'rename'; pick: number; customer: string }
  | { kind: 'status'; pick: number; status: OrderStatus }
  | { kind: 'delete'; pick: number };

const tenantArb = fc.constantFrom(0 as const, 1 as const);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), tenant: tenantArb, customer: nameArb }),
  // Old orders land past the newest slice: only the index finds them.
  fc.record({ kind: fc.constant('import' as const), tenant: tenantArb, customers: fc.array(nameArb, { minLength: 1, maxLength: 4 }), ageDays: fc.integer({ min: 0, max: 400 }) }),
  fc.record({ kind: fc.constant('rename' as const), pick: fc.nat(), customer: nameArb }),
  fc.record({ kind: fc.constant('status' as const), pick: fc.nat(), status: fc.constantFrom(...ORDER_STATUSES) }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
);

function apply(db: Db, op: Op, now: number): void {
  const pick = (n: number) => {
    const all = db.prepare('SELECT id, tenant_id AS tenantId FROM orders ORDER BY rowid').all() as Array<{ id: string; tenantId: string }>;
    return all[n % all.length];
  };
  if (op.kind === 'create') {
    const tenant = TENANTS[op.tenant];
    createOrder(db, tenant, { customer: op.customer, items: [{ productId: `prd_${tenant}_1`, quantity: 1 }] }, now);
  } else if (op.kind === 'import') {
    const tenant = TENANTS[op.tenant];
    const rows = op.customers.map((customer) => ({
      customer,
      productId: `prd_${tenant}_1`,
      quantity: 1,
      unitPriceCents: 100,
      status: 'paid' as const,
      createdAt: now - op.ageDays * DAY,
    }));
    insertImportedOrders(db, tenant, rows, now);
  } else if (op.kind === 'rename') {
    // Nothing in the app renames a customer; a script might, and the index must follow.
    const order = pick(op.pick);
    if (order) db.prepare('UPDATE orders SET customer = ? WHERE id = ?').run(op.customer, order.id);
  } else if (op.kind === 'status') {
    const order = pick(op.pick);
    if (order) changeOrderStatus(db, order.tenantId, order.id, op.status, now);
  } else {
    const order = pick(op.pick);
    if (order) db.prepare('DELETE FROM orders WHERE id = ?').run(order.id);
  }
}

/** The customer names an operation writes. */
const namesOf = (op: Op): string[] => (op.kind === 'import' ? op.customers : 'customer' in op ? [op.customer] : []);

/** Searches: pieces of the names just written and of customers that exist (case flipped or not), and random text. */
function searchesOf(db: Db, ops: readonly Op[], picks: readonly number[], random: readonly string[]): string[] {
  const written = ops.flatMap(namesOf);
  const customers = [
    ...written,
    ...(db.prepare('SELECT customer FROM orders ORDER BY rowid DESC LIMIT 200').all() as Array<{ customer: string }>).map((r) => r.customer),
  ];
  const pieces = picks.map((n, i) => {
    const customer = customers[n % customers.length] ?? 'x';
    const start = n % customer.length;
    // 1-8 characters: shorter than a trigram goes through the tenant's customers (migration 7), longer through the index.
    const piece = customer.slice(start, start + 1 + (n % 8));
    return i % 2 ? piece.toUpperCase() : piece;
  });
  return [...new Set([...written, ...pieces, ...random, 'Lovelace 12', 'Knuth 99', 'nobody at all', 'zq', 'e'])].filter((s) => s.length > 0);
}

async function expectAgreement(db: Db, searches: readonly string[]): Promise<void> {
  for (const tenant of TENANTS) {
    const rows = ordersOf(db, tenant);
    for (const search of searches) {
      for (const status of [undefined, 'paid' as const]) {
        const got = (await listOrders(db, tenant, { search, status, limit: 50 })).map((o) => o.id);
        expect(got, `${tenant} ${JSON.stringify(search)} ${status ?? ''}`).toEqual(expected(rows, search, status, 50));
      }
    }
  }
}

/** More orders than a slice, so that a search that has not filled its page goes to the index. */
const BULK = SEARCH_SLICE + 1_000;

describe('order customer search', () => {
  let db: Db;
  beforeAll(() => {
    db = openDb(':memory:');
    db.prepare('UPDATE products SET stock = 100000').run();
    insertManyOrders(db, 'acme', BULK);
    insertManyOrders(db, 'globex', 500);
  }, 60_000);
  afterAll(() => db.close());

  it('finds what a LIKE over every order finds after any sequence of creates, imports, renames, status changes and deletes', async () => {
    const now = Date.now();
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { maxLength: 15 }),
        fc.array(fc.nat(), { minLength: 2, maxLength: 4 }),
        fc.array(nameArb, { maxLength: 2 }),
        async (ops, picks, random) => {
          for (const op of ops) apply(db, op, now);
          await expectAgreement(db, searchesOf(db, ops, picks, random));
        },
      ),
      { numRuns: 20 },
    );
  });

  it('answers a 1-2 character search that matches few orders from the customers, without scanning every order in slices', async () => {
    // The oracle is the slices' own count: a search that reads on past the newest slice pauses before each next slice.
    const pauses = { count: 0 };
    const pause = () => {
      pauses.count++;
      return undefined;
    };
    // The tenant's oldest order (the property test above may have deleted any given one, e.g. number 3).
    const renamed = db
      .prepare("UPDATE orders SET customer = 'Qx Old' WHERE id = (SELECT id FROM orders WHERE tenant_id = 'acme' ORDER BY created_at, number LIMIT 1)")
      .run();
    expect(renamed.changes).toBe(1);
    expect(await listOrders(db, 'acme', { search: 'zq' }, pause)).toEqual([]);
    expect((await listOrders(db, 'acme', { search: 'qx' }, pause)).map((o) => o.customer)).toEqual(['Qx Old']);
    expect(pauses.count).toBe(0);
    // A term on more orders than SHORT_SEARCH_ORDERS still scans newest first in slices (and pauses between them).
    // ('a' is in every bulk customer: more orders than a slice.)
    const all = expected(ordersOf(db, 'acme'), 'a', undefined, BULK * 2);
    expect(all.length).toBeGreaterThan(SEARCH_SLICE);
    expect((await listOrders(db, 'acme', { search: 'a', limit: BULK * 2 }, pause)).map((o) => o.id)).toEqual(all);
    expect(pauses.count).toBeGreaterThan(0);
  });

  it('indexes the orders of an older database when it migrates', async () => {
    // A database at migration 5 (before the search index) with orders in it.
    const old = new Database(':memory:');
    try {
      old.pragma('foreign_keys = ON');
      for (let v = 0; v < 5; v++) old.exec(migrations[v]!);
      old.pragma('user_version = 5');
      seed(old);
      insertManyOrders(old, 'acme', BULK);
      old.prepare("UPDATE orders SET customer = 'Ünïque \"Old\" 100%' WHERE number = 7 AND tenant_id = 'acme'").run();
      migrate(old);
      const searches = ['Ünïque "Old" 100%', 'que "o', 'Knuth 99', 'Lovelace 12', 'nobody at all', 'Ün', '%', 'zq', 'Q'];
      await expectAgreement(old, searches);
      expect(await listOrders(old, 'acme', { search: 'que "o' })).toHaveLength(1);
      // And the triggers keep it right from there.
      apply(old, { kind: 'import', tenant: 0, customers: ['Late Üser'], ageDays: 300 }, Date.now());
      await expectAgreement(old, ['Late Ü', 'ate üs', 'Lü', 'üs', 'L']);
      expect(await listOrders(old, 'acme', { search: 'Late Ü' })).toHaveLength(1);
    } finally {
      old.close();
    }
  });
});
