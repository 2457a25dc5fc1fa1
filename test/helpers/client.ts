import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, type TRPCLink } from '@trpc/client';
import { EventSource } from 'eventsource';
import superjson from 'superjson';
import type { AppRouter } from '../../src/server/routers/_app';
import { MAX_BATCH_SIZE } from '../../src/trpc/batchLimit';

/** EventSource (eventsource@4) that sends a cookie, as a browser would. */
export function eventSourceWithCookie(cookie: string | null, Base: typeof EventSource = EventSource) {
  return class CookieEventSource extends Base {
    constructor(url: string | URL, init?: EventSourceInit & { fetch?: typeof fetch }) {
      const inner = init?.fetch ?? fetch;
      super(url, {
        ...init,
        fetch: (input, fetchInit) =>
          inner(input, { ...fetchInit, headers: { ...fetchInit?.headers, ...(cookie ? { cookie } : {}) } }),
      });
    }
  };
}

/** Options of {@link createNodeClient}. */
export interface NodeClientOptions {
  /** Links placed before the split (e.g. the live link). */
  before?: TRPCLink<AppRouter>[];
  /** tRPC connection params for the stream (e.g. `{ ticket }`). */
  connectionParams?: () => Record<string, string>;
  /** EventSource class to use (defaults to eventsource@4 with the cookie). */
  EventSource?: typeof EventSource;
  /** `Authorization` header for queries and mutations. */
  authorization?: string;
}

/**
 * A Node-side tRPC client as the app configures it: subscriptions over
 * `httpSubscriptionLink`, the rest over `httpBatchLink`, with extra links first.
 */
export function createNodeClient(baseUrl: string, cookie: string | null, options: NodeClientOptions | TRPCLink<AppRouter>[] = {}) {
  const opts: NodeClientOptions = Array.isArray(options) ? { before: options } : options;
  const url = `${baseUrl}/api/trpc`;
  // With a cookie, as a browser page of the site: its Origin (cookie-authenticated POSTs need it; see csrfGuard).
  const headers = () => ({
    ...(cookie ? { cookie, origin: new URL(baseUrl).origin } : {}),
    ...(opts.authorization ? { authorization: opts.authorization } : {}),
  });
  return createTRPCClient<AppRouter>({
    links: [
      ...(opts.before ?? []),
      splitLink({
        condition: (op) => op.type === 'subscription',
        true: httpSubscriptionLink({
          url,
          transformer: superjson,
          EventSource: opts.EventSource ?? eventSourceWithCookie(cookie),
          ...(opts.connectionParams ? { connectionParams: opts.connectionParams } : {}),
        }),
        false: httpBatchLink({ url, transformer: superjson, headers, maxItems: MAX_BATCH_SIZE }),
      }),
    ],
  });
}
