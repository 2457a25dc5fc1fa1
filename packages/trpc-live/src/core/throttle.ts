/**
 * Adaptive per-connection throttling.
 *
 * A connection's batched and coalesced lanes are flushed on a window that
 * follows how much of its outbox the client has not taken yet (see
 * `Outbox.saturation`): a client that keeps up is flushed four times as often
 * as the base interval, one that falls behind up to four times less often.
 *
 * | saturation      | factor | at the 2 s default |
 * |-----------------|--------|--------------------|
 * | < 10%           | 1/4    | 500 ms             |
 * | 10% to < 50%    | 1      | 2 s                |
 * | 50% to 80%      | 2      | 4 s                |
 * | > 80%           | 4      | 8 s                |
 *
 * The coalesced lane never flushes faster than its coalescing window
 * (`coalesceWindowMs`, by default the base interval): last-writer-wins only
 * saves bandwidth if the window stays wide, so a 10,000-row import sends one
 * progress frame per window, not one per 500 ms.
 */
export function throttleFactor(saturation: number): number {
  if (saturation < 0.1) return 0.25;
  if (saturation < 0.5) return 1;
  if (saturation <= 0.8) return 2;
  return 4;
}

/** Settings of {@link laneIntervalMs}. */
export interface ThrottleSettings {
  /** Base flush interval of the batched lane. */
  readonly flushIntervalMs: number;
  /** Narrowest window of the coalesced lane. */
  readonly coalesceWindowMs: number;
}

/**
 * The current flush interval of a lane for a given saturation: the batched
 * lane follows the bands exactly; the coalesced lane follows them too but
 * never goes below its coalescing window.
 */
export function laneIntervalMs(lane: 'batched' | 'coalesced', saturation: number, settings: ThrottleSettings): number {
  const interval = settings.flushIntervalMs * throttleFactor(saturation);
  return lane === 'batched' ? interval : Math.max(settings.coalesceWindowMs, interval);
}
