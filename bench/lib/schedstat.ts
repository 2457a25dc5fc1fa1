import { readFileSync } from 'node:fs';

/** What the scheduler reports for one thread (Linux `/proc/<pid>/task/<tid>/schedstat`), in ms. */
export interface SchedTimes {
  /** Time it ran on a CPU. */
  readonly cpuMs: number;
  /** Time it was ready to run but waited for a CPU (on a runqueue). */
  readonly waitMs: number;
}

/**
 * The scheduler's totals for a process's main thread (its event loop), or
 * null where there are none (not Linux, process gone). Nanosecond counters,
 * unlike `/proc/<pid>/stat`'s 10 ms ticks: fine enough for a 15 ms round.
 */
export function mainThreadSched(pid: number | undefined): SchedTimes | null {
  if (pid === undefined) return null;
  try {
    const [cpu, wait] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return Number.isFinite(cpu) && Number.isFinite(wait) ? { cpuMs: cpu! / 1e6, waitMs: wait! / 1e6 } : null;
  } catch {
    return null;
  }
}

/** `after - before`, or null when either is missing. */
export function schedDelta(before: SchedTimes | null, after: SchedTimes | null): SchedTimes | null {
  return before && after ? { cpuMs: after.cpuMs - before.cpuMs, waitMs: after.waitMs - before.waitMs } : null;
}
