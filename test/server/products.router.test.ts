import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { capturePublishes } from 'trpc-live/testing';
import { setupApp, type TestApp } from '../helpers/app';

describe('products router (createCaller, real SQLite)', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await setupApp();
  });
  afterEach(async () => {
    await app.close();
  });

  it('receives stock and publishes the product key to the caller tenant', async () => {
    const bob = await app.callerAs('bob@acme.test');
    const capture = await capturePublishes(app.hub, () => bob.products.adjustStock({ id: 'prd_acme_3', delta: 10 }));
    expect(capture.result).toMatchObject({ id: 'prd_acme_3', stock: 16 });
    expect(capture.published).toEqual([{ scope: 'acme', resource: 'products', id: 'prd_acme_3', action: 'updated' }]);
    expect((await bob.products.byId({ id: 'prd_acme_3' })).stock).toBe(16);
  });

  it('refuses to write off more than is in stock and publishes nothing', async () => {
    const bob = await app.callerAs('bob@acme.test');
    const capture = await capturePublishes(app.hub, () => bob.products.adjustStock({ id: 'prd_acme_3', delta: -7 }));
    expect(capture.error).toMatchObject({ code: 'CONFLICT', message: 'Stock of Head Lamp cannot go from 6 to -1' });
    expect(capture.entries).toEqual([]);
    expect((await bob.products.byId({ id: 'prd_acme_3' })).stock).toBe(6);
  });

  it('treats a product of another tenant as missing', async () => {
    const alice = await app.callerAs('alice@acme.test');
    const capture = await capturePublishes(app.hub, () => alice.products.adjustStock({ id: 'prd_globex_1', delta: 1 }));
    expect(capture.error).toMatchObject({ code: 'NOT_FOUND' });
    expect(capture.entries).toEqual([]);
    await expect(alice.products.byId({ id: 'prd_globex_1' })).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('refuses a zero change with BAD_REQUEST', async () => {
    const alice = await app.callerAs('alice@acme.test');
    await expect(alice.products.adjustStock({ id: 'prd_acme_1', delta: 0 })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('changes the low-stock threshold, which the dashboard reads', async () => {
    const alice = await app.callerAs('alice@acme.test');
    expect((await alice.dashboard.stats()).lowStock).toEqual([]);
    const capture = await capturePublishes(app.hub, () => alice.products.setLowStockThreshold({ id: 'prd_acme_1', threshold: 20 }));
    expect(capture.published).toEqual([{ scope: 'acme', resource: 'products', id: 'prd_acme_1', action: 'updated' }]);
    expect((await alice.dashboard.stats()).lowStock).toEqual([{ id: 'prd_acme_1', name: 'Trail Tent 2P', stock: 14, lowStockThreshold: 20 }]);
  });
});
