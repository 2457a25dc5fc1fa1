/**
 * The resource registry: which query procedures read each resource.
 *
 * Isomorphic (the browser bundle imports it): no server or tRPC runtime
 * imports here. The registry is typed on its own, without the router, so the
 * procedure meta type can depend on it without a type cycle
 * (AppRouter ← procedures ← meta ← registry). The check against the router
 * lives in `checkResources.ts`.
 */
import { LiveError } from './errors.ts';

/** What a resource's ids are; the router check proves it matches the `by` input field. */
export type ResourceIdKind = 'string' | 'number';

/**
 * Whether the server may push a query's result instead of making every
 * watcher refetch it (see `PushMode` values):
 * - `'scope'`: the result depends only on the scope (tenant) and the input,
 *   never on who asks (no user- or role-dependent fields), so one
 *   computation serves every watcher of the scope;
 * - `'connection'`: computed with each watching stream's own context.
 */
export type PushMode = 'scope' | 'connection';

/**
 * How one query procedure reads a resource: every call of `path`, or (with
 * `by`) only the calls whose input field `by` equals the signal's id.
 */
export interface QueryBinding {
  /** Dot path of a query procedure, e.g. `'orders.byId'`. */
  readonly path: string;
  /** Input field holding the resource id. @default none: every call of `path` reads every id */
  readonly by?: string;
  /**
   * Let the server compute the query once after a change and push its
   * result to the streams that watch it (see {@link PushMode}). Every
   * binding of a path that sets it must set the same mode.
   * @default none: invalidate only (every watcher refetches)
   */
  readonly push?: PushMode;
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

/**
 * The pushed queries of a registry: path → {@link PushMode}, from every
 * binding that sets `push`.
 * @throws LiveError BAD_OPTIONS when two bindings of one path set different modes.
 */
export function pushedQueries(registry: ResourceRegistry): ReadonlyMap<string, PushMode> {
  const modes = new Map<string, PushMode>();
  for (const [resource, definition] of Object.entries(registry)) {
    for (const query of definition.queries) {
      if (query.push === undefined) continue;
      if (query.push !== 'scope' && query.push !== 'connection') {
        throw new LiveError('BAD_OPTIONS', `${resource}: ${query.path} has push ${JSON.stringify(query.push)}; use 'scope' or 'connection'`);
      }
      const seen = modes.get(query.path);
      if (seen !== undefined && seen !== query.push) {
        throw new LiveError('BAD_OPTIONS', `${query.path} is pushed per ${seen} in one binding and per ${query.push} in another (${resource}); pick one`);
      }
      modes.set(query.path, query.push);
    }
  }
  return modes;
}
