// Builds the package: ESM JavaScript, .d.ts and source maps from src/ into dist/ with tsc
// (the one build script; `npm pack` runs it through `prepack`). dist/ is emptied first so a
// file deleted from src/ cannot linger in the tarball.
//
// The sources import each other with `.ts` extensions, which every tool the demo runs them with
// understands (Next's Turbopack resolves neither extensionless nor `.js`-for-`.ts` specifiers in
// ESM). tsc rewrites them to `.js` in the JavaScript (`rewriteRelativeImportExtensions`) but not in
// declarations, so this script does that for the .d.ts files: left as `.ts`, a consumer's compiler
// would not find them and, under `skipLibCheck`, would silently type the imports as `any`.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
rmSync(path.join(pkg, 'dist'), { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const result = spawnSync(process.execPath, [tsc, '-p', path.join(pkg, 'tsconfig.json')], { stdio: 'inherit' });
if (result.status !== 0) process.exit(result.status ?? 1);

const walk = (dir) =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(path.join(dir, e.name)) : [path.join(dir, e.name)]));
for (const file of walk(path.join(pkg, 'dist')).filter((f) => f.endsWith('.d.ts'))) {
  const text = readFileSync(file, 'utf8');
  const rewritten = text.replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]+)\.tsx?\2/g, '$1$2$3.js$2');
  if (rewritten !== text) writeFileSync(file, rewritten);
}
const bin = path.join(pkg, 'dist/cli/index.js');
if (existsSync(bin)) chmodSync(bin, 0o755);
