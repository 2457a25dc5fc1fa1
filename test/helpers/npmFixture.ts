import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe } from 'vitest';
import { inCI } from './services';

const run = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');

/** How long the registry may take to answer a ping before it counts as unreachable. */
const PING_TIMEOUT_MS = 5_000;
/** Bound of one `npm pack` or `npm install` (measured 9 s and 12 s on the loaded 2-core machine). */
const NPM_TIMEOUT_MS = 90_000;
/** npm install flags: no audit or funding requests, the local cache first, no install scripts. */
export const INSTALL_FLAGS = ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts'];

/**
 * The environment of a child npm: an `npm test` run passes its own `npm_*` variables (project
 * prefix, package, lifecycle) to its children, which would point the child at the repository.
 * Kept: where to fetch from and the cache.
 */
export const childEnv = (): NodeJS.ProcessEnv =>
  Object.fromEntries(
    Object.entries(process.env).filter(
      ([key]) => !key.startsWith('npm_') || ['npm_config_registry', 'npm_config_cache', 'npm_config_userconfig'].includes(key),
    ),
  ) as NodeJS.ProcessEnv;

/** The registry npm uses here (npm sets `npm_config_registry` for scripts). */
export const npmRegistry = process.env.npm_config_registry || 'https://registry.npmjs.org/';

/** True when the npm registry answers its ping endpoint within 5 s. */
export async function registryReachable(): Promise<boolean> {
  try {
    const response = await fetch(new URL('-/ping', npmRegistry), { signal: AbortSignal.timeout(PING_TIMEOUT_MS) });
    return response.ok;
  } catch {
    return false;
  }
}

/**
 * `describe` that installs packages from the npm registry. Unreachable: a
 * loud SKIP line and a skip locally; under CI=true the suite fails instead.
 */
export function describeWithRegistry(reachable: boolean, name: string, fn: () => void): void {
  if (reachable) {
    describe(name, fn);
    return;
  }
  const line = `\n*** SKIP: "${name}" installs from ${npmRegistry}, which is not reachable from this machine. ***\n`;
  if (inCI) {
    describe(name, () => {
      throw new Error(`The npm registry is required in CI but is not reachable. ${line}`);
    });
    return;
  }
  console.warn(line);
  describe.skip(name, fn);
}

/**
 * Packs the trpc-live package into `dest` as npm would publish it (its `prepack` builds dist/) and
 * returns the tarball's path. The build runs in a temporary copy of the package (with the repo's
 * node_modules linked for tsc), so it never rewrites the working tree's dist/ under a concurrent
 * build. `TRPC_LIVE_TARBALL` names a tarball to use instead (a release candidate, or a deliberately
 * broken build to see a test fail).
 */
export async function packTrpcLive(dest: string): Promise<string> {
  if (process.env.TRPC_LIVE_TARBALL) return path.resolve(process.env.TRPC_LIVE_TARBALL);
  const copy = mkdtempSync(path.join(tmpdir(), 'trpc-live-pack-'));
  try {
    const source = path.join(root, 'packages/trpc-live');
    cpSync(source, copy, {
      recursive: true,
      filter: (file) => !['dist', 'node_modules'].includes(path.relative(source, file).split(path.sep)[0] ?? ''),
    });
    symlinkSync(path.join(root, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
    const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dest], { cwd: copy, env: childEnv(), timeout: NPM_TIMEOUT_MS });
    const [packed] = JSON.parse(stdout.slice(stdout.search(/^\[/m))) as { filename: string }[];
    if (!packed) throw new Error(`npm pack printed no tarball: ${stdout}`);
    return path.join(dest, packed.filename);
  } finally {
    rmSync(copy, { recursive: true, force: true });
  }
}

/** A fixture app installed in a temporary folder. */
export interface InstalledFixture {
  readonly dir: string;
  /** Milliseconds `npm install` took. */
  readonly installMs: number;
  /** Runs `node <script>` in the fixture (its own node_modules) and resolves to its stdout. */
  node(script: string, timeoutMs: number): Promise<string>;
  /** Deletes the folder. */
  remove(): void;
}

/**
 * Copies `test/fixtures/<name>` to a temporary folder, puts the packed trpc-live tarball there as
 * `trpc-live.tgz` (the fixture depends on `file:trpc-live.tgz`) and runs `npm install`. Nothing is
 * cached in the repository.
 */
export async function installFixture(name: string): Promise<InstalledFixture> {
  const dir = mkdtempSync(path.join(tmpdir(), `trpc-live-${name}-`));
  try {
    cpSync(path.join(root, 'test/fixtures', name), dir, {
      recursive: true,
      filter: (file) => !file.includes(`${path.sep}node_modules`),
    });
    const tarball = await packTrpcLive(dir);
    cpSync(tarball, path.join(dir, 'trpc-live.tgz'));
    const started = performance.now();
    await run('npm', INSTALL_FLAGS, { cwd: dir, env: childEnv(), timeout: NPM_TIMEOUT_MS });
    const installMs = Math.round(performance.now() - started);
    return {
      dir,
      installMs,
      async node(script, timeoutMs) {
        const { stdout } = await run(process.execPath, [script], { cwd: dir, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 });
        return stdout;
      },
      remove: () => rmSync(dir, { recursive: true, force: true }),
    };
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
