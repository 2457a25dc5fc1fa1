import type { ResourceRegistry } from '../shared/registry.ts';

// Which publishers were declared against a registry, so `trpc-live check` can list them beside the
// mutations. Kept per registry object (the CLI finds the registry through the router) in a map on
// `globalThis` under a registered symbol: the CLI may run from another copy of this package than
// the app it checks (dist/ and source), as with the middleware's mark (middlewareChain.ts).

const RECORDS = Symbol.for('trpc-live.publishers');

/** What a publisher declared, as `trpc-live check` lists it. */
export interface PublisherRecord {
  /** The publisher's name (e.g. `'import-worker'`). */
  readonly name: string;
  /** Resources it may invalidate. */
  readonly invalidates: readonly string[];
  /** Topics it may publish, with their kind. */
  readonly publishes: readonly { readonly name: string; readonly kind: 'event' | 'job' }[];
}

type Records = WeakMap<object, Map<string, PublisherRecord>>;

function records(): Records {
  const g = globalThis as { [RECORDS]?: Records };
  return (g[RECORDS] ??= new WeakMap());
}

/**
 * Remembers a publisher under its registry. A second declaration with the
 * same name replaces the first (a module evaluated again by a dev reload).
 */
export function recordPublisher(registry: ResourceRegistry, record: PublisherRecord): void {
  const all = records();
  let byName = all.get(registry);
  if (!byName) all.set(registry, (byName = new Map()));
  byName.set(record.name, record);
}

/** The publishers declared against `registry` so far, by name. */
export function publishersOf(registry: ResourceRegistry): PublisherRecord[] {
  return [...(records().get(registry)?.values() ?? [])].sort((a, b) => a.name.localeCompare(b.name));
}
