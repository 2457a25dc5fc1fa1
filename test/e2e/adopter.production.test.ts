// Issue 16, item 6: a second app adopts the packed package. test/fixtures/adopter (Next.js 16 +
// tRPC 11.22.1 set up as tRPC's docs do, plus the README's wiring) is copied to a temp dir with the
// packed trpc-live tarball, installed from npm, built once with `next build`, then served twice from
// that build: by plain `next start` (the live stream on the stock route) and by the fixture's own
// custom server with the fast transport (server.ts, run with tsx). Against each, two clients of the
// app (e2e/twoClients.ts) hold real TanStack queries; one renames a post and the other's queries
// refetch through httpSubscriptionLink. The oracle is the count of query requests each client's
// server answered (counted at fetch), not trpc-live's matcher. The fixture's own createCaller test
// (node:test) uses captureInvalidations.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { adopterWiring, countLines } from '../fixtures/adopterWiring';
import { childEnv, describeWithRegistry, INSTALL_FLAGS, installFixture, registryReachable, type InstalledFixture } from '../helpers/npmFixture';
import { freePort } from '../helpers/prodServer';
import { describeWithService } from '../helpers/services';
import { chromiumPath, launchChromium } from '../browser/fixture';

const run = promisify(execFile);

/** `next build` of the fixture, type check included (measured 26-37 s alone on the 2-core machine, 53 s shared). */
const BUILD_TIMEOUT_MS = 200_000;
/**
 * Pack + fixture install + tarball into an empty app + build: measured 100 s alone, 190 s with other work on the
 * same 2 cores; `npm test` runs other files beside it.
 */
const SETUP_TIMEOUT_MS = 420_000;
/** A server of the fixture answering its first request (next start: 1 s; tsx + Next: 7 s). */
const READY_TIMEOUT_MS = 45_000;
/** One run of the two clients (measured 2-3 s). */
const CLIENTS_TIMEOUT_MS = 40_000;

const tsx = 'node_modules/tsx/dist/cli.mjs';
const nextBin = 'node_modules/next/dist/bin/next';

interface ClientsReport {
  /** Answered query requests per "<client> <path> <input>" once loaded, then after the rename. */
  loaded: Record<string, number>;
  afterRename: Record<string, number>;
  titles: { a: string; b: string };
  expected: string;
  streamError: string | null;
}

const LIST = 'post.list';
const POST_1 = 'post.byId {"id":"1"}';
const POST_2 = 'post.byId {"id":"2"}';

/** Query requests answered between two snapshots, with how many times. */
const refetched = (before: Record<string, number>, after: Record<string, number>) =>
  Object.fromEntries(
    Object.entries(after)
      .map(([key, count]) => [key, count - (before[key] ?? 0)] as const)
      .filter(([, more]) => more !== 0),
  );

/** The environment of a fixture process: production, no telemetry, no npm or vitest leftovers. */
const appEnv = (extra: Record<string, string> = {}): NodeJS.ProcessEnv => ({
  ...childEnv(),
  NODE_ENV: 'production',
  NEXT_TELEMETRY_DISABLED: '1',
  ...extra,
});

