import type { TRPCLink } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { observable } from '@trpc/server/observable';
import type { LiveMessage } from '../shared/messages.ts';
import { LIVE_FENCE_HEADER, type PublishedKey } from '../shared/fence.ts';
import type { LiveInvalidator } from './invalidator.ts';

/** Options of {@link liveLink}. */
export interface LiveLinkOptions {
  /** The invalidator of this client (or a getter, for lazily created ones); it holds the client's tRPC `keyPrefix`, if any. */
  invalidator: LiveInvalidator | (() => LiveInvalidator | null);
  /** Path of the live subscription procedure. @default 'live.stream' */
  path?: string;
}

interface ResponseLike {
  headers?: { get(name: string): string | null };
}

/** Most fence entries read from one response; a fence is one entry per published key. */
const MAX_FENCE_ENTRIES = 1000;

const isPublishedKey = (value: unknown): value is PublishedKey => {
  if (typeof value !== 'object' || value === null) return false;
  const key = value as Record<string, unknown>;
  return (
    typeof key.resource === 'string' &&
    typeof key.cursor === 'string' &&
    (key.id === undefined || typeof key.id === 'string')
  );
};

/**
 * The fence of a mutation response, from the `x-trpc-live-fence` header that
 * `httpLink` and `httpBatchLink` expose as `context.response`. Streaming
 * links (`httpBatchStreamLink`) send headers before the mutation ran, so
 * they carry no fence: the stream's copy then does the invalidation.
 */
export function readFence(context: Record<string, unknown> | undefined): PublishedKey[] | null {
  const response = context?.response as ResponseLike | undefined;
  const header = typeof response?.headers?.get === 'function' ? response.headers.get(LIVE_FENCE_HEADER) : null;
  if (!header) return null;
  try {
    const parsed: unknown = JSON.parse(header);
    return Array.isArray(parsed) ? parsed.slice(0, MAX_FENCE_ENTRIES).filter(isPublishedKey) : null;
  } catch {
    return null;
  }
}

/**
 * A tRPC link that turns live traffic into cache invalidations; put it first
 * in the chain, before `splitLink`. Messages of the live subscription go to
 * the invalidator; a mutation response's fence invalidates the mutated keys
 * at once (read-your-writes), and the stream's later copy of the same change
 * is then skipped, so the mutating tab refetches once. Pages need no
 * invalidation code.
 */
export function liveLink<TRouter extends AnyTRPCRouter>(options: LiveLinkOptions): TRPCLink<TRouter> {
  const path = options.path ?? 'live.stream';
  const getInvalidator =
    typeof options.invalidator === 'function' ? options.invalidator : () => options.invalidator as LiveInvalidator;
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        const subscription = next(op).subscribe({
          next(value) {
            const invalidator = getInvalidator();
            if (invalidator) {
              if (op.type === 'mutation') {
                const fence = readFence(value.context);
                if (fence?.length) invalidator.receiveFence(fence);
              } else if (op.type === 'subscription' && op.path === path) {
                // Connection-state results have a `type`; data results do not.
                const result = value.result as { id?: string; data?: unknown; type?: string };
                if (result && result.type === undefined && result.data !== undefined) {
                  if (typeof result.id === 'string') {
                    // tracked(): `data` is the `{ id, data }` envelope.
                    const tracked = result.data as { id: string; data: LiveMessage };
                    invalidator.receive(tracked.data, tracked.id);
                  } else {
                    invalidator.receive(result.data as LiveMessage);
                  }
                }
              }
            }
            observer.next(value);
          },
          error: (error) => observer.error(error),
          complete: () => observer.complete(),
        });
        return () => subscription.unsubscribe();
      });
}
