import type { AnyTRPCProcedure, AnyTRPCRouter } from '@trpc/server';
import type { InvalidatesDeclaration, InvalidationKey, LiveMeta } from './meta.ts';
import { pushedQueries, type PushMode, type ResourceRegistry } from '../shared/registry.ts';
import { isLiveError } from '../shared/errors.ts';
import { lacksInvalidationMiddleware, missingMiddlewareProblem } from './middlewareChain.ts';
import { declaredResources, isDeclaredInvalidates } from './resolveInvalidations.ts';
import { publishersOf, type PublisherRecord } from './publisherRecords.ts';
import { WATCH_INPUT_MARK } from './watchInput.ts';

/** How one mutation declares its invalidations. */
export interface MutationCoverage {
  /** The mutation's dot path. */
  readonly path: string;
  /** `none`: no `invalidates`; `function`: a bare function (not verifiable). */
  readonly form: 'none' | 'static' | 'declared' | 'function';
  /** Resources it may invalidate (empty for `none` and `function`). */
  readonly resources: readonly string[];
}

/** One resource and who reads and invalidates it. */
export interface ResourceCoverage {
  /** The resource's name in the registry. */
  readonly name: string;
  /** Bound queries, as `path` or `path(by)`. */
  readonly queries: readonly string[];
  /** Query paths refreshed by any change of it (the registry's `dependents`). */
  readonly dependents: readonly string[];
  /** Mutations that may invalidate it. */
  readonly invalidatedBy: readonly string[];
  /** Publishers outside procedures (`live.publisher`) that may invalidate it. */
  readonly publishedBy: readonly string[];
}

/** Options of {@link analyzeCoverage}. */
export interface AnalyzeCoverageOptions {
  /**
   * The publishers outside procedures to count beside the mutations.
   * @default those declared against `registry` so far (`live.publisher` / `createPublisher` record them
   * when they are created, so the modules creating them must be loaded: `trpc-live check --import`)
   */
  readonly publishers?: readonly PublisherRecord[];
}

/** What {@link analyzeCoverage} found. */
export interface CoverageReport {
  /** Every resource of the registry, in registry order. */
  readonly resources: readonly ResourceCoverage[];
  /** Every mutation of the router. */
  readonly mutations: readonly MutationCoverage[];
  /** Every publisher outside procedures, by name. */
  readonly publishers: readonly PublisherRecord[];
  /** Query procedures that no mutation's declaration and no publisher refreshes (informational). */
  readonly uncoveredQueries: readonly string[];
  /** Of those, the ones no resource even binds. */
  readonly unboundQueries: readonly string[];
  /** Mutations that invalidate nothing (informational: sign-in, for example). */
  readonly silentMutations: readonly string[];
  /** Queries whose results the server pushes (registry `push`), by path, and how they are computed. */
  readonly pushed: readonly { readonly path: string; readonly mode: PushMode }[];
  /**
   * Broken contract: keys or bindings that name no query, unknown resources, unverifiable declarations,
   * mutations with `invalidates` whose middleware chain lacks the invalidation middleware, publishers
   * invalidating a resource that is unknown or names no query.
   */
  readonly errors: readonly string[];
}

/** Every procedure of a router by path, loading lazy sub-routers (internal: also used by the CLI). */
export async function proceduresOf(router: AnyTRPCRouter): Promise<Map<string, AnyTRPCProcedure>> {
  const def = router._def as {
    procedures: Record<string, AnyTRPCProcedure>;
    lazy: Record<string, { load(): Promise<void> }>;
  };
  // Loading a lazy router registers its procedures and removes its entry; bounded in case it does not.
  for (let round = 0; round < 100 && Object.keys(def.lazy).length; round++) {
    await Promise.all(Object.values(def.lazy).map((lazy) => lazy.load()));
  }
  return new Map(Object.entries(def.procedures));
}

/** The field names of an object input parser (zod 4/3), or `null` when they cannot be read. */
function inputFields(procedure: AnyTRPCProcedure): Set<string> | null {
  const fields = new Set<string>();
  for (const parser of procedure._def.inputs as unknown[]) {
    let schema = parser as Record<string, any> | undefined;
    // Unwrap optional/nullable/default wrappers (zod 4 keeps the inner type in `_zod.def.innerType`).
    for (let depth = 0; depth < 5 && schema && !schema.shape; depth++) {
      schema = schema._zod?.def?.innerType ?? schema._def?.innerType;
    }
    const shape = schema?.shape;
    if (!shape || typeof shape !== 'object') return null;
    for (const key of Object.keys(shape)) fields.add(key);
  }
  return fields.size ? fields : null;
}

