import { TRPCError, type AnyTRPCRouter } from '@trpc/server';
import { LiveError } from '../shared/errors.ts';
import { covers, intersectPatterns } from '../shared/topic.ts';
import { processHub, type ConnectionGroups, type Hub, type PublishReceipt } from '../core/index.ts';
import type { LiveStreamInput } from './liveInput.ts';
import { LiveStream } from './liveStream.ts';
import { sessionExpiredError } from './closePolicy.ts';
import type { inferInvalidationKey, InvalidationKey, LiveMeta } from './meta.ts';
import { publishLogOf, recordPublish, type PublishLog } from './publishLog.ts';
import { markInvalidationMiddleware, warnMissingMiddlewareOnce } from './middlewareChain.ts';
import { consoleLogger, type LiveLogger } from '../shared/logger.ts';
import type { inferResourceName, ResourceRegistry } from '../shared/registry.ts';
import type { TopicRegistry } from '../shared/liveTopics.ts';
import { createPublisher, type Publisher, type PublisherDeclaration } from './publisher.ts';
import { resolveInvalidations, type RouterSource } from './resolveInvalidations.ts';
import { DEFAULT_MAX_RESULT_BYTES, DEFAULT_MAX_WATCH_BYTES, DEFAULT_MAX_WATCHES, type WatchRequest, type WatchResponse } from '../shared/watches.ts';
import { DEFAULT_DELTA_BASE_BYTES } from './pushBases.ts';
import { createLiveWatches } from './liveWatches.ts';
import type { PushStats } from './pushResults.ts';

/** Where a publish problem happened. */
export interface PublishProblem {
  /** Procedure path of the mutation, when it came from the middleware. */
  readonly path?: string;
  /** The key that failed to publish, when one did. */
  readonly key?: InvalidationKey;
  /**
   * True when nothing was published because the caller has no scope (`scope`
   * returned none: an anonymous caller). Its change reaches no stream; if
   * others must see it, publish with a declared publisher and an explicit scope.
   */
  readonly noScope?: boolean;
}

