import { initTRPC, lazy, type AnyTRPCRouter } from '@trpc/server';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createHub } from 'trpc-live/core';
import { defineResources } from 'trpc-live/shared';
import { analyzeCoverage, createLive, type LiveMeta } from 'trpc-live/trpc';
import { waitFor } from '../../helpers/wait';

// A procedure that declares `invalidates` without the invalidation middleware in its chain
// publishes nothing; live:check must fail on it and createLive must warn about it once in development.

interface Ctx {
  tenant: string;
}

const resources = defineResources({ orders: { queries: [{ path: 'orders.list' }] } });
const t = initTRPC.context<Ctx>().meta<LiveMeta<typeof resources, Ctx>>().create();
const ctx: Ctx = { tenant: 'acme' };

/** An app whose `orders.create` is built on the plain procedure (the mistake) unless `fixed`; warnings are recorded. */
function createApp(options: { fixed?: boolean; lazyOrders?: boolean } = {}) {
  const warnings: string[] = [];
  const slot: { router?: AnyTRPCRouter } = {};
  const hub = createHub();
  const live = createLive<Ctx, typeof resources>({
    hub,
    scope: (c) => c.tenant,
    resources,
    router: async () => slot.router!,
    logger: { warn: (message: string) => warnings.push(message), error: () => undefined },
  });
  const liveProcedure = t.procedure.use(live.invalidationMiddleware);
  const ordersRouter = t.router({
    list: t.procedure.query(() => []),
    // Declares invalidates: needs the middleware.
    create: (options.fixed ? liveProcedure : t.procedure).meta({ invalidates: [{ resource: 'orders', action: 'created' }] }).mutation(() => 'o1'),
    // Through t.middleware(): still the same function in the chain.
    archive: t.procedure
      .use(t.middleware(live.invalidationMiddleware))
      .meta({ invalidates: [{ resource: 'orders', action: 'deleted' }] })
      .mutation(() => 'ok'),
    // Declares nothing: needs no middleware.
    note: t.procedure.mutation(() => 'ok'),
    empty: t.procedure.meta({ invalidates: [] }).mutation(() => 'ok'),
  });
  const router = t.router({
    orders: options.lazyOrders ? lazy(async () => ordersRouter) : ordersRouter,
    live: t.router({ stream: t.procedure.subscription(({ signal }) => live.stream(ctx, undefined, signal)) }),
  });
  slot.router = router;
  return { live, router, hub, warnings, caller: t.createCallerFactory(router)(ctx) };
}

describe('live:check on a procedure without the invalidation middleware', () => {
  it('fails naming the procedure and the middleware to add when a mutation with invalidates lacks it', async () => {
    const { router } = createApp();
    const report = await analyzeCoverage(router, resources);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatch(/^orders\.create: .*live\.invalidationMiddleware.*\.use\(live\.invalidationMiddleware\)/);
  });

  it('reports it inside a lazy sub-router too', async () => {
    const { router } = createApp({ lazyOrders: true });
    const report = await analyzeCoverage(router, resources);
    expect(report.errors.map((e) => e.split(':')[0])).toEqual(['orders.create']);
  });

  it('passes when every procedure with invalidates has the middleware, directly or through t.middleware()', async () => {
    const { router } = createApp({ fixed: true });
    const report = await analyzeCoverage(router, resources);
    expect(report.errors).toEqual([]);
  });
});

describe('the development warning about a procedure without the invalidation middleware', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('warns once, naming the procedure, when streams open and mutations run', async () => {
    const { caller, warnings } = createApp();
    for (let i = 0; i < 3; i++) {
      const stream = await caller.live.stream();
      await stream[Symbol.asyncIterator]().return?.();
      await caller.orders.archive();
    }
    await waitFor(() => warnings.length > 0, 'the warning');
    // Later streams and mutations do not repeat it.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('orders.create');
    expect(warnings[0]).toContain('.use(live.invalidationMiddleware)');
    expect(warnings[0]).not.toContain('orders.archive');
  });

  it('does not warn when every procedure with invalidates has the middleware', async () => {
    const { caller, warnings } = createApp({ fixed: true });
    await caller.orders.create();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(warnings).toEqual([]);
  });

  it('does not warn in production', async () => {
    vi.stubEnv('NODE_ENV', 'production');
    const { caller, warnings } = createApp();
    await caller.orders.archive();
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(warnings).toEqual([]);
  });
});
