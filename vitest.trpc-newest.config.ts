// The package's own tests (test/live) against another @trpc/server + @trpc/client release than the
// one the app pins: scripts/trpc-newest.mjs installs it into TRPC_NEWEST_DIR and sets
// TRPC_NEWEST_VERSION. Every `@trpc/server[/subpath]` and `@trpc/client[/subpath]` import, in test
// files, the package source and @trpc/tanstack-react-query, resolves to that one install;
// test/live/trpcVersion.test.ts fails unless the code that runs is that version.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';
import base from './vitest.config.ts';

const dir = process.env.TRPC_NEWEST_DIR;
const version = process.env.TRPC_NEWEST_VERSION;
const report = process.env.TRPC_NEWEST_REPORT;
if (!dir || !version || !report) {
  throw new Error('Run this config through `npm run test:trpc-newest` (it sets TRPC_NEWEST_DIR, TRPC_NEWEST_VERSION and TRPC_NEWEST_REPORT).');
}

type ExportTarget = string | { [condition: string]: ExportTarget };

/** The ESM file an `exports` entry gives under Node's `import` condition. */
function importTarget(target: ExportTarget): string | null {
  if (typeof target === 'string') return target;
  for (const condition of ['import', 'default']) {
    const next = target[condition];
    if (next !== undefined) return importTarget(next);
  }
  return null;
}

/** One exact alias per public subpath of a package in the cache, read from its own `exports` map. */
function aliasesOf(name: string): { find: RegExp; replacement: string }[] {
  const packageDir = join(dir!, 'node_modules', name);
  const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string; exports: Record<string, ExportTarget> };
  if (manifest.version !== version) throw new Error(`${name} in ${dir} is ${manifest.version}, not the requested ${version}.`);
  return Object.entries(manifest.exports).flatMap(([subpath, target]) => {
    const file = importTarget(target);
    if (!file || subpath.includes('*')) return [];
    const specifier = subpath === '.' ? name : `${name}/${subpath.slice(2)}`;
    const replacement = join(packageDir, file);
    if (!existsSync(replacement)) throw new Error(`${specifier} points at ${replacement}, which does not exist.`);
    return [{ find: new RegExp(`^${specifier.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`), replacement }];
  });
}

const baseAlias = base.resolve?.alias;
if (!Array.isArray(baseAlias)) throw new Error('vitest.config.ts is expected to list its aliases as an array.');

export default defineConfig({
  ...base,
  resolve: { ...base.resolve, alias: [...aliasesOf('@trpc/server'), ...aliasesOf('@trpc/client'), ...baseAlias] },
  test: {
    ...base.test,
    include: ['test/live/**/*.test.ts', 'test/live/**/*.test.tsx'],
    env: { ...base.test?.env, TRPC_EXPECTED_VERSION: version },
    // @trpc/tanstack-react-query (its newest release pins 11.22.1 exactly) goes through vite so its
    // own @trpc imports take the aliases too: one copy of tRPC in the process, not two.
    server: { deps: { inline: [/@trpc\/tanstack-react-query/] } },
    outputFile: { json: report },
    // Type tests run with the app's types (tsconfig paths), not the aliased release: not repeated here.
    typecheck: { enabled: false },
  },
});
