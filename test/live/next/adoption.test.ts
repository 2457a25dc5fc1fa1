// The adoption path the package README documents, wired exactly as written there (no hub, no
// scope, no publish-log plumbing): a stock tRPC fetch handler behind createLiveRouteHandler, two
// vanilla clients built with liveLinks and a real QueryClient each. The oracle is the server's own
// count of query executions, not the library's matcher.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueryClient, QueryObserver } from '@tanstack/query-core';
import { createTRPCClient } from '@trpc/client';
import { initTRPC } from '@trpc/server';
import { EventSource } from 'eventsource';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createLiveInvalidator, liveLinks, liveQueryDefaults } from 'trpc-live/client';
import { createLiveRouteHandler, processHub, resetProcessHub } from 'trpc-live/next';
import { nodeHandlerFromFetch } from 'trpc-live/node';
import { defineResources } from 'trpc-live/shared';
import { createLive, LIVE_FENCE_HEADER, liveSseOptions, liveStreamInput, type LiveMeta } from 'trpc-live/trpc';
import { waitFor } from '../../helpers/wait';

const resources = defineResources({ posts: { queries: [{ path: 'post.list' }, { path: 'post.byId', by: 'id' }] } });

type Ctx = { user: string | null };
const t = initTRPC.context<Ctx>().meta<LiveMeta<typeof resources>>().create({ transformer: superjson, sse: liveSseOptions() });
const live = createLive<Ctx, typeof resources>({ resources });
const procedure = t.procedure.use(live.invalidationMiddleware);

const posts = new Map([['1', 'first'], ['2', 'second']]);
const executions: string[] = [];
const appRouter = t.router({
  post: t.router({
    list: procedure.query(() => (executions.push('list'), [...posts.keys()])),
    byId: procedure.input(z.object({ id: z.string() })).query(({ input }) => (executions.push(`byId:${input.id}`), posts.get(input.id) ?? null)),
    rename: procedure
      .meta({ invalidates: ({ input }: { input: { id: string } }) => [{ resource: 'posts', id: input.id }] })
      .input(z.object({ id: z.string(), title: z.string() }))
      .mutation(({ input }) => void posts.set(input.id, input.title)),
  }),
  live: t.router({ stream: t.procedure.input(liveStreamInput).subscription(live.subscription) }),
});
type AppRouter = typeof appRouter;

const handler = createLiveRouteHandler({ endpoint: '/api/trpc', router: appRouter, createContext: () => ({ user: null }) });

let server: Server;
let url = '';
beforeAll(async () => {
  resetProcessHub();
  server = createServer(nodeHandlerFromFetch(handler));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/trpc`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await processHub().close();
  resetProcessHub();
});

function browser() {
  const queryClient = new QueryClient({ defaultOptions: { queries: { ...liveQueryDefaults } } });
  const invalidator = createLiveInvalidator({ queryClient, registry: resources });
  const client = createTRPCClient<AppRouter>({ links: liveLinks({ url, transformer: superjson, invalidator, EventSource }) });
  return { queryClient, invalidator, client };
}

describe('the README adoption path', () => {
  it('refetches exactly the changed post in another client, and the mutating client at once from the fence', async () => {
    const a = browser();
    const b = browser();
    // tRPC's own query keys (as @trpc/tanstack-react-query builds them).
    const key = (path: string[], input?: unknown) => [path, { ...(input !== undefined ? { input } : {}), type: 'query' }];
    const stops: Array<() => void> = [];
    for (const x of [a, b]) {
      for (const [k, fn] of [
        [key(['post', 'list']), () => x.client.post.list.query()],
        [key(['post', 'byId'], { id: '1' }), () => x.client.post.byId.query({ id: '1' })],
        [key(['post', 'byId'], { id: '2' }), () => x.client.post.byId.query({ id: '2' })],
      ] as const) {
        const observer = new QueryObserver(x.queryClient, { queryKey: k as unknown[], queryFn: fn as () => Promise<unknown> });
        stops.push(observer.subscribe(() => {}));
      }
    }
    const sub = b.client.live.stream.subscribe({}, { onData: () => {} });
    stops.push(() => sub.unsubscribe());
    await waitFor(() => executions.length === 6 && b.invalidator.lastCursor !== null, 'queries loaded and stream open', 10_000);
    executions.length = 0;

    // `a` has no stream open: its refetch can only come from its response's fence.
    await a.client.post.rename.mutate({ id: '1', title: 'renamed' });
    await waitFor(() => executions.length >= 4, 'refetches', 10_000);
    await new Promise((r) => setTimeout(r, 300));
    // Each client refetched post 1 and the list (a list reads every post), once; post 2 never.
    expect(executions.sort()).toEqual(['byId:1', 'byId:1', 'list', 'list']);
    expect(a.queryClient.getQueryData(key(['post', 'byId'], { id: '1' }))).toBe('renamed');
    expect(b.queryClient.getQueryData(key(['post', 'byId'], { id: '1' }))).toBe('renamed');
    for (const stop of stops) stop();
  });

  it('answers a mutation with the fence header naming what it published', async () => {
    const response = await fetch(`${url}/post.rename`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ json: { id: '2', title: 'again' } }),
    });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.headers.get(LIVE_FENCE_HEADER) ?? '[]')).toEqual([
      { resource: 'posts', id: '2', cursor: expect.stringMatching(/^[^:]+:\d+/) },
    ]);
  });

  it('opens the stream for a bare GET without input, as a client outside a browser sends it', async () => {
    // `.input(liveStreamInput)` as the README writes it: no input is `{}` (was a 400, "expected object").
    const controller = new AbortController();
    const response = await fetch(`${url}/live.stream`, { headers: { accept: 'text/event-stream' }, signal: controller.signal });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('"hello"')) {
      const { done, value } = await reader.read();
      if (done) break;
      text += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(text).toContain('"hello"');
  });

  it('keeps one hub per process whichever copy of the package asks for it', async () => {
    // A second copy of the module, as a separate Next.js route bundle would have.
    const copy = '../../../packages/trpc-live/src/core/processHub.ts?second-bundle';
    const other = (await import(/* @vite-ignore */ copy)) as typeof import('trpc-live/next');
    expect(other.processHub).not.toBe(processHub);
    expect(other.processHub()).toBe(processHub());
    expect(live.hub()).toBe(processHub());
  });
});
