import { MutationObserver, QueryObserver, type MutationObserverOptions, type QueryClient } from '@tanstack/react-query';
import type { TRPCLink } from '@trpc/client';
import { observable } from '@trpc/server/observable';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLiveInvalidator, liveLink, type LiveInvalidator } from 'trpc-live/client';
import type { PublishedEntry } from 'trpc-live/core';
import type { AppRouter } from '../../../src/server/routers/_app';
import { liveResources } from '../../../src/server/trpc/liveResources';
import { makeQueryClient } from '../../../src/trpc/queryClient';
import { sessionCookieFor, setupApp, type DemoEmail, type TestApp } from '../../helpers/app';
import { createNodeClient } from '../../helpers/client';
import { serveTrpc } from '../../helpers/http';
import { waitFor } from '../../helpers/wait';

/** Counts query operations (= fetches) leaving the client, by path and input. */
function countingLink(counts: Map<string, number>): TRPCLink<AppRouter> {
  return () =>
    ({ op, next }) => {
      if (op.type === 'query') {
        const name = op.input === undefined ? op.path : `${op.path}(${JSON.stringify(op.input)})`;
        counts.set(name, (counts.get(name) ?? 0) + 1);
      }
      return next(op);
    };
}

/** Holds results of one operation type in the link chain until released (orders the fence and the stream copy). */
class Gate {
  private held: Array<() => void> = [];
  private closedFor: 'mutation' | 'subscription' | null = null;
  close(type: 'mutation' | 'subscription') {
    this.closedFor = type;
  }
  /** Opens the gate and delivers what it held, in order. */
  release() {
    this.closedFor = null;
    for (const deliver of this.held.splice(0)) deliver();
  }
  get holding() {
    return this.held.length;
  }
  link(): TRPCLink<AppRouter> {
    return () =>
      ({ op, next }) =>
        observable((observer) => {
          const pass = (deliver: () => void) => (this.closedFor === op.type ? this.held.push(deliver) : deliver());
          const subscription = next(op).subscribe({
            next: (value) => pass(() => observer.next(value)),
            error: (error) => pass(() => observer.error(error)),
            complete: () => pass(() => observer.complete()),
          });
          return () => subscription.unsubscribe();
        });
  }
}

/**
 * One browser tab as the app builds it: the app's QueryClient defaults, the
 * real link chain (live link before the split, httpBatchLink and
 * httpSubscriptionLink over eventsource@4), @trpc/tanstack-react-query's
 * query options (its real key shape), and the live stream open.
 */
async function openTab(baseUrl: string, email: DemoEmail) {
  const queryClient: QueryClient = makeQueryClient();
  const invalidator: LiveInvalidator = createLiveInvalidator({ queryClient, registry: liveResources });
  const counts = new Map<string, number>();
  // The gate sits below the live link: it delays what the live link sees, as a slow network would.
  const gate = new Gate();
  const client = createNodeClient(baseUrl, await sessionCookieFor(email), [countingLink(counts), liveLink({ invalidator }), gate.link()]);
  const trpc = createTRPCOptionsProxy<AppRouter>({ client, queryClient });
  let maxSeq = 0;
  let hello!: () => void;
  const connected = new Promise<void>((resolve) => (hello = resolve));
  invalidator.subscribe((message) => {
    if (message.kind === 'hello') hello();
    if ('seq' in message) maxSeq = Math.max(maxSeq, message.seq);
  });
  const stream = client.live.stream.subscribe(undefined, { onError: (error) => console.error(`[${email}] stream:`, error) });
  await connected;

  const observers = [
    trpc.orders.list.queryOptions(),
    trpc.orders.list.queryOptions({ status: 'pending' }),
    trpc.orders.byId.queryOptions({ id: 'ord_acme_1' }),
    trpc.orders.byId.queryOptions({ id: 'ord_acme_2' }),
    trpc.products.list.queryOptions(),
    trpc.products.byId.queryOptions({ id: 'prd_acme_1' }),
    trpc.products.byId.queryOptions({ id: 'prd_acme_2' }),
    trpc.dashboard.stats.queryOptions(),
    trpc.notifications.list.queryOptions(),
    trpc.auth.me.queryOptions(),
  ].map((options) => {
    const observer = new QueryObserver(queryClient, options as never);
    return observer.subscribe(() => undefined);
  });
  const settled = () => waitFor(() => !invalidator.batchPending && queryClient.isFetching() === 0, `${email}'s queries to settle`);
  await settled();

  return {
    email,
    gate,
    /** Highest sequence the live link handed to the invalidator. */
    maxSeq: () => maxSeq,
    queryClient,
    invalidator,
    trpc,
    /** Fetches per query since the last call, for the watched queries (zeros included). */
    takeCounts(): Record<string, number> {
      const snapshot = Object.fromEntries([...counts].map(([name, n]) => [name, n]));
      counts.clear();
      return snapshot;
    },
    /** Resolves once the stream delivered everything up to `seq` and the resulting refetches finished. */
    async settledAfter(seq: number) {
      await waitFor(() => maxSeq >= seq, `${email}'s stream to deliver seq ${seq}`);
      await settled();
    },
    settled,
    close() {
      for (const unsubscribe of observers) unsubscribe();
      stream.unsubscribe();
    },
  };
}

