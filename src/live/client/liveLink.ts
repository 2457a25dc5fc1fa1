import type { TRPCLink } from '@trpc/client';
import type { AnyTRPCRouter } from '@trpc/server';
import { observable } from '@trpc/server/observable';
import type { LiveMessage } from '../core/signal';
import { LIVE_FENCE_HEADER, type PublishedKey } from '../trpc/publishLog';
import type { LiveInvalidator } from './invalidator';

/** Options of {@link liveLink}. */
export interface LiveLinkOptions {
  /** The invalidator of this client (or a getter, for lazily created ones). */
  invalidator: LiveInvalidator | (() => LiveInvalidator | null);
  /** Path of the live subscription procedure. @default 'live.stream' */
  path?: string;
}

interface ResponseLike {
  headers?: { get(name: string): string | null };
}

function readFence(context: Record<string, unknown> | undefined): PublishedKey[] | null {
  const response = context?.response as ResponseLike | undefined;
  const header = response?.headers?.get(LIVE_FENCE_HEADER);
  if (!header) return null;
  try {
    const parsed: unknown = JSON.parse(header);
    return Array.isArray(parsed) ? (parsed as PublishedKey[]) : null;
  } catch {
    return null;
  }
}

/**
 * A tRPC link, placed before `splitLink`, that turns live traffic into cache
 * invalidations: messages of the live subscription are handed to the
 * invalidator, and a mutation response's fence invalidates the mutated keys
 * at once (read-your-writes) without a second refetch when the same change
 * arrives over the stream.
 */
export function liveLink<TRouter extends AnyTRPCRouter>(options: LiveLinkOptions): TRPCLink<TRouter> {
  const path = options.path ?? 'live.stream';
  const getInvalidator = typeof options.invalidator === 'function' ? options.invalidator : () => options.invalidator as LiveInvalidator;
  return () =>
    ({ op, next }) =>
      observable((observer) => {
        const subscription = next(op).subscribe({
          next(value) {
            const invalidator = getInvalidator();
            if (invalidator) {
              if (op.type === 'mutation') {
                const fence = readFence(value.context);
                if (fence) invalidator.receiveFence(fence);
              } else if (op.type === 'subscription' && op.path === path) {
                const result = value.result as { id?: string; data?: unknown; type?: string };
                if (result && 'data' in result && result.data !== undefined && result.type === undefined) {
                  if (typeof result.id === 'string') {
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
