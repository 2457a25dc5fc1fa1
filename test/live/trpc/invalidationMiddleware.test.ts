import { initTRPC, TRPCError, type AnyTRPCRouter } from '@trpc/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHub, type Hub } from 'trpc-live/core';
import { defineResources } from 'trpc-live/shared';
import { captureInvalidations, capturePublishes } from 'trpc-live/testing';
import {
  createLive,
  createPublishLog,
  fenceHeader,
  type Live,
  type LiveMeta,
  type PublishLog,
  type PublishProblem,
} from 'trpc-live/trpc';
import { RecordingSink } from '../../helpers/sink';
import { waitFor } from '../../helpers/wait';

const resources = defineResources({
  orders: { queries: [{ path: 'orders.byId', by: 'id' }] },
  products: { queries: [{ path: 'products.list' }] },
  invoices: { id: 'number', queries: [] },
});

interface Ctx {
  tenant: string | null;
  log: PublishLog;
}

/** A small app: one hub, one router, a `live` binding with the router bound lazily. */
function createApp(options: { bindRouter?: boolean } = {}) {
  const hub = createHub();
  const problems: Array<{ error: unknown; problem: PublishProblem }> = [];
  const t = initTRPC.context<Ctx>().meta<LiveMeta<typeof resources, Ctx>>().create();
  // Bound lazily, as an app does (its router is built from procedures that use `live`).
  const slot: { router?: AnyTRPCRouter } = {};
  const live: Live<Ctx, typeof resources> = createLive<Ctx, typeof resources>({
    hub,
    scope: (ctx) => ctx.tenant,
    publishLog: (ctx) => ctx.log,
    resources,
    ...(options.bindRouter === false ? {} : { router: async () => slot.router! }),
    onPublishError: (error, problem) => problems.push({ error, problem }),
  });
  const procedure = t.procedure.use(live.invalidationMiddleware);
  const seenInputs: unknown[] = [];
  function buildRouter() {
    return t.router({
      orders: t.router({
        byId: procedure.input(z.object({ id: z.string() })).query(({ input }) => ({ id: input.id })),
        create: procedure
          .meta({ invalidates: { resources: ['orders'], keys: ({ output }: { output: { id: string } }) => [{ resource: 'orders', id: output.id, action: 'created' }] } })
          .input(z.object({ customer: z.string() }))
          .mutation(() => ({ id: 'ord_new' })),
        rename: procedure
          .meta({
            invalidates: ({ input }: { input: { id: string } }) => {
              seenInputs.push(input);
              return [{ resource: 'orders', id: input.id, action: 'updated' }];
            },
          })
          // The parsed input differs from the raw one: trimmed, lower-cased, defaulted.
          .input(z.object({ id: z.string().trim().toLowerCase(), note: z.string().default('none') }))
          .mutation(() => 'ok'),
        fail: procedure
          .meta({ invalidates: [{ resource: 'orders' }] })
          .mutation(() => {
            throw new TRPCError({ code: 'CONFLICT', message: 'nope' });
          }),
        sloppy: procedure
          .meta({ invalidates: { resources: ['orders'], keys: ({ output }: { output: string }) => [{ resource: 'orders', id: output }, { resource: 'products' }] } })
          .mutation(() => 'o1'),
        throwing: procedure
          .meta({
            invalidates: {
              resources: ['orders', 'products'],
              keys: () => {
                throw new Error('bug in the declaration');
              },
            },
          })
          .mutation(() => 'ok'),
        unknown: procedure.meta({ invalidates: () => [{ resource: 'ghost' as 'orders' }, { resource: 'products' }] }).mutation(() => 'ok'),
        twice: procedure
          .meta({ invalidates: [{ resource: 'orders', id: 'o1' }, { resource: 'orders', id: 'o1', action: 'deleted' }, { resource: 'invoices', id: 7 }] })
          .mutation(() => 'ok'),
      }),
      products: t.router({
        list: procedure.query(() => []),
        restock: procedure.meta({ invalidates: [{ resource: 'products', hint: { reason: 'restock' } }] }).mutation(() => 'ok'),
      }),
    });
  }
  const appRouter = buildRouter();
  slot.router = appRouter;
  const caller = (tenant: string | null, log = createPublishLog()) => t.createCallerFactory(appRouter)({ tenant, log });
  return { hub, live, problems, seenInputs, caller };
}