type Tab = Awaited<ReturnType<typeof openTab>>;

const WATCHED = [
  'orders.list',
  'orders.list({"status":"pending"})',
  'orders.byId({"id":"ord_acme_1"})',
  'orders.byId({"id":"ord_acme_2"})',
  'products.list',
  'products.byId({"id":"prd_acme_1"})',
  'products.byId({"id":"prd_acme_2"})',
  'dashboard.stats',
  'notifications.list',
  'auth.me',
];

/** Every watched query with its fetch count (0 when not fetched). */
const countsOf = (tab: Tab) => {
  const taken = tab.takeCounts();
  return Object.fromEntries(WATCHED.map((name) => [name, taken[name] ?? 0]));
};

/**
 * How the mutator's two copies of a change meet: as the network delivers
 * them (usually one batch), or forced apart so each copy is applied in its
 * own batch, in either order; only the applied-sequence check then prevents
 * a second refetch.
 */
type Order = 'as delivered' | 'fence first, stream copy later' | 'stream copy first, fence later';

for (const order of ['as delivered', 'fence first, stream copy later', 'stream copy first, fence later'] as Order[]) describe(`exactly-once refetch over HTTP, two tabs of one tenant, real QueryClients and link chains (${order})`, () => {
  let app: TestApp;
  let server: Awaited<ReturnType<typeof serveTrpc>>;
  let mutator: Tab;
  let observer: Tab;
  beforeAll(async () => {
    app = await setupApp();
    server = await serveTrpc();
    mutator = await openTab(server.url, 'alice@acme.test');
    observer = await openTab(server.url, 'bob@acme.test');
    mutator.takeCounts();
    observer.takeCounts();
  });
  afterAll(async () => {
    mutator?.close();
    observer?.close();
    await server?.close();
    await app?.close();
  });

  /** Runs a mutation in the mutator tab, through TanStack's MutationObserver, and returns what the hub published. */
  async function mutate<TInput>(options: MutationObserverOptions<any, any, TInput, any>, input: TInput) {
    const entries: PublishedEntry[] = [];
    const untap = app.hub.tap((entry) => entries.push(entry));
    const lastSeq = () => Math.max(...entries.map((entry) => entry.seq));
    const run = () => new MutationObserver(mutator.queryClient, options).mutate(input);
    try {
      if (order === 'as delivered') {
        await run();
      } else if (order === 'fence first, stream copy later') {
        mutator.gate.close('subscription');
        await run();
        // The fence was applied and its refetches finished while the stream copies were held back.
        await mutator.settled();
        await waitFor(() => mutator.gate.holding > 0, 'the stream copies to reach the gate');
        mutator.gate.release();
      } else {
        mutator.gate.close('mutation');
        const done = run();
        await waitFor(() => mutator.gate.holding > 0 && entries.length > 0 && mutator.maxSeq() >= lastSeq(), 'the stream copies to arrive first');
        await mutator.settled();
        mutator.gate.release();
        await done;
      }
    } finally {
      untap();
      mutator.gate.release();
    }
    await Promise.all([mutator.settledAfter(lastSeq()), observer.settledAfter(lastSeq())]);
    return entries;
  }

  it('fetches each affected query exactly once per tab, and unaffected ones never, after orders.create', async () => {
    const duplicatesBefore = mutator.invalidator.stats.duplicates;
    const entries = await mutate(mutator.trpc.orders.create.mutationOptions(), {
      customer: 'Exactly Once',
      items: [{ productId: 'prd_acme_2', quantity: 1 }],
    });
    const published = entries.flatMap((e) => (e.signal.kind === 'invalidate' ? [`${e.signal.resource}/${e.signal.id ?? '*'}`] : []));
    const mutatorCounts = countsOf(mutator);
    const observerCounts = countsOf(observer);
    console.log(`[exactly-once, ${order}] orders.create published`, published);
    console.table(Object.fromEntries(WATCHED.map((name) => [name, { mutator: mutatorCounts[name], observer: observerCounts[name] }])));

    const expected = {
      'orders.list': 1,
      'orders.list({"status":"pending"})': 1,
      'orders.byId({"id":"ord_acme_1"})': 0,
      'orders.byId({"id":"ord_acme_2"})': 0,
      'products.list': 1,
      'products.byId({"id":"prd_acme_1"})': 0,
      'products.byId({"id":"prd_acme_2"})': 1,
      'dashboard.stats': 1,
      // The order's notification is published by the resolver itself (not declared), so it comes over the stream.
      'notifications.list': 1,
      'auth.me': 0,
    };
    expect(mutatorCounts).toEqual(expected);
    expect(observerCounts).toEqual(expected);
    // The mutator applied the fence, and then recognised the stream copies of both declared keys (or the reverse).
    expect(mutator.invalidator.stats.duplicates - duplicatesBefore).toBe(2);
    expect(observer.invalidator.stats.duplicates).toBe(0);
    // The refetched data is the new data, in both tabs.
    const created = entries.find((e) => e.signal.kind === 'invalidate' && e.signal.resource === 'orders')!.signal as { id: string };
    for (const tab of [mutator, observer]) {
      const list = tab.queryClient.getQueryData(tab.trpc.orders.list.queryKey()) as Array<{ id: string }>;
      expect(list.map((o) => o.id)).toContain(created.id);
    }
  });

  it('fetches only the changed order, the lists and the dashboard after orders.updateStatus', async () => {
    const duplicatesBefore = mutator.invalidator.stats.duplicates;
    await mutate(mutator.trpc.orders.updateStatus.mutationOptions(), { id: 'ord_acme_2', status: 'shipped' });
    const mutatorCounts = countsOf(mutator);
    const observerCounts = countsOf(observer);
    console.table(Object.fromEntries(WATCHED.map((name) => [name, { mutator: mutatorCounts[name], observer: observerCounts[name] }])));
    const expected = {
      'orders.list': 1,
      'orders.list({"status":"pending"})': 1,
      'orders.byId({"id":"ord_acme_1"})': 0,
      'orders.byId({"id":"ord_acme_2"})': 1,
      'products.list': 0,
      'products.byId({"id":"prd_acme_1"})': 0,
      'products.byId({"id":"prd_acme_2"})': 0,
      'dashboard.stats': 1,
      'notifications.list': 0,
      'auth.me': 0,
    };
    expect(mutatorCounts).toEqual(expected);
    expect(observerCounts).toEqual(expected);
    expect(mutator.invalidator.stats.duplicates - duplicatesBefore).toBe(1);
    const shipped = observer.queryClient.getQueryData(observer.trpc.orders.byId.queryKey({ id: 'ord_acme_2' })) as { status: string };
    expect(shipped.status).toBe('shipped');
  });
});
