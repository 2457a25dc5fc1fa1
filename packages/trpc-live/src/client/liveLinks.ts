import { httpBatchLink, httpSubscriptionLink, splitLink, type TRPCLink } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { liveLink, type LiveLinkOptions } from './liveLink.ts';

/** Options of {@link liveLinks}. */
export interface LiveLinksOptions {
  /** The tRPC endpoint, e.g. `'/api/trpc'` (absolute on the server). */
  url: string | URL;
  /** The router's transformer (e.g. `superjson`); omit when the router has none. @default none */
  transformer?: unknown;
  /** The invalidator of this client's QueryClient (`createLiveInvalidator`). */
  invalidator: LiveLinkOptions['invalidator'];
  /** Path of the live subscription procedure. @default 'live.stream' */
  path?: string;
  /** Most calls per batch request; keep it at or under the server's `maxBatchSize`. @default 10 */
  maxItems?: number;
  /** Extra headers of query and mutation requests (EventSource cannot send headers). @default none */
  headers?: Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);
  /**
   * Sent with the subscription's first request (e.g. `{ ticket }` for
   * non-browser clients, which cannot use a cookie). @default none
   */
  connectionParams?: Record<string, string> | (() => Record<string, string> | Promise<Record<string, string>>);
  /**
   * Send cookies with the stream's EventSource when the API is on another
   * origin (same-origin requests always carry them). @default false
   */
  withCredentials?: boolean;
  /**
   * The EventSource class for the stream, where there is no global one
   * (Node 20: `import { EventSource } from 'eventsource'`). @default globalThis.EventSource
   */
  EventSource?: unknown;
}

/**
 * The link chain of a live tRPC client in one call: {@link liveLink} first
 * (applies the stream's signals and each mutation's fence), then
 * subscriptions over `httpSubscriptionLink` and everything else over
 * `httpBatchLink` (which exposes the response headers the fence travels in;
 * `httpBatchStreamLink` sends headers before the mutation ran, so it carries
 * no fence). Use as `createTRPCClient<AppRouter>({ links: liveLinks({ … }) })`;
 * compose `liveLink` and your own links instead when you need other links.
 */
export function liveLinks<TRouter extends AnyTRPCRouter>(options: LiveLinksOptions): TRPCLink<TRouter>[] {
  const transport = { url: options.url, ...(options.transformer !== undefined ? { transformer: options.transformer } : {}) };
  // The HTTP links' option types depend on the router's transformer setting, which this
  // function cannot name without the router; the runtime shapes are what the links document.
  const subscriptions = httpSubscriptionLink({
    ...transport,
    ...(options.connectionParams ? { connectionParams: options.connectionParams } : {}),
    ...(options.withCredentials ? { eventSourceOptions: { withCredentials: true } } : {}),
    ...(options.EventSource ? { EventSource: options.EventSource } : {}),
  } as never) as TRPCLink<TRouter>;
  const calls = httpBatchLink({
    ...transport,
    maxItems: options.maxItems ?? DEFAULT_MAX_ITEMS,
    ...(options.headers ? { headers: options.headers } : {}),
  } as never) as TRPCLink<TRouter>;
  return [
    liveLink<TRouter>({ invalidator: options.invalidator, ...(options.path ? { path: options.path } : {}) }),
    splitLink<TRouter>({ condition: (op) => op.type === 'subscription', true: subscriptions, false: calls }),
  ];
}

/** tRPC's server default allows any batch size; 10 keeps one request from holding a server for long. */
const DEFAULT_MAX_ITEMS = 10;