const takesWatchInput = (procedure: AnyTRPCProcedure | undefined): boolean =>
  ((procedure?._def as { inputs?: unknown[] } | undefined)?.inputs ?? []).some(
    (input) => typeof input === 'object' && input !== null && (input as Record<symbol, unknown>)[WATCH_INPUT_MARK] === true,
  );

const formOf = (declaration: InvalidatesDeclaration | undefined): MutationCoverage['form'] => {
  if (!declaration) return 'none';
  if (Array.isArray(declaration)) return declaration.length ? 'static' : 'none';
  return isDeclaredInvalidates(declaration) ? 'declared' : 'function';
};

/**
 * Checks a router's invalidation declarations against the registry and
 * reports coverage. Static keys are read directly; the function form is only
 * verifiable with its declared resources (`{ resources, keys }`): running a
 * bare function needs a real call's input and output, so a bare function is
 * an error here rather than a guess. A mutation that declares `invalidates`
 * but lacks `live.invalidationMiddleware` in its chain (passed to `.use()`
 * directly or through `t.middleware()`; a wrapper function around it is not
 * recognised) publishes nothing, and is an error too. Publishers outside
 * procedures (`live.publisher`) count beside the mutations.
 */
export async function analyzeCoverage(
  router: AnyTRPCRouter,
  registry: ResourceRegistry,
  options: AnalyzeCoverageOptions = {},
): Promise<CoverageReport> {
  const procedures = await proceduresOf(router);
  const errors: string[] = [];
  const typeOf = (path: string) => procedures.get(path)?._def.type;
  const queries = [...procedures.keys()].filter((path) => typeOf(path) === 'query').sort();

  const checkQueryPath = (where: string, path: string) => {
    const type = typeOf(path);
    if (!type) errors.push(`${where}: "${path}" names no procedure of the router`);
    else if (type !== 'query') errors.push(`${where}: "${path}" is a ${type}, not a query`);
    return type === 'query';
  };

  // Which queries each resource refreshes.
  const readers = new Map<string, Set<string>>();
  for (const [name, definition] of Object.entries(registry)) {
    const paths = new Set<string>();
    for (const binding of definition.queries) {
      if (!checkQueryPath(`resource "${name}"`, binding.path)) continue;
      paths.add(binding.path);
      if (binding.by !== undefined) {
        const fields = inputFields(procedures.get(binding.path)!);
        if (fields && !fields.has(binding.by)) {
          errors.push(`resource "${name}": "${binding.by}" is not an input field of ${binding.path} (fields: ${[...fields].join(', ')})`);
        }
      }
    }
    for (const path of definition.dependents ?? []) {
      if (checkQueryPath(`resource "${name}" dependents`, path)) paths.add(path);
    }
    if (!definition.queries.length && !definition.dependents?.length) errors.push(`resource "${name}" names no query`);
    readers.set(name, paths);
  }

  const mutations: MutationCoverage[] = [];
  for (const [path, procedure] of [...procedures].sort(([a], [b]) => a.localeCompare(b))) {
    const declaration = (procedure._def.meta as LiveMeta | undefined)?.invalidates;
    if (procedure._def.type !== 'mutation') {
      if (declaration) errors.push(`${path}: a ${procedure._def.type} declares invalidates, but only mutations publish`);
      continue;
    }
    const form = formOf(declaration);
    if (lacksInvalidationMiddleware(procedure)) errors.push(missingMiddlewareProblem(path));
    let resources: readonly string[] = [];
    if (form === 'function') {
      errors.push(`${path}: invalidates is a bare function, which live:check cannot verify; write { resources: [...], keys: fn }`);
    } else if (declaration && form !== 'none') {
      resources = declaredResources(declaration) ?? [];
      if (form === 'static') {
        for (const key of declaration as readonly InvalidationKey[]) {
          if (typeof key?.resource !== 'string') errors.push(`${path}: a static key has no resource name`);
        }
      }
      for (const resource of resources) {
        if (!Object.hasOwn(registry, resource)) errors.push(`${path}: invalidates unknown resource "${resource}" (not in the registry)`);
        else if (!readers.get(resource)?.size) errors.push(`${path}: invalidates "${resource}", which names no query`);
      }
    }
    mutations.push({ path, form, resources });
  }

  const publishers = options.publishers ?? publishersOf(registry);
  for (const publisher of publishers) {
    for (const resource of publisher.invalidates) {
      const where = `publisher "${publisher.name}"`;
      if (!Object.hasOwn(registry, resource)) errors.push(`${where}: invalidates unknown resource "${resource}" (not in the registry)`);
      else if (!readers.get(resource)?.size) errors.push(`${where}: invalidates "${resource}", which names no query`);
    }
  }

  let pushed: CoverageReport['pushed'] = [];
  try {
    pushed = [...pushedQueries(registry)].map(([path, mode]) => ({ path, mode })).sort((a, b) => a.path.localeCompare(b.path));
  } catch (error) {
    // Two bindings of one path pushed two ways, or an unknown mode.
    errors.push(isLiveError(error) ? error.message : String(error));
  }

  const covered = new Set<string>();
  const bound = new Set<string>();
  for (const paths of readers.values()) for (const path of paths) bound.add(path);
  for (const { resources } of [...mutations, ...publishers.map((p) => ({ resources: p.invalidates }))]) {
    for (const resource of resources) for (const path of readers.get(resource) ?? []) covered.add(path);
  }

  return {
    resources: Object.entries(registry).map(([name, definition]) => ({
      name,
      queries: definition.queries.map((q) => (q.by ? `${q.path}(${q.by})` : q.path)),
      dependents: definition.dependents ?? [],
      invalidatedBy: mutations.filter((m) => m.resources.includes(name)).map((m) => m.path),
      publishedBy: publishers.filter((p) => p.invalidates.includes(name)).map((p) => p.name),
    })),
    mutations,
    publishers,
    uncoveredQueries: queries.filter((path) => !covered.has(path)),
    unboundQueries: queries.filter((path) => !bound.has(path)),
    // The watch procedure (its input is `liveWatchInput`) changes what a stream watches, not data: not "silent".
    silentMutations: mutations.filter((m) => m.form === 'none' && !takesWatchInput(procedures.get(m.path))).map((m) => m.path),
    pushed,
    errors,
  };
}

