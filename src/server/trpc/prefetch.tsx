import 'server-only';
import { dehydrate, HydrationBoundary, type FetchQueryOptions } from '@tanstack/react-query';
import { createTRPCOptionsProxy } from '@trpc/tanstack-react-query';
import { headers } from 'next/headers';
import { cache, type ReactNode } from 'react';
import { LiveCursorSeed } from 'trpc-live/react';
import { createContext } from '../context';
import { appRouter } from '../routers/_app';
import { live } from './init';
import { makeQueryClient } from '../../trpc/queryClient';

/**
 * tRPC's App Router prefetch (server components), plus the live cursor:
 * a page calls {@link prefetch} for its queries and wraps its client
 * components in {@link HydrateClient}, which hands them the data and the
 * hub's position read before the first query ran, so the browser's stream
 * replays whatever changed between this render and its connect. For
 * dynamic pages only (the (app) layout is `force-dynamic`): a prerendered
 * page would carry a build-time cursor, which replays from then or resets.
 */

/** One query client per request (React `cache` is per request on the server). */
export const getQueryClient = cache(makeQueryClient);

/**
 * The hub's position, read once per request by the first {@link prefetch}
 * (or by {@link HydrateClient} when nothing was prefetched), so it is older
 * than every query of the render.
 */
const renderCursor = cache(() => live.cursor());

/** Query options for server components: `trpc.orders.byId.queryOptions({ id })`. */
export const trpc = createTRPCOptionsProxy({
  ctx: async () => createContext({ headers: await headers() }),
  router: appRouter,
  queryClient: getQueryClient,
});

/**
 * Runs a query for this request and keeps its result for the browser.
 * Notes the hub's position first: a change committed after that point may
 * be missing from the result, and the stream replays it. A failed query
 * is not kept: the browser fetches it and shows the error.
 */
export async function prefetch(options: FetchQueryOptions<any, any, any, any>): Promise<void> {
  renderCursor();
  await getQueryClient().prefetchQuery(options);
}

/** The prefetched data for the client components below, and the cursor their stream starts from. */
export function HydrateClient({ children }: { children: ReactNode }) {
  const cursor = renderCursor();
  return (
    <HydrationBoundary state={dehydrate(getQueryClient())}>
      <LiveCursorSeed cursor={cursor} />
      {children}
    </HydrationBoundary>
  );
}
