import type { Hub, LiveAction, PublishedEntry } from '../core';

/** An invalidation as a test sees it. */
export interface CapturedInvalidation {
  readonly scope: string;
  readonly resource: string;
  readonly id?: string;
  readonly action: LiveAction;
}

/** Everything a call published, and how it ended. */
export interface CaptureResult<T> {
  readonly published: CapturedInvalidation[];
  /** Every entry the hub delivered during the call (any kind). */
  readonly entries: PublishedEntry[];
  readonly result?: T;
  readonly error?: unknown;
}

/**
 * Runs `fn` (e.g. a `createCaller` mutation) and records what it published
 * to `hub`, whether it succeeded or not. Never throws for `fn`'s errors.
 */
export async function capturePublishes<T>(hub: Hub, fn: () => Promise<T> | T): Promise<CaptureResult<T>> {
  const entries: PublishedEntry[] = [];
  const untap = hub.tap((entry) => entries.push(entry));
  const published = () =>
    entries.flatMap((entry): CapturedInvalidation[] => {
      const signals = entry.signal.kind === 'batch' ? entry.signal.events : [entry.signal];
      return signals.flatMap((signal) =>
        signal.kind === 'invalidate'
          ? [{ scope: entry.scope, resource: signal.resource, ...(signal.id !== undefined ? { id: signal.id } : {}), action: signal.action }]
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
 * `expect(await captureInvalidations(hub, () => caller.orders.create(input))).toEqual([...])`.
 * Rejects with `fn`'s error if it fails (use {@link capturePublishes} to inspect a failure).
 */
export async function captureInvalidations(hub: Hub, fn: () => Promise<unknown> | unknown): Promise<CapturedInvalidation[]> {
  const capture = await capturePublishes(hub, fn);
  if ('error' in capture && capture.error !== undefined) throw capture.error;
  return capture.published;
}
