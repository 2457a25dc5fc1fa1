import type { LiveAction, LiveHint } from '../core/index.ts';
import type { inferResourceId, inferResourceName, ResourceRegistry } from '../shared/registry.ts';

/** One key a mutation invalidates. `id` narrows it to one entity of the resource. */
export interface InvalidationKey<TResource extends string = string, TId extends string | number = string | number> {
  /** The resource (a name in the registry) whose queries are stale. */
  readonly resource: TResource;
  /** Absent: every query of the resource is stale. */
  readonly id?: TId;
  /** What happened, for listeners (toasts, logs). @default 'changed' */
  readonly action?: LiveAction;
  /** Small JSON object delivered with the signal; never the data itself. */
  readonly hint?: LiveHint;
}

/**
 * The keys a registry allows: a union with one member per resource, so both
 * the resource name and the id type are checked (`orders` takes the id type
 * its registry entry declares). An untyped registry allows any name and id.
 */
export type inferInvalidationKey<TRegistry extends ResourceRegistry> = string extends keyof TRegistry
  ? InvalidationKey
  : { [N in inferResourceName<TRegistry>]: InvalidationKey<N, inferResourceId<TRegistry, N>> }[inferResourceName<TRegistry>];

/**
 * What the function form of `invalidates` receives, after the mutation succeeded.
 *
 * `input` and `output` are typed `any` on purpose: tRPC types `.meta()` once
 * for every procedure, so the meta cannot see a procedure's input or output
 * type. Annotate them where you use them (`({ output }: { output: Order })`).
 */
export interface InvalidatesArgs<TCtx = any> {
  /**
   * The call's input as the resolver saw it: re-parsed with the procedure's
   * own input parsers when `createLive({ router })` is given (transforms and
   * defaults applied), else the raw input as received (it passed validation).
   */
  readonly input: any;
  /** The mutation's result. */
  readonly output: any;
  /** The procedure's context (after the middleware before it ran). */
  readonly ctx: TCtx;
}

/** A function computing the keys of one call (e.g. the created entity's id). */
export type InvalidatesFn<TKey extends InvalidationKey = InvalidationKey, TCtx = any> = (
  args: InvalidatesArgs<TCtx>,
) => readonly TKey[] | TKey | null | undefined;

/**
 * The function form together with every resource it may return, so
 * `npm run live:check` can verify and count it without running it. The
 * middleware reports (and still publishes) a key outside `resources`, and if
 * `keys` throws it falls back to invalidating every listed resource whole.
 */
export interface DeclaredInvalidates<TName extends string = string, TKey extends InvalidationKey = InvalidationKey, TCtx = any> {
  /** Every resource `keys` may return. */
  readonly resources: readonly TName[];
  /**
   * The keys of one call, from `{ input, output, ctx }`. Give it that
   * parameter: a zero-argument function gets no contextual type here (the
   * static-array form's `keys` method competes), so its literals widen. For
   * keys that do not depend on the call, use the static form.
   */
  readonly keys: InvalidatesFn<TKey, TCtx>;
}

/**
 * What a mutation invalidates: static keys, a function of the call, or a
 * function with its declared resources (the form `live:check` can verify).
 */
export type InvalidatesDeclaration<TRegistry extends ResourceRegistry = ResourceRegistry, TCtx = any> =
  | readonly inferInvalidationKey<TRegistry>[]
  | InvalidatesFn<inferInvalidationKey<TRegistry>, TCtx>
  | DeclaredInvalidates<inferResourceName<TRegistry>, inferInvalidationKey<TRegistry>, TCtx>;

/**
 * Procedure meta understood by the invalidation middleware, typed by the
 * app's registry (not by the router, which would be a type cycle):
 * `initTRPC.meta<LiveMeta<typeof resources, Context>>()`, then
 * `.meta({ invalidates: [{ resource: 'products' }] })`.
 */
export interface LiveMeta<TRegistry extends ResourceRegistry = ResourceRegistry, TCtx = any> {
  /** What a successful mutation invalidates: keys, a function of `{ input, output, ctx }`, or `{ resources, keys }` (see {@link InvalidatesDeclaration}). Absent: the mutation publishes nothing. */
  invalidates?: InvalidatesDeclaration<TRegistry, TCtx>;
}
