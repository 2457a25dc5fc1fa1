import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capturePublishes, captureInvalidations } from 'trpc-live/testing';
import { listOrders, SEARCH_SLICE } from '../../src/server/data/orders';
import { setupApp, type TestApp } from '../helpers/app';
import { insertManyOrders } from '../helpers/manyOrders';

describe('orders router (createCaller, real SQLite)', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await setupApp();
  });
  afterEach(async () => {
    await app.close();
  });

  it('lists only the caller tenant orders', async () => {
    const alice = await app.callerAs('alice@acme.test');
    const carol = await app.callerAs('carol@globex.test');
    const acme = await alice.orders.list();
    const globex = await carol.orders.list();
    // The seed gives each tenant 3 orders; the lengths first, so an empty list cannot pass `every`.
    expect(acme).toHaveLength(3);
    expect(globex).toHaveLength(3);
    expect(acme.map((o) => o.id).every((id) => id.startsWith('ord_acme'))).toBe(true);
    expect(globex.map((o) => o.id).every((id) => id.startsWith('ord_globex'))).toBe(true);
  });

  it('publishes exactly the declared keys of orders.create, to the caller tenant only', async () => {
    const alice = await app.callerAs('alice@acme.test');
    const capture = await capturePublishes(app.hub, () =>
      alice.orders.create({ customer: 'Marie Curie', items: [{ productId: 'prd_acme_2', quantity: 2 }] }),
    );
    expect(capture.error).toBeUndefined();
    const order = capture.result!;
    // The resolver's notification (stored, then pushed) comes first; the declared keys follow the resolver.
    const notification = capture.published.find((p) => p.resource === 'notifications');
    expect(capture.published).toEqual([
      { scope: 'acme', resource: 'notifications', id: notification?.id, action: 'created' },
      { scope: 'acme', resource: 'orders', id: order.id, action: 'created' },
      { scope: 'acme', resource: 'products', id: 'prd_acme_2', action: 'updated' },
    ]);
    expect(notification?.id).toMatch(/^ntf_/);
  });

  it('publishes the order key of orders.updateStatus', async () => {
    const bob = await app.callerAs('bob@acme.test');
    const published = await captureInvalidations(app.hub, () => bob.orders.updateStatus({ id: 'ord_acme_2', status: 'shipped' }));
    expect(published).toEqual([{ scope: 'acme', resource: 'orders', id: 'ord_acme_2', action: 'updated' }]);
    expect((await bob.orders.byId({ id: 'ord_acme_2' })).status).toBe('shipped');
    expect((await bob.orders.updateStatus({ id: 'ord_acme_3', status: 'cancelled' })).changed).toBe(true);
  });

  it('publishes nothing and keeps updatedAt when orders.updateStatus sets the status the order already has', async () => {
    const bob = await app.callerAs('bob@acme.test');
    const first = await captureInvalidations(app.hub, () => bob.orders.updateStatus({ id: 'ord_acme_2', status: 'shipped' }));
    expect(first).toHaveLength(1);
    const before = await bob.orders.byId({ id: 'ord_acme_2' });
    const capture = await capturePublishes(app.hub, () => bob.orders.updateStatus({ id: 'ord_acme_2', status: 'shipped' }));
    expect(capture.error).toBeUndefined();
    expect(capture.result).toMatchObject({ id: 'ord_acme_2', status: 'shipped', changed: false });
    expect(capture.entries).toEqual([]);
    expect((await bob.orders.byId({ id: 'ord_acme_2' })).updatedAt).toEqual(before.updatedAt);
  });

  it('publishes nothing when the input is invalid', async () => {
    const alice = await app.callerAs('alice@acme.test');
    const capture = await capturePublishes(app.hub, () =>
      alice.orders.updateStatus({ id: 'ord_acme_1', status: 'lost' as 'paid' }),
    );
    expect(capture.error).toMatchObject({ code: 'BAD_REQUEST' });
    expect(capture.entries).toEqual([]);
  });

  it('publishes nothing when the order does not exist (or belongs to another tenant)', async () => {
    const alice = await app.callerAs('alice@acme.test');
    const missing = await capturePublishes(app.hub, () => alice.orders.updateStatus({ id: 'ord_nope', status: 'paid' }));
    expect(missing.error).toMatchObject({ code: 'NOT_FOUND' });
    const foreign = await capturePublishes(app.hub, () => alice.orders.updateStatus({ id: 'ord_globex_1', status: 'paid' }));
    expect(foreign.error).toMatchObject({ code: 'NOT_FOUND' });
    expect([...missing.entries, ...foreign.entries]).toEqual([]);
  });

  it('publishes nothing and changes no stock when stock is short', async () => {
    const alice = await app.callerAs('alice@acme.test');
    const before = await alice.products.list();
    const capture = await capturePublishes(app.hub, () =>
      alice.orders.create({ customer: 'X', items: [{ productId: 'prd_acme_3', quantity: 999 }] }),
    );
    expect(capture.error).toMatchObject({ code: 'CONFLICT' });
    expect(capture.entries).toEqual([]);
    expect(await alice.products.list()).toEqual(before);
  });

  it('refuses unauthenticated calls with UNAUTHORIZED', async () => {
    const anonymous = await app.anonymous();
    await expect(anonymous.orders.list()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
  });

  it('yields the tenant signals from the live subscription as tracked envelopes', async () => {
    const controller = new AbortController();
    const alice = await app.callerAs('alice@acme.test', { signal: controller.signal });
    const stream = await alice.live.stream();
    const iterator = stream[Symbol.asyncIterator]();
    // The hello of a fresh stream is tracked too: it carries the cursor the stream starts from.
    const hello = await iterator.next();
    const [helloId, helloData] = hello.value as unknown as [string, unknown];
    expect(helloData).toMatchObject({ kind: 'hello' });
    expect(helloId).toMatch(/^[A-Za-z0-9_-]+:\d+$/);
    const receipt = await app.hub.invalidate('acme', { resource: 'orders', id: 'ord_acme_1' });
    const next = await iterator.next();
    // createCaller yields tRPC's raw tracked envelope: [id, data, symbol].
    expect(Array.isArray(next.value)).toBe(true);
    const [id, data] = next.value as unknown as [string, unknown];
    expect(id).toBe(receipt.cursor);
    expect(data).toMatchObject({ kind: 'invalidate', resource: 'orders', id: 'ord_acme_1' });
    controller.abort();
    await expect(iterator.next()).resolves.toMatchObject({ done: true });
    expect(app.hub.connectionCount).toBe(0);
  });

  it('searches across scan slices like a filter of every order, yielding between slices', async () => {
    // 2.5 slices of acme orders, plus globex's (never in acme's results).
    insertManyOrders(app.db, 'acme', Math.round(SEARCH_SLICE * 2.5));
    insertManyOrders(app.db, 'globex', 500);
    const all = app.db
      .prepare("SELECT id, customer, status, created_at AS createdAt, number FROM orders WHERE tenant_id = 'acme'")
      .all() as Array<{ id: string; customer: string; status: string; createdAt: number; number: number }>;
    const oracle = (search: string, status: string | undefined, limit: number) =>
      all
        .filter((o) => o.customer.toLowerCase().includes(search.toLowerCase()) && (!status || o.status === status))
        .sort((a, b) => b.createdAt - a.createdAt || b.number - a.number)
        .slice(0, limit)
        .map((o) => o.id);
    // The seeded demo orders are the oldest that match "Ada"; "lovelace 3" hits few; "%_" are literal; nothing has "zz";
    // every order has an "a".
    for (const [search, status, limit] of [
      ['Ada', undefined, 200],
      ['lovelace 3', undefined, 200],
      ['ovelace 99', 'paid', 50],
      ['%_', undefined, 50],
      ['zz', undefined, 200],
      ['zz', 'cancelled', 10],
      ['a', undefined, 20_000],
    ] as const) {
      let pauses = 0;
      const found = await listOrders(app.db, 'acme', { search, status, limit }, () => {
        pauses++;
        return Promise.resolve();
      });
      expect(found.map((o) => o.id), `${search} ${status}`).toEqual(oracle(search, status, limit));
      // A short term on few orders reads the tenant's customers (no slices); one on more orders than
      // SHORT_SEARCH_ORDERS ('a' is in every customer) reads three slices, a pause between each.
      if (search === 'zz' && !status) expect(pauses).toBe(0);
      if (search === 'a') expect(pauses).toBe(2);
    }
    const alice = await app.callerAs('alice@acme.test');
    expect((await alice.orders.list({ search: 'lovelace 3', limit: 200 })).map((o) => o.id)).toEqual(oracle('lovelace 3', undefined, 200));
  });
});
