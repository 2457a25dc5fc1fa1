import type { AnyTRPCRouter } from '@trpc/server';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { analyzeCoverage, formatCoverage, proceduresOf, type CoverageReport } from '../trpc/analyzeCoverage.ts';
import { invalidationMiddlewareOf } from '../trpc/middlewareChain.ts';
import type { ResourceRegistry } from '../shared/registry.ts';

/** Printed for `--help` and after every usage error. */
export const USAGE = `Usage: trpc-live check <router module> [--router <export>] [--registry <module>[#<export>]]
                        [--import <module>]...

Prints the live invalidation coverage of a tRPC router: per resource, the queries that read it and
the mutations and publishers outside procedures (live.publisher) that invalidate it, then the
publishers, queries nothing invalidates, mutations that invalidate nothing and the queries whose
results are pushed (per scope or per connection). Fails on a binding
or key that names no query, an unknown resource, a bare invalidates function, a procedure with
invalidates whose middleware chain lacks live.invalidationMiddleware, a publisher invalidating
a resource no query reads, a query pushed two ways, and pushed queries with no router bound
(live.bindRouter).

  <router module>         the module exporting the app router, e.g. src/server/routers/_app.ts.
                          TypeScript is loaded with tsx from your project (npm i -D tsx), which
                          honours your tsconfig's paths; a built .js module needs nothing.
  --router <export>       the export holding the router
                          (default: appRouter, else the default export, else the only router exported)
  --registry <module>     the module exporting the resource registry; #<export> picks the export
                          (default export name: resources). Default: the registry given to
                          createLive({ resources }), found through the router's middleware.
  --import <module>       a module to load before checking, for publishers the router's modules
                          do not import (a script's, a cron job's); repeatable. A publisher is
                          listed once the module creating it has been loaded.

Exit status: 0 no errors, 1 errors found, 2 bad arguments or the check could not run.`;

/** A problem with the arguments or the modules they name: exit 2, with usage. */
class UsageError extends Error {}

const TYPESCRIPT = /\.[cm]?tsx?$/;
const isRouter = (value: unknown): value is AnyTRPCRouter =>
  typeof value === 'object' && value !== null && (value as { _def?: { router?: unknown } })._def?.router === true;

/**
 * Registers tsx's loader, resolved from the checked project (tsx is its dependency, not ours):
 * the same module `node --import tsx` runs, so ESM and CommonJS projects both load.
 */
async function registerTypeScript(cwd: string): Promise<void> {
  let loader: string;
  try {
    loader = createRequire(path.join(cwd, 'package.json')).resolve('tsx');
  } catch {
    throw new UsageError('loading a TypeScript module needs tsx in your project (npm i -D tsx), or pass a built .js module');
  }
  await import(pathToFileURL(loader).href);
}

/** Imports a module by path, loading TypeScript through tsx when nothing else (e.g. `node --import tsx`) already does. */
async function importModule(specifier: string, cwd: string): Promise<Record<string, unknown>> {
  const file = path.resolve(cwd, specifier);
  if (!existsSync(file)) throw new UsageError(`${specifier}: no such file`);
  const url = pathToFileURL(file).href;
  try {
    return withCommonJsExports(await import(url));
  } catch (error) {
    if ((error as { code?: string }).code !== 'ERR_UNKNOWN_FILE_EXTENSION' || !TYPESCRIPT.test(file)) throw error;
  }
  await registerTypeScript(cwd);
  // A new URL: the loader remembers the failed attempt under the old one.
  return withCommonJsExports(await import(`${url}?trpc-live-check`));
}

/**
 * A CommonJS module (a project without "type": "module") may come back as
 * `{ default: module.exports }` when Node cannot detect its named exports:
 * its exports then count as named ones.
 */
function withCommonJsExports(namespace: Record<string, unknown>): Record<string, unknown> {
  const fallback = namespace.default;
  if (typeof fallback !== 'object' || fallback === null || isRouter(fallback)) return namespace;
  return { ...(fallback as Record<string, unknown>), ...namespace };
}

