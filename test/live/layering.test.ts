import { describe, expect, it } from 'vitest';
import { importOf as use, restrictedImports as restricted } from '../helpers/lintProbe';

// The layering ARCHITECTURE.md states, checked by linting probe sources under the real config.

describe('package layering (eslint)', () => {
  it('lets shared/ import only its own files', async () => {
    expect(await restricted('packages/trpc-live/src/shared/probe.ts', use('./cursor.ts'))).toEqual([]);
    expect(await restricted('packages/trpc-live/src/shared/probe.ts', use('../core/index.ts'))).not.toEqual([]);
    expect(await restricted('packages/trpc-live/src/shared/probe.ts', use('zod'))).not.toEqual([]);
    expect(await restricted('packages/trpc-live/src/shared/probe.ts', use('node:crypto'))).not.toEqual([]);
  });

  it('lets core/ import shared/ and nothing else outside core', async () => {
    expect(await restricted('packages/trpc-live/src/core/probe.ts', use('../shared/messages.ts'))).toEqual([]);
    expect(await restricted('packages/trpc-live/src/core/probe.ts', use('../trpc/index.ts'))).not.toEqual([]);
    expect(await restricted('packages/trpc-live/src/core/probe.ts', use('@trpc/server'))).not.toEqual([]);
  });

  it('keeps server code out of client/ and react/', async () => {
    for (const layer of ['client', 'react']) {
      const file = `packages/trpc-live/src/${layer}/probe.ts`;
      expect(await restricted(file, use('../shared/index.ts'))).toEqual([]);
      expect(await restricted(file, use('@trpc/server/observable'))).toEqual([]);
      expect(await restricted(file, `import type { AnyTRPCRouter } from '@trpc/server';\nexport type P = AnyTRPCRouter;\n`)).toEqual([]);
      for (const server of ['../core/index.ts', '../trpc/createLive.ts', '../node/index.ts', '../redis/index.ts', '@trpc/server', 'node:fs']) {
        expect(await restricted(file, use(server)), `${layer} -> ${server}`).not.toEqual([]);
      }
    }
    expect(await restricted('packages/trpc-live/src/react/probe.ts', use('../client/index.ts'))).toEqual([]);
  });
});
