import type { ResourceRegistry } from '../trpc/registry';

/** A resource change to match against cached queries. */
export interface ChangedKey {
  readonly resource: string;
  /** Absent: every query of the resource. */
  readonly id?: string;
}

interface Rule {
  readonly resource: string;
  /** Input field holding the id; `null` matches every call of the path. */
  readonly by: string | null;
}

/** The parts of a tRPC query key the matcher reads. */
export interface ParsedQueryKey {
  readonly path: string;
  readonly input: unknown;
}

/**
 * Reads the procedure path and input from a tRPC query key. Works with both
 * `@trpc/tanstack-react-query` and the classic `@trpc/react-query`:
 * `[['orders', 'byId'], { input: { id: 'ord_1' }, type: 'query' }]`.
 */
export function parseQueryKey(queryKey: readonly unknown[]): ParsedQueryKey | null {
  const pathIndex = queryKey.findIndex((part) => Array.isArray(part));
  if (pathIndex < 0) return null;
  const path = queryKey[pathIndex] as unknown[];
  if (!path.every((part) => typeof part === 'string')) return null;
  const options = queryKey[pathIndex + 1];
  const input = options && typeof options === 'object' ? (options as { input?: unknown }).input : undefined;
  return { path: (path as string[]).join('.'), input };
}

/**
 * Compiles a resource registry into a matcher from changed keys to the
 * queries they make stale: `orders/ord_1` matches `orders.byId({ id: 'ord_1' })`,
 * every `orders.list` and declared dependents, and not `orders.byId({ id: 'ord_2' })`.
 */
export function createQueryMatcher(registry: ResourceRegistry) {
  const rulesByPath = new Map<string, Rule[]>();
  const add = (path: string, rule: Rule) => {
    const rules = rulesByPath.get(path) ?? [];
    rules.push(rule);
    rulesByPath.set(path, rules);
  };
  for (const [resource, definition] of Object.entries(registry)) {
    for (const query of definition.queries) add(query.path, { resource, by: query.by ?? null });
    for (const path of definition.dependents ?? []) add(path, { resource, by: null });
  }

  /** True when a query with this key reads any of `changes`. */
  function matches(queryKey: readonly unknown[], changes: readonly ChangedKey[]): boolean {
    const parsed = parseQueryKey(queryKey);
    if (!parsed) return false;
    const rules = rulesByPath.get(parsed.path);
    if (!rules) return false;
    for (const rule of rules) {
      for (const change of changes) {
        if (change.resource !== rule.resource) continue;
        if (rule.by === null || change.id === undefined) return true;
        const input = parsed.input as Record<string, unknown> | undefined;
        const value = input && typeof input === 'object' ? input[rule.by] : undefined;
        if (value !== undefined && String(value) === change.id) return true;
      }
    }
    return false;
  }

  return {
    matches,
    /** Query paths known to the registry. */
    paths: () => [...rulesByPath.keys()],
  };
}

export type QueryMatcher = ReturnType<typeof createQueryMatcher>;
