import type { AnyTRPCProcedure, AnyTRPCRouter } from '@trpc/server';
import type { LiveMeta } from './meta.ts';
import type { ResourceRegistry } from '../shared/registry.ts';
import type { RouterSource } from './resolveInvalidations.ts';
import type { LiveLogger } from '../shared/logger.ts';

// Finds procedures that declare `invalidates` but whose middleware chain lacks the invalidation
// middleware: they publish nothing, and neither the types nor a test of another procedure notice.
// tRPC 11 keeps the functions of a procedure's chain, in order, in `_def.middlewares` (`.use(fn)`
// and `.use(t.middleware(fn))` both store `fn` itself), so the middleware is found by a mark on
// the function. The mark is a registered symbol (`Symbol.for`), not a module-local one, so it is
// found when the router was built with another copy of this package than the one checking it
// (the CLI from dist/ and an app run from source, or two versions in one node_modules).

const MARK = Symbol.for('trpc-live.invalidationMiddleware');

/** What {@link createLive}'s middleware carries on its mark (read by `trpc-live check`). */
export interface InvalidationMiddlewareMark {
  /** The registry given to `createLive`, if any: `trpc-live check` uses it when none is named. */
  readonly resources?: ResourceRegistry | undefined;
  /** Whether a router is bound to that `createLive` (`router` option or `live.bindRouter`): pushed results need one. */
  readonly routerBound?: () => boolean;
}

/** Marks `fn` as an invalidation middleware, so the checks below recognise it in a chain. */
export function markInvalidationMiddleware(fn: (...args: any[]) => unknown, mark: InvalidationMiddlewareMark): void {
  Object.defineProperty(fn, MARK, { value: mark, enumerable: false });
}

/** The mark of the first invalidation middleware in `procedure`'s chain, or `undefined` when it has none. */
export function invalidationMiddlewareOf(procedure: AnyTRPCProcedure): InvalidationMiddlewareMark | undefined {
  const middlewares = (procedure._def as { middlewares?: unknown }).middlewares;
  if (!Array.isArray(middlewares)) return undefined;
  for (const fn of middlewares) {
    const mark = typeof fn === 'function' ? (fn as unknown as Record<symbol, unknown>)[MARK] : undefined;
    if (mark) return mark as InvalidationMiddlewareMark;
  }
  return undefined;
}

/** True when `procedure` declares a non-empty `invalidates` but its chain lacks the invalidation middleware. */
export function lacksInvalidationMiddleware(procedure: AnyTRPCProcedure): boolean {
  const declaration = (procedure._def.meta as LiveMeta | undefined)?.invalidates;
  if (!declaration || (Array.isArray(declaration) && !declaration.length)) return false;
  return !invalidationMiddlewareOf(procedure);
}

/** The problem with a procedure {@link lacksInvalidationMiddleware} found, and what to do (for the check and the warning). */
export function missingMiddlewareProblem(path: string): string {
  return (
    `${path}: declares invalidates, but live.invalidationMiddleware is not in its middleware chain, so it publishes ` +
    'nothing; build it from a procedure that has .use(live.invalidationMiddleware)'
  );
}

/**
 * Returns a function that, on its first call only, outside production
 * (`NODE_ENV !== 'production'`), resolves the router and warns once through
 * `logger` naming every mutation whose chain lacks the invalidation
 * middleware. Never throws and never waits: the check runs in the
 * background; a router that cannot be resolved is skipped (the publish path
 * reports that). Only procedures already registered are walked: lazy
 * sub-routers not loaded yet are left lazy (loading them here would undo
 * what `lazy()` is for); `trpc-live check` loads and checks them.
 */
export function warnMissingMiddlewareOnce(router: RouterSource | undefined, logger: LiveLogger): () => void {
  let done = !router || (typeof process !== 'undefined' && process.env?.NODE_ENV === 'production');
  return () => {
    if (done) return;
    done = true;
    void (async () => {
      const resolved: AnyTRPCRouter = typeof router === 'function' ? await router() : router!;
      const procedures = (resolved._def as { procedures: Record<string, AnyTRPCProcedure> }).procedures;
      const missing = Object.entries(procedures)
        .filter(([, procedure]) => procedure._def.type === 'mutation' && lacksInvalidationMiddleware(procedure))
        .map(([path]) => path)
        .sort();
      if (missing.length) logger.warn(`[trpc-live] ${missing.map(missingMiddlewareProblem).join('\n  ')}\n  (trpc-live check reports this too)`);
    })().catch(() => undefined);
  };
}
