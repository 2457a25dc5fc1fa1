// Public API for Next.js (App Router): the route handler and the process-wide hub holder.
export { createLiveRouteHandler, withLiveRetryHint } from './routeHandler.ts';
export type { LiveRouteHandlerOptions } from './routeHandler.ts';
export { processHub, resetProcessHub } from '../core/processHub.ts';
