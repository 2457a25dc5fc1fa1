import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The demo imports the package by its public subpaths (`trpc-live/core`…); tests run them from
    // source, as tsconfig.json's `paths` does for the type-checker. The built package is tested by
    // the adopter fixture (test/fixtures), which installs the packed tarball.
    alias: [{ find: /^trpc-live\/([a-z]+)$/, replacement: fileURLToPath(new URL('./packages/trpc-live/src/$1/index.ts', import.meta.url)) }],
  },
  test: {
    include: ['test/**/*.test.ts', 'test/**/*.test.tsx'],
    environment: 'node',
    // A fresh random session secret per run, for the tests and the production servers they start:
    // no secret written in the repository verifies anything (test/e2e/knownSecrets.production.test.ts).
    env: { AUTH_SECRET: randomBytes(32).toString('base64url') },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Files run in parallel processes; each test file owns its ports, temp dirs and hub.
    pool: 'forks',
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results/vitest.json' },
    typecheck: {
      enabled: true,
      include: ['test/**/*.test-d.ts'],
      tsconfig: './tsconfig.json',
    },
  },
});
