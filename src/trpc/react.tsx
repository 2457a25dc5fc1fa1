'use client';

import { QueryClientProvider } from '@tanstack/react-query';
import { createTRPCClient } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { useCallback, useState, type ReactNode } from 'react';
import superjson from 'superjson';
import { createLiveInvalidator, liveLinks, type LiveWatchRequest } from 'trpc-live/client';
import { LiveProvider } from 'trpc-live/react';
import type { AppRouter } from '../server/routers/_app';
import { MAX_BATCH_SIZE } from './batchLimit';
import { makeQueryClient } from './queryClient';
import { resources } from './resources';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

const url = '/api/trpc';

/**
 * Query client, tRPC client with the live link, and the browser's live
 * stream: with `shareKey` (the signed-in user), every tab of this browser
 * shares one connection. `openStream={false}` (the sign-in page: no
 * session to stream for) keeps the stream closed. @default openStream true
 */
export function TRPCReactProvider({
  children,
  openStream = true,
  shareKey,
}: {
  children: ReactNode;
  openStream?: boolean;
  shareKey?: string;
}) {
  const [state] = useState(() => {
    const queryClient = makeQueryClient();
    const invalidator = createLiveInvalidator({ queryClient, registry: resources });
    const trpcClient = createTRPCClient<AppRouter>({
      links: liveLinks({ url, transformer: superjson, invalidator, maxItems: MAX_BATCH_SIZE }),
    });
    return { queryClient, invalidator, trpcClient };
  });
  const setPaused = useCallback(
    (connectionId: string, paused: boolean) =>
      paused ? state.trpcClient.live.pause.mutate({ connectionId }) : state.trpcClient.live.resume.mutate({ connectionId }),
    [state.trpcClient],
  );
  // Pushed queries (registry `push`) this tab shows are watched on the stream's connection: their results arrive pushed.
  const watch = useCallback((request: LiveWatchRequest) => state.trpcClient.live.watch.mutate(request), [state.trpcClient]);
  return (
    <QueryClientProvider client={state.queryClient}>
      <TRPCProvider trpcClient={state.trpcClient} queryClient={state.queryClient}>
        <LiveProvider
          invalidator={state.invalidator}
          stream={state.trpcClient.live.stream}
          enabled={openStream}
          shareAcrossTabs={shareKey ? `app:${shareKey}` : false}
          setPaused={setPaused}
          watch={watch}
        >
          {children}
        </LiveProvider>
      </TRPCProvider>
    </QueryClientProvider>
  );
}