/** Options of {@link createLive}. */
export interface CreateLiveOptions<TCtx, TRegistry extends ResourceRegistry = ResourceRegistry, TTopics extends TopicRegistry<any> = TopicRegistry<Record<never, never>>> {
  /**
   * The hub, or a getter for one.
   * @default the process-wide hub (`processHub()`), shared by every bundle of the process
   */
  hub?: Hub | (() => Hub);
  /**
   * The tenant of a request: publishes reach only streams of the same scope.
   * Returning `null`/`undefined` means "no tenant": the stream is refused with
   * UNAUTHORIZED and a mutation publishes nothing.
   * @default one scope for everyone (`'default'`): a single-tenant app. Who may
   * open the stream is then decided by the procedure it is built on (a public
   * procedure allows anonymous streams).
   */
  scope?: (ctx: TCtx) => string | null | undefined;
  /** Attributes of a stream publishes can target (role, user, plan…). @default {} */
  groups?: (ctx: TCtx) => ConnectionGroups;
  /**
   * Topic patterns a stream may receive; a stream gets the intersection of
   * what it asks for and these. @default ['>'] (everything in its scope)
   */
  allowedTopics?: (ctx: TCtx) => readonly string[] | undefined;
  /**
   * When the stream's credential expires (ms since the epoch): the hub then
   * ends the stream with UNAUTHORIZED, which the client can act on (sign in
   * again). @default never
   */
  expiresAt?: (ctx: TCtx) => number | undefined;
  /**
   * Where to record publishes for the response fence.
   * @default the log `withPublishLog` put on the context (the route handler of
   * trpc-live/next does that), else none
   */
  publishLog?: (ctx: TCtx) => PublishLog | undefined;
  /**
   * The resource registry. Keys naming a resource outside it are reported
   * and not published (they would match no query anywhere).
   * @default none: every resource name is published
   */
  resources?: TRegistry;
  /**
   * The declared event topics and jobs (`defineTopics`), which
   * {@link Live.publisher} publishers may publish.
   * @default none: publishers publish invalidations only
   */
  topics?: TTopics;
  /**
   * The app router (or a getter for it). Lets the function form of
   * `invalidates` see the input parsed by the procedure's own parsers
   * instead of the raw input. An app whose router is built from procedures
   * that use this instance hands it over later instead, with
   * {@link Live.bindRouter} (no import cycle).
   * @default none: the function form gets the raw input, unless a router is bound later
   * @remarks Unstable: the parsing uses tRPC internals (see `parseProcedureInput`).
   */
  router?: RouterSource;
  /**
   * What the function form of `invalidates` receives as `input`: `'parsed'`,
   * the input as the procedure's own parsers produced it (needs the router:
   * `router` or {@link Live.bindRouter}; with none bound, the declaration is
   * not run and a problem naming `bindRouter` goes to `onPublishError`), or
   * `'raw'`, tRPC's raw input.
   * @default 'parsed' when a router is given or bound, else 'raw'
   */
  invalidatesInput?: 'parsed' | 'raw';
  /**
   * Called for problems after a mutation succeeded: a publish failed, a
   * declaration threw or returned an undeclared or unknown resource. The
   * mutation's result is never affected.
   * @default reports through `logger.error`; a caller with no scope
   * (`problem.noScope`) through `logger.warn`, once per procedure
   */
  onPublishError?: (error: unknown, problem: PublishProblem) => void;
  /**
   * Where the binding reports: problems after a mutation succeeded
   * (`error`, unless `onPublishError` is given) and, outside production, a
   * development warning (`warn`, once per instance) naming the mutations of
   * the router that declare `invalidates` but lack `invalidationMiddleware`
   * in their chain, so publish nothing.
   * @default consoleLogger (the global console)
   */
  logger?: LiveLogger;
  /**
   * Most queries one stream (every tab of a browser) may watch for pushed
   * results ({@link Live.watch}); past it a watch is refused (`full`) and
   * the query keeps invalidate-and-refetch.
   * @default DEFAULT_MAX_WATCHES (256)
   */
  maxWatches?: number;
  /**
   * Most characters of watch keys (path and input) one stream may hold;
   * past it a watch is refused (`full`).
   * @default DEFAULT_MAX_WATCH_BYTES (64 KiB)
   */
  maxWatchBytes?: number;
  /**
   * Largest pushed result, as serialized by the hub (characters); a larger
   * one is sent as a refetch order (`too-large`) and each watcher refetches.
   * @default DEFAULT_MAX_RESULT_BYTES (256 KiB)
   */
  maxResultBytes?: number;
  /**
   * Budget (serialized characters) of the previous pushed results the
   * server keeps, per binding, so the next result of a watch can go as a
   * delta to streams that hold the previous one (clients that say
   * `deltas: true`); the least recently pushed is forgotten first, and its
   * next result goes whole. `0` turns deltas off.
   * @default DEFAULT_DELTA_BASE_BYTES (8 MiB)
   */
  deltaBaseBytes?: number;
  /**
   * The context a watched query's pushed results are computed with, made
   * from the watcher's own context when the watch call adds or holds a
   * watch (the call's authorization of the watch uses the watcher's
   * context as is). For what belongs to the watch call's HTTP request
   * rather than to its user: the demo drops its per-request fair-turn key
   * (src/server/requestLimits.ts), since a computation the server runs
   * after a change is no user's request, and through the turns each
   * computation of a change waited its own event-loop turn (paced when the
   * user had just had one) and went out in its own socket write.
   * @default the watcher's context as is
   */
  pushContext?: (ctx: TCtx) => TCtx;
}

/** What the middleware receives from tRPC (the subset it reads). */
export interface InvalidationMiddlewareOptions<TCtx> {
  /** The procedure's context. */
  ctx: TCtx;
  /** The procedure's meta; only `invalidates` is read. @default undefined: nothing to publish */
  meta?: LiveMeta<any, any> | undefined;
  /** The procedure type; only `'mutation'` publishes. */
  type: string;
  /** The procedure's dot path. */
  path: string;
  /** tRPC's raw input getter, read only by function-form declarations. */
  getRawInput: () => Promise<unknown>;
  /** Runs the rest of the chain; the middleware publishes after it succeeded. */
  next: () => Promise<any>;
}

