/**
 * `npm run live:check`: prints the invalidation coverage of the app router
 * (queries no mutation invalidates, mutations that invalidate nothing) and
 * exits 1 when a declaration or binding names no query or an unknown
 * resource, or cannot be verified. Runs in CI.
 */
import { analyzeCoverage, formatCoverage } from 'trpc-live/trpc';
import { appRouter } from '../src/server/routers/_app';
import { resources } from '../src/trpc/resources';

const report = await analyzeCoverage(appRouter, resources);
console.log(formatCoverage(report));
// Exit explicitly: importing the app may create lazy singletons that keep the loop alive.
process.exit(report.errors.length ? 1 : 0);
