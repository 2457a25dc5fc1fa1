import { describe, expect, it } from 'vitest';
import { importOf as use, restrictedImports as restricted } from '../helpers/lintProbe';

// The app's layering ARCHITECTURE.md states ("dependencies point down, lint enforces it"), checked by linting probe
// sources under the real config, as test/live/layering.test.ts does for the package.
const useType = (spec: string) => `import type { AppRouter } from '${spec}';\nexport type Probe = AppRouter;\n`;

describe('app layering (eslint)', () => {
  it('keeps src/server out of the browser code in src/trpc, except for types', async () => {
    const file = 'src/trpc/probe.tsx';
    expect(await restricted(file, useType('../server/routers/_app'))).toEqual([]);
    expect(await restricted(file, use('./resources'))).toEqual([]);
    expect(await restricted(file, use('trpc-live/client'))).toEqual([]);
    for (const server of ['../server/routers/_app', '../server/trpc/init', '../server/appHub', 'trpc-live/core', 'trpc-live/trpc', 'node:fs', 'server-only']) {
      expect(await restricted(file, use(server)), `src/trpc -> ${server}`).not.toEqual([]);
    }
  });

  it("keeps src/server out of src/app's components, and lets its pages and route handlers use it", async () => {
    const component = 'src/app/(app)/orders/OrdersProbe.tsx';
    expect(await restricted(component, use('../../../trpc/react'))).toEqual([]);
    expect(await restricted(component, useType('../../../server/routers/_app'))).toEqual([]);
    for (const server of ['../../../server/data/orders', '../../../server/auth/currentSession', '../../../server/trpc/prefetch', 'next/headers']) {
      expect(await restricted(component, use(server)), `component -> ${server}`).not.toEqual([]);
    }
    expect(await restricted('src/app/(app)/orders/page.tsx', use('../../../server/trpc/prefetch'))).toEqual([]);
    expect(await restricted('src/app/(app)/layout.tsx', use('../../server/auth/currentSession'))).toEqual([]);
    expect(await restricted('src/app/api/probe/route.ts', use('../../../server/appHub'))).toEqual([]);
  });

  it('keeps src/app and the browser tRPC client out of src/server', async () => {
    const file = 'src/server/routers/probe.ts';
    expect(await restricted(file, use('../../trpc/resources'))).toEqual([]);
    expect(await restricted(file, use('../trpc/init'))).toEqual([]);
    expect(await restricted(file, use('./_app'))).toEqual([]);
    expect(await restricted(file, use('../../app/(app)/orders/statuses'))).not.toEqual([]);
    expect(await restricted(file, use('../../trpc/react'))).not.toEqual([]);
  });

  it('still holds the app to the package entry points in the layered folders', async () => {
    for (const file of ['src/trpc/probe.ts', 'src/app/(app)/Probe.tsx', 'src/server/probe.ts']) {
      expect(await restricted(file, use('trpc-live/shared/topic')), file).not.toEqual([]);
      expect(await restricted(file, use('../../packages/trpc-live/src/shared/index.ts')), file).not.toEqual([]);
    }
  });
});