/** Mutation middleware and stream factory bound to one hub. */
export interface Live<TCtx, TRegistry extends ResourceRegistry = ResourceRegistry, TTopics extends TopicRegistry<any> = TopicRegistry<Record<never, never>>> {
  /** The hub in use. */
  hub(): Hub;
  /**
   * Hands the app router to this binding, once it is built (call it where
   * the router is created: `export const appRouter = live.bindRouter(router({ ... }))`).
   * The function form of `invalidates` then sees the parsed input, and the
   * development check of middleware chains runs. Returns `router`. Binding
   * again replaces it (a dev server's hot reload rebuilds the router).
   */
  bindRouter<TRouter extends AnyTRPCRouter>(router: TRouter): TRouter;
  /**
   * tRPC middleware: after a mutation succeeds, publishes the keys its
   * `.meta({ invalidates })` declares, to the caller's scope only, and
   * records them in the request's publish log (the read-your-writes fence).
   * Publishes nothing when the mutation fails; never fails a mutation that
   * succeeded.
   */
  invalidationMiddleware: (opts: InvalidationMiddlewareOptions<TCtx>) => Promise<any>;
  /**
   * Publishes keys for a request's `ctx` as the middleware does (its scope,
   * its publish log), for request code the middleware does not cover (a
   * route handler, a webhook). Code with no request (a job, a worker, a
   * script) uses {@link Live.publisher}, which `trpc-live check` lists.
   */
  publishKeys(ctx: TCtx, keys: readonly inferInvalidationKey<TRegistry>[]): Promise<PublishReceipt[]>;
  /** The value to return from the live subscription procedure. */
  stream(ctx: TCtx, input: LiveStreamInput | undefined, signal?: AbortSignal): LiveStream;
  /**
   * The live subscription's resolver, for
   * `procedure.input(liveStreamInput).subscription(live.subscription)`.
   */
  subscription: (opts: { ctx: TCtx; input: LiveStreamInput | undefined; signal?: AbortSignal | undefined }) => LiveStream;
  /**
   * The hub's position now (`hub().cursor()`, the same for every scope). A
   * server render reads it before its queries run and hands it to the
   * browser (`LiveInvalidator.seedCursor`): the stream then starts there and
   * replays whatever changed between the render and its connect.
   */
  cursor(): string;
  /**
   * A publisher for code outside a procedure (a worker, a job, a script),
   * on this binding's hub, typed and checked by its `resources` and
   * `topics`, limited to what `declaration` names, and listed by
   * `trpc-live check` under `name`: `live.publisher('import-worker',
   * { invalidates: ['orders'], publishes: ['imports'] })`.
   * @throws LiveError BAD_OPTIONS without `resources`, or naming a resource or topic they lack.
   */
  publisher<const TResource extends inferResourceName<TRegistry> = never, const TTopic extends Extract<keyof TTopics, string> = never>(
    name: string,
    declaration: PublisherDeclaration<TResource, TTopic>,
  ): Publisher<TRegistry, TTopics, TResource, TTopic>;
  /**
   * Changes which pushed queries a stream watches (the app's `live.watch`
   * mutation, input `liveWatchInput`). The stream must be open on this hub
   * and belong to the caller (its scope, and every group `groups(ctx)`
   * gives), else NOT_FOUND, as for a closed stream. Each added watch must
   * name a query the registry marks `push` (else refused `not-pushable`),
   * fit the stream's bounds (`maxWatches`, `maxWatchBytes`; else `full`),
   * and succeed when called with the caller's own `ctx` through tRPC
   * (input parsers and middleware run; else `refused`, with the query's
   * client-safe message). A watch stays while any holder (tab) holds it.
   * After a change the binding computes each matched watch once per scope
   * (or per connection) with a watcher's stored `ctx` and pushes the result.
   * Bad input is a BAD_REQUEST; without a router (`router` or
   * {@link bindRouter}) a PRECONDITION_FAILED naming `bindRouter`.
   * @remarks Unstable: calls queries through `callProcedure` from tRPC's internals.
   */
  watch(ctx: TCtx, request: WatchRequest): Promise<WatchResponse>;
  /**
   * Counters of pushed results since the binding's first watch call on its
   * current hub: computations, `result` and `delta` frames, and `refetch`
   * frames by reason (counted per recipient). A snapshot; for dashboards and benchmarks.
   */
  pushStats(): PushStats;
}

