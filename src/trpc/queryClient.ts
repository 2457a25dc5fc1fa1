import { QueryClient } from '@tanstack/react-query';
import superjson from 'superjson';
import { liveQueryDefaults } from 'trpc-live/client';

/**
 * Query defaults for a live app: data stays fresh until the server says it
 * changed, so there is no refetch on focus or mount and no polling. Used
 * in the browser and, once per request, by server components (src/server/trpc/prefetch.tsx).
 */
export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        ...liveQueryDefaults,
        retry: 1,
      },
      // Server-prefetched data crosses to the browser as superjson (dates stay dates), as tRPC's transformer does.
      dehydrate: { serializeData: superjson.serialize },
      hydrate: { deserializeData: superjson.deserialize },
    },
  });
}
