// `npm run test:trpc-newest`: runs the package's own tests (test/live) against the newest
// @trpc/server + @trpc/client 11.x release, resolved now (not written down anywhere), installed
// into a cache outside node_modules and swapped in by vitest.trpc-newest.config.ts's aliases.
// The app itself stays on the exact version it pins. Issue 16: "CI runs the layer's tests against
// 11.22.1 and against the newest 11.x release"; the first is `npm test`, this is the second.
//
// Offline it skips loudly; under CI=true it fails instead (the same rule as test/helpers/services.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const NEWEST_DIR = join(root, '.cache', 'trpc-newest');
const REPORT = 'test-results/vitest-trpc-newest.json';
const LABEL = 'tRPC newest';
const inCI = process.env.CI === 'true' || process.env.CI === '1';
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

/** Versions of a package that a range admits, as npm itself reads the range (its own semver). */
function versionsIn(name, range) {
  const out = execFileSync(npm, ['view', `${name}@${range}`, 'version', '--json'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 60_000,
  }).trim();
  if (!out) return [];
  const parsed = JSON.parse(out);
  return Array.isArray(parsed) ? parsed : [parsed];
}

/** Numeric x.y.z order (npm leaves prereleases out of these ranges). */
function newest(versions) {
  const key = (v) => v.split(/[.-]/).slice(0, 3).map(Number);
  return [...versions].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  }).at(-1);
}

function skipOrFail(reason) {
  const line = `\n*** ${inCI ? 'FAIL' : 'SKIP'}: ${LABEL}: ${reason} ***\n`;
  if (inCI) {
    console.error(`${line}Under CI=true a run that cannot happen is a failure.`);
    console.log(`${LABEL}: 0 passed, 1 failed`);
    process.exit(1);
  }
  console.warn(line);
  process.exit(0);
}

const pkg = JSON.parse(readFileSync(join(root, 'packages/trpc-live/package.json'), 'utf8'));
const peerRange = pkg.peerDependencies['@trpc/server'];
const pinned = pkg.devDependencies['@trpc/server'];

let version;
try {
  version = newest(versionsIn('@trpc/server', '^11'));
  const inPeerRange = versionsIn('@trpc/server', peerRange);
  // The peer range must admit both the version the app pins and the newest 11.x we test here.
  for (const v of [pinned, version]) {
    if (!inPeerRange.includes(v)) {
      console.error(`trpc-live's peer range "${peerRange}" does not admit @trpc/server ${v}.`);
      console.log(`${LABEL}: 0 passed, 1 failed`);
      process.exit(1);
    }
  }
  if (!versionsIn('@trpc/client', version).includes(version)) {
    throw new Error(`@trpc/client has no release ${version}`);
  }
} catch (error) {
  skipOrFail(`could not ask the npm registry for the newest @trpc/server 11.x (${String(error.message ?? error).split('\n')[0]})`);
}
if (!version) skipOrFail('the npm registry lists no @trpc/server 11.x');
console.log(`${LABEL}: @trpc/server and @trpc/client ${version} (the app pins ${pinned}; peer range "${peerRange}" admits both)`);

/** Installed version in the cache, or null. */
function cached(name) {
  const file = join(NEWEST_DIR, 'node_modules', name, 'package.json');
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).version : null;
}

if (cached('@trpc/server') !== version || cached('@trpc/client') !== version) {
  rmSync(NEWEST_DIR, { recursive: true, force: true });
  mkdirSync(NEWEST_DIR, { recursive: true });
  // A package of its own, so npm does not treat the cache as part of the repo's workspaces, and
  // @trpc/client finds @trpc/server as its sibling (the copy the aliases point at), not the app's.
  writeFileSync(
    join(NEWEST_DIR, 'package.json'),
    `${JSON.stringify({ private: true, dependencies: { '@trpc/server': version, '@trpc/client': version } }, null, 2)}\n`,
  );
  const install = spawnSync(npm, ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', '--legacy-peer-deps'], {
    cwd: NEWEST_DIR,
    stdio: 'inherit',
  });
  if (install.status !== 0) skipOrFail(`npm install of @trpc/server@${version} @trpc/client@${version} failed`);
}

rmSync(join(root, REPORT), { force: true });
const run = spawnSync(process.execPath, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--config', 'vitest.trpc-newest.config.ts'], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, TRPC_NEWEST_DIR: NEWEST_DIR, TRPC_NEWEST_VERSION: version, TRPC_NEWEST_REPORT: REPORT },
});
const summary = spawnSync(process.execPath, [join(root, 'scripts/test-summary.mjs'), REPORT, LABEL], { cwd: root, stdio: 'inherit' });
process.exit(run.status === 0 && summary.status === 0 ? 0 : 1);
