// Builds the production app (next build + Node entry) when the build is
// missing or older than the sources. Safe to call from several processes at
// once: a lock folder serializes builds. Usable as a module or a command.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const LOCK = path.join(root, '.next-build.lock');

function newest(target) {
  if (!existsSync(target)) return 0;
  const stat = statSync(target);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let max = stat.mtimeMs;
  for (const entry of readdirSync(target)) max = Math.max(max, newest(path.join(target, entry)));
  return max;
}

/** True when `.next` and `dist/main.js` are at least as new as every source. */
export function buildIsFresh() {
  const at = (p) => newest(path.join(root, p));
  const builtAt = Math.min(at('.next/BUILD_ID'), at('dist/main.js'));
  const sourcesAt = Math.max(at('src'), at('packages/trpc-live/src'), at('package-lock.json'), at('next.config.mjs'), at('scripts/build-server.mjs'));
  return builtAt > 0 && builtAt >= sourcesAt;
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/** Builds if needed; returns true when a build ran. Throws when the build fails. */
export function ensureBuild({ quiet = false } = {}) {
  if (buildIsFresh()) return false;
  const deadline = Date.now() + 10 * 60_000;
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      // Another process is building; a lock older than 10 minutes is stale.
      if (existsSync(LOCK) && Date.now() - statSync(LOCK).mtimeMs > 10 * 60_000) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error('Timed out waiting for another build to finish');
      sleep(500);
    }
  }
  try {
    if (buildIsFresh()) return false;
    if (!quiet) console.log('[build] building the production app (sources changed or no build yet)…');
    const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: quiet ? 'pipe' : 'inherit', encoding: 'utf8' });
    if (result.status !== 0) {
      throw new Error(`npm run build failed (exit ${result.status})${quiet ? `:\n${result.stdout}\n${result.stderr}` : ''}`);
    }
    return true;
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    ensureBuild();
  } catch (error) {
    console.error(String(error instanceof Error ? error.message : error));
    process.exit(1);
  }
}
