import type { Lane, ResetReason } from '../shared/messages.ts';

/**
 * What the hub reports. Every method is optional; the default reports nothing.
 * Calls are on the hot path, so implementations must be cheap.
 */
export interface LiveMetrics {
  /** A stream connected to the hub. */
  connectionOpened?(): void;
  /** A stream left the hub (client gone, drained or closed by the server). */
  connectionClosed?(): void;
  /** A signal entered the hub (once per publish, whatever the fan-out). */
  published?(lane: Lane): void;
  /** `frames` were written to one connection from `lane`. */
  delivered?(lane: Lane | 'replay', frames: number): void;
  /** A pending frame was replaced by a newer one for the same key. */
  coalesced?(lane: Lane): void;
  /** Pending frames collapsed into dirty keys under backpressure. */
  collapsed?(frames: number): void;
  /** Non-idempotent frames dropped under backpressure (always followed by a reset). */
  dropped?(frames: number): void;
  /** A connection was sent a `reset` (it refetches every active query), and why. */
  resetSent?(reason: ResetReason): void;
  /** A reconnect asked for replay: served (`hit`) or answered with a reset. */
  replay?(hit: boolean, frames: number): void;
  /** Frames in one write to one connection. */
  flushBatch?(frames: number): void;
  /** Milliseconds from publish to the write of the oldest frame in a batch. */
  publishToWrite?(ms: number): void;
  /**
   * Milliseconds from the publish of the oldest change a batch's pushed
   * frames reflect (results, deltas, refetch orders) to their write: the
   * server's part of a pushed result's freshness, its computation included.
   * Once per batch that holds one.
   */
  pushToWrite?(ms: number): void;
}

/** The default: reports nothing. Frozen: core keeps no mutable module state. */
export const noopMetrics: LiveMetrics = Object.freeze({});

const METRIC_METHODS = [
  'connectionOpened',
  'connectionClosed',
  'published',
  'delivered',
  'coalesced',
  'collapsed',
  'dropped',
  'resetSent',
  'replay',
  'flushBatch',
  'publishToWrite',
  'pushToWrite',
] as const satisfies ReadonlyArray<keyof LiveMetrics>;

/**
 * One {@link LiveMetrics} that reports to several (e.g. an in-app inspector
 * and a Prometheus exporter). Each method calls only the sinks that
 * implement it; methods no sink implements stay absent (no call at all).
 */
export function combineMetrics(...sinks: readonly LiveMetrics[]): LiveMetrics {
  const combined: Record<string, (...args: never[]) => void> = {};
  for (const name of METRIC_METHODS) {
    const targets = sinks.filter((sink) => typeof sink[name] === 'function');
    if (targets.length === 1) {
      const sink = targets[0]!;
      combined[name] = (...args: never[]) => (sink[name] as (...a: never[]) => void).apply(sink, args);
    } else if (targets.length > 1) {
      combined[name] = (...args: never[]) => {
        for (const sink of targets) (sink[name] as (...a: never[]) => void).apply(sink, args);
      };
    }
  }
  return combined as LiveMetrics;
}
