import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, type TRPCLink } from '@trpc/client';
import { EventSource } from 'eventsource';
import superjson from 'superjson';
import type { AppRouter } from '../../src/server/routers/_app';

/** EventSource (eventsource@4) that sends a cookie, as a browser would. */
export function eventSourceWithCookie(cookie: string | null) {
  return class CookieEventSource extends EventSource {
    constructor(url: string | URL, init?: EventSourceInit) {
      super(url, {
        ...init,
        fetch: (input, fetchInit) =>
          fetch(input, { ...fetchInit, headers: { ...fetchInit?.headers, ...(cookie ? { cookie } : {}) } }),
      });
    }
  };
}

/**
 * A Node-side tRPC client as the app configures it: subscriptions over
 * `httpSubscriptionLink`, the rest over `httpBatchLink`, with extra links first.
 */
export function createNodeClient(baseUrl: string, cookie: string | null, before: TRPCLink<AppRouter>[] = []) {
  const url = `${baseUrl}/api/trpc`;
  return createTRPCClient<AppRouter>({
    links: [
      ...before,
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({ url, transformer: superjson, EventSource: eventSourceWithCookie(cookie) }),
        false: httpBatchLink({ url, transformer: superjson, headers: () => (cookie ? { cookie } : {}) }),
      }),
    ],
  });
}
