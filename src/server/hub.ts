import superjson from 'superjson';
import { createHub, type Hub, type HubOptions, type LiveMessage } from '../live/core';

const HUB_KEY = Symbol.for('trpc-live.app.hub');
type HubGlobal = { [HUB_KEY]?: Hub };

/**
 * Serializes a message exactly as tRPC's SSE producer does with the
 * superjson transformer, so the fast transport writes identical bytes.
 */
export const serializeMessage = (message: LiveMessage): string => JSON.stringify(superjson.serialize(message));

/** Hub options the app uses. */
export function hubOptions(): HubOptions {
  return { serialize: serializeMessage };
}

/**
 * The process-wide hub. Kept on `globalThis` so the Next.js route bundles and
 * the Node entry (fast transport) publish into and read from one instance.
 */
export function getHub(): Hub {
  const g = globalThis as HubGlobal;
  g[HUB_KEY] ??= createHub(hubOptions());
  return g[HUB_KEY];
}

/** Replaces the process-wide hub (tests). */
export function setHub(hub: Hub | undefined): void {
  (globalThis as HubGlobal)[HUB_KEY] = hub;
}
