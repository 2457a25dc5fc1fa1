import type { Lane, ResetReason } from './signal';

/**
 * What the hub reports. Every method is optional; the default reports nothing.
 * Calls are on the hot path, so implementations must be cheap.
 */
export interface LiveMetrics {
  connectionOpened?(): void;
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
  resetSent?(reason: ResetReason): void;
  /** A reconnect asked for replay: served (`hit`) or answered with a reset. */
  replay?(hit: boolean, frames: number): void;
  /** Frames in one write to one connection. */
  flushBatch?(frames: number): void;
  /** Milliseconds from publish to the write of the oldest frame in a batch. */
  publishToWrite?(ms: number): void;
}

/** The default: reports nothing. Frozen: core keeps no mutable module state. */
export const noopMetrics: LiveMetrics = Object.freeze({});
