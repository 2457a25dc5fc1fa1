/**
 * Imported first by the simulated browsers: TanStack Query decides at module
 * load whether it runs on a server (`typeof window === 'undefined'`), and on a
 * server it never starts `refetchInterval` timers and keeps unused queries
 * forever. A bare `window` (no event listeners: focus and online stay "yes")
 * makes it behave as in a browser tab that is open.
 */
const g = globalThis as { window?: object };
g.window ??= {};
