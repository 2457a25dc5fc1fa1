import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fenceHeader } from 'trpc-live/trpc';
import { createContext } from '../../src/server/context';
import { createCallerFactory } from '../../src/server/trpc/init';
import { appRouter } from '../../src/server/routers/_app';
import { sessionCookieFor, setupApp, type TestApp } from '../helpers/app';

// The request context's publish log (`ctx.publishLog`, once named `ctx.live`): where the live binding records what a
// mutation published, and where the tRPC handler reads the read-your-writes fence header from.
describe('ctx.publishLog', () => {
  let app: TestApp;
  beforeEach(async () => {
    app = await setupApp();
  });
  afterEach(async () => {
    await app.close();
  });

  it('records the keys a mutation published, which the fence header then names', async () => {
    const ctx = await createContext({ headers: new Headers({ cookie: await sessionCookieFor('alice@acme.test') }) });
    expect(fenceHeader(ctx.publishLog)).toBeNull();
    const order = await createCallerFactory(appRouter)(ctx).orders.create({ customer: 'Ada', items: [{ productId: 'prd_acme_2', quantity: 1 }] });
    const fence = JSON.parse(fenceHeader(ctx.publishLog) ?? '[]') as Array<{ resource: string; id?: string; cursor: string }>;
    expect(fence).toContainEqual({ resource: 'orders', id: order.id, cursor: expect.stringMatching(/^[^:]+:\d+$/) });
  });
});