function pickRouter(exports: Record<string, unknown>, name: string | undefined, specifier: string): AnyTRPCRouter {
  if (name !== undefined) {
    if (!isRouter(exports[name])) throw new UsageError(`${specifier}: export "${name}" is not a tRPC router`);
    return exports[name];
  }
  for (const candidate of ['appRouter', 'default']) if (isRouter(exports[candidate])) return exports[candidate];
  const routers = Object.keys(exports).filter((key) => isRouter(exports[key]));
  if (routers.length === 1) return exports[routers[0]!] as AnyTRPCRouter;
  throw new UsageError(
    routers.length
      ? `${specifier} exports several routers (${routers.join(', ')}): pick one with --router`
      : `${specifier} exports no tRPC router`,
  );
}

async function findRegistry(option: string | undefined, router: AnyTRPCRouter, cwd: string): Promise<ResourceRegistry> {
  if (option !== undefined) {
    const [specifier = '', name] = option.split('#');
    const exports = await importModule(specifier, cwd);
    const registry = name !== undefined ? exports[name] : (exports.resources ?? exports.default);
    if (typeof registry !== 'object' || registry === null) {
      throw new UsageError(`${specifier}: no registry export "${name ?? 'resources'}" (pick one with --registry ${specifier}#<export>)`);
    }
    return registry as ResourceRegistry;
  }
  const found = new Set<ResourceRegistry>();
  for (const procedure of (await proceduresOf(router)).values()) {
    const resources = invalidationMiddlewareOf(procedure)?.resources;
    if (resources) found.add(resources);
  }
  if (found.size === 1) return [...found][0]!;
  throw new UsageError(
    found.size
      ? 'the router uses several createLive registries: name one with --registry'
      : 'no registry: give createLive({ resources }) or name it with --registry <module>[#<export>]',
  );
}

/**
 * Pushed queries need the router bound to the live binding (`live.bindRouter`): without it every watch is refused
 * and the browser quietly refetches instead. Known once the router module has run, as it has here.
 */
async function withUnboundRouter(report: CoverageReport, router: AnyTRPCRouter): Promise<CoverageReport> {
  if (!report.pushed.length) return report;
  const marks = [...(await proceduresOf(router)).values()].map((procedure) => invalidationMiddlewareOf(procedure)).filter((mark) => mark?.routerBound);
  if (!marks.length || marks.some((mark) => mark!.routerBound!())) return report;
  const problem =
    'queries are pushed (registry push) but no router is bound to createLive: live.watch refuses every watch and ' +
    'the browser refetches instead; call live.bindRouter(appRouter) where the router is built, or pass createLive({ router })';
  return { ...report, errors: [...report.errors, problem] };
}

/** What a run printed and its exit status. */
export interface CliResult {
  readonly code: 0 | 1 | 2;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `trpc-live <args>` in `cwd`; never throws. */
export async function runCli(args: readonly string[], cwd: string): Promise<CliResult> {
  const usage = (message: string): CliResult => ({ code: 2, stdout: '', stderr: `trpc-live: ${message}\n\n${USAGE}\n` });
  let parsed;
  try {
    parsed = parseArgs({
      args: [...args],
      allowPositionals: true,
      options: {
        router: { type: 'string' },
        registry: { type: 'string' },
        import: { type: 'string', multiple: true },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { code: 0, stdout: `${USAGE}\n`, stderr: '' };
  const [command, specifier, ...extra] = positionals;
  if (command !== 'check') return usage(command === undefined ? 'no command' : `unknown command "${command}"`);
  if (specifier === undefined) return usage('check needs the module that exports the router');
  if (extra.length) return usage(`unexpected argument "${extra[0]}"`);
  try {
    const router = pickRouter(await importModule(specifier, cwd), values.router, specifier);
    // In order, after the router: a publisher module may import the app's live binding.
    for (const module of values.import ?? []) await importModule(module, cwd);
    const registry = await findRegistry(values.registry, router, cwd);
    const report = await withUnboundRouter(await analyzeCoverage(router, registry), router);
    return { code: report.errors.length ? 1 : 0, stdout: `${formatCoverage(report)}\n`, stderr: '' };
  } catch (error) {
    if (error instanceof UsageError) return usage(error.message);
    return { code: 2, stdout: '', stderr: `trpc-live: could not check ${specifier}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n` };
  }
}