interface Served {
  readonly url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `args` (run by node) in the fixture, its own process group; resolves once it answers a tRPC query. */
async function serve(dir: string, args: string[], port: number): Promise<Served> {
  const child: ChildProcess = spawn(process.execPath, args, {
    cwd: dir,
    env: appEnv({ PORT: String(port), HOST: '127.0.0.1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
    // tsx runs the server in a child process: the group is stopped as one.
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) process.kill(-child.pid!, 'SIGKILL');
    await exited;
  };
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited early:\n${output}`);
    try {
      if ((await fetch(`${url}/api/trpc/post.list`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`${args.join(' ')} did not answer within ${READY_TIMEOUT_MS} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { url, output: () => output, stop };
}

/** The `Vary` header of a live stream response (the stream is closed at once). */
async function streamVary(url: string): Promise<string> {
  const abort = new AbortController();
  const response = await fetch(`${url}/api/trpc/live.stream?input=${encodeURIComponent('{}')}`, { signal: abort.signal });
  abort.abort();
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return response.headers.get('vary') ?? '';
}

async function twoClients(dir: string, url: string): Promise<ClientsReport> {
  const { stdout } = await run(process.execPath, [tsx, 'e2e/twoClients.ts', url], { cwd: dir, env: appEnv(), timeout: CLIENTS_TIMEOUT_MS });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as ClientsReport;
}

/** What both transports must show: B (stream) and A (mutation's fence) refetch post 1 and the list once, post 2 never. */
function expectExactRefetches(report: ClientsReport): void {
  expect(report.streamError).toBeNull();
  const one = { [LIST]: 1, [POST_1]: 1, [POST_2]: 1 };
  const each = (client: string, counts: Record<string, number>) =>
    Object.fromEntries(Object.entries(counts).map(([key, count]) => [`${client} ${key}`, count]));
  expect(report.loaded).toEqual({ ...each('a', one), ...each('b', one) });
  expect(refetched(report.loaded, report.afterRename)).toEqual({ ...each('a', { [LIST]: 1, [POST_1]: 1 }), ...each('b', { [LIST]: 1, [POST_1]: 1 }) });
  expect(report.titles).toEqual({ a: report.expected, b: report.expected });
}

const reachable = await registryReachable();

describeWithRegistry(reachable, 'a Next.js + tRPC app adopting the packed trpc-live (test/fixtures/adopter)', () => {
  let fixture: InstalledFixture | undefined;

  beforeAll(async () => {
    fixture = await installFixture('adopter');
    const tarball = path.join(fixture.dir, 'trpc-live.tgz');
    const { stdout: listing } = await run('tar', ['-tzf', tarball]);
    const files = listing.split('\n').filter((line) => line && !line.endsWith('/')).length;
    // The tarball alone into an empty app (npm adds its required peers), as the issue's figure asks.
    const empty = mkdtempSync(path.join(tmpdir(), 'trpc-live-empty-app-'));
    let emptyMs: number;
    try {
      writeFileSync(path.join(empty, 'package.json'), JSON.stringify({ name: 'empty-app', private: true }));
      const started = performance.now();
      await run('npm', [...INSTALL_FLAGS, tarball], { cwd: empty, env: childEnv(), timeout: BUILD_TIMEOUT_MS });
      emptyMs = Math.round(performance.now() - started);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
    const started = performance.now();
    await run(process.execPath, [nextBin, 'build'], { cwd: fixture.dir, env: appEnv(), timeout: BUILD_TIMEOUT_MS });
    const buildMs = Math.round(performance.now() - started);
    const wiring = adopterWiring();
    console.info(
      [
        `adopter fixture: trpc-live tarball ${(statSync(tarball).size / 1024).toFixed(1)} KiB, ${files} files`,
        `  npm install of the tarball into an empty app: ${emptyMs} ms; of the whole fixture (Next, React, tRPC, tarball): ${fixture.installMs} ms`,
        `  next build: ${buildMs} ms`,
        `  wiring: ${countLines(wiring)} added lines in ${Object.keys(wiring).length} files (${Object.entries(wiring)
          .map(([file, lines]) => `${file} ${lines.length}`)
          .join(', ')})`,
      ].join('\n'),
    );
  }, SETUP_TIMEOUT_MS);
  afterAll(() => fixture?.remove());

  it("refetches the other client's queries of the renamed post and the list, and nothing else, under plain next start", async () => {
    const server = await serve(fixture!.dir, [nextBin, 'start', '-H', '127.0.0.1'], await freePort());
    try {
      // Next's own responses vary on its router headers: the stream came through the stock route.
      expect(await streamVary(server.url)).toMatch(/\brsc\b/);
      expectExactRefetches(await twoClients(fixture!.dir, server.url));
    } finally {
      await server.stop();
    }
  }, 90_000);

  it('does the same with the stream on the fast transport of its custom server (server.ts)', async () => {
    const server = await serve(fixture!.dir, [tsx, 'server.ts'], await freePort());
    try {
      // Only tRPC's own Vary: the stream never reached Next.
      expect(await streamVary(server.url)).toBe('trpc-accept, accept');
      expectExactRefetches(await twoClients(fixture!.dir, server.url));
    } finally {
      await server.stop();
    }
  }, 90_000);

  describeWithService('chromium', chromiumPath, 'in Chromium', () => {
    it("shows a post renamed in one window in the other without a reload (the README's LiveProvider wiring)", async () => {
      const server = await serve(fixture!.dir, [nextBin, 'start', '-H', '127.0.0.1'], await freePort());
      const browser = await launchChromium();
      try {
        const [a, b] = await Promise.all([browser.newPage(), browser.newPage()]);
        const streamOpen = b.waitForResponse((response) => response.url().includes('/api/trpc/live.stream'));
        for (const page of [a, b]) await page.goto(server.url);
        await streamOpen;
        const first = (page: typeof a) => page.locator('li').first();
        await expect.poll(() => first(b).textContent()).toContain('Hello');
        await first(a).getByRole('button', { name: 'rename' }).click();
        // Each click appends "!" to the title; nothing in the page refetches by itself (no onSuccess, staleTime Infinity).
        await expect.poll(() => first(b).textContent(), { timeout: 10_000 }).toContain('Hello!');
        await expect.poll(() => first(a).textContent(), { timeout: 10_000 }).toContain('Hello!');
      } finally {
        await browser.close();
        await server.stop();
      }
    }, 90_000);
  });

  it('loads every entry of the tarball in plain Node, with import and with require, redis only with its optional ioredis', async () => {
    const manifest = JSON.parse(readFileSync(path.join(fixture!.dir, 'node_modules/trpc-live/package.json'), 'utf8')) as { exports: object };
    const entries = Object.keys(manifest.exports).filter((subpath) => subpath !== './package.json').map((subpath) => `trpc-live/${subpath.slice(2)}`);
    expect(entries).toHaveLength(9);
    // Prints one line per entry: its name and how many exports it has, or the error code and message.
    const probe = (load: string) =>
      `for (const name of ${JSON.stringify(entries)}) { try { const m = await ${load}; console.log(name, Object.keys(m).length); } catch (e) { console.log(name, e.code, e.message.split('\\n')[0]); } }`;
    const loaded = async (load: string) => {
      const { stdout } = await run(process.execPath, ['--input-type=module', '-e', probe(load)], { cwd: fixture!.dir, timeout: CLIENTS_TIMEOUT_MS });
      return stdout.trim().split('\n');
    };
    for (const lines of [await loaded('import(name)'), await loaded("(await import('node:module')).createRequire(process.cwd() + '/')(name)")]) {
      expect(lines).toHaveLength(9);
      for (const line of lines) {
        if (line.startsWith('trpc-live/redis ')) expect(line).toMatch(/ERR_MODULE_NOT_FOUND .*'ioredis'/);
        else expect(line).toMatch(/^trpc-live\/[a-z]+ [1-9]\d*$/);
      }
    }
  });

  it('passes `trpc-live check` (the bin of the installed tarball) on the router wired as the README shows', async () => {
    const { stdout } = await run(process.execPath, ['node_modules/trpc-live/dist/cli/index.js', 'check', 'src/trpc/routers/_app.ts'], {
      cwd: fixture!.dir,
      env: appEnv(),
      timeout: CLIENTS_TIMEOUT_MS,
    });
    // The coverage report names the mutation under its resource, and no error.
    expect(stdout).toContain('post.rename');
    expect(stdout).toMatch(/Errors \(0\)/);
  }, 60_000);

  it("passes the app's own createCaller test, which uses captureInvalidations", async () => {
    const { stdout } = await run(process.execPath, [tsx, '--test', 'src/trpc/routers/_app.spec.ts'], {
      cwd: fixture!.dir,
      env: appEnv({ NODE_ENV: 'test' }),
      timeout: CLIENTS_TIMEOUT_MS,
    });
    expect(stdout).toMatch(/^# pass 2$/m);
    expect(stdout).toMatch(/^# fail 0$/m);
  }, 60_000);
});
