/**
 * How one query procedure reads a resource: every call of `path`, or (with
 * `by`) only the call whose input field `by` equals the signal's id.
 */
export interface QueryBinding {
  readonly path: string;
  readonly by?: string;
}

/** One resource: the queries that read it and queries that depend on it. */
export interface ResourceDefinition {
  readonly queries: readonly QueryBinding[];
  /** Query paths refreshed by any change of this resource (e.g. `dashboard.stats`). */
  readonly dependents?: readonly string[];
}

/** A map from resource names to their definitions. Isomorphic: no server imports. */
export type ResourceRegistry = { readonly [resource: string]: ResourceDefinition };

/** Resource names of a registry. */
export type inferResourceName<TRegistry extends ResourceRegistry> = Extract<keyof TRegistry, string>;

/**
 * Declares the resources the app's mutations invalidate and the queries that
 * read them. The same object drives the server's key checks and the client's
 * query matching.
 */
export function defineResources<const TRegistry extends ResourceRegistry>(registry: TRegistry): TRegistry {
  return registry;
}