/** The scope of every request when `createLive` is given no `scope`. */
export const SINGLE_SCOPE = 'default';

/**
 * Binds the live layer to an app's context: which tenant a request belongs
 * to, what it may see, the hub to use, and (optionally) the registry and
 * router that make declarations checkable and inputs parsed.
 */
export function createLive<TCtx, TRegistry extends ResourceRegistry = ResourceRegistry, TTopics extends TopicRegistry<any> = TopicRegistry<Record<never, never>>>(
  options: CreateLiveOptions<TCtx, TRegistry, TTopics>,
): Live<TCtx, TRegistry, TTopics> {
  const given = options.hub;
  const hub = typeof given === 'function' ? given : given ? () => given : () => processHub();
  const scopeOf = options.scope ?? (() => SINGLE_SCOPE);
  const publishLogFor = options.publishLog ?? publishLogOf;
  const logger = options.logger ?? consoleLogger;
  // A public mutation called anonymously publishes nothing, each time: one line per procedure says so, instead of an
  // error with a stack on every call (found by following the README in a fresh app with a `scope`).
  const warnedNoScope = new Set<string>();
  const onPublishError =
    options.onPublishError ??
    ((error: unknown, problem: PublishProblem) => {
      if (!problem.noScope) {
        logger.error('[trpc-live] invalidation after a successful mutation:', error);
        return;
      }
      const path = problem.path ?? '?';
      if (warnedNoScope.has(path)) return;
      warnedNoScope.add(path);
      logger.warn(
        `[trpc-live] ${path}: published nothing, since its caller has no scope (an anonymous caller: \`scope\` returned none); ` +
          'its changes reach no stream. Said once per procedure. If others must see them, publish with live.publisher and a scope.',
      );
    });
  const known = options.resources ? new Set(Object.keys(options.resources)) : null;
  // The router: the option, or the one `bindRouter` hands over once the router module is built.
  const binding = new RouterBinding(options.router, options.invalidatesInput, logger);
  const requireScope = (ctx: TCtx): string => {
    const scope = scopeOf(ctx);
    if (!scope) throw new TRPCError({ code: 'UNAUTHORIZED', message: 'Sign in to receive live updates' });
    return scope;
  };

  const publish = keyPublisher({ hub, known, publishLogFor, onPublishError, requireScope });
  // Each watch call without a router is refused, and the browser quietly falls back to refetching: pushed results
  // are off and nobody notices (found by following the README in a fresh app). Said once, on the server.
  let unboundWarned = false;
  const warnUnboundWatch = (): undefined => {
    if (unboundWarned) return undefined;
    unboundWarned = true;
    logger.error(
      '[trpc-live] live.watch was called but no router is bound: every watch is refused and pushed results are off ' +
        '(the browser refetches instead). Call live.bindRouter(appRouter) where the router is built, or pass createLive({ router }).',
    );
    return undefined;
  };
  const watches = createLiveWatches<TCtx>({
    hub,
    requireScope,
    groups: (ctx) => options.groups?.(ctx) ?? {},
    resources: options.resources,
    router: () => binding.current() ?? warnUnboundWatch(),
    limits: {
      maxWatches: positiveOption('maxWatches', options.maxWatches, DEFAULT_MAX_WATCHES),
      maxWatchBytes: positiveOption('maxWatchBytes', options.maxWatchBytes, DEFAULT_MAX_WATCH_BYTES),
    },
    maxResultBytes: positiveOption('maxResultBytes', options.maxResultBytes, DEFAULT_MAX_RESULT_BYTES),
    deltaBaseBytes: options.deltaBaseBytes === 0 ? 0 : positiveOption('deltaBaseBytes', options.deltaBaseBytes, DEFAULT_DELTA_BASE_BYTES),
    onError: (error, path) => logger.error(`[trpc-live] computing the pushed result of ${path} failed:`, error),
    ...(options.pushContext ? { pushContext: options.pushContext } : {}),
  });

  const live: Live<TCtx, TRegistry, TTopics> = {
    hub,
    bindRouter(bound) {
      binding.bind(bound);
      return bound;
    },
    publishKeys: (ctx, keys) => publish(ctx, keys),
    async invalidationMiddleware(opts) {
      binding.warnChains();
      const result = await opts.next();
      const declaration = opts.meta?.invalidates;
      if (!result.ok || opts.type !== 'mutation' || !declaration) return result;
      const { keys, problems } = await resolveInvalidations({
        declaration,
        path: opts.path,
        ctx: opts.ctx,
        output: result.data,
        getRawInput: opts.getRawInput,
        router: binding.forInput(opts.path),
      });
      for (const problem of problems) onPublishError(problem, { path: opts.path });
      try {
        await publish(opts.ctx, keys, opts.path);
      } catch (error) {
        // Thrown by requireScope when the caller has no scope (a public mutation called anonymously): nothing to
        // publish to. The scope is asked again only on this rare path, not before every publish.
        onPublishError(error, scopeOf(opts.ctx) ? { path: opts.path } : { path: opts.path, noScope: true });
      }
      return result;
    },
    stream(ctx, input, signal) {
      binding.warnChains();
      const scope = requireScope(ctx);
      const allowed = options.allowedTopics?.(ctx);
      const asked = input?.topics;
      const topics = intersectTopics(asked, allowed);
      const expiresAt = options.expiresAt?.(ctx);
      if (expiresAt !== undefined && expiresAt <= Date.now()) {
        throw sessionExpiredError();
      }
      return new LiveStream(
        hub(),
        {
          scope,
          topics,
          groups: options.groups?.(ctx) ?? {},
          lastEventId: input?.lastEventId ?? null,
          ...(expiresAt !== undefined ? { expiresAt } : {}),
        },
        signal,
      );
    },
    subscription: ({ ctx, input, signal }) => live.stream(ctx, input, signal),
    cursor: () => hub().cursor(),
    watch: (ctx, request) => watches.watch(ctx, request),
    pushStats: () => watches.stats(),
    publisher(name, declaration) {
      if (!options.resources) throw new LiveError('BAD_OPTIONS', `live.publisher(${JSON.stringify(name)}) needs createLive({ resources })`);
      return createPublisher({ ...declaration, name, resources: options.resources, hub, ...(options.topics ? { topics: options.topics } : {}) });
    },
  };
  // Lets live:check find this middleware in procedure chains (and the registry it was given).
  markInvalidationMiddleware(live.invalidationMiddleware, { resources: options.resources, routerBound: () => binding.current() !== undefined });
  return live;
}

