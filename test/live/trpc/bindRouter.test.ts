import { initTRPC, type AnyTRPCRouter } from '@trpc/server';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createHub, type Hub } from 'trpc-live/core';
import { defineResources } from 'trpc-live/shared';
import { captureInvalidations } from 'trpc-live/testing';
import { createLive, createPublishLog, type CreateLiveOptions, type LiveMeta, type PublishLog, type PublishProblem } from 'trpc-live/trpc';
import { waitFor } from '../../helpers/wait';

// `live.bindRouter(router)`: the router is handed over after it is built from procedures that use the
// binding, instead of createLive importing it lazily (which made every app router an import cycle).

const resources = defineResources({ orders: { queries: [{ path: 'orders.byId', by: 'id' }] } });

interface Ctx {
  tenant: string;
  log: PublishLog;
}

type Options = Partial<CreateLiveOptions<Ctx, typeof resources>>;

/** An app whose `orders.rename` parses its input (trim, lower-case) and invalidates from it. */
function createApp(options: Options = {}, chain: 'with middleware' | 'without' = 'with middleware') {
  const hub = createHub();
  const problems: Array<{ error: unknown; problem: PublishProblem }> = [];
  const warnings: string[] = [];
  // A variable, not a literal: the logger may grow methods this test does not need.
  const logger = { warn: (message: string) => warnings.push(message), error: () => undefined };
  const t = initTRPC.context<Ctx>().meta<LiveMeta<typeof resources, Ctx>>().create();
  const live = createLive<Ctx, typeof resources>({
    hub,
    scope: (ctx) => ctx.tenant,
    publishLog: (ctx) => ctx.log,
    resources,
    onPublishError: (error, problem) => problems.push({ error, problem }),
    logger,
    ...options,
  });
  const procedure = chain === 'with middleware' ? t.procedure.use(live.invalidationMiddleware) : t.procedure;
  const seenInputs: unknown[] = [];
  const router = t.router({
    orders: t.router({
      byId: procedure.input(z.object({ id: z.string() })).query(({ input }) => input),
      rename: procedure
        .meta({
          invalidates: ({ input }: { input: { id: string } }) => {
            seenInputs.push(input);
            return [{ resource: 'orders', id: input.id, action: 'updated' }];
          },
        })
        .input(z.object({ id: z.string().trim().toLowerCase() }))
        .mutation(() => 'ok'),
      archive: procedure
        .meta({ invalidates: { resources: ['orders'], keys: ({ input }: { input: { id: string } }) => [{ resource: 'orders', id: input.id }] } })
        .input(z.object({ id: z.string() }))
        .mutation(() => 'ok'),
    }),
  });
  const caller = () => t.createCallerFactory(router)({ tenant: 'acme', log: createPublishLog() });
  return { hub, live, router, problems, warnings, seenInputs, caller };
}

let hubs: Hub[] = [];
const track = <T extends { hub: Hub }>(app: T): T => {
  hubs.push(app.hub);
  return app;
};
afterEach(async () => {
  await Promise.all(hubs.map((hub) => hub.close()));
  hubs = [];
});

describe('live.bindRouter', () => {
  it('gives the function form the parsed input when the router is bound after createLive', async () => {
    const app = track(createApp());
    expect(app.live.bindRouter(app.router)).toBe(app.router);
    const published = await captureInvalidations(app.hub, () => app.caller().orders.rename({ id: '  ORD_7 ' }));
    expect(app.seenInputs).toEqual([{ id: 'ord_7' }]);
    expect(published).toEqual([{ scope: 'acme', resource: 'orders', id: 'ord_7', action: 'updated' }]);
    expect(app.problems).toEqual([]);
  });

  it('reports a problem naming bindRouter, and does not run the declaration on raw input, when parsed input is required and no router is bound', async () => {
    const app = track(createApp({ invalidatesInput: 'parsed' }));
    const published = await captureInvalidations(app.hub, () => app.caller().orders.rename({ id: '  ORD_7 ' }));
    expect(app.seenInputs).toEqual([]);
    expect(published).toEqual([]);
    expect(app.problems).toHaveLength(1);
    const error = app.problems[0]!.error as Error;
    expect(error.message).toContain('orders.rename');
    expect(String((error.cause as Error).message)).toMatch(/no router is bound.*live\.bindRouter\(appRouter\)/);
  });

  it('invalidates the declared resources whole when parsed input is required and no router is bound', async () => {
    const app = track(createApp({ invalidatesInput: 'parsed' }));
    const published = await captureInvalidations(app.hub, () => app.caller().orders.archive({ id: 'o1' }));
    expect(published).toEqual([{ scope: 'acme', resource: 'orders', action: 'changed' }]);
    expect(app.problems).toHaveLength(1);
  });

  it('gives the raw input when asked for it, even with a router bound', async () => {
    const app = track(createApp({ invalidatesInput: 'raw' }));
    app.live.bindRouter(app.router);
    await app.caller().orders.rename({ id: '  ORD_7 ' });
    expect(app.seenInputs).toEqual([{ id: '  ORD_7 ' }]);
  });

  it('keeps the router option working: a getter given to createLive parses the input', async () => {
    const slot: { router?: AnyTRPCRouter } = {};
    const app = track(createApp({ router: () => slot.router! }));
    slot.router = app.router;
    await app.caller().orders.rename({ id: '  ORD_7 ' });
    expect(app.seenInputs).toEqual([{ id: 'ord_7' }]);
  });

  it('runs the development check of middleware chains on the router bound later', async () => {
    const app = track(createApp({}, 'without'));
    const ctx = { tenant: 'acme', log: createPublishLog() };
    // A stream opened before the router is bound cannot check anything, and must not use up the one warning.
    app.live.stream(ctx, undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(app.warnings).toEqual([]);
    app.live.bindRouter(app.router);
    app.live.stream(ctx, undefined);
    await waitFor(() => app.warnings.length > 0, 'the warning');
    expect(app.warnings[0]).toContain('orders.rename');
  });
});
