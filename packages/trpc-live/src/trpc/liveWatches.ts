import { TRPCError, type AnyTRPCRouter } from '@trpc/server';
import type { ConnectionGroups, Hub, LiveConnection } from '../core/index.ts';
import { parseCursor } from '../shared/cursor.ts';
import { createQueryMatcher } from '../shared/queryMatcher.ts';
import { pushedQueries, type ResourceRegistry } from '../shared/registry.ts';
import { watchKey, type WatchRefusal, type WatchRequest, type WatchResponse } from '../shared/watches.ts';
import { callQuery, safeMessage } from './callQuery.ts';
import { emptyPushStats, ResultPusher, type PushStats } from './pushResults.ts';
import type { RouterSource } from './resolveInvalidations.ts';
import { toTRPCError } from './toTRPCError.ts';
import { liveWatchInput } from './watchInput.ts';
import { WatchRegistry } from './watchRegistry.ts';
import type { WatchLimits } from './watchSet.ts';

/** The holder of a watch call that names none (`WatchRequest.holder`). */
const DEFAULT_HOLDER = 'default';

/** What {@link createLiveWatches} needs from the binding. */
export interface LiveWatchesOptions<TCtx> {
  readonly hub: () => Hub;
  /** The caller's scope; throws UNAUTHORIZED without one. */
  readonly requireScope: (ctx: TCtx) => string;
  /** The caller's groups: a watched connection must carry each of them. */
  readonly groups: (ctx: TCtx) => ConnectionGroups;
  readonly resources: ResourceRegistry | undefined;
  /** The router given or bound, `undefined` while none is. */
  readonly router: () => RouterSource | undefined;
  readonly limits: WatchLimits;
  readonly maxResultBytes: number;
  /** See `CreateLiveOptions.deltaBaseBytes`. */
  readonly deltaBaseBytes: number;
  /** A computation failed with a server error. */
  readonly onError: (error: unknown, path: string) => void;
  /** See `CreateLiveOptions.pushContext`. @default the watcher's context as is */
  readonly pushContext?: (ctx: TCtx) => TCtx;
}

/** The binding's watch call (`Live.watch`) and the pusher behind it. */
export interface LiveWatches<TCtx> {
  watch(ctx: TCtx, request: WatchRequest): Promise<WatchResponse>;
  /** Counters of the pusher on the current hub (zero before the first watch call). */
  stats(): PushStats;
}

type Refused = WatchResponse['refused'][number];

/** The tRPC query key the client caches a watched query under, as the shared matcher reads it. */
const queryKeyOf = (path: string, input: unknown): unknown[] => [path.split('.'), input === undefined ? { type: 'query' } : { input, type: 'query' }];

const resolveRouter = async (source: RouterSource): Promise<AnyTRPCRouter> => (typeof source === 'function' ? await source() : source);

/**
 * Watches of every connection of the binding's hub, and the pusher that
 * computes their results after a change. Attached to the hub on the first
 * watch call (a `tap` for changes, `onClose` to drop a closed stream's
 * watches); moved when the binding's hub getter returns another hub.
 */
