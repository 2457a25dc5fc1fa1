import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../../packages/trpc-live/src/cli/check';

// The package's bin, run as a process the way `npm run live:check` runs it: its source under tsx
// (the built bin is the same module compiled; npm links it only once dist/ exists). Each process
// costs about a second of CPU, so only the exit statuses are proven with processes; the argument
// handling runs in-process through runCli.

const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixtures = 'test/live/trpc/fixtures';

/** Runs `trpc-live <args>` from the repository root. */
function trpcLive(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'packages/trpc-live/src/cli/index.ts', ...args],
      { cwd: root, timeout: 20_000 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

describe.concurrent('trpc-live check as a process', () => {
  it('exits 1 naming the procedure and the middleware when a mutation with invalidates lacks it', async () => {
    const result = await trpcLive('check', `${fixtures}/cliMissingMiddlewareRouter.ts`);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^ {2}orders\.archive: .*live\.invalidationMiddleware/m);
    expect(result.stdout).not.toMatch(/^ {2}orders\.create: /m);
    expect(result.stdout.trimEnd().endsWith('FAILED: 1 error(s)')).toBe(true);
  });

  it('exits 0 and prints the coverage for a sound router, with the registry found through createLive', async () => {
    const result = await trpcLive('check', `${fixtures}/cliGoodRouter.ts`);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('  orders\n    read by      orders.list, orders.byId(id)\n    invalidated  orders.create');
    expect(result.stdout.trimEnd().endsWith('OK')).toBe(true);
  });

  it('exits 1 when queries are pushed but no router is bound (every watch would be refused), and does not call the watch procedure silent', async () => {
    const unbound = await runCli(['check', `${fixtures}/cliPushedRouters.ts`, '--router', 'unboundRouter'], root);
    expect(unbound.code).toBe(1);
    expect(unbound.stdout).toMatch(/no router is bound to createLive.*live\.bindRouter\(appRouter\)/);
    const bound = await runCli(['check', `${fixtures}/cliPushedRouters.ts`, '--router', 'boundRouter'], root);
    expect(bound.stdout).not.toMatch(/no router is bound/);
    expect(bound.code).toBe(0);
    // The watch procedure changes watches, not data: not listed beside a mutation that invalidates nothing.
    const silent = bound.stdout.split('Mutations that invalidate nothing')[1]?.split('\n\n')[0] ?? '';
    expect(silent).toContain('orders.signIn');
    expect(silent).not.toContain('live.watch');
  });

  it('prints usage and exits 2 on bad arguments', async () => {
    const result = await trpcLive('check');
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('Usage: trpc-live check <router module>');
  });
});

describe('trpc-live check arguments', () => {
  it('reads the registry from --registry and the router from --router when named', async () => {
    const result = await runCli(['check', `${fixtures}/cliGoodRouter.ts`, '--router', 'appRouter', '--registry', `${fixtures}/cliApp.ts#resources`], root);
    expect(result.code).toBe(0);
    const wrong = await runCli(['check', `${fixtures}/cliGoodRouter.ts`, '--router', 'nope'], root);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('export "nope" is not a tRPC router');
  });

  it('lists a publisher outside procedures once --import loaded the module declaring it', async () => {
    const before = await runCli(['check', `${fixtures}/cliGoodRouter.ts`], root);
    expect(before.stdout).toContain('Publishers outside procedures (0)\n');
    const result = await runCli(['check', `${fixtures}/cliGoodRouter.ts`, '--import', `${fixtures}/cliPublisher.ts`], root);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('    invalidated  orders.create\n    published by nightly\n');
    expect(result.stdout).toContain('Publishers outside procedures (1):\n  nightly: invalidates orders; publishes -\n');
    const missing = await runCli(['check', `${fixtures}/cliGoodRouter.ts`, '--import', `${fixtures}/nope.ts`], root);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('nope.ts: no such file');
  });

  it('prints usage and exits 2 without a command, with an unknown command or option, or a missing module', async () => {
    const runs = await Promise.all([
      runCli([], root),
      runCli(['verify', `${fixtures}/cliGoodRouter.ts`], root),
      runCli(['check', `${fixtures}/cliGoodRouter.ts`, '--bogus'], root),
      runCli(['check', `${fixtures}/cliGoodRouter.ts`, 'extra'], root),
      runCli(['check', `${fixtures}/missing.ts`], root),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('Usage: trpc-live check <router module>');
    }
    expect(runs[4]!.stderr).toContain('missing.ts: no such file');
  });

  it('is the package bin and no import subpath', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../../packages/trpc-live/package.json', import.meta.url), 'utf8'));
    expect(pkg.bin).toEqual({ 'trpc-live': './dist/cli/index.js' });
    expect(Object.keys(pkg.exports)).not.toContain('./cli');
    expect(JSON.stringify(pkg.exports)).not.toContain('dist/cli/');
    expect(readFileSync(new URL('../../../packages/trpc-live/src/cli/index.ts', import.meta.url), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });
});
