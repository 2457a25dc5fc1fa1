import { dehydrate, hydrate, QueryObserver, type DehydratedState } from '@tanstack/react-query';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLiveInvalidator, liveLink } from 'trpc-live/client';
import type { LiveMessage } from 'trpc-live/core';
import { createSharedLiveStream } from 'trpc-live/react';
import { createContext } from '../../../src/server/context';
import { appRouter, type AppRouter } from '../../../src/server/routers/_app';
import { live } from '../../../src/server/trpc/init';
import { liveResources } from '../../../src/server/trpc/liveResources';
import { makeQueryClient } from '../../../src/trpc/queryClient';
import { sessionCookieFor, setupApp, type TestApp } from '../../helpers/app';
import { createNodeClient } from '../../helpers/client';
import { serveTrpc } from '../../helpers/http';
import { waitFor } from '../../helpers/wait';

const ORDER = 'ord_acme_1';
type Order = { id: string; status: string };

/**
 * The plumbing of item 8 without a browser: the server render of
 * src/server/trpc/prefetch.tsx (live.cursor() read first, then the prefetch through
 * createTRPCOptionsProxy, dehydrated to JSON), a change committed in the
 * gap, then a browser-side QueryClient hydrated with the render's data and
 * the app's link chain over HTTP, whose shared stream opens from the seed.
 */
describe('server render at a cursor, change in the gap, stream from that cursor (HTTP, real link chain)', () => {
  let app: TestApp;
  let server: Awaited<ReturnType<typeof serveTrpc>>;
  beforeAll(async () => {
    app = await setupApp();
    server = await serveTrpc();
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
  });

  /** Renders the order page's data on the server; returns what crosses to the browser. */
  async function serverRender() {
    const cookie = await sessionCookieFor('alice@acme.test');
    const cursor = live.cursor();
    const queryClient = makeQueryClient();
    const trpc = createTRPCOptionsProxy({ ctx: () => createContext({ headers: new Headers({ cookie }) }), router: appRouter, queryClient });
    await queryClient.prefetchQuery(trpc.orders.byId.queryOptions({ id: ORDER }));
    return {
      cursor,
      state: JSON.parse(JSON.stringify(dehydrate(queryClient))) as DehydratedState,
      rendered: queryClient.getQueryData(trpc.orders.byId.queryKey({ id: ORDER })) as Order,
    };
  }

  /** Hydrates a browser tab with the render, seeds (or not) its cursor, opens its stream; counts the order's fetches. */
  async function browserTab(render: Awaited<ReturnType<typeof serverRender>>, seed: boolean) {
    const queryClient = makeQueryClient();
    hydrate(queryClient, render.state);
    const invalidator = createLiveInvalidator({ queryClient, registry: liveResources, visibility: null });
    let fetches = 0;
    const client = createNodeClient(server.url, await sessionCookieFor('alice@acme.test'), [
      () =>
        ({ op, next }) => {
          if (op.type === 'query' && op.path === 'orders.byId') fetches++;
          return next(op);
        },
      liveLink({ invalidator }),
    ]);
    const trpc = createTRPCOptionsProxy<AppRouter>({ client, queryClient });
    const unwatch = new QueryObserver(queryClient, trpc.orders.byId.queryOptions({ id: ORDER }) as never).subscribe(() => undefined);
    const messages: LiveMessage[] = [];
    invalidator.subscribe((message) => messages.push(message));
    if (seed) invalidator.seedCursor(render.cursor);
    const opened: Array<string | null> = [];
    const stream = createSharedLiveStream({
      name: 'gap',
      invalidator,
      locks: null,
      channel: null,
      document: null,
      window: null,
      open(lastEventId, events) {
        opened.push(lastEventId);
        return client.live.stream.subscribe(lastEventId ? { lastEventId } : {}, { onError: events.disconnected });
      },
    });
    await waitFor(() => messages.some((m) => m.kind === 'hello'), 'the stream to say hello');
    return {
      opened,
      messages,
      fetches: () => fetches,
      status: () => (queryClient.getQueryData(trpc.orders.byId.queryKey({ id: ORDER })) as Order).status,
      settled: () => waitFor(() => !invalidator.batchPending && queryClient.isFetching() === 0, 'the tab to settle'),
      close() {
        stream.close();
        unwatch();
      },
    };
  }

  it('replays a change committed between the render and the connect, refetching the order exactly once', async () => {
    const render = await serverRender();
    const next = render.rendered.status === 'shipped' ? 'pending' : 'shipped';
    const bob = await app.callerAs('bob@acme.test');
    await bob.orders.updateStatus({ id: ORDER, status: next });
    const tab = await browserTab(render, true);
    try {
      expect(tab.opened).toEqual([render.cursor]);
      await waitFor(() => tab.status() === next, `the order to show ${next}`);
      await tab.settled();
      expect(tab.fetches()).toBe(1);
      expect(tab.messages.filter((m) => m.kind === 'invalidate').map((m) => m.kind === 'invalidate' && `${m.resource}/${m.id}`)).toContain(`orders/${ORDER}`);
      expect(tab.messages.some((m) => m.kind === 'reset')).toBe(false);
    } finally {
      tab.close();
    }
  });

  it('fetches nothing when nothing changed after the render', async () => {
    const render = await serverRender();
    const tab = await browserTab(render, true);
    try {
      await tab.settled();
      // Past the invalidator's batch window and a round trip: a refetch would have started.
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(tab.fetches()).toBe(0);
      expect(tab.status()).toBe(render.rendered.status);
    } finally {
      tab.close();
    }
  });

  it('without the seed, refetches the hydrated order once at the hello, changed or not: what the seed saves (the control for the tests above)', async () => {
    // The stream opens at the head, so it would never deliver the change in the gap: until 2026-12-08 the tab stayed
    // stale here. Data held before a stream started, with no cursor, is now refetched once the stream is connected.
    for (const change of [true, false]) {
      const render = await serverRender();
      const next = render.rendered.status === 'shipped' ? 'pending' : 'shipped';
      if (change) await (await app.callerAs('bob@acme.test')).orders.updateStatus({ id: ORDER, status: next });
      const tab = await browserTab(render, false);
      try {
        expect(tab.opened).toEqual([null]);
        await waitFor(() => tab.fetches() === 1, 'the refetch at the hello');
        await tab.settled();
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(tab.fetches()).toBe(1);
        expect(tab.status()).toBe(change ? next : render.rendered.status);
      } finally {
        tab.close();
      }
    }
  });
});
