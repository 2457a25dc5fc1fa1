'use client';

import { QueryClientProvider } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { useCallback, useState, type ReactNode } from 'react';
import superjson from 'superjson';
import { createLiveInvalidator, liveLink } from 'trpc-live/client';
import { LiveProvider, type StreamEvents } from 'trpc-live/react';
import type { AppRouter } from '../server/routers/_app';
import { MAX_BATCH_SIZE } from './batchLimit';
import { makeQueryClient } from './queryClient';
import { resources } from './resources';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

const url = '/api/trpc';

/**
 * Query client, tRPC client with the live link, and the browser's live
 * stream: with `shareKey` (the signed-in user), every tab of this browser
 * shares one connection.
 */
export function TRPCReactProvider({
  children,
  live = true,
  shareKey,
}: {
  children: ReactNode;
  live?: boolean;
  shareKey?: string;
}) {
  const [state] = useState(() => {
    const queryClient = makeQueryClient();
    const invalidator = createLiveInvalidator({ queryClient, registry: resources });
    const trpcClient = createTRPCClient<AppRouter>({
      links: [
        liveLink({ invalidator }),
        splitLink({
          condition: (op) => op.type === 'subscription',
          true: httpSubscriptionLink({ url, transformer: superjson, eventSourceOptions: { withCredentials: true } }),
          false: httpBatchLink({ url, transformer: superjson, maxItems: MAX_BATCH_SIZE }),
        }),
      ],
    });
    return { queryClient, invalidator, trpcClient };
  });
  const subscribe = useCallback(
    (lastEventId: string | null, events: StreamEvents) =>
      state.trpcClient.live.stream.subscribe(lastEventId ? { lastEventId } : undefined, {
        onConnectionStateChange(connection) {
          // 'connecting' after the first connection: the link is reconnecting (it resends the last cursor).
          if (connection.state === 'connecting') events.disconnected();
        },
        onError(error) {
          events.disconnected();
          console.warn('[live] stream stopped:', error.message);
        },
      }),
    [state.trpcClient],
  );
  const setPaused = useCallback(
    (connectionId: string, paused: boolean) =>
      paused ? state.trpcClient.live.pause.mutate({ connectionId }) : state.trpcClient.live.resume.mutate({ connectionId }),
    [state.trpcClient],
  );
  return (
    <QueryClientProvider client={state.queryClient}>
      <TRPCProvider trpcClient={state.trpcClient} queryClient={state.queryClient}>
        <LiveProvider
          invalidator={state.invalidator}
          subscribe={subscribe}
          enabled={live}
          shareAcrossTabs={shareKey ? `app:${shareKey}` : false}
          setPaused={setPaused}
        >
          {children}
        </LiveProvider>
      </TRPCProvider>
    </QueryClientProvider>
  );
}
