import { QueryClient, QueryObserver, type QueryKey } from '@tanstack/react-query';
import { createTRPCClient, unstable_localLink, type TRPCClient } from '@trpc/client';
import { initTRPC } from '@trpc/server';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLiveInvalidator, liveLink, type LiveInvalidator } from 'trpc-live/client';
import { createHub } from 'trpc-live/core';
import { defineResources } from 'trpc-live/shared';
import { createLive, liveStreamInput, type LiveMeta } from 'trpc-live/trpc';
import { waitFor } from '../../helpers/wait';

// Two tRPC clients with their own keyPrefix share one QueryClient (tRPC's `keyPrefix` exists for
// exactly this); each live invalidator must touch only the queries under its own prefix. The keys
// are the real ones tRPC's `queryOptions()` produces; the oracle is which resolver ran for which client.

const resources = defineResources({
  orders: { queries: [{ path: 'orders.list' }, { path: 'orders.byId', by: 'id' }] },
});

interface Ctx {
  tenant: string;
  /** Which client made the call: each query's fetches are counted per client. */
  client: string;
}

const fetches = new Map<string, number>();
const count = (name: string) => fetches.set(name, (fetches.get(name) ?? 0) + 1);

const t = initTRPC.context<Ctx>().meta<LiveMeta<typeof resources, Ctx>>().create();
const hub = createHub();
const live = createLive<Ctx, typeof resources>({ hub, scope: (ctx) => ctx.tenant, resources });
const procedure = t.procedure.use(live.invalidationMiddleware);
const router = t.router({
  orders: t.router({
    list: procedure.query(({ ctx }) => (count(`${ctx.client}:orders.list`), [])),
    byId: procedure.input(z.object({ id: z.string() })).query(({ ctx, input }) => (count(`${ctx.client}:orders.byId(${input.id})`), input.id)),
    touch: procedure
      .meta({ invalidates: { resources: ['orders'], keys: ({ input }: { input: { id: string } }) => [{ resource: 'orders', id: input.id }] } })
      .input(z.object({ id: z.string() }))
      .mutation(() => 'ok'),
  }),
  live: t.router({ stream: procedure.input(liveStreamInput).subscription(({ ctx, input, signal }) => live.stream(ctx, input, signal)) }),
});

const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
  queryClient.clear();
  fetches.clear();
});

/** A tRPC client of `tenant` with its own live link and invalidator, and tRPC's option proxy with `keyPrefix` (none when undefined). */
function createClient(name: string, tenant: string, keyPrefix: string | undefined) {
  const invalidator: LiveInvalidator = createLiveInvalidator({ queryClient, registry: resources, visibility: null, ...(keyPrefix ? { keyPrefix } : {}) });
  const client: TRPCClient<typeof router> = createTRPCClient<typeof router>({
    links: [liveLink({ invalidator }), unstable_localLink({ router, createContext: async () => ({ tenant, client: name }) })],
  });
  const trpc = keyPrefix
    ? createTRPCOptionsProxy<typeof router, { keyPrefix: true }>({ client, queryClient, keyPrefix })
    : createTRPCOptionsProxy<typeof router>({ client, queryClient });
  const watch = (options: { queryKey: QueryKey; queryFn?: unknown }) => {
    const observer = new QueryObserver(queryClient, options as ConstructorParameters<typeof QueryObserver>[1]);
    cleanup.push(observer.subscribe(() => undefined));
  };
  watch(trpc.orders.list.queryOptions());
  watch(trpc.orders.byId.queryOptions({ id: 'ord_1' }));
  watch(trpc.orders.byId.queryOptions({ id: 'ord_2' }));
  const connect = async () => {
    let hello = false;
    const subscription = client.live.stream.subscribe({}, { onData: () => (hello = true) });
    cleanup.push(() => subscription.unsubscribe());
    await waitFor(() => hello, `${name}'s stream`);
  };
  return { invalidator, client, trpc, connect };
}

const settle = () => waitFor(() => queryClient.isFetching() === 0, 'queries to settle');

/** Fetches per query since `before`. */
function delta(before: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [name, n] of fetches) if (n - (before.get(name) ?? 0)) out[name] = n - (before.get(name) ?? 0);
  return out;
}

describe('liveLink with tRPC keyPrefix', () => {
  it('refetches only the mutating tenant client’s own prefixed queries when two prefixed clients share a QueryClient', async () => {
    const a = createClient('a', 'acme', 'a');
    const b = createClient('b', 'globex', 'b');
    await settle();
    // The keys really are prefixed, as tRPC builds them.
    expect(a.trpc.orders.byId.queryKey({ id: 'ord_1' })).toEqual([['a'], ['orders', 'byId'], { input: { id: 'ord_1' }, type: 'query' }]);
    await a.connect();
    await b.connect();
    const before = new Map(fetches);
    await a.client.orders.touch.mutate({ id: 'ord_1' });
    await waitFor(() => (fetches.get('a:orders.byId(ord_1)') ?? 0) > (before.get('a:orders.byId(ord_1)') ?? 0), "a's refetch");
    await settle();
    expect(delta(before)).toEqual({ 'a:orders.list': 1, 'a:orders.byId(ord_1)': 1 });
  });

  it('invalidates only its own prefix on a reset, and the unprefixed default touches no prefixed query', async () => {
    const a = createClient('a', 'acme', 'a');
    const b = createClient('b', 'acme', 'b');
    const plain = createClient('plain', 'acme', undefined);
    await settle();
    expect(plain.trpc.orders.list.queryKey()).toEqual([['orders', 'list'], { type: 'query' }]);
    for (const { invalidator } of [a, b, plain]) invalidator.receive({ kind: 'hello', connectionId: 'c', epoch: 'e1' });

    let before = new Map(fetches);
    b.invalidator.receive({ kind: 'reset', reason: 'evicted', seq: 2 });
    await waitFor(() => Object.keys(delta(before)).length >= 3, "b's refetches");
    await settle();
    expect(delta(before)).toEqual({ 'b:orders.list': 1, 'b:orders.byId(ord_1)': 1, 'b:orders.byId(ord_2)': 1 });

    before = new Map(fetches);
    plain.invalidator.receive({ kind: 'invalidate', resource: 'orders', id: 'ord_2', action: 'updated', seq: 1 });
    await waitFor(() => Object.keys(delta(before)).length >= 2, "plain's refetches");
    await settle();
    expect(delta(before)).toEqual({ 'plain:orders.list': 1, 'plain:orders.byId(ord_2)': 1 });
  });
});
