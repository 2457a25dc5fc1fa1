import type { PublishReceipt } from '../core/index.ts';
import type { PublishedKey } from '../shared/fence.ts';

/**
 * Collects what a request's mutations published, so the response can tell
 * the mutating client (read-your-writes without a second refetch). Put one in
 * the request context; see {@link fenceHeader}.
 */
export interface PublishLog {
  /** What was published during the request, in order. */
  readonly entries: PublishedKey[];
}

/** A fresh, empty log for one request. */
export function createPublishLog(): PublishLog {
  return { entries: [] };
}

/** Adds a publish to the log. */
export function recordPublish(log: PublishLog, resource: string, id: string | undefined, receipt: PublishReceipt): void {
  log.entries.push({ resource, ...(id !== undefined ? { id } : {}), cursor: receipt.cursor });
}

/** The fence header value for a log, or `null` when nothing was published. */
export function fenceHeader(log: PublishLog | undefined | null): string | null {
  if (!log || log.entries.length === 0) return null;
  return JSON.stringify(log.entries);
}

/**
 * Where {@link withPublishLog} keeps a request's log on its context. A symbol,
 * so it never collides with the app's fields, and enumerable, so it survives
 * the `{ ...ctx, session }` copies middlewares make.
 */
const PUBLISH_LOG = Symbol.for('trpc-live.publishLog');

/**
 * Gives a request context its own publish log (returns the same object).
 * `createLiveRouteHandler` (trpc-live/next) does this for every request;
 * call it yourself in other adapters. Contexts without one (e.g.
 * `createCaller` in tests) still publish, with no fence.
 */
export function withPublishLog<TCtx extends object>(ctx: TCtx): TCtx {
  if (!(PUBLISH_LOG in ctx)) Object.defineProperty(ctx, PUBLISH_LOG, { value: createPublishLog(), enumerable: true });
  return ctx;
}

/** The log {@link withPublishLog} put on a context, if any. */
export function publishLogOf(ctx: unknown): PublishLog | undefined {
  return typeof ctx === 'object' && ctx !== null ? (ctx as { [PUBLISH_LOG]?: PublishLog })[PUBLISH_LOG] : undefined;
}
