// Lint: layering of the trpc-live package (packages/trpc-live/src, see ARCHITECTURE.md), the app's
// use of it through its public entry points only, plus typescript-eslint's recommended rules.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const frameworks = ['@trpc/*', 'next', 'next/*', 'react', 'react/*', 'react-dom', 'react-dom/*', '@tanstack/*'];
const backends = ['ioredis', 'ioredis/*', 'redis', 'redis/*', '@redis/*', 'better-sqlite3', 'prom-client'];
// packages/trpc-live/src/<layer>/<file>.ts: anything two levels up leaves the package's source.
const leavesLive = ['../../*', '../../**'];
// How the app, scripts, benchmarks and end-to-end tests reach the package (repeated in the app's layering
// blocks below: a later block's options for the same rule replace an earlier one's).
const adopterPatterns = [
  { group: ['**/packages/**'], message: 'Import the package by name (trpc-live/<entry>), not by path.' },
  { regex: '^trpc-live/[^/]+/.+', message: 'Only trpc-live/<entry> is public: no deep imports past its exports.' },
];
// The app's layers (ARCHITECTURE.md, "Layout"): relative imports of src/server and src/app.
const intoServer = '^(\\.{1,2}/)+(.*/)?server(/|$)';
const intoApp = '^(\\.{1,2}/)+(.*/)?app(/|$)';
// Next's server-side files in src/app (server components and route handlers): the only files there that may
// import src/server. Everything else in src/app is a component or helper a client component may bundle.
const nextServerFiles = ['src/app/**/page.tsx', 'src/app/**/layout.tsx', 'src/app/**/route.ts'];

export default tseslint.config(
  { ignores: ['.next/**', 'dist/**', 'packages/*/dist/**', 'node_modules/**', 'next-env.d.ts', 'test-results/**', 'bench/.out/**', 'soak/.out/**', 'test/fixtures/adopter/**', '.cache/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The app, its scripts, benchmarks and end-to-end tests use the package as an adopter would:
    // through `trpc-live/<entry>` only. test/live holds the package's own unit tests, which may
    // reach its internals.
    files: ['src/**/*.{ts,tsx}', 'scripts/**/*.{ts,mjs}', 'bench/**/*.ts', 'soak/**/*.{ts,mjs}', 'test/**/*.{ts,tsx}'],
    ignores: ['test/live/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: adopterPatterns },
      ],
    },
  },
  {
    // Browser code of the app: src/trpc (the tRPC client, query client, registry) and src/app's components.
    // It reaches the server only through tRPC, so it imports src/server for types alone (`AppRouter`).
    files: ['src/trpc/**/*.{ts,tsx}', 'src/app/**/*.{ts,tsx}'],
    ignores: nextServerFiles,
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...nodeBuiltins, 'server-only', 'next/headers'].map((name) => ({ name, message: 'Browser code: no server-only modules.' })),
          patterns: [
            ...adopterPatterns,
            { regex: intoServer, allowTypeImports: true, message: 'Browser code imports src/server for types only (import type); data comes through tRPC.' },
            { group: ['trpc-live/core', 'trpc-live/trpc', 'trpc-live/node', 'trpc-live/redis', 'trpc-live/next', 'trpc-live/testing'], allowTypeImports: true, message: 'Browser code uses trpc-live/shared, /client and /react.' },
          ],
        },
      ],
    },
  },
  {
    // The server never imports the UI: src/server depends on src/trpc's shared files at most.
    files: ['src/server/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...adopterPatterns,
            { regex: intoApp, message: 'src/server never imports src/app: pages depend on the server, not the reverse.' },
            { regex: '^(\\.{1,2}/)+(.*/)?trpc/react$', message: 'src/server never imports the browser tRPC client (src/trpc/react.tsx).' },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/trpc-live/src/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: leavesLive, message: 'The package never imports the app or files outside its src/.' }] },
      ],
    },
  },
  {
    files: ['packages/trpc-live/src/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'packages/trpc-live/src/core is runtime-agnostic: inject the environment instead.' })),
          patterns: [
            { group: [...frameworks, ...backends], message: 'packages/trpc-live/src/core imports no framework or backend.' },
            { regex: '^\\.\\./(?!shared/)', message: 'packages/trpc-live/src/core imports only its own files and shared/.' },
            { group: ['superjson', 'zod', 'jose', 'eventsource'], message: 'packages/trpc-live/src/core has no dependencies.' },
          ],
        },
      ],
    },
  },
  {
    // What browser and server share: imports nothing at all outside its own folder.
    files: ['packages/trpc-live/src/shared/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'packages/trpc-live/src/shared runs in the browser and the server: no Node built-ins.' })),
          patterns: [
            { group: ['../*', '../**'], message: 'packages/trpc-live/src/shared imports only its own files.' },
            { regex: '^[^.]', message: 'packages/trpc-live/src/shared has no dependencies.' },
          ],
        },
      ],
    },
  },
  {
    // The browser side depends on shared/ and its own files: nothing server-side reaches a bundle.
    files: ['packages/trpc-live/src/client/**/*.ts', 'packages/trpc-live/src/react/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'Browser code: no Node built-ins.' })),
          patterns: [
            { group: leavesLive, message: 'The package never imports the app.' },
            { group: ['next', 'next/*', ...backends], message: 'Browser code imports no Next or backend.' },
            {
              group: ['../core', '../core/*', '../trpc', '../trpc/*', '../node', '../node/*', '../redis', '../redis/*', '../next', '../next/*', '../cli', '../cli/*', '../testing', '../testing/*'],
              message: 'Browser code depends on shared/ (and client/ for React), never on server code.',
            },
            { regex: '^@trpc/server(?!/observable$)', allowTypeImports: true, message: 'Browser code uses @trpc/server for types and observable only.' },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/trpc-live/src/trpc/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: leavesLive, message: 'The package never imports the app.' },
            { group: ['react', 'react/*', 'react-dom', 'next', 'next/*', '../react', '../react/*'], message: 'No React or Next here.' },
            { group: [...backends, '../redis', '../redis/*', '../node', '../node/*'], message: 'No backend or transport here.' },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/trpc-live/src/node/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: leavesLive, message: 'The package never imports the app.' },
            { group: ['react', 'react/*', 'next', 'next/*', '../react', '../client', ...backends], message: 'The transport imports neither UI nor backends.' },
          ],
        },
      ],
    },
  },
  {
    files: ['packages/trpc-live/src/redis/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: leavesLive, message: 'The package never imports the app.' },
            { group: ['react', 'react/*', 'next', 'next/*', '@trpc/*', '../react', '../client', '../trpc', '../node'], message: 'The Redis backend depends on core only.' },
          ],
        },
      ],
    },
  },
);
