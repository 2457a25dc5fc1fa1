import type { ResourceRegistry } from './registry.ts';

/** A resource change to match against cached queries. */
export interface ChangedKey {
  /** The resource that changed, a name from the registry. */
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
  /** Dot path of the procedure, e.g. `'orders.byId'`. */
  readonly path: string;
  /** The input in the key (`undefined` when the query has none). */
  readonly input: unknown;
  /** The key's `keyPrefix` (`createTRPCContext` / `createTRPCOptionsProxy` option); absent when it has none. */
  readonly prefix?: string;
}

const isPathSegment = (part: unknown): part is string[] =>
  Array.isArray(part) && part.length > 0 && part.every((segment) => typeof segment === 'string');

// A prefixed key starts with `[prefix]` followed by the path. Unambiguous: in an unprefixed key the
// path is followed by the `{ input, type }` object or by nothing, never by another array.
const isPrefixed = (queryKey: readonly unknown[]): boolean => {
  const first = queryKey[0];
  return Array.isArray(first) && first.length === 1 && typeof first[0] === 'string' && isPathSegment(queryKey[1]);
};

/**
 * The tRPC `keyPrefix` a query key starts with, or `undefined` when it has
 * none (an unprefixed tRPC key, or a key that is not tRPC's).
 */
export function queryKeyPrefix(queryKey: readonly unknown[]): string | undefined {
  return isPrefixed(queryKey) ? (queryKey[0] as [string])[0] : undefined;
}

/**
 * Reads the procedure path and input from a tRPC query key, in every shape
 * tRPC v11 produces:
 * - `@trpc/tanstack-react-query`: `[['orders', 'byId'], { input: { id: 'ord_1' }, type: 'query' }]`,
 *   with `keyPrefix` enabled `[['prefix'], ['orders', 'byId'], { … }]`;
 * - classic `@trpc/react-query`: `[['orders', 'byId'], { input, type: 'query' | 'infinite' }]`, or
 *   `[['products', 'list'], { type: 'query' }]` without input.
 * `null` for keys that are not tRPC's.
 */
export function parseQueryKey(queryKey: readonly unknown[]): ParsedQueryKey | null {
  const prefix = queryKeyPrefix(queryKey);
  const pathIndex = prefix === undefined ? 0 : 1;
  if (!isPathSegment(queryKey[pathIndex])) return null;
  // Some parts of a path may themselves be dotted; tRPC splits them the same way.
  const path = (queryKey[pathIndex] as string[]).flatMap((segment) => segment.split('.')).join('.');
  const options = queryKey[pathIndex + 1];
  const input = options && typeof options === 'object' && !Array.isArray(options) ? (options as { input?: unknown }).input : undefined;
  return prefix === undefined ? { path, input } : { path, input, prefix };
}

/** Changes indexed by resource: `all` when some change had no id. */
interface ChangeSet {
  readonly [resource: string]: { all: boolean; ids: Set<string> } | undefined;
}

function indexChanges(changes: readonly ChangedKey[]): ChangeSet {
  const set: Record<string, { all: boolean; ids: Set<string> }> = Object.create(null);
  for (const change of changes) {
    const entry = (set[change.resource] ??= { all: false, ids: new Set() });
    if (change.id === undefined) entry.all = true;
    else entry.ids.add(change.id);
  }
  return set;
}

/** A compiled registry; see {@link createQueryMatcher}. */
export interface QueryMatcher {
  /** A predicate for `queryClient.invalidateQueries({ predicate })`: true for query keys reading any of `changes`. */
  predicate(changes: readonly ChangedKey[]): (queryKey: readonly unknown[]) => boolean;
  /** True when a query with this key reads any of `changes` (one-off; use {@link predicate} for many keys). */
  matches(queryKey: readonly unknown[], changes: readonly ChangedKey[]): boolean;
  /** Query paths known to the registry. */
  paths(): string[];
}

/** Options of {@link createQueryMatcher}. */
export interface QueryMatcherOptions {
  /**
   * The tRPC `keyPrefix` of the queries to match: only keys under it match
   * (another client's queries in the same QueryClient have another prefix).
   * @default none: only unprefixed tRPC keys match
   */
  keyPrefix?: string | undefined;
}

/**
 * Compiles a resource registry into a matcher from changed keys to the
 * queries they make stale: `orders/ord_1` matches `orders.byId({ id: 'ord_1' })`,
 * every `orders.list` and the resource's dependents, and not
 * `orders.byId({ id: 'ord_2' })`. Ids compare as strings (signals carry
 * string ids), so numeric inputs match too.
 */
export function createQueryMatcher(registry: ResourceRegistry, options: QueryMatcherOptions = {}): QueryMatcher {
  const keyPrefix = options.keyPrefix;
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

  // Parsed once per key object: a browser matches the same cached queries' keys against every batch of changes (a
  // key is never mutated; TanStack treats it as a value). Measured: parseQueryKey 2.7% of a simulated browsers'
  // process's CPU in the article benchmark's (d) heavy phase, parsing the same few keys again and again.
  const parsedKeys = new WeakMap<readonly unknown[], ParsedQueryKey | null>();
  const parse = (queryKey: readonly unknown[]): ParsedQueryKey | null => {
    let parsed = parsedKeys.get(queryKey);
    if (parsed === undefined) {
      parsed = parseQueryKey(queryKey);
      parsedKeys.set(queryKey, parsed);
    }
    return parsed;
  };

  const matchesSet = (queryKey: readonly unknown[], changes: ChangeSet): boolean => {
    const parsed = parse(queryKey);
    if (!parsed || parsed.prefix !== keyPrefix) return false;
    const rules = rulesByPath.get(parsed.path);
    if (!rules) return false;
    for (const rule of rules) {
      const change = changes[rule.resource];
      if (!change) continue;
      if (rule.by === null || change.all) return true;
      const input = parsed.input;
      const value = input && typeof input === 'object' ? (input as Record<string, unknown>)[rule.by] : undefined;
      // No id in the key (e.g. a partial key): it may read any id, so it is stale.
      if (value === undefined) return true;
      if (change.ids.has(String(value))) return true;
    }
    return false;
  };

  return {
    predicate(changes) {
      const set = indexChanges(changes);
      return (queryKey) => matchesSet(queryKey, set);
    },
    matches: (queryKey, changes) => matchesSet(queryKey, indexChanges(changes)),
    paths: () => [...rulesByPath.keys()],
  };
}