/** The report as text for a terminal. */
export function formatCoverage(report: CoverageReport): string {
  const lines: string[] = ['Live invalidation coverage', ''];
  for (const resource of report.resources) {
    lines.push(`  ${resource.name}`);
    lines.push(`    read by      ${[...resource.queries, ...resource.dependents.map((d) => `${d} (dependent)`)].join(', ') || '-'}`);
    lines.push(`    invalidated  ${resource.invalidatedBy.join(', ') || '- (no mutation)'}`);
    if (resource.publishedBy.length) lines.push(`    published by ${resource.publishedBy.join(', ')}`);
  }
  const list = (title: string, items: readonly string[]) => {
    lines.push('', `${title} (${items.length})${items.length ? ':' : ''}`);
    for (const item of items) lines.push(`  ${item}`);
  };
  const unbound = new Set(report.unboundQueries);
  list(
    'Publishers outside procedures',
    report.publishers.map((p) => {
      const topics = p.publishes.map((t) => `${t.name} (${t.kind})`);
      return `${p.name}: invalidates ${p.invalidates.join(', ') || '-'}; publishes ${topics.join(', ') || '-'}`;
    }),
  );
  list(
    'Queries no mutation or publisher invalidates',
    report.uncoveredQueries.map((path) => (unbound.has(path) ? `${path}  (no resource binds it)` : path)),
  );
  list('Mutations that invalidate nothing', report.silentMutations);
  const modes = { scope: 'per scope (once per tenant)', connection: 'per connection' } as const;
  const width = Math.max(0, ...report.pushed.map((p) => p.path.length));
  list(
    'Queries whose results are pushed',
    report.pushed.map((p) => `${p.path.padEnd(width)}  ${modes[p.mode]}`),
  );
  list('Errors', report.errors);
  lines.push('', report.errors.length ? `FAILED: ${report.errors.length} error(s)` : 'OK');
  return lines.join('\n');
}
