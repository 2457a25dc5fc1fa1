import { checkResources } from 'trpc-live/trpc';
import type { AppRouter } from '../routers/_app';
import { resources } from '../../trpc/resources';

/**
 * The resource registry, proven against the router at compile time: every
 * path is a query procedure, every `by` an input field of it, every id type
 * fits that field. Kept apart from `resources.ts` because the procedure meta
 * type depends on the registry, and the router on the procedures.
 */
export const liveResources = checkResources<AppRouter>()(resources);
