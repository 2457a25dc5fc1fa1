import type { ResourceRegistry } from 'trpc-live/shared';
import { resources, type Resources } from '../../src/trpc/resources';

/**
 * `BENCH_ARTICLE_MISS=<query path>` (e.g. `orders.byId`): the simulated
 * browsers' live invalidator uses a copy of the app's registry without that
 * query, as an app that forgot to declare it would; the data oracle must then
 * report its observers as never fresh. For checking the benchmark itself;
 * unset (the default): the app's registry, unchanged.
 */
export const MISS_ENV = 'BENCH_ARTICLE_MISS';

/** A copy of `registry` in which no resource names query `path` (neither as a reader nor as a dependent). */
export function withoutQuery<TRegistry extends ResourceRegistry>(registry: TRegistry, path: string): TRegistry {
  const copy: Record<string, ResourceRegistry[string]> = {};
  for (const [name, resource] of Object.entries(registry)) {
    copy[name] = {
      ...resource,
      queries: resource.queries.filter((q) => q.path !== path),
      ...(resource.dependents ? { dependents: resource.dependents.filter((d) => d !== path) } : {}),
    };
  }
  return copy as TRegistry;
}

/** The registry the simulated browsers use (and the benchmark matches declared keys with): the app's, or the copy {@link MISS_ENV} asks for. */
export function browserRegistry(env: Readonly<Record<string, string | undefined>> = process.env): Resources {
  const missed = env[MISS_ENV];
  return missed ? withoutQuery(resources, missed) : resources;
}
