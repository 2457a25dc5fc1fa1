import { initTRPC } from '@trpc/server';
import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { defineResources } from 'trpc-live/shared';
import { captureInvalidations, type CapturedInvalidation } from 'trpc-live/testing';
import {
  checkResources,
  createLive,
  type inferInvalidationKey,
  type inferQueryInput,
  type inferQueryPaths,
  type InvalidationKey,
  type LiveMeta,
} from 'trpc-live/trpc';
import type { AppRouter } from '../../src/server/routers/_app';
import { live as appLive, publicProcedure as appProcedure } from '../../src/server/trpc/init';
import { liveResources } from '../../src/server/trpc/liveResources';
import { resources as appResources } from '../../src/trpc/resources';

// A small app of its own, so these tests do not move when the demo app grows.
const registry = defineResources({
  orders: { queries: [{ path: 'shop.orders.list' }, { path: 'shop.orders.byId', by: 'id' }], dependents: ['stats'] },
  invoices: { id: 'number', queries: [{ path: 'invoices.byNumber', by: 'number' }] },
  tags: { queries: [] },
});
type Registry = typeof registry;

const t = initTRPC.meta<LiveMeta<Registry>>().create();
const _router = t.router({
  shop: t.router({
    orders: t.router({
      list: t.procedure.input(z.object({ status: z.string() }).optional()).query(() => []),
      byId: t.procedure.input(z.object({ id: z.string() })).query(() => null),
      create: t.procedure.mutation(() => ({ id: 'o1' })),
    }),
  }),
  invoices: t.router({
    byNumber: t.procedure.input(z.object({ number: z.number().int() })).query(() => null),
  }),
  stats: t.procedure.query(() => 0),
  events: t.procedure.subscription(async function* () {}),
});
type Router = typeof _router;
const check = checkResources<Router>();

describe('resource registry checked against the router', () => {
  it('lists only query procedures as paths', () => {
    expectTypeOf<inferQueryPaths<Router>>().toEqualTypeOf<'shop.orders.list' | 'shop.orders.byId' | 'invoices.byNumber' | 'stats'>();
    expectTypeOf<inferQueryInput<Router, 'invoices.byNumber'>>().toEqualTypeOf<{ number: number }>();
  });

  it('accepts a registry whose paths, by fields, id types and dependents fit the router', () => {
    expectTypeOf(check(registry)).toEqualTypeOf<Registry>();
  });

  it('rejects a typo in a query path', () => {
    // @ts-expect-error "shop.orders.lst" is not a query procedure of the router
    check({ orders: { queries: [{ path: 'shop.orders.lst' }] } });
  });

  it('rejects a mutation or subscription path where a query is expected', () => {
    // @ts-expect-error a mutation is not a query
    check({ orders: { queries: [{ path: 'shop.orders.create' }] } });
    // @ts-expect-error a subscription is not a query
    check({ orders: { queries: [{ path: 'events' }] } });
  });

  it('rejects a by field that is not an input field of the query', () => {
    // @ts-expect-error "orderId" is not an input field of shop.orders.byId
    check({ orders: { queries: [{ path: 'shop.orders.byId', by: 'orderId' }] } });
    // @ts-expect-error stats has no input at all
    check({ orders: { queries: [{ path: 'stats', by: 'id' }] } });
  });

  it('rejects an id type that does not fit the by field', () => {
    // @ts-expect-error invoices.byNumber takes a number; the default id type is string
    check({ invoices: { queries: [{ path: 'invoices.byNumber', by: 'number' }] } });
    // @ts-expect-error shop.orders.byId takes a string id
    check({ orders: { id: 'number', queries: [{ path: 'shop.orders.byId', by: 'id' }] } });
  });

  it('rejects a dependent that names no query', () => {
    // @ts-expect-error "stat" is not a query procedure
    check({ orders: { queries: [], dependents: ['stat'] } });
  });

  it('checks the demo app registry against AppRouter', () => {
    expectTypeOf(liveResources).toEqualTypeOf(appResources);
    // @ts-expect-error the app has no orders.lst query
    checkResources<AppRouter>()({ orders: { queries: [{ path: 'orders.lst' }] } });
  });
});

describe('.meta({ invalidates }) keys typed by the registry', () => {
  it('accepts static keys, functions and declared functions of known resources', () => {
    t.procedure.meta({ invalidates: [{ resource: 'orders' }, { resource: 'invoices', id: 42, action: 'deleted' }] });
    t.procedure.meta({ invalidates: ({ output }: { output: { id: string } }) => [{ resource: 'orders', id: output.id }] });
    t.procedure.meta({
      invalidates: { resources: ['orders', 'tags'], keys: ({ input }: { input: { id: string } }) => ({ resource: 'orders', id: input.id }) },
    });
  });

  it('rejects an unknown resource name', () => {
    // @ts-expect-error "ordrs" is not a resource
    t.procedure.meta({ invalidates: [{ resource: 'ordrs' }] });
    // @ts-expect-error nor in the function form
    t.procedure.meta({ invalidates: () => [{ resource: 'ordrs', id: 'x' }] });
    // @ts-expect-error nor in the declared resources
    t.procedure.meta({ invalidates: { resources: ['ordrs'], keys: () => [] } });
  });

  it('rejects an id of the wrong type', () => {
    // @ts-expect-error invoices ids are numbers
    t.procedure.meta({ invalidates: [{ resource: 'invoices', id: 'INV-1' }] });
    // @ts-expect-error orders ids are strings
    t.procedure.meta({ invalidates: [{ resource: 'orders', id: 7 }] });
  });

  it('rejects an unknown action', () => {
    // @ts-expect-error "removed" is not an action
    t.procedure.meta({ invalidates: [{ resource: 'orders', action: 'removed' }] });
  });

  it('types the key union per resource', () => {
    expectTypeOf<inferInvalidationKey<Registry>>().toEqualTypeOf<
      InvalidationKey<'orders', string> | InvalidationKey<'invoices', number> | InvalidationKey<'tags', string>
    >();
  });

  it('types the demo app meta the same way', () => {
    // @ts-expect-error the demo app has no "order" resource
    appProcedure.meta({ invalidates: [{ resource: 'order' }] });
  });
});

describe('createLive and captureInvalidations', () => {
  it('types publishKeys and captured resources by the registry', () => {
    const live = createLive<{ tenant: string }, Registry>({ hub: () => null as never, scope: (ctx) => ctx.tenant, resources: registry });
    void live.publishKeys({ tenant: 'acme' }, [{ resource: 'invoices', id: 3 }]);
    // @ts-expect-error unknown resource
    void live.publishKeys({ tenant: 'acme' }, [{ resource: 'nope' }]);
    expectTypeOf(captureInvalidations(live, () => undefined)).resolves.toEqualTypeOf<
      CapturedInvalidation<'orders' | 'invoices' | 'tags'>[]
    >();
    expectTypeOf(captureInvalidations(appLive, () => undefined)).resolves.items.toHaveProperty('resource').toEqualTypeOf<
      keyof typeof appResources
    >();
  });
});
