import { QueryClient } from '@tanstack/react-query';
import { liveQueryDefaults } from 'trpc-live/client';

/**
 * Query defaults for a live app: data stays fresh until the server says it
 * changed, so there is no refetch on focus or mount and no polling.
 */
export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        ...liveQueryDefaults,
        retry: 1,
      },
    },
  });
}
