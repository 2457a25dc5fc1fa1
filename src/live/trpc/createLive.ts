import { TRPCError } from '@trpc/server';
import type { ConnectionGroups, Hub, PublishReceipt } from '../core';
import { LiveStream } from './liveStream';
import type { InvalidationKey, LiveMeta } from './meta';
import { recordPublish, type PublishLog } from './publishLog';
import type { LiveStreamInput } from './liveInput';

/** Options of {@link createLive}. */
export interface CreateLiveOptions<TCtx> {
  /** The hub, or a getter for a process-wide one. */
  hub: Hub | (() => Hub);
  /** The tenant of a request; `null` means unauthenticated (UNAUTHORIZED). */
  scope: (ctx: TCtx) => string | null | undefined;
  /** Attributes of a stream publishes can target (role, user, plan…). @default {} */
  groups?: (ctx: TCtx) => ConnectionGroups;
  /**
   * Topic patterns a stream may receive; a stream gets the intersection of
   * what it asks for and these. @default ['>'] (everything in its scope)
   */
  allowedTopics?: (ctx: TCtx) => readonly string[];
  /** Where to record publishes for the response fence. @default none */
  publishLog?: (ctx: TCtx) => PublishLog | undefined;
  /** Called when publishing after a successful mutation fails. @default console.error */
  onPublishError?: (error: unknown, key: InvalidationKey) => void;
}

/** Mutation middleware and stream factory bound to one hub. */
export interface Live<TCtx> {
  /** The hub in use. */
  hub(): Hub;
  /**
   * tRPC middleware: after a mutation succeeds, publishes the keys its
   * `.meta({ invalidates })` declares, to the caller's scope only. Publishes
   * nothing when the mutation fails.
   */
  invalidationMiddleware: (opts: {
    ctx: TCtx;
    meta?: LiveMeta | undefined;
    type: string;
    getRawInput: () => Promise<unknown>;
    next: () => Promise<any>;
  }) => Promise<any>;
  /** Publishes keys for `ctx` as the middleware does (for code outside a procedure). */
  publishKeys(ctx: TCtx, keys: readonly InvalidationKey[]): Promise<PublishReceipt[]>;
  /** The value to return from the live subscription procedure. */
  stream(ctx: TCtx, input: LiveStreamInput | undefined, signal?: AbortSignal): LiveStream;
}

function normalizeKeys(value: readonly InvalidationKey[] | InvalidationKey | null | undefined): readonly InvalidationKey[] {
  if (!value) return [];
  return Array.isArray(value) ? value : [value as InvalidationKey];
}

/**
 * Binds the live layer to an app's context: which tenant a request belongs
 * to, what it may see, and the hub to use.
 */
export function createLive<TCtx>(options: CreateLiveOptions<TCtx>): Live<TCtx> {
  const hub = typeof options.hub === 'function' ? options.hub : () => options.hub as Hub;
  const onPublishError =
    options.onPublishError ?? ((error: unknown) => console.error('[trpc-live] publish after mutation failed:', error));

  const requireScope = (ctx: TCtx): string => {
    const scope = options.scope(ctx);
    if (!scope) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to receive live updates' });
    return scope;
  };

  const publishKeys = async (ctx: TCtx, keys: readonly InvalidationKey[]) => {
    if (!keys.length) return [];
    const scope = requireScope(ctx);
    const log = options.publishLog?.(ctx);
    const receipts: PublishReceipt[] = [];
    // Distinct keys only: the same key twice in one mutation is one change.
    const seen = new Set<string>();
    for (const key of keys) {
      const id = key.id === undefined ? undefined : String(key.id);
      const dedupe = `${key.resource}\u0000${id ?? ''}`;
      if (seen.has(dedupe)) continue;
      seen.add(dedupe);
      try {
        const receipt = await hub().invalidate(scope, {
          resource: key.resource,
          ...(id !== undefined ? { id } : {}),
          ...(key.action ? { action: key.action } : {}),
          ...(key.hint ? { hint: key.hint } : {}),
        });
        receipts.push(receipt);
        if (log) recordPublish(log, key.resource, id, receipt);
      } catch (error) {
        onPublishError(error, key);
      }
    }
    return receipts;
  };

  return {
    hub,
    publishKeys,
    async invalidationMiddleware(opts) {
      const result = await opts.next();
      const declared = opts.meta?.invalidates;
      if (!result.ok || opts.type !== 'mutation' || !declared) return result;
      let keys: readonly InvalidationKey[];
      if (typeof declared === 'function') {
        const input = await opts.getRawInput();
        keys = normalizeKeys(declared({ input, output: result.data, ctx: opts.ctx }));
      } else {
        keys = declared;
      }
      await publishKeys(opts.ctx, keys);
      return result;
    },
    stream(ctx, input, signal) {
      const scope = requireScope(ctx);
      const allowed = options.allowedTopics?.(ctx);
      const asked = input?.topics;
      const topics = intersectTopics(asked, allowed);
      return new LiveStream(
        hub(),
        {
          scope,
          topics,
          groups: options.groups?.(ctx) ?? {},
          lastEventId: input?.lastEventId ?? null,
        },
        signal,
      );
    },
  };
}

/**
 * Patterns a stream may use: what it asked for, restricted to what it is
 * allowed. An asked pattern is kept only when some allowed pattern covers it
 * (same tokens or wider wildcards); asking for nothing means "all allowed".
 */
export function intersectTopics(
  asked: readonly string[] | undefined,
  allowed: readonly string[] | undefined,
): readonly string[] | undefined {
  if (!allowed) return asked;
  if (!asked?.length) return allowed;
  const kept = asked.filter((pattern) => allowed.some((scope) => covers(scope, pattern)));
  if (!kept.length) throw new TRPCError({ code: 'FORBIDDEN', message: 'None of the requested topics is allowed' });
  return kept;
}

/** True when every topic matched by `inner` is also matched by `outer`. */
export function covers(outer: string, inner: string): boolean {
  const o = outer.split('.');
  const i = inner.split('.');
  for (let k = 0; k < o.length; k++) {
    const token = o[k];
    if (token === '>') return i.length > k;
    const other = i[k];
    if (other === undefined || other === '>') return false;
    if (token !== '*' && (other === '*' || other !== token)) return false;
  }
  return o.length === i.length;
}