/**
 * The router the live binding evaluates `invalidates` against: the
 * `router` option, or the one `live.bindRouter` hands over once the router
 * module is built (the router is made of procedures that use the binding,
 * so it cannot be passed when the binding is created).
 */
class RouterBinding {
  private readonly warnOnce: () => void;

  constructor(
    private router: RouterSource | undefined,
    private readonly invalidatesInput: 'parsed' | 'raw' | undefined,
    logger: LiveLogger,
  ) {
    // Checked on the first stream or mutation after a router is known, not at creation: the router
    // does not exist yet then (and a live page opens its stream on load, so the warning comes early).
    // Development only.
    this.warnOnce = warnMissingMiddlewareOnce(() => (typeof this.router === 'function' ? this.router() : this.router!), logger);
  }

  bind(router: AnyTRPCRouter): void {
    this.router = router;
  }

  /** The router given or bound, `undefined` while none is. */
  current(): RouterSource | undefined {
    return this.router;
  }

  /** Warns once (development) about mutations that declare `invalidates` without the middleware, once a router is known. */
  warnChains(): void {
    if (this.router) this.warnOnce();
  }

  /**
   * The router whose input parser `invalidates` functions of `path` see, or
   * `undefined` for the raw input. With 'parsed' and no router, the
   * declaration must not run on the raw input: the source it gets fails its
   * parse with an error that says what to do (resolveInvalidations reports it as a problem).
   */
  forInput(path: string): RouterSource | undefined {
    const mode = this.invalidatesInput ?? (this.router ? 'parsed' : 'raw');
    if (mode === 'raw') return undefined;
    if (this.router) return this.router;
    return () => {
      throw new Error(
        `${path}: invalidates needs the parsed input (invalidatesInput: 'parsed') but no router is bound; ` +
          'call live.bindRouter(appRouter) where the router is built, or pass createLive({ router })',
      );
    };
  }
}

