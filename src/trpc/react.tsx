'use client';

import { QueryClientProvider } from '@tanstack/react-query';
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink } from '@trpc/client';
import { createTRPCContext } from '@trpc/tanstack-react-query';
import { useCallback, useState, type ReactNode } from 'react';
import superjson from 'superjson';
import { createLiveInvalidator, liveLink } from '../live/client';
import { LiveProvider } from '../live/react';
import type { AppRouter } from '../server/routers/_app';
import { makeQueryClient } from './queryClient';
import { resources } from './resources';

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

const url = '/api/trpc';

/** Query client, tRPC client with the live link, and one live stream for the tab. */
export function TRPCReactProvider({ children, live = true }: { children: ReactNode; live?: boolean }) {
  const [state] = useState(() => {
    const queryClient = makeQueryClient();
    const invalidator = createLiveInvalidator({ queryClient, registry: resources });
    const trpcClient = createTRPCClient<AppRouter>({
      links: [
        liveLink({ invalidator }),
        splitLink({
          condition: (op) => op.type === 'subscription',
          true: httpSubscriptionLink({ url, transformer: superjson, eventSourceOptions: { withCredentials: true } }),
          false: httpBatchLink({ url, transformer: superjson }),
        }),
      ],
    });
    return { queryClient, invalidator, trpcClient };
  });
  const subscribe = useCallback(
    () =>
      state.trpcClient.live.stream.subscribe(undefined, {
        onError(error) {
          console.warn('[live] stream stopped:', error.message);
        },
      }),
    [state.trpcClient],
  );
  return (
    <QueryClientProvider client={state.queryClient}>
      <TRPCProvider trpcClient={state.trpcClient} queryClient={state.queryClient}>
        <LiveProvider invalidator={state.invalidator} subscribe={subscribe} enabled={live}>
          {children}
        </LiveProvider>
      </TRPCProvider>
    </QueryClientProvider>
  );
}
