// Lint: layering of src/live (see ARCHITECTURE.md) plus typescript-eslint's recommended rules.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];
const frameworks = ['@trpc/*', 'next', 'next/*', 'react', 'react/*', 'react-dom', 'react-dom/*', '@tanstack/*'];
const backends = ['ioredis', 'ioredis/*', 'redis', 'redis/*', '@redis/*', 'better-sqlite3', 'prom-client'];
// src/live/<layer>/<file>.ts: anything two levels up leaves src/live (the app).
const leavesLive = ['../../*', '../../**'];

export default tseslint.config(
  { ignores: ['.next/**', 'dist/**', 'node_modules/**', 'next-env.d.ts', 'test-results/**', 'bench/.out/**', 'soak/.out/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['src/live/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: leavesLive, message: 'src/live never imports the app (src/app, src/server, src/trpc).' }] },
      ],
    },
  },
  {
    files: ['src/live/core/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({ name, message: 'src/live/core is runtime-agnostic: inject the environment instead.' })),
          patterns: [
            { group: [...frameworks, ...backends], message: 'src/live/core imports no framework or backend.' },
            { group: ['../*', '../**'], message: 'src/live/core imports only its own files.' },
            { group: ['superjson', 'zod', 'jose', 'eventsource'], message: 'src/live/core has no dependencies.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/live/client/**/*.ts', 'src/live/trpc/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: leavesLive, message: 'src/live never imports the app.' },
            { group: ['react', 'react/*', 'react-dom', 'next', 'next/*', '../react', '../react/*'], message: 'No React or Next here.' },
            { group: [...backends, '../redis', '../redis/*', '../node', '../node/*'], message: 'No backend or transport here.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/live/react/**/*.{ts,tsx}'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: leavesLive, message: 'src/live never imports the app.' },
            { group: ['next', 'next/*'], message: 'src/live/react has no Next imports.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/live/node/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: leavesLive, message: 'src/live never imports the app.' },
            { group: ['react', 'react/*', 'next', 'next/*', '../react', '../client', ...backends], message: 'The transport imports neither UI nor backends.' },
          ],
        },
      ],
    },
  },
  {
    files: ['src/live/redis/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: leavesLive, message: 'src/live never imports the app.' },
            { group: ['react', 'react/*', 'next', 'next/*', '@trpc/*', '../react', '../client', '../trpc', '../node'], message: 'The Redis backend depends on core only.' },
          ],
        },
      ],
    },
  },
);
