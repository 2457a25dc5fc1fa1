/** Opaque handle returned by {@link LiveTimers.setTimeout}. */
export type TimerHandle = unknown;

/**
 * The time source and timers the hub runs on. Injected so tests drive the
 * hub with fake timers; the default reads the globals at call time, so
 * `vi.useFakeTimers()` also works with the default.
 */
export interface LiveTimers {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer that has not fired yet; a no-op for one that has. */
  clearTimeout(handle: TimerHandle): void;
  /**
   * Runs `fn` once the current task and its microtasks are done. Everything
   * published in one tick goes out in one write per connection.
   */
  defer(fn: () => void): void;
}

interface TimerGlobals {
  setImmediate?: (fn: () => void) => unknown;
  setTimeout: (fn: () => void, ms: number) => { unref?: () => void } | number;
  clearTimeout: (handle: unknown) => void;
}

/** Timers backed by the runtime's globals (`setImmediate` where present). */
export const systemTimers: LiveTimers = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = (globalThis as unknown as TimerGlobals).setTimeout(fn, ms);
    // Hub timers must never keep a process alive on their own.
    if (typeof handle === 'object' && handle.unref) handle.unref();
    return handle;
  },
  clearTimeout(handle) {
    // Node deletes the timer list of a delay when its last timer is cleared only if that
    // timer is ref'd: an unref'd one leaves its list until the delay would have passed
    // (hours for a stream's credential expiry), ~150 B per distinct delay. Re-ref first.
    (handle as { ref?: () => void } | null)?.ref?.();
    (globalThis as unknown as TimerGlobals).clearTimeout(handle);
  },
  defer(fn) {
    const g = globalThis as unknown as TimerGlobals;
    if (g.setImmediate) g.setImmediate(fn);
    else g.setTimeout(fn, 0);
  },
};
