import { describe, expect, it } from 'vitest';
import type { MutationRecord } from '../../bench/article/actors';
import { canonicalKey, changedKeys, readAll, readerOf, sameJson, TenantOracle } from '../../bench/article/dataOracle';
import { dataDigest } from '../../bench/article/digest';
import { measureFreshness } from '../../bench/article/freshness';
import { createReflectOracle, PUSHED } from '../../bench/article/reflects';
import { browserRegistry, withoutQuery } from '../../bench/article/missedInvalidation';
import type { ObserverLog } from '../../bench/article/users';
import { createOrder, updateOrderStatus } from '../../src/server/data/orders';
import { adjustStock } from '../../src/server/data/products';
import { openDb } from '../../src/server/db/database';
import { resources } from '../../src/trpc/resources';
import type { ResourceRegistry } from 'trpc-live/shared';

/** tRPC query keys as the pages build them. */
const key = (path: string, input?: unknown) => [path.split('.'), { ...(input === undefined ? {} : { input }), type: 'query' }];

describe('article benchmark: the data oracle', () => {
  it('names a query by path and input, as the observers hold it', () => {
    expect(canonicalKey(key('orders.byId', { id: 'ord_1' }))).toBe('orders.byId{"id":"ord_1"}');
    expect(canonicalKey(key('products.list'))).toBe('products.list');
  });

  it('refuses a query it cannot read, so no observer goes unread', () => {
    expect(() => readerOf(key('inspector.hubStats'))).toThrow(/cannot read inspector\.hubStats/);
  });

  it('finds from the database which queries a change altered', async () => {
    const db = openDb(':memory:'); // migrated and seeded with the demo tenants
    const [first, other] = db.prepare("SELECT id FROM orders WHERE tenant_id = 'acme' AND status = 'pending' ORDER BY created_at DESC LIMIT 2").all() as Array<{ id: string }>;
    const product = (db.prepare("SELECT id FROM products WHERE tenant_id = 'acme' LIMIT 1").get() as { id: string }).id;
    const keys = [key('orders.byId', { id: first!.id }), key('orders.byId', { id: other!.id }), key('products.list'), key('notifications.list'), key('orders.list', { limit: 50 })];
    const before = await readAll(db, 'acme', keys);
    updateOrderStatus(db, 'acme', first!.id, 'shipped', Date.now());
    const afterStatus = await readAll(db, 'acme', keys);
    // The order's own query and the list that shows it; not the other order, the products or the notifications.
    expect(changedKeys(before, afterStatus).sort()).toEqual([`orders.byId{"id":"${first!.id}"}`, 'orders.list{"limit":50}']);
    adjustStock(db, 'acme', product, 3, Date.now());
    expect(changedKeys(afterStatus, await readAll(db, 'acme', keys))).toEqual(['products.list']);
    db.close();
  });
});