/** A positive whole-number option, or its default. @throws LiveError BAD_OPTIONS naming the option */
function positiveOption(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new LiveError('BAD_OPTIONS', `${name} must be a positive whole number`);
  return value;
}

/** What {@link keyPublisher} needs from the binding. */
interface KeyPublisherParts<TCtx> {
  readonly hub: () => Hub;
  /** Resource names of the registry, `null` without one (anything goes). */
  readonly known: ReadonlySet<string> | null;
  readonly publishLogFor: (ctx: TCtx) => PublishLog | undefined | null;
  readonly onPublishError: (error: unknown, problem: PublishProblem) => void;
  readonly requireScope: (ctx: TCtx) => string;
}

/**
 * Publishes a request's invalidation keys to its scope, each distinct key
 * once, and records each receipt in the request's publish log (the fence).
 * A key the registry does not know, or a publish the hub refuses, goes to
 * `onPublishError`; the others are still published.
 */
function keyPublisher<TCtx>(parts: KeyPublisherParts<TCtx>) {
  const { hub, known, publishLogFor, onPublishError, requireScope } = parts;
  return async (ctx: TCtx, keys: readonly InvalidationKey[], path?: string): Promise<PublishReceipt[]> => {
    if (!keys.length) return [];
    const scope = requireScope(ctx);
    const log = publishLogFor(ctx);
    const receipts: PublishReceipt[] = [];
    // Distinct keys only: the same key twice in one mutation is one change.
    const seen = new Set<string>();
    for (const key of keys) {
      if (known && !known.has(key.resource)) {
        onPublishError(new Error(`unknown resource "${key.resource}" (not in the registry); not published`), { path, key });
        continue;
      }
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
        onPublishError(error, { path, key });
      }
    }
    return receipts;
  };
}

/**
 * Patterns a stream may use: what it asked for, restricted to what it is
 * allowed. Each pattern is the intersection of an asked and an allowed one
 * (asking `>` with `['orders']` allowed gets `orders`; `orders.*` with
 * `*.created` gets `orders.created`), so the stream receives exactly the
 * topics both match. Asking for nothing means "all allowed"; FORBIDDEN only
 * when no topic is both asked and allowed.
 */
export function intersectTopics(
  asked: readonly string[] | undefined,
  allowed: readonly string[] | undefined,
): readonly string[] | undefined {
  if (!allowed) return asked;
  if (!asked?.length) return allowed;
  const found: string[] = [];
  for (const a of asked) {
    for (const b of allowed) {
      const both = intersectPatterns(a, b);
      if (both !== null && !found.includes(both)) found.push(both);
    }
  }
  // Patterns another one already covers add nothing (and count against the hub's per-stream bound).
  const kept = found.filter((p, i) => !found.some((q, j) => j !== i && covers(q, p) && (!covers(p, q) || j < i)));
  if (!kept.length) throw new TRPCError({ code: 'FORBIDDEN', message: 'None of the requested topics is allowed' });
  return kept;
}
