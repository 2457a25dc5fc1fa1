// Which tRPC release these tests really run. `npm test` runs test/live against the version the app
// pins; `npm run test:trpc-newest` runs it again against the newest 11.x through aliases
// (vitest.trpc-newest.config.ts). An alias that silently missed would leave the second run testing
// the pinned version twice, so this file reads the version from where the running code lives.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTRPCClient } from '@trpc/client';
import { initTRPC, TRPCError } from '@trpc/server';
import { observable } from '@trpc/server/observable';
import { describe, expect, it } from 'vitest';
import { toTRPCError } from 'trpc-live/trpc';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const expected =
  process.env.TRPC_EXPECTED_VERSION ??
  (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }).dependencies['@trpc/server'];

/** The package folder of the code that called back into this stack, read from the stack (not from any resolver). */
function packageDirOf(stack: string | undefined, name: string): string {
  const match = new RegExp(`(?:file://)?(/[^()\\s]*?/node_modules/${name.replace('/', '\\/')})/`).exec(stack ?? '');
  if (!match?.[1]) throw new Error(`no ${name} frame in this stack:\n${stack}`);
  return match[1];
}

function versionAt(packageDir: string): string {
  return (JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string }).version;
}

describe('tRPC release under test', () => {
  it('runs the @trpc/server and @trpc/client release this run asked for', async () => {
    expect(expected).toMatch(/^11\.\d+\.\d+$/);
    // Each probe is called back by tRPC's own code, so its stack names the file that code is in.
    const t = initTRPC.create();
    const viaServer = await t.router({ probe: t.procedure.query(() => new Error().stack) }).createCaller({}).probe();
    let viaObservable: string | undefined;
    observable<never, never>(() => {
      viaObservable = new Error().stack;
    }).subscribe({});
    let viaClient: string | undefined;
    createTRPCClient({
      links: [
        () => {
          viaClient = new Error().stack;
          return () => observable(() => undefined);
        },
      ],
    });
    const serverDir = packageDirOf(viaServer, '@trpc/server');
    const clientDir = packageDirOf(viaClient, '@trpc/client');
    console.info(`test/live runs @trpc/server ${versionAt(serverDir)} from ${serverDir}`);
    expect(versionAt(serverDir)).toBe(expected);
    expect(packageDirOf(viaObservable, '@trpc/server')).toBe(serverDir);
    expect(versionAt(clientDir)).toBe(expected);
    // @trpc/client finds @trpc/server by Node's resolution: the sibling folder (no copy of its own), the same copy.
    expect(dirname(clientDir)).toBe(dirname(serverDir));
    expect(existsSync(join(clientDir, 'node_modules/@trpc/server'))).toBe(false);
  });

  it('uses one copy of @trpc/server for the tests and the package source', () => {
    // The package builds this error with its own import of @trpc/server: one class, one copy.
    expect(toTRPCError(new Error('x'))).toBeInstanceOf(TRPCError);
  });
});
