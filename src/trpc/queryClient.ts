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
        retry: retryOnceUnlessRefused,
      },
      // Server-prefetched data crosses to the browser as superjson (dates stay dates), as tRPC's transformer does.
      dehydrate: { serializeData: superjson.serialize },
      hydrate: { deserializeData: superjson.deserialize },
    },
  });
}

/** tRPC error codes of 4xx answers a second try gets again (429 and 408 are worth the retry's wait). */
const REFUSALS = new Set([
  'PARSE_ERROR',
  'BAD_REQUEST',
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'METHOD_NOT_SUPPORTED',
  'CONFLICT',
  'PRECONDITION_FAILED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'UNPROCESSABLE_CONTENT',
  'CLIENT_CLOSED_REQUEST',
]);

/**
 * One retry, except for an answer that says no (not found, forbidden, bad
 * input): it would say the same after TanStack's 1 s retry delay. A server
 * render of `/orders/<an id that does not exist>` waited that second for its
 * second 404 (black-box probe, 2026-12-08). Reads a `TRPCClientError`'s HTTP
 * status in the browser and a `TRPCError`'s code on the server.
 */
export function retryOnceUnlessRefused(failures: number, error: unknown): boolean {
  if (failures >= 1) return false;
  const status = (error as { data?: { httpStatus?: unknown } } | null)?.data?.httpStatus;
  if (typeof status === 'number') return status >= 500 || status === 408 || status === 429;
  const code = (error as { code?: unknown } | null)?.code;
  return !(typeof code === 'string' && REFUSALS.has(code));
}