describe('invalidation middleware', () => {
  let app: ReturnType<typeof createApp>;
  let hub: Hub;
  beforeEach(() => {
    app = createApp();
    hub = app.hub;
  });
  afterEach(async () => {
    await hub.close();
  });

  it('publishes static keys, with hints, to the caller scope after the mutation succeeded', async () => {
    expect(await captureInvalidations(hub, () => app.caller('acme').products.restock())).toEqual([
      { scope: 'acme', resource: 'products', action: 'changed', hint: { reason: 'restock' } },
    ]);
  });

  it('publishes the keys a declared function computes from the output', async () => {
    expect(await captureInvalidations(app.live, () => app.caller('acme').orders.create({ customer: 'Ada' }))).toEqual([
      { scope: 'acme', resource: 'orders', id: 'ord_new', action: 'created' },
    ]);
  });

  it('gives the function form the input parsed by the procedure parsers when the router is bound', async () => {
    const published = await captureInvalidations(hub, () => app.caller('acme').orders.rename({ id: '  ORD_7 ' }));
    expect(app.seenInputs).toEqual([{ id: 'ord_7', note: 'none' }]);
    expect(published).toEqual([{ scope: 'acme', resource: 'orders', id: 'ord_7', action: 'updated' }]);
  });

  it('gives the function form the raw input when no router is bound', async () => {
    const raw = createApp({ bindRouter: false });
    await raw.caller('acme').orders.rename({ id: '  ORD_7 ' });
    expect(raw.seenInputs).toEqual([{ id: '  ORD_7 ' }]);
    await raw.hub.close();
  });

  it('publishes nothing when the mutation fails', async () => {
    const capture = await capturePublishes(hub, () => app.caller('acme').orders.fail());
    expect(capture.error).toMatchObject({ code: 'CONFLICT' });
    expect(capture.entries).toEqual([]);
  });

  it('publishes nothing when the input is invalid', async () => {
    const capture = await capturePublishes(hub, () => app.caller('acme').orders.create({ customer: 42 as unknown as string }));
    expect(capture.error).toMatchObject({ code: 'BAD_REQUEST' });
    expect(capture.entries).toEqual([]);
  });

  it('publishes nothing for queries', async () => {
    expect(await captureInvalidations(hub, () => app.caller('acme').orders.byId({ id: 'o1' }))).toEqual([]);
  });

  it('publishes a key once per call even when declared twice, and numeric ids as strings', async () => {
    expect(await captureInvalidations(hub, () => app.caller('acme').orders.twice())).toEqual([
      { scope: 'acme', resource: 'orders', id: 'o1', action: 'changed' },
      { scope: 'acme', resource: 'invoices', id: '7', action: 'changed' },
    ]);
  });

  it('records what it published in the request publish log, which becomes the fence header', async () => {
    const log = createPublishLog();
    await app.caller('acme', log).orders.create({ customer: 'Ada' });
    expect(log.entries).toEqual([{ resource: 'orders', id: 'ord_new', cursor: expect.stringMatching(/^.+:\d+$/) }]);
    expect(JSON.parse(fenceHeader(log)!)).toEqual(log.entries);
    expect(fenceHeader(createPublishLog())).toBeNull();
  });

  it('reports and still publishes a key outside the declared resources', async () => {
    const published = await captureInvalidations(hub, () => app.caller('acme').orders.sloppy());
    expect(published.map((p) => p.resource)).toEqual(['orders', 'products']);
    expect(app.problems).toHaveLength(1);
    expect(String(app.problems[0]!.error)).toMatch(/orders\.sloppy: invalidates returned resource "products"/);
  });

  it('invalidates every declared resource whole when the declared function throws, and the mutation still succeeds', async () => {
    const capture = await capturePublishes(hub, () => app.caller('acme').orders.throwing());
    expect(capture.result).toBe('ok');
    expect(capture.published).toEqual([
      { scope: 'acme', resource: 'orders', action: 'changed' },
      { scope: 'acme', resource: 'products', action: 'changed' },
    ]);
    expect(app.problems[0]!.problem).toEqual({ path: 'orders.throwing' });
  });

  it('reports and skips a resource that is not in the registry', async () => {
    const published = await captureInvalidations(hub, () => app.caller('acme').orders.unknown());
    expect(published.map((p) => p.resource)).toEqual(['products']);
    expect(app.problems.map((p) => p.problem.key?.resource)).toEqual(['ghost']);
  });

  it('does not fail a successful mutation that has no scope to publish to', async () => {
    const capture = await capturePublishes(hub, () => app.caller(null).products.restock());
    expect(capture.result).toBe('ok');
    expect(capture.entries).toEqual([]);
    expect(app.problems).toHaveLength(1);
    expect(app.problems[0]!.problem).toEqual({ path: 'products.restock', noScope: true });
  });

  it('says once per procedure, as a warning, that an anonymous caller published nothing (default onPublishError)', async () => {
    const logged: Array<{ level: string; message: string }> = [];
    const t = initTRPC.context<{ tenant: string | null }>().meta<LiveMeta<typeof resources>>().create();
    const live = createLive<{ tenant: string | null }, typeof resources>({
      hub,
      scope: (ctx) => ctx.tenant,
      resources,
      logger: { warn: (message) => logged.push({ level: 'warn', message }), error: (message) => logged.push({ level: 'error', message }) },
    });
    const procedure = t.procedure.use(live.invalidationMiddleware);
    const router = t.router({
      restock: procedure.meta({ invalidates: [{ resource: 'products' }] }).mutation(() => 'ok'),
      receive: procedure.meta({ invalidates: [{ resource: 'products' }] }).mutation(() => 'ok'),
    });
    const anonymous = t.createCallerFactory(router)({ tenant: null });
    for (let i = 0; i < 3; i++) expect(await anonymous.restock()).toBe('ok');
    await anonymous.receive();
    // Not an error with a stack on every call: the app did nothing wrong by letting an anonymous caller mutate.
    expect(logged.map((l) => l.level)).toEqual(['warn', 'warn']);
    expect(logged[0]!.message).toMatch(/^\[trpc-live\] restock: published nothing, since its caller has no scope/);
    expect(logged[1]!.message).toMatch(/^\[trpc-live\] receive: /);
  });

  it('delivers only to connections of the caller tenant', async () => {
    const acme = new RecordingSink();
    const globex = new RecordingSink();
    const a = hub.connect({ scope: 'acme', sink: acme });
    const b = hub.connect({ scope: 'globex', sink: globex });
    const globexBefore = globex.data.length;
    await app.caller('acme').products.restock();
    await waitFor(() => acme.data.length > 0, 'the acme connection to get the invalidation');
    // The same publish also went (or not) to globex by now: delivery is one synchronous fan-out per publish.
    expect(acme.data).toEqual([expect.objectContaining({ kind: 'invalidate', resource: 'products' })]);
    expect(globex.data.length).toBe(globexBefore);
    a.dispose();
    b.dispose();
  });
});
