import type { AnyTRPCProcedure, AnyTRPCRouter, inferProcedureInput } from '@trpc/server';
import type { inferResourceId, ResourceRegistry } from '../shared/registry.ts';

type QueryPathsOf<TRecord, TPrefix extends string> = {
  [K in keyof TRecord & string]: TRecord[K] extends AnyTRPCProcedure
    ? TRecord[K]['_def']['type'] extends 'query'
      ? `${TPrefix}${K}`
      : never
    : TRecord[K] extends AnyTRPCProcedure | ((...args: any[]) => any)
      ? never
      : QueryPathsOf<TRecord[K], `${TPrefix}${K}.`>;
}[keyof TRecord & string];

/** Dot paths of every query procedure of a router (`'orders.list' | 'orders.byId' | …`); no mutations or subscriptions. */
export type inferQueryPaths<TRouter extends AnyTRPCRouter> = QueryPathsOf<TRouter['_def']['record'], ''>;

type ProcedureAt<TRecord, TPath extends string> = TPath extends `${infer Head}.${infer Rest}`
  ? Head extends keyof TRecord
    ? ProcedureAt<TRecord[Head], Rest>
    : never
  : TPath extends keyof TRecord
    ? TRecord[TPath]
    : never;

/** The input type of the query at `TPath` (what the client passes). */
export type inferQueryInput<TRouter extends AnyTRPCRouter, TPath extends string> =
  ProcedureAt<TRouter['_def']['record'], TPath> extends infer P extends AnyTRPCProcedure ? inferProcedureInput<P> : never;

/** Input fields of a query that can hold an id: its (object) input's keys. */
export type inferQueryInputKeys<TRouter extends AnyTRPCRouter, TPath extends string> = Extract<
  keyof NonNullable<inferQueryInput<TRouter, TPath>>,
  string
>;

/**
 * What a wrong binding must additionally have: a property no literal has,
 * so the compiler reports it with this message (intersecting the path with
 * the valid paths would only say "not assignable to never").
 */
export interface RegistryError<TMessage extends string> {
  /** The message the compiler shows for the wrong binding. */
  readonly error: TMessage;
}

type CheckBinding<TRouter extends AnyTRPCRouter, TBinding, TId> = TBinding extends { readonly path: infer P extends string }
  ? P extends inferQueryPaths<TRouter>
    ? TBinding extends { readonly by: infer By extends string }
      ? By extends inferQueryInputKeys<TRouter, P>
        ? [TId] extends [NonNullable<inferQueryInput<TRouter, P>>[By]]
          ? TBinding
          : RegistryError<`the resource's id type does not fit input field "${By}" of ${P} (declare id: 'number' or 'string' to match)`>
        : RegistryError<`"${By}" is not an input field of ${P}`>
      : TBinding
    : RegistryError<`"${P}" is not a query procedure of the router`>
  : never;

type CheckDependents<TRouter extends AnyTRPCRouter, TPaths> = {
  readonly [I in keyof TPaths]: TPaths[I] extends inferQueryPaths<TRouter>
    ? TPaths[I]
    : RegistryError<`dependent "${TPaths[I] & string}" is not a query procedure of the router`>;
};

// A separate generic so the mapped type is homomorphic over the tuple and stays a tuple.
type CheckBindings<TRouter extends AnyTRPCRouter, TBindings, TId> = {
  readonly [I in keyof TBindings]: CheckBinding<TRouter, TBindings[I], TId>;
};

/**
 * The registry as it must look for `TRouter`: every path a query procedure,
 * every `by` a field of that query's input, every resource id type
 * assignable to that field, every dependent a query path.
 */
export type CheckedResources<TRouter extends AnyTRPCRouter, TRegistry extends ResourceRegistry> = {
  readonly [N in keyof TRegistry]: {
    readonly id?: TRegistry[N]['id'];
    readonly queries: CheckBindings<TRouter, TRegistry[N]['queries'], inferResourceId<TRegistry, N>>;
    readonly dependents?: CheckDependents<TRouter, TRegistry[N]['dependents']>;
  };
};

/**
 * Compile-time check of a registry against the router (returns it
 * unchanged). Call it where the router type may be imported, e.g.
 * `export const liveResources = checkResources<AppRouter>()(resources)`; a
 * typo in a path, a `by` that names no input field, an id type that does not
 * fit, or a mutation path is a type error there.
 */
export function checkResources<TRouter extends AnyTRPCRouter>() {
  return <const TRegistry extends ResourceRegistry>(registry: TRegistry & CheckedResources<TRouter, TRegistry>): TRegistry =>
    registry;
}