export function createLiveWatches<TCtx>(options: LiveWatchesOptions<TCtx>): LiveWatches<TCtx> {
  const registry = options.resources ?? {};
  // Throws BAD_OPTIONS at creation for a path pushed two ways.
  const pushed = pushedQueries(registry);
  const matcher = createQueryMatcher(registry);
  let attached: { hub: Hub; watches: WatchRegistry<TCtx>; pusher: ResultPusher<TCtx>; detach: () => void } | null = null;

  const attach = (hub: Hub) => {
    if (attached?.hub === hub) return attached;
    attached?.detach();
    const watches = new WatchRegistry<TCtx>(options.limits);
    const pusher = new ResultPusher<TCtx>({
      hub,
      registry: watches,
      matcher,
      router: () => resolveRouter(options.router()!),
      position: () => parseCursor(hub.cursor())!,
      maxResultBytes: options.maxResultBytes,
      deltaBaseBytes: options.deltaBaseBytes,
      onError: options.onError,
    });
    const offTap = hub.tap((entry) => pusher.observe(entry));
    const offClose = hub.onClose((connection) => watches.forget(connection));
    const offResume = hub.onResume((connection) => {
      const set = watches.find(connection);
      if (set) pusher.resumed(set);
    });
    attached = {
      hub,
      watches,
      pusher,
      detach: () => {
        offTap();
        offClose();
        offResume();
        watches.clear();
      },
    };
    return attached;
  };

  const owned = (hub: Hub, ctx: TCtx, connectionId: string): LiveConnection => {
    try {
      return hub.ownedConnection(connectionId, { scope: options.requireScope(ctx), groups: options.groups(ctx) });
    } catch (error) {
      throw toTRPCError(error);
    }
  };

  return {
    stats: () => structuredClone(attached?.pusher.stats ?? emptyPushStats()),
    async watch(ctx, request) {
      const parsed = liveWatchInput.safeParse(request);
      if (!parsed.success) {
        throw new TRPCError({ code: 'BAD_REQUEST', message: parsed.error.issues[0]?.message ?? 'Invalid watch request', cause: parsed.error });
      }
      const source = options.router();
      if (!source) {
        throw new TRPCError({
          code: 'PRECONDITION_FAILED',
          message:
            'live.watch needs the app router to authorize and compute watched queries: ' +
            'call live.bindRouter(appRouter) where the router is built, or pass createLive({ router })',
        });
      }
      const router = await resolveRouter(source);
      const hub = options.hub();
      const connection = owned(hub, ctx, parsed.data.connectionId);
      const set = attach(hub).watches.setOf(connection);
      const holder = parsed.data.holder ?? DEFAULT_HOLDER;
      const deltas = parsed.data.deltas === true;
      // What later computations run with; this call's own authorization below uses `ctx` as is.
      const pushCtx = options.pushContext ? options.pushContext(ctx) : ctx;
      for (const key of parsed.data.remove ?? []) set.release(key, holder);

      // Request order, each key once: `null` accepted (or pending authorization), else refused.
      const outcomes = new Map<string, Refused | null>();
      const pending: Array<{ key: string; path: string; input: unknown; mode: 'scope' | 'connection' }> = [];
      const refuse = (key: string, code: WatchRefusal, message: string) => outcomes.set(key, { watch: key, code, message });
      for (const spec of parsed.data.add ?? []) {
        const key = watchKey(spec.path, spec.input);
        if (outcomes.has(key)) continue;
        if (set.hold(key, holder, pushCtx, deltas)) {
          outcomes.set(key, null);
          continue;
        }
        const mode = pushed.get(spec.path);
        if (!mode) refuse(key, 'not-pushable', `${spec.path} is not a pushed query (no push in the registry)`);
        else if (!set.reserve(key)) {
          refuse(key, 'full', `This stream watches as much as it may (${options.limits.maxWatches} queries, ${options.limits.maxWatchBytes} characters)`);
        } else {
          outcomes.set(key, null);
          pending.push({ key, path: spec.path, input: spec.input, mode });
        }
      }

      // Authorized with the caller's own context, through tRPC's call path (parsers, middleware).
      const errors = await Promise.all(pending.map((w) => callQuery(router, w.path, w.input, ctx).then(() => null, (error: unknown) => error)));
      // One synchronous step from here: changes the hub delivers later are after `since`.
      const cursor = hub.cursor();
      const since = parseCursor(cursor)!;
      pending.forEach((w, i) => {
        set.unreserve(w.key);
        if (errors[i] !== null) refuse(w.key, 'refused', safeMessage(errors[i]));
        else if (!connection.closed) {
          set.add({ key: w.key, path: w.path, input: w.input, queryKey: queryKeyOf(w.path, w.input), mode: w.mode, ctx: pushCtx, since }, holder, deltas);
        }
      });
      // The stream closed meanwhile: its watches are gone, the same answer as a closed stream.
      if (connection.closed) owned(hub, ctx, parsed.data.connectionId);
      const accepted: string[] = [];
      const refused: Refused[] = [];
      for (const [key, outcome] of outcomes) {
        if (outcome) refused.push(outcome);
        else accepted.push(key);
      }
      return { cursor, accepted, refused };
    },
  };
}
