/**
 * The resource registry: which query procedures read each resource.
 *
 * Isomorphic (the browser bundle imports it): no server or tRPC runtime
 * imports here. The registry is typed on its own, without the router, so the
 * procedure meta type can depend on it without a type cycle
 * (AppRouter ← procedures ← meta ← registry). The check against the router
 * lives in `checkResources.ts`.
 */

/** What a resource's ids are; the router check proves it matches the `by` input field. */
export type ResourceIdKind = 'string' | 'number';

/**
 * How one query procedure reads a resource: every call of `path`, or (with
 * `by`) only the calls whose input field `by` equals the signal's id.
 */
export interface QueryBinding {
  /** Dot path of a query procedure, e.g. `'orders.byId'`. */
  readonly path: string;
  /** Input field holding the resource id. @default none: every call of `path` reads every id */
  readonly by?: string;
}

/** One resource: the queries that read it and queries that depend on it. */
export interface ResourceDefinition {
  /** Type of the resource's ids in `invalidates` keys. @default 'string' */
  readonly id?: ResourceIdKind;
  /** Queries that read the resource (list queries, and by-id queries with `by`). */
  readonly queries: readonly QueryBinding[];
  /** Query paths refreshed by any change of this resource (e.g. `dashboard.stats`). @default [] */
  readonly dependents?: readonly string[];
}

/** A map from resource names to their definitions. */
export type ResourceRegistry = { readonly [resource: string]: ResourceDefinition };

/** Resource names of a registry. */
export type inferResourceName<TRegistry extends ResourceRegistry> = Extract<keyof TRegistry, string>;

/** The id type of one resource: `number` for `id: 'number'`, else `string`. */
export type inferResourceId<TRegistry extends ResourceRegistry, TName extends keyof TRegistry> = TRegistry[TName] extends {
  readonly id: 'number';
}
  ? number
  : string;

/**
 * Declares the resources the app's mutations invalidate and the queries that
 * read them. The same object types `.meta({ invalidates })` on the server and
 * drives query matching on the client; check it against the router with
 * `checkResources<AppRouter>()(registry)` in a module that may import the
 * router type.
 */
export function defineResources<const TRegistry extends ResourceRegistry>(registry: TRegistry): TRegistry {
  return registry;
}
