import superjson from 'superjson';
import { createHub, type Hub, type HubOptions, type LiveMessage } from '../live/core';
import { getLiveStats } from './liveStats';

const HUB_KEY = Symbol.for('trpc-live.app.hub');
type HubGlobal = { [HUB_KEY]?: Hub };

/**
 * Serializes a message exactly as tRPC's SSE producer does with the
 * superjson transformer, so the fast transport writes identical bytes.
 */
export const serializeMessage = (message: LiveMessage): string => JSON.stringify(superjson.serialize(message));

/** Hub options the app uses. */
export function hubOptions(): HubOptions {
  // The inspector's collector (src/server/liveStats.ts) sees every hub metric.
  return { serialize: serializeMessage, metrics: getLiveStats() };
}

/**
 * The process-wide hub. Kept on `globalThis` so the Next.js route bundles and
 * the Node entry (fast transport) publish into and read from one instance.
 */
export function getHub(): Hub {
  const g = globalThis as HubGlobal;
  if (!g[HUB_KEY]) {
    g[HUB_KEY] = createHub(hubOptions());
    getLiveStats().attach(g[HUB_KEY]);
  }
  return g[HUB_KEY];
}

/** Replaces the process-wide hub (tests). */
export function setHub(hub: Hub | undefined): void {
  (globalThis as HubGlobal)[HUB_KEY] = hub;
  if (hub) getLiveStats().attach(hub);
}
