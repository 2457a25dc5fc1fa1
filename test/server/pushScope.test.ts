import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pushedQueries, watchKey } from 'trpc-live/shared';
import type { LiveMessage } from 'trpc-live/core';
import { createImport } from '../../src/server/data/imports';
import { resources } from '../../src/trpc/resources';
import { setupApp, type Caller, type TestApp } from '../helpers/app';

// Issue 17 item 1: a query may be pushed per scope only when its result depends on the tenant and the
// input alone. The check README tells adopters to write: call each per-scope query as two different users
// of one tenant (here an admin and a staff user) and expect the same answer. A new per-scope query without
// a sample input below fails the first test, so it cannot skip the check.

/** Calls a query of the app router by its dot path. */
const call = (caller: Caller, path: string, input: unknown): Promise<unknown> => {
  const [group, name] = path.split('.') as [string, string];
  const procedure = (caller as unknown as Record<string, Record<string, (input: unknown) => Promise<unknown>>>)[group]![name]!;
  return procedure(input);
};

describe('per-scope pushed queries of the demo', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await setupApp();
  });
  afterEach(async () => {
    await app.close();
  });

  it('answer an admin and a staff user of one tenant the same', async () => {
    const alice = await app.callerAs('alice@acme.test'); // admin
    const bob = await app.callerAs('bob@acme.test'); // staff
    const imported = createImport(app.db, { tenantId: 'acme', userId: 'usr_alice', fileName: 'a.csv', totalRows: 3 });
    const samples: Record<string, unknown[]> = {
      'orders.list': [undefined, { status: 'pending' }, { search: 'a', limit: 5 }],
      'orders.byId': [{ id: 'ord_acme_1' }],
      'products.list': [undefined],
      'products.byId': [{ id: 'prd_acme_1' }],
      'dashboard.stats': [undefined],
      'notifications.list': [undefined, { limit: 5 }],
      'imports.list': [undefined],
      'imports.byId': [{ id: imported.id }],
    };
    const perScope = [...pushedQueries(resources)].filter(([, mode]) => mode === 'scope').map(([path]) => path);
    expect(perScope.sort()).toEqual(Object.keys(samples).sort());
    // Something to differ on: a notification and an order made by alice.
    await alice.orders.create({ customer: 'Scope check', items: [{ productId: 'prd_acme_1', quantity: 1 }] });
    for (const path of perScope) {
      for (const input of samples[path]!) {
        const [asAdmin, asStaff] = [await call(alice, path, input), await call(bob, path, input)];
        expect(asStaff, `${path} ${JSON.stringify(input)}`).toEqual(asAdmin);
      }
    }
  });
});

describe('live.watch through the app router', () => {
  let app: TestApp;
  let controller: AbortController;
  beforeEach(async () => {
    app = await setupApp();
    controller = new AbortController();
  });
  afterEach(async () => {
    controller.abort();
    await app.close();
  });

  const openStream = () => app.openStreamAs('bob@acme.test', controller.signal);

  it('refuses a staff user another tenant\'s order and an unknown path, and accepts their own order', async () => {
    const { id } = await openStream();
    const bob = await app.callerAs('bob@acme.test');
    const response = await bob.live.watch({
      connectionId: id,
      holder: 'tab-1',
      add: [
        { path: 'orders.byId', input: { id: 'ord_globex_1' } },
        { path: 'orders.byId', input: { id: 'ord_acme_1' } },
        { path: 'auth.me' },
      ],
    });
    expect(response.accepted).toEqual([watchKey('orders.byId', { id: 'ord_acme_1' })]);
    expect(response.refused.map((r) => [r.watch, r.code])).toEqual([
      [watchKey('orders.byId', { id: 'ord_globex_1' }), 'refused'],
      ['auth.me', 'not-pushable'],
    ]);
    expect(response.refused[0]!.message).toMatch(/does not exist/);
  });

  it('pushes the new result of a watched order after another user changes it', async () => {
    const { id, next } = await openStream();
    const bob = await app.callerAs('bob@acme.test');
    await bob.live.watch({ connectionId: id, add: [{ path: 'orders.byId', input: { id: 'ord_acme_1' } }] });
    const alice = await app.callerAs('alice@acme.test');
    const current = await alice.orders.byId({ id: 'ord_acme_1' });
    const status = current.status === 'shipped' ? 'paid' : 'shipped';
    await alice.orders.updateStatus({ id: 'ord_acme_1', status });
    const seen: LiveMessage[] = [];
    while (!seen.some((m) => m.kind === 'result')) seen.push(await next());
    const result = seen.find((m) => m.kind === 'result')!;
    expect(result).toMatchObject({ kind: 'result', watch: watchKey('orders.byId', { id: 'ord_acme_1' }), data: { id: 'ord_acme_1', status } });
    // The invalidation came first; createdAt is still a Date (superjson).
    expect(seen.findIndex((m) => m.kind === 'invalidate')).toBeLessThan(seen.indexOf(result));
    expect((result as { data: { createdAt: unknown } }).data.createdAt).toBeInstanceOf(Date);
  });

  it('answers NOT_FOUND to another user watching on bob\'s stream and BAD_REQUEST to a malformed request', async () => {
    const { id } = await openStream();
    const alice = await app.callerAs('alice@acme.test');
    await expect(alice.live.watch({ connectionId: id, add: [{ path: 'orders.list' }] })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const bob = await app.callerAs('bob@acme.test');
    await expect(bob.live.watch({ connectionId: id, add: [{ path: '' }] })).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });
});
