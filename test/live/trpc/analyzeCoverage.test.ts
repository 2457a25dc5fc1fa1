import { initTRPC, lazy } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineResources, type ResourceRegistry } from 'trpc-live/shared';
import { createHub } from 'trpc-live/core';
import { analyzeCoverage, createLive, formatCoverage, type LiveMeta } from 'trpc-live/trpc';

// Meta typed loosely on purpose: these routers carry the mistakes live:check must catch at run time
// (what a cast, a stale registry or plain JavaScript would let through the compiler).
const t = initTRPC.meta<LiveMeta<ResourceRegistry>>().create();
// Procedures that declare invalidates use the middleware, as they must (test/live/trpc/middlewareChain.test.ts covers its absence).
const live = createLive<object>({ hub: createHub(), scope: () => 'tenant' });
const p = t.procedure.use(live.invalidationMiddleware);

const ordersRouter = t.router({
  list: t.procedure.input(z.object({ status: z.string() }).optional()).query(() => []),
  byId: t.procedure.input(z.object({ id: z.string() })).query(() => null),
  create: p
    .meta({ invalidates: { resources: ['orders', 'products'], keys: ({ output }: { output: string }) => [{ resource: 'orders', id: output }] } })
    .mutation(() => 'o1'),
  archive: p.meta({ invalidates: [{ resource: 'orders', action: 'deleted' }] }).mutation(() => 'ok'),
});

const goodRouter = t.router({
  orders: ordersRouter,
  products: t.router({ list: t.procedure.query(() => []) }),
  stats: t.procedure.query(() => 0),
  me: t.procedure.query(() => null),
  signIn: t.procedure.mutation(() => 'ok'),
});

const goodRegistry = defineResources({
  orders: { queries: [{ path: 'orders.list' }, { path: 'orders.byId', by: 'id' }], dependents: ['stats'] },
  products: { queries: [{ path: 'products.list' }] },
});