describe('article benchmark: the data oracle as the actors run it (TenantOracle)', () => {
  /** The demo seed's tenant acme: two pending orders, a product, and the queries of its observers. */
  function fixture() {
    const db = openDb(':memory:');
    const [first, other] = db.prepare("SELECT id FROM orders WHERE tenant_id = 'acme' AND status = 'pending' ORDER BY created_at DESC LIMIT 2").all() as Array<{ id: string }>;
    const product = (db.prepare("SELECT id FROM products WHERE tenant_id = 'acme' ORDER BY id LIMIT 1").get() as { id: string }).id;
    const keys = [
      key('orders.byId', { id: first!.id }),
      key('orders.byId', { id: other!.id }),
      key('products.list'),
      key('notifications.list'),
      key('orders.list', { limit: 50 }),
      key('orders.list', { limit: 6 }),
      key('dashboard.stats'),
      key('imports.list'),
    ];
    return { db, first: first!.id, other: other!.id, product, keys };
  }

  it('names the queries each mutation changed, with the digest of each one\'s new JSON', async () => {
    const { db, first, product, keys } = fixture();
    const oracle = await TenantOracle.open(db, 'acme', keys);
    // Nothing written: nothing affected (every result is a fresh object, equal to the last read's).
    expect(await oracle.next()).toEqual({ affected: [], states: {} });

    updateOrderStatus(db, 'acme', first, 'shipped', Date.now());
    const shipped = await oracle.next();
    // By hand: the order's own query and both lists that show it (the newest two orders are among the first 6);
    // the dashboard's counts by status and revenue. Not the other order, the products, notifications or imports.
    expect(shipped.affected).toEqual([`orders.byId{"id":"${first}"}`, 'orders.list{"limit":50}', 'orders.list{"limit":6}', 'dashboard.stats']);
    // The digest is of the JSON the browsers would hold: the order as shipped, read here with plain SQL.
    const row = db.prepare('SELECT status, updated_at FROM orders WHERE id = ?').get(first) as { status: string; updated_at: number };
    const order = JSON.parse(JSON.stringify((await readerOf(keys[0]!)(db, 'acme')) as object)) as { status: string; updatedAt: string };
    expect(order.status).toBe('shipped');
    expect(order.updatedAt).toBe(new Date(row.updated_at).toISOString());
    expect(shipped.states[`orders.byId{"id":"${first}"}`]).toBe(dataDigest(JSON.stringify(await readerOf(keys[0]!)(db, 'acme'))));
    expect(Object.keys(shipped.states)).toEqual(shipped.affected);

    adjustStock(db, 'acme', product, 3, Date.now());
    expect((await oracle.next()).affected).toEqual(['products.list']);
    db.close();
  });

  it('reaches the verdicts of the plain reads (readAll + changedKeys + a digest each) over a run of mutations', async () => {
    const { db, first, other, product, keys } = fixture();
    const oracle = await TenantOracle.open(db, 'acme', keys);
    let before = await readAll(db, 'acme', keys);
    expect(oracle.initial).toEqual(Object.fromEntries([...before].map(([k, json]) => [k, dataDigest(json)])));
    const steps: Array<() => void> = [
      () => updateOrderStatus(db, 'acme', first, 'paid', Date.now()),
      () => adjustStock(db, 'acme', product, -2, Date.now()),
      () => createOrder(db, 'acme', { customer: 'Reference customer', items: [{ productId: product, quantity: 1 }] }, Date.now()),
      () => updateOrderStatus(db, 'acme', other, 'cancelled', Date.now()),
      () => undefined,
      () => updateOrderStatus(db, 'acme', first, 'paid', Date.now()), // same status: updated_at may still move
    ];
    let changes = 0;
    for (const step of steps) {
      step();
      const after = await readAll(db, 'acme', keys);
      const expected = changedKeys(before, after);
      changes += expected.length;
      expect(await oracle.next()).toEqual({ affected: expected, states: Object.fromEntries(expected.map((k) => [k, dataDigest(after.get(k)!)])) });
      before = after;
    }
    expect(changes).toBeGreaterThan(5); // the run did change things
    db.close();
  });

  it('proves every unchanged result of the app\'s data functions equal without serializing it (the fast path applies)', async () => {
    const { db, keys } = fixture();
    for (const queryKey of keys) {
      const read = readerOf(queryKey);
      const [a, b] = [await read(db, 'acme'), await read(db, 'acme')];
      expect(a).not.toBe(b);
      expect(sameJson(a, b), canonicalKey(queryKey)).toBe(true);
    }
    db.close();
  });

  it('reads every query inside one read transaction and leaves none open', async () => {
    const { db, keys } = fixture();
    const oracle = await TenantOracle.open(db, 'acme', keys);
    const statements: string[] = [];
    const exec = db.exec.bind(db);
    db.exec = ((sql: string) => {
      statements.push(sql);
      return exec(sql);
    }) as typeof db.exec;
    await oracle.next();
    expect(statements).toEqual(['BEGIN', 'COMMIT']);
    expect(db.inTransaction).toBe(false);
    db.close();
  });

  it('refuses a query it cannot read when it opens', async () => {
    const db = openDb(':memory:');
    await expect(TenantOracle.open(db, 'acme', [key('inspector.hubStats')])).rejects.toThrow(/cannot read inspector\.hubStats/);
    expect(db.inTransaction).toBe(false);
    db.close();
  });
});

describe('sameJson: a proof of equal JSON without serializing', () => {
  const at = (ms: number) => new Date(ms);
  it('accepts equal data built apart: primitives, Dates of the same time, arrays, plain objects in the same key order', () => {
    expect(sameJson({ a: 1, b: [at(5), 'x', null, true], c: { d: undefined } }, { a: 1, b: [at(5), 'x', null, true], c: { d: undefined } })).toBe(true);
    expect(sameJson([], [])).toBe(true);
    expect(sameJson('s', 's')).toBe(true);
  });

  it('rejects what differs, or what it cannot prove equal (then the JSON text decides)', () => {
    expect(sameJson({ a: 1 }, { a: 2 })).toBe(false);
    expect(sameJson({ a: at(5) }, { a: at(6) })).toBe(false);
    expect(sameJson([1, 2], [1, 2, 3])).toBe(false);
    // JSON-equal, but not provable by the walk: different key order, a Date against its string, NaN, a Map,
    // a toJSON key, an invalid Date, the same object twice.
    expect(sameJson({ a: 1, b: 2 }, { b: 2, a: 1 })).toBe(false);
    expect(sameJson(at(5), at(5).toISOString())).toBe(false);
    expect(sameJson(NaN, NaN)).toBe(false);
    expect(sameJson(new Map(), new Map())).toBe(false);
    expect(sameJson({ toJSON: 1 }, { toJSON: 1 })).toBe(false);
    expect(sameJson(at(NaN), at(NaN))).toBe(false);
    const same = { a: 1 };
    expect(sameJson(same, same)).toBe(false);
  });

  it('never answers true where the JSON differs (random data)', () => {
    const random = (seed: number) => () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const next = random(7);
    const value = (depth: number): unknown => {
      const r = next();
      if (depth > 2 || r < 0.3) return [1, 'a', null, true, undefined, 0, at(1000), at(2000)][Math.floor(next() * 8)];
      if (r < 0.6) return Array.from({ length: Math.floor(next() * 3) }, () => value(depth + 1));
      return Object.fromEntries(Array.from({ length: Math.floor(next() * 3) }, () => [['k', 'l', 'm'][Math.floor(next() * 3)]!, value(depth + 1)]));
    };
    let equal = 0;
    for (let i = 0; i < 5000; i++) {
      const a = value(0);
      const b = value(0);
      if (sameJson(a, b)) {
        equal++;
        expect(JSON.stringify(a)).toBe(JSON.stringify(b));
      }
    }
    expect(equal).toBeGreaterThan(100); // the check ran on many equal pairs
  });
});

