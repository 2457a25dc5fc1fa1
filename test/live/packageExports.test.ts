// Every entry of the package is reachable from CommonJS as from ESM. An app without
// `"type": "module"` (create-next-app's default) that runs a TypeScript file with tsx (a custom
// server, a script, a node:test file) compiles it to CommonJS, whose require() matches the
// conditions `require`, `node` and `default` only: with `import` alone every entry failed with
// ERR_PACKAGE_PATH_NOT_EXPORTED (found by the adopter fixture's custom server). Node >= 20.19
// (the package's engines) loads the ESM build through require(). The adopter e2e test does it
// with the packed tarball; this is the cheap check of the manifest.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const manifest = JSON.parse(readFileSync(path.resolve(import.meta.dirname, '../../packages/trpc-live/package.json'), 'utf8')) as {
  exports: Record<string, string | Record<string, string>>;
};

/** The target Node picks for `conditions`: the first key (in order) that is one of them or `default`. */
function target(entry: string | Record<string, string>, conditions: readonly string[]): string | null {
  if (typeof entry === 'string') return entry;
  const key = Object.keys(entry).find((k) => k === 'default' || conditions.includes(k));
  return key ? entry[key]! : null;
}

const entries = Object.entries(manifest.exports).filter(([subpath]) => subpath !== './package.json');

describe('package exports', () => {
  it('has one entry per layer', () => {
    expect(entries.length).toBeGreaterThanOrEqual(9);
  });

  it.each(entries)('resolves %s for require() to the same file as for import', (_subpath, entry) => {
    const esm = target(entry, ['import', 'node']);
    expect(esm).toMatch(/^\.\/dist\/[a-z]+\/index\.js$/);
    expect(target(entry, ['require', 'node'])).toBe(esm);
  });
});
