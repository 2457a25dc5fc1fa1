import type { AnyTRPCRouter } from '@trpc/server';
// The procedure lookup and parser adapter tRPC itself uses; @trpc/* is pinned
// to one exact version, so this internal entry point cannot drift under us.
import { getParseFn, getProcedureAtPath, isObject } from '@trpc/server/unstable-core-do-not-import';
import type { DeclaredInvalidates, InvalidatesDeclaration, InvalidatesFn, InvalidationKey } from './meta.ts';

/** A router, or a (possibly async, lazy) getter for it. */
export type RouterSource = AnyTRPCRouter | (() => AnyTRPCRouter | Promise<AnyTRPCRouter>);

/** True for the `{ resources, keys }` form. */
export function isDeclaredInvalidates(value: unknown): value is DeclaredInvalidates {
  return (
    typeof value === 'object' &&
    value !== null &&
    !Array.isArray(value) &&
    typeof (value as DeclaredInvalidates).keys === 'function' &&
    Array.isArray((value as DeclaredInvalidates).resources)
  );
}

/**
 * The resources a declaration may publish, when knowable without running it:
 * static keys and the `{ resources, keys }` form; `null` for a bare function.
 */
export function declaredResources(declaration: InvalidatesDeclaration<any, any>): readonly string[] | null {
  if (Array.isArray(declaration)) return [...new Set((declaration as readonly InvalidationKey[]).map((key) => key.resource))];
  if (isDeclaredInvalidates(declaration)) return declaration.resources;
  return null;
}

function toArray(value: readonly InvalidationKey[] | InvalidationKey | null | undefined): readonly InvalidationKey[] {
  if (!value) return [];
  return Array.isArray(value) ? value : [value as InvalidationKey];
}

/**
 * The call's input as the resolver saw it. Middlewares registered before
 * `.input()` (ours runs for every procedure) only get the raw input, so the
 * procedure's own parsers are run again, merged the way tRPC's input
 * middleware merges them. Costs one extra validation per mutation with a
 * function-form declaration; parsers with side effects would run twice.
 *
 * @remarks Unstable: finds the procedure and runs its parsers with
 * `getProcedureAtPath` and `getParseFn` from
 * `@trpc/server/unstable-core-do-not-import` (tRPC's own input parsing, so
 * the declaration sees what the resolver saw). It may change with tRPC's
 * internals. See the package README, "Entry points, and what is unstable".
 */
export async function parseProcedureInput(router: RouterSource | undefined, path: string, raw: unknown): Promise<unknown> {
  if (!router) return raw;
  const resolved = typeof router === 'function' ? await router() : router;
  const procedure = await getProcedureAtPath(resolved, path);
  if (!procedure) return raw;
  const parsers = procedure._def.inputs;
  if (!parsers.length) return undefined;
  let input: unknown = undefined;
  for (const parser of parsers) {
    const parsed: unknown = await getParseFn(parser)(raw);
    input = isObject(input) && isObject(parsed) ? { ...input, ...parsed } : parsed;
  }
  return input;
}

/** What a successful call invalidates, and what went wrong working it out. */
export interface ResolvedInvalidations {
  /** The keys to publish, in declaration order. */
  readonly keys: readonly InvalidationKey[];
  /** Problems to report: a throwing declaration, keys outside the declared resources. */
  readonly problems: readonly Error[];
}

/** Arguments of {@link resolveInvalidations}. */
export interface ResolveInvalidationsOptions<TCtx> {
  /** The mutation's `meta.invalidates`. */
  readonly declaration: InvalidatesDeclaration<any, TCtx>;
  /** The mutation's dot path (e.g. `orders.create`), for problem messages and input parsing. */
  readonly path: string;
  /** The procedure's context, passed to a function-form declaration. */
  readonly ctx: TCtx;
  /** The mutation's result, passed to a function-form declaration. */
  readonly output: unknown;
  /** tRPC's raw input getter; parsed with the procedure's own parsers when `router` is given. */
  readonly getRawInput: () => Promise<unknown>;
  /** The app router (or a getter), to parse the input as the resolver saw it. @default undefined: declarations get the raw input */
  readonly router?: RouterSource | undefined;
}

/**
 * Evaluates a mutation's declaration after it succeeded. Never throws: the
 * mutation is committed, so a failing declaration must not turn it into an
 * error for the caller. If the `{ resources, keys }` form throws, every
 * declared resource is invalidated whole (over-invalidating is safe, missing
 * a change is not); a bare function that throws publishes nothing.
 *
 * @remarks Unstable when `router` is given: the input is parsed with
 * {@link parseProcedureInput}, which uses tRPC internals.
 */
export async function resolveInvalidations<TCtx>(options: ResolveInvalidationsOptions<TCtx>): Promise<ResolvedInvalidations> {
  const { declaration, path } = options;
  if (Array.isArray(declaration)) return { keys: declaration as readonly InvalidationKey[], problems: [] };
  const declared = isDeclaredInvalidates(declaration) ? declaration : null;
  const fn = (declared ? declared.keys : declaration) as InvalidatesFn<InvalidationKey, TCtx>;
  try {
    const input = await parseProcedureInput(options.router, path, await options.getRawInput());
    const keys = toArray(fn({ input, output: options.output, ctx: options.ctx }));
    const problems: Error[] = [];
    if (declared) {
      for (const key of keys) {
        if (!declared.resources.includes(key.resource)) {
          problems.push(
            new Error(
              `${path}: invalidates returned resource "${key.resource}", which its declaration does not list ` +
                `(resources: ${JSON.stringify(declared.resources)}); published anyway, fix the declaration`,
            ),
          );
        }
      }
    }
    return { keys, problems };
  } catch (error) {
    const problem = new Error(`${path}: computing invalidations failed`, { cause: error });
    const fallback = declared ? declared.resources.map((resource) => ({ resource })) : [];
    return { keys: fallback, problems: [problem] };
  }
}
