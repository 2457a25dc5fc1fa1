import type { LiveTimers } from '../core/index.ts';

/** {@link LiveTimers} on a virtual clock that only moves when told to. */
export interface ManualTimers extends LiveTimers {
  /** Runs deferred callbacks (end of tick), including ones they defer, until none is left. */
  runDeferred(): void;
  /** Moves the clock to `time`, running deferred callbacks and every timer due on the way, in order. */
  advanceTo(time: number): void;
  /** Moves the clock forward by `ms` (see {@link advanceTo}). */
  advance(ms: number): void;
  /** Timers armed and not yet fired or cleared. */
  readonly pendingTimers: number;
}

interface Timer {
  readonly at: number;
  readonly order: number;
  readonly fn: () => void;
}

/**
 * A deterministic clock for benchmarks and tests that cannot use
 * `vi.useFakeTimers()`: simulate 30 seconds of publishing in milliseconds,
 * with exactly the timer behaviour the hub sees in production. No globals.
 */
export function createManualTimers(start = 0): ManualTimers {
  let now = start;
  let order = 0;
  const timers = new Set<Timer>();
  let deferred: Array<() => void> = [];

  const runDeferred = () => {
    while (deferred.length) {
      const batch = deferred;
      deferred = [];
      for (const fn of batch) fn();
    }
  };

  const nextDue = (limit: number): Timer | undefined => {
    let next: Timer | undefined;
    for (const timer of timers) {
      if (timer.at > limit) continue;
      if (!next || timer.at < next.at || (timer.at === next.at && timer.order < next.order)) next = timer;
    }
    return next;
  };

  const advanceTo = (time: number) => {
    runDeferred();
    for (let timer = nextDue(time); timer; timer = nextDue(time)) {
      timers.delete(timer);
      now = Math.max(now, timer.at);
      timer.fn();
      runDeferred();
    }
    now = Math.max(now, time);
  };

  return {
    now: () => now,
    setTimeout(fn, ms) {
      const timer: Timer = { at: now + Math.max(0, ms), order: order++, fn };
      timers.add(timer);
      return timer;
    },
    clearTimeout(handle) {
      timers.delete(handle as Timer);
    },
    defer(fn) {
      deferred.push(fn);
    },
    runDeferred,
    advanceTo,
    advance: (ms) => advanceTo(now + ms),
    get pendingTimers() {
      return timers.size;
    },
  };
}
