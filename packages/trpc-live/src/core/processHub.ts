import { createHub, type Hub, type HubOptions } from './hub.ts';

/**
 * Where the process-wide hub lives. `Symbol.for` gives every copy of this
 * module the same key: Next.js compiles each route (and the custom server, if
 * any) into its own bundle with its own copy of the package, and a hub kept
 * in a module variable would then exist once per bundle, so a mutation in one
 * route published into a hub no stream was attached to and nothing arrived.
 */
const HUB_KEY = Symbol.for('trpc-live.hub');

type HubHolder = { [HUB_KEY]?: Hub };

/**
 * The process-wide hub, created on the first call (from `init`: hub options
 * or a factory) and returned by every later call from any bundle; `init` of
 * later calls is ignored, so create it from one module (or pass the same
 * options everywhere). `createLive` and the fast transport use it when given
 * no hub.
 * @default init: `createHub()` (in-memory backend, default lanes and limits)
 */
export function processHub(init?: HubOptions | (() => Hub)): Hub {
  const holder = globalThis as HubHolder;
  const existing = holder[HUB_KEY];
  if (existing) return existing;
  const hub = typeof init === 'function' ? init() : createHub(init);
  holder[HUB_KEY] = hub;
  return hub;
}

/** Forgets the process-wide hub (tests; after `hub.close()`), so the next {@link processHub} creates a new one. */
export function resetProcessHub(): void {
  delete (globalThis as HubHolder)[HUB_KEY];
}