describe('article benchmark: a missed invalidation injected into a copy of the registry', () => {
  const byId = key('orders.byId', { id: 'ord_1' });
  // An order changed at 1005; the browser's registry copy lacks orders.byId, so its observer never refetched.
  const mutation: MutationRecord = { tenant: 't1', phase: 'light', kind: 'status', sentAt: 1000, respondedAt: 1010, commitAt: 1005, keys: [{ resource: 'orders', id: 'ord_1' }] };
  const logs: ObserverLog[] = [{ tenant: 't1', user: 0, page: 'order detail', tab: 1, queryKey: byId, updates: [[0, 10, 1]] }];
  const broken = withoutQuery(resources, 'orders.byId');

  it('is reported as never fresh and not declared when the data decides', () => {
    const result = measureFreshness([{ ...mutation, affected: [canonicalKey(byId)] }], logs, undefined, broken);
    expect(result).toMatchObject({ samples: [], unresolved: 1, undeclared: 1 });
  });

  it('is reported as never fresh and not declared in the pushed variant when no push reflects the change', () => {
    // The observer got a pushed result afterwards, but one holding the state from before the change (not a state the mutation left).
    const affected = { ...mutation, affected: [canonicalKey(byId)], states: { [canonicalKey(byId)]: 'after' } };
    const pushedLogs: ObserverLog[] = [{ ...logs[0]!, updates: [[0, 10, 1], [PUSHED, 1020, 0, 'before']] }];
    const result = measureFreshness([affected], pushedLogs, undefined, broken, createReflectOracle([affected]));
    expect(result).toMatchObject({ samples: [], unresolved: 1, undeclared: 1 });
  });

  it('is reported as never fresh and not declared when TenantOracle reads the change from a real database', async () => {
    const db = openDb(':memory:');
    const order = (db.prepare("SELECT id FROM orders WHERE tenant_id = 'acme' AND status = 'pending' LIMIT 1").get() as { id: string }).id;
    const observed = key('orders.byId', { id: order });
    const oracle = await TenantOracle.open(db, 'acme', [observed, key('products.list')]);
    updateOrderStatus(db, 'acme', order, 'paid', 1005);
    const found = await oracle.next();
    expect(found.affected).toEqual([canonicalKey(observed)]);
    const record: MutationRecord = { ...mutation, tenant: 'acme', keys: [{ resource: 'orders', id: order }], ...found };
    const observer: ObserverLog[] = [{ tenant: 'acme', user: 0, page: 'order detail', tab: 1, queryKey: observed, updates: [[0, 10, 1]] }];
    expect(measureFreshness([record], observer, undefined, broken)).toMatchObject({ samples: [], unresolved: 1, undeclared: 1 });
    // With the app's own registry the same record is declared (not counted as undeclared).
    expect(measureFreshness([record], observer, undefined, resources)).toMatchObject({ samples: [], unresolved: 1, undeclared: 0 });
    db.close();
  });

  it('was invisible when the same registry decided which observers a change affects', () => {
    // Without the data (the benchmark before issue 19 item 4): no pair, no sample, nothing unresolved.
    const result = measureFreshness([mutation], logs, undefined, broken);
    expect(result).toMatchObject({ samples: [], unresolved: 0, undeclared: 0 });
  });

  it('leaves the app’s own registry alone and drops the query everywhere in the copy', () => {
    expect(resources.orders.queries.map((q) => q.path)).toContain('orders.byId');
    const named = Object.values(broken as ResourceRegistry).flatMap((r) => [...r.queries.map((q) => q.path), ...(r.dependents ?? [])]);
    expect(named).not.toContain('orders.byId');
    expect(named).toContain('orders.list');
  });
});

describe('browserRegistry', () => {
  it('is the app’s registry unless BENCH_ARTICLE_MISS names a query to drop', () => {
    expect(browserRegistry({})).toBe(resources);
    const appPaths = resources.orders.queries.map((q) => q.path);
    expect(appPaths).toContain('orders.byId');
    expect(browserRegistry({ BENCH_ARTICLE_MISS: 'orders.byId' }).orders.queries.map((q) => q.path)).toEqual(appPaths.filter((p) => p !== 'orders.byId'));
  });
});
