/** Counts the timers created through `setTimeout`/`setInterval` while tracking. */
export interface LiveTimers {
  /** Timers created since {@link trackTimers} that have neither fired (timeouts) nor been cleared. */
  live(): number;
  /** Puts the global timer functions back. */
  restore(): void;
}

/**
 * Wraps the global timer functions (calling through) to count live timers:
 * an interval is live until cleared, a timeout until it fires or is cleared.
 * Exact where `process.getActiveResourcesInfo()` is not: the harness's own
 * timers come and go there and can hide one leaked timer.
 */
export function trackTimers(): LiveTimers {
  const live = new Set<unknown>();
  const { setTimeout: st, setInterval: si, clearTimeout: ct, clearInterval: ci } = globalThis;
  globalThis.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = st(
      (...a: unknown[]) => {
        live.delete(handle);
        fn(...a);
      },
      ms,
      ...args,
    );
    live.add(handle);
    return handle;
  }) as typeof setTimeout;
  globalThis.setInterval = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = si(fn, ms, ...args);
    live.add(handle);
    return handle;
  }) as typeof setInterval;
  globalThis.clearTimeout = ((handle: Parameters<typeof clearTimeout>[0]) => {
    live.delete(handle);
    ct(handle);
  }) as typeof clearTimeout;
  globalThis.clearInterval = ((handle: Parameters<typeof clearInterval>[0]) => {
    live.delete(handle);
    ci(handle);
  }) as typeof clearInterval;
  return {
    live: () => live.size,
    restore() {
      Object.assign(globalThis, { setTimeout: st, setInterval: si, clearTimeout: ct, clearInterval: ci });
    },
  };
}
