import { describe, expect, it } from 'vitest';
import type { MutationRecord } from '../../bench/article/actors';
import { canonicalKey, changedKeys, readAll, readerOf } from '../../bench/article/dataOracle';
import { measureFreshness } from '../../bench/article/freshness';
import { createReflectOracle, PUSHED } from '../../bench/article/reflects';
import { browserRegistry, withoutQuery } from '../../bench/article/missedInvalidation';
import type { ObserverLog } from '../../bench/article/users';
import { updateOrderStatus } from '../../src/server/data/orders';
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
