import type { Hub, LiveAction, LiveHint, PublishedEntry } from '../core/index.ts';
import type { InvalidationKey } from './meta.ts';

/** An invalidation as a test sees it. */
export interface CapturedInvalidation<TResource extends string = string> {
  /** The tenant it was published to. */
  readonly scope: string;
  /** The resource invalidated. */
  readonly resource: TResource;
  /** The instance, absent when the whole resource was invalidated. */
  readonly id?: string;
  /** What happened to it (`'changed'` unless the declaration said otherwise). */
  readonly action: LiveAction;
  /** The small JSON that travelled with it, if any. */
  readonly hint?: LiveHint;
}

/** Everything a call published, and how it ended. */
export interface CaptureResult<T, TResource extends string = string> {
  /** The invalidations, in publish order (batches flattened). */
  readonly published: CapturedInvalidation<TResource>[];
  /** Every entry the hub delivered during the call (any kind: progress, events…). */
  readonly entries: PublishedEntry[];
  /** `fn`'s result, when it succeeded. */
  readonly result?: T;
  /** `fn`'s error, when it failed. */
  readonly error?: unknown;
}

/** Where to listen: a hub, a getter for one, or the app's `live` binding (which also types resource names). */
export type CaptureSource = Hub | (() => Hub) | { hub(): Hub };

// The resource names of a `live` binding, read off its typed `publishKeys`.
type inferCapturedResource<TSource> = TSource extends {
  publishKeys: (ctx: any, keys: readonly (infer TKey extends InvalidationKey)[]) => any;
}
  ? TKey['resource']
  : string;

function hubOf(source: CaptureSource): Hub {
  if (typeof source === 'function') return source();
  if ('tap' in source) return source;
  return source.hub();
}

/**
 * Runs `fn` (e.g. a `createCaller` mutation) and records what it published,
 * whether it succeeded or not. Never throws for `fn`'s errors: assert on
 * `error` and that `entries` is empty to prove a failure published nothing.
 */
export async function capturePublishes<T, TSource extends CaptureSource>(
  source: TSource,
  fn: () => Promise<T> | T,
): Promise<CaptureResult<T, inferCapturedResource<TSource>>> {
  const entries: PublishedEntry[] = [];
  const untap = hubOf(source).tap((entry) => entries.push(entry));
  const published = () =>
    entries.flatMap((entry): CapturedInvalidation<inferCapturedResource<TSource>>[] => {
      const signals = entry.signal.kind === 'batch' ? entry.signal.events : [entry.signal];
      return signals.flatMap((signal) =>
        signal.kind === 'invalidate'
          ? [
              {
                scope: entry.scope,
                resource: signal.resource as inferCapturedResource<TSource>,
                ...(signal.id !== undefined ? { id: signal.id } : {}),
                action: signal.action,
                ...(signal.hint !== undefined ? { hint: signal.hint } : {}),
              },
            ]
          : [],
      );
    });
  try {
    const result = await fn();
    return { published: published(), entries, result };
  } catch (error) {
    return { published: published(), entries, error };
  } finally {
    untap();
  }
}

/**
 * Runs `fn` and resolves to the invalidations it published, in order:
 *
 * ```ts
 * expect(await captureInvalidations(live, () => caller.orders.updateStatus({ id: 'ord_1', status: 'paid' })))
 *   .toEqual([{ scope: 'acme', resource: 'orders', id: 'ord_1', action: 'updated' }]);
 * ```
 *
 * Rejects with `fn`'s error if it fails (use {@link capturePublishes} to
 * inspect a failure).
 */
export async function captureInvalidations<TSource extends CaptureSource>(
  source: TSource,
  fn: () => Promise<unknown> | unknown,
): Promise<CapturedInvalidation<inferCapturedResource<TSource>>[]> {
  const capture = await capturePublishes(source, fn);
  if ('error' in capture) throw capture.error;
  return capture.published;
}
