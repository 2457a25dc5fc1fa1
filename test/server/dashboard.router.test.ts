import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createQueryMatcher } from 'trpc-live/client';
import { resources } from '../../src/trpc/resources';
import { setupApp, type TestApp } from '../helpers/app';

describe('dashboard.stats', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await setupApp();
  });
  afterEach(async () => {
    await app.close();
  });

  it('sums one tenant only: revenue of paid and shipped orders, pending value, counts by status', async () => {
    const alice = await app.callerAs('alice@acme.test');
    // Seed: acme #1 paid 249.00, #2 pending 129.00, #3 pending 39.00.
    expect(await alice.dashboard.stats()).toMatchObject({
      revenueCents: 24900,
      pendingCents: 16800,
      orders: 3,
      imported: 0,
      byStatus: { pending: 2, paid: 1, shipped: 0, cancelled: 0 },
    });
    await alice.orders.updateStatus({ id: 'ord_acme_2', status: 'shipped' });
    const carol = await app.callerAs('carol@globex.test');
    await carol.orders.create({ customer: 'Globex buyer', items: [{ productId: 'prd_globex_1', quantity: 3 }] });
    expect(await alice.dashboard.stats()).toMatchObject({
      revenueCents: 24900 + 12900,
      pendingCents: 3900,
      orders: 3,
      byStatus: { pending: 1, paid: 1, shipped: 1, cancelled: 0 },
    });
  });

  it('lists a product as low once an order takes it to its threshold', async () => {
    const bob = await app.callerAs('bob@acme.test');
    await bob.orders.create({ customer: 'Camper', items: [{ productId: 'prd_acme_3', quantity: 1 }] });
    expect((await bob.dashboard.stats()).lowStock).toEqual([{ id: 'prd_acme_3', name: 'Head Lamp', stock: 5, lowStockThreshold: 5 }]);
  });

  it('is refreshed by any order or product change (bound to both without an id)', () => {
    const matcher = createQueryMatcher(resources);
    const key = [['dashboard', 'stats'], { type: 'query' }];
    expect(matcher.matches(key, [{ resource: 'orders', id: 'ord_x' }])).toBe(true);
    expect(matcher.matches(key, [{ resource: 'products', id: 'prd_x' }])).toBe(true);
    expect(matcher.matches(key, [{ resource: 'notifications', id: 'ntf_x' }])).toBe(false);
  });
});