describe('analyzeCoverage', () => {
  it('reports coverage and no errors for a sound contract', async () => {
    const report = await analyzeCoverage(goodRouter, goodRegistry);
    expect(report.errors).toEqual([]);
    expect(report.mutations).toEqual([
      { path: 'orders.archive', form: 'static', resources: ['orders'] },
      { path: 'orders.create', form: 'declared', resources: ['orders', 'products'] },
      { path: 'signIn', form: 'none', resources: [] },
    ]);
    expect(report.resources).toEqual([
      { name: 'orders', queries: ['orders.list', 'orders.byId(id)'], dependents: ['stats'], invalidatedBy: ['orders.archive', 'orders.create'], publishedBy: [] },
      { name: 'products', queries: ['products.list'], dependents: [], invalidatedBy: ['orders.create'], publishedBy: [] },
    ]);
    expect(report.uncoveredQueries).toEqual(['me']);
    expect(report.unboundQueries).toEqual(['me']);
    expect(report.silentMutations).toEqual(['signIn']);
    const text = formatCoverage(report);
    expect(text).toContain('Queries no mutation or publisher invalidates (1):\n  me  (no resource binds it)');
    expect(text).toContain('Publishers outside procedures (0)\n');
    expect(text).toContain('Mutations that invalidate nothing (1):\n  signIn');
    expect(text.endsWith('OK')).toBe(true);
  });

  it('lists the queries whose results are pushed and how (issue 17)', async () => {
    const registry = defineResources({
      orders: { queries: [{ path: 'orders.list', push: 'scope' }, { path: 'orders.byId', by: 'id', push: 'connection' }] },
      products: { queries: [{ path: 'products.list' }] },
    });
    const report = await analyzeCoverage(goodRouter, registry);
    expect(report.pushed).toEqual([
      { path: 'orders.byId', mode: 'connection' },
      { path: 'orders.list', mode: 'scope' },
    ]);
    expect(formatCoverage(report)).toContain(
      'Queries whose results are pushed (2):\n  orders.byId  per connection\n  orders.list  per scope (once per tenant)\n',
    );
    expect(formatCoverage(await analyzeCoverage(goodRouter, goodRegistry))).toContain('Queries whose results are pushed (0)\n');
  });

  it('reports a query pushed per scope in one binding and per connection in another as an error', async () => {
    const registry = defineResources({
      orders: { queries: [{ path: 'orders.list', push: 'scope' }] },
      products: { queries: [{ path: 'orders.list', push: 'connection' }, { path: 'products.list' }] },
    });
    const report = await analyzeCoverage(goodRouter, registry);
    expect(report.errors).toEqual(['orders.list is pushed per scope in one binding and per connection in another (products); pick one']);
  });

  it('lists a bound query as uncovered when no mutation invalidates its resource', async () => {
    const registry = defineResources({ ...goodRegistry, stats: { queries: [{ path: 'stats' }] } });
    const report = await analyzeCoverage(goodRouter, registry);
    expect(report.errors).toEqual([]);
    expect(report.uncoveredQueries).toEqual(['me']);
    const onlyStats = await analyzeCoverage(t.router({ stats: t.procedure.query(() => 0) }), { stats: { queries: [{ path: 'stats' }] } });
    expect(onlyStats.uncoveredQueries).toEqual(['stats']);
    expect(onlyStats.unboundQueries).toEqual([]);
  });

  it('fails on registry bindings that name no query, a mutation, or a missing input field', async () => {
    const report = await analyzeCoverage(goodRouter, {
      ...goodRegistry,
      products: { queries: [{ path: 'products.lst' }, { path: 'orders.create' }, { path: 'orders.byId', by: 'orderId' }], dependents: ['stat'] },
    });
    expect(report.errors).toEqual([
      'resource "products": "products.lst" names no procedure of the router',
      'resource "products": "orders.create" is a mutation, not a query',
      'resource "products": "orderId" is not an input field of orders.byId (fields: id)',
      'resource "products" dependents: "stat" names no procedure of the router',
    ]);
    expect(formatCoverage(report)).toMatch(/FAILED: 4 error\(s\)$/);
  });

  it('fails on a resource that names no query and on keys of unknown resources', async () => {
    const router = t.router({
      list: t.procedure.query(() => []),
      a: p.meta({ invalidates: [{ resource: 'ghost' }] }).mutation(() => 'ok'),
      b: p.meta({ invalidates: { resources: ['empty'], keys: ({ output }: { output: string }) => [{ resource: 'empty', id: output }] } }).mutation(() => 'ok'),
    });
    const report = await analyzeCoverage(router, { list: { queries: [{ path: 'list' }] }, empty: { queries: [] } });
    expect(report.errors).toEqual([
      'resource "empty" names no query',
      'a: invalidates unknown resource "ghost" (not in the registry)',
      'b: invalidates "empty", which names no query',
    ]);
  });

  it('fails on a bare function, which it cannot verify without running it', async () => {
    const router = t.router({
      list: t.procedure.query(() => []),
      bare: p.meta({ invalidates: ({ output }: { output: string }) => [{ resource: 'list', id: output }] }).mutation(() => 'ok'),
    });
    const report = await analyzeCoverage(router, { list: { queries: [{ path: 'list' }] } });
    expect(report.errors).toEqual([
      'bare: invalidates is a bare function, which live:check cannot verify; write { resources: [...], keys: fn }',
    ]);
    expect(report.mutations).toEqual([{ path: 'bare', form: 'function', resources: [] }]);
  });

  it('fails on invalidates declared on a query, which never publishes', async () => {
    const router = t.router({ list: p.meta({ invalidates: [{ resource: 'list' }] }).query(() => []) });
    const report = await analyzeCoverage(router, { list: { queries: [{ path: 'list' }] } });
    expect(report.errors).toEqual(['list: a query declares invalidates, but only mutations publish']);
  });

  it('lists the publishers declared against the registry beside the mutations and counts what they refresh', async () => {
    const registry = defineResources({ ...goodRegistry, stats: { queries: [{ path: 'stats' }] } });
    const bound = createLive<object, typeof registry>({ hub: createHub(), resources: registry });
    bound.publisher('nightly', { invalidates: ['stats', 'orders'] });
    const report = await analyzeCoverage(goodRouter, registry);
    expect(report.errors).toEqual([]);
    expect(report.publishers).toEqual([{ name: 'nightly', invalidates: ['stats', 'orders'], publishes: [] }]);
    expect(report.resources.find((r) => r.name === 'stats')).toMatchObject({ invalidatedBy: [], publishedBy: ['nightly'] });
    // Without the publisher, `stats` was uncovered (the test above).
    expect(report.uncoveredQueries).toEqual(['me']);
    const text = formatCoverage(report);
    expect(text).toContain('  stats\n    read by      stats\n    invalidated  - (no mutation)\n    published by nightly\n');
    expect(text).toContain('Publishers outside procedures (1):\n  nightly: invalidates stats, orders; publishes -\n');
  });

  it('fails on a publisher invalidating a resource that names no query or is unknown', async () => {
    const router = t.router({ list: t.procedure.query(() => []) });
    const registry = { list: { queries: [{ path: 'list' }] }, empty: { queries: [] } };
    const report = await analyzeCoverage(router, registry, {
      publishers: [{ name: 'cron', invalidates: ['empty', 'ghost'], publishes: [] }],
    });
    expect(report.errors).toEqual([
      'resource "empty" names no query',
      'publisher "cron": invalidates "empty", which names no query',
      'publisher "cron": invalidates unknown resource "ghost" (not in the registry)',
    ]);
  });

  it('loads lazy sub-routers before analysing them', async () => {
    const router = t.router({ orders: lazy(async () => ordersRouter), products: t.router({ list: t.procedure.query(() => []) }), stats: t.procedure.query(() => 0) });
    const report = await analyzeCoverage(router, goodRegistry);
    expect(report.errors).toEqual([]);
    expect(report.mutations.map((m) => m.path)).toEqual(['orders.archive', 'orders.create']);
  });
});
