import type { LiveTimers, TimerHandle } from './clock';
import type { LiveMetrics } from './metrics';
import type { Lane, LiveControlMessage, ResetReason } from './signal';
import type { CloseReason, Frame, LiveSink } from './sink';

/**
 * Bounds of one connection's outbox. Together they cap the memory a slow or
 * stuck client can pin on the server: `maxPendingFrames` frame references,
 * `maxDirtyKeys` more after a collapse, and at most `sinkHighWaterBytes` plus
 * one write in the socket buffer.
 */
export interface OutboxLimits {
  /** Frames pending across lanes before they collapse into dirty keys. @default 512 */
  maxPendingFrames: number;
  /** Payload bytes pending across lanes before they collapse. @default 262_144 */
  maxPendingBytes: number;
  /** Distinct dirty keys kept after a collapse; past this, one reset. @default 2_048 */
  maxDirtyKeys: number;
  /** Sink buffer above which nothing more is written until it drains. @default 65_536 */
  sinkHighWaterBytes: number;
}

export const defaultOutboxLimits: OutboxLimits = {
  maxPendingFrames: 512,
  maxPendingBytes: 262_144,
  maxDirtyKeys: 2_048,
  sinkHighWaterBytes: 65_536,
};

/** Attributes of a connection that publishes can target (tenant is the scope). */
export type ConnectionGroups = { readonly [attribute: string]: string };

/** The hub services a connection needs; supplied by the hub. */
export interface ConnectionHost {
  readonly timers: LiveTimers;
  readonly metrics: LiveMetrics;
  readonly limits: OutboxLimits;
  /** Base flush interval of the batched and coalesced lanes. */
  readonly flushIntervalMs: number;
  /** Ask for `flush('instant')` at the end of this tick. */
  requestInstantFlush(connection: LiveConnection): void;
  /** Builds a reset frame at the current head. */
  resetFrame(reason: ResetReason): Frame;
  /** Builds a control frame (no cursor). */
  controlFrame(message: LiveControlMessage): Frame;
  /** Removes the connection from every index. */
  unregister(connection: LiveConnection): void;
}

/** Throttle factor for an outbox saturation in [0, 1]: faster when empty, slower when full. */
export function throttleFactor(saturation: number): number {
  if (saturation < 0.1) return 0.25;
  if (saturation < 0.5) return 1;
  if (saturation < 0.8) return 2;
  return 4;
}

const bySeq = (a: Frame, b: Frame) => a.seq - b.seq;

/**
 * One live stream and its outbox.
 *
 * Ordering: within a lane, frames leave in publish order; a newer frame for
 * the same key replaces the pending one (deduplication, last writer wins).
 * Across lanes, `instant` frames may overtake pending `batched` and
 * `coalesced` ones; a timed flush writes every lane merged in publish order.
 * The cursor a client holds never skips a frame it has not received: an
 * instant frame that overtakes pending ones carries the cursor just before
 * the oldest pending frame, so a reconnect replays from there.
 */
export class LiveConnection {
  /** Used by the hub to visit a connection once per publish. */
  stamp = 0;
  private readonly lanes: Record<Lane, Map<string, Frame>> = {
    instant: new Map(),
    batched: new Map(),
    coalesced: new Map(),
  };
  /** Collapsed idempotent frames (latest per key), delivered when the sink has room. */
  private readonly dirty = new Map<string, Frame>();
  private resetReason: ResetReason | null = null;
  private frames = 0;
  private bytes = 0;
  private timer: TimerHandle | null = null;
  private waitingForDrain = false;
  private pausedState = false;
  private closedState = false;
  /** Replay in progress (async backends): hold live frames until it is written. */
  private holding = false;

  constructor(
    readonly id: string,
    readonly scope: string,
    readonly patterns: readonly string[],
    readonly groups: ConnectionGroups,
    private readonly sink: LiveSink,
    private readonly host: ConnectionHost,
  ) {}

  get closed(): boolean {
    return this.closedState;
  }

  get paused(): boolean {
    return this.pausedState;
  }

  /** Frames waiting in lanes (dirty keys not included). */
  get pendingFrames(): number {
    return this.frames;
  }

  /** Distinct keys waiting after a collapse or a pause. */
  get dirtyKeys(): number {
    return this.dirty.size;
  }

  /** True when a reset is waiting to be written. */
  get resetPending(): boolean {
    return this.resetReason !== null;
  }

  /**
   * Share of the outbox in use, from what the client has not taken yet: lane
   * frames and bytes, plus the sink's own buffer where it is visible.
   */
  saturation(): number {
    const { maxPendingFrames, maxPendingBytes } = this.host.limits;
    return Math.min(
      1,
      Math.max(this.frames / maxPendingFrames, (this.bytes + this.sink.pendingBytes()) / maxPendingBytes),
    );
  }

  /** The current flush interval of the batched and coalesced lanes. */
  flushIntervalMs(): number {
    return this.host.flushIntervalMs * throttleFactor(this.saturation());
  }

  /** Queues a published frame on its lane. Never blocks, never throws. */
  enqueue(frame: Frame): void {
    if (this.closedState) return;
    if (this.pausedState && frame.lane !== 'instant' && frame.idempotent) {
      this.markDirty(frame);
      return;
    }
    const lane = this.lanes[frame.lane];
    const previous = lane.get(frame.key);
    if (previous) {
      lane.delete(frame.key);
      this.frames--;
      this.bytes -= previous.bytes;
      this.host.metrics.coalesced?.(frame.lane);
    }
    // A newer frame supersedes a collapsed one for the same key.
    this.dirty.delete(frame.key);
    lane.set(frame.key, frame);
    this.frames++;
    this.bytes += frame.bytes;
    const { maxPendingFrames, maxPendingBytes, sinkHighWaterBytes } = this.host.limits;
    if (this.frames > maxPendingFrames || this.bytes > maxPendingBytes) {
      // A full outbox on a healthy sink is just a burst: write it now. Only a
      // sink that is not taking data makes the outbox collapse.
      if (!this.pausedState && !this.holding && this.sink.pendingBytes() <= sinkHighWaterBytes) {
        this.flush('all');
        return;
      }
      this.collapse();
    }
    this.schedule(frame.lane);
  }

  /** Writes a control frame ahead of anything queued (hello, reconnect hints). */
  sendControl(message: LiveControlMessage): void {
    if (this.closedState) return;
    this.sink.write([this.host.controlFrame(message)]);
  }

  /**
   * Writes replayed frames (already filtered for this connection, oldest
   * first) or a reset. Used by the hub right after registration.
   */
  sendReplay(frames: readonly Frame[] | ResetReason): void {
    if (this.closedState) return;
    if (typeof frames === 'string') {
      this.resetReason = frames;
      this.holding = false;
      this.flush('all');
      return;
    }
    this.holding = false;
    const last = frames.length ? frames[frames.length - 1]!.seq : 0;
    // Live frames that arrived while an async replay was read are already covered.
    for (const lane of Object.values(this.lanes)) {
      for (const [key, frame] of lane) {
        if (frame.seq <= last) {
          lane.delete(key);
          this.frames--;
          this.bytes -= frame.bytes;
        }
      }
    }
    if (frames.length) {
      this.sink.write(frames);
      this.host.metrics.delivered?.('replay', frames.length);
    }
    if (this.frames) this.flush('all');
  }

  /** Holds live frames until {@link sendReplay} (async replay). */
  hold(): void {
    this.holding = true;
  }

  /** Tells the client to drop every cached query (at the current head). */
  reset(reason: ResetReason): void {
    if (this.closedState) return;
    this.resetReason = reason;
    this.host.requestInstantFlush(this);
  }

  /**
   * Pauses delivery (e.g. every tab of the browser is hidden): batched and
   * coalesced frames collapse into dirty keys, instant frames wait within
   * the outbox bounds; everything is delivered on {@link resume}.
   */
  pause(): void {
    if (this.closedState || this.pausedState) return;
    this.pausedState = true;
    this.clearTimer();
    for (const lane of ['batched', 'coalesced'] as const) {
      for (const [key, frame] of this.lanes[lane]) {
        if (!frame.idempotent) continue;
        this.lanes[lane].delete(key);
        this.frames--;
        this.bytes -= frame.bytes;
        this.markDirty(frame);
      }
    }
  }

  /** Resumes delivery and writes everything pending. */
  resume(): void {
    if (this.closedState || !this.pausedState) return;
    this.pausedState = false;
    this.flush('all');
  }

  /**
   * Writes what is due: `instant` writes the instant lane (and a pending
   * reset); `all` writes every lane and dirty keys, merged in publish order.
   * Waits for the sink to drain when its buffer is over the high-water mark.
   */
  flush(mode: 'instant' | 'all'): void {
    if (this.closedState || this.pausedState || this.holding) return;
    if (this.sink.pendingBytes() > this.host.limits.sinkHighWaterBytes) {
      this.waitForDrain();
      return;
    }
    if (this.resetReason) {
      this.writeReset();
      return;
    }
    const out: Frame[] = [];
    let remainingMin = Infinity;
    const take = (lane: Lane) => {
      for (const frame of this.lanes[lane].values()) out.push(frame);
      this.lanes[lane].clear();
    };
    take('instant');
    if (mode === 'all') {
      take('batched');
      take('coalesced');
      for (const frame of this.dirty.values()) out.push(frame);
      this.dirty.clear();
      this.clearTimer();
      this.frames = 0;
      this.bytes = 0;
    } else {
      for (const frame of out) {
        this.frames--;
        this.bytes -= frame.bytes;
      }
      remainingMin = this.oldestPendingSeq();
    }
    if (!out.length) return;
    if (mode === 'all' || out.length > 1) out.sort(bySeq);
    if (remainingMin !== Infinity) {
      for (let i = 0; i < out.length; i++) {
        const frame = out[i]!;
        if (frame.seq >= remainingMin && frame.id !== null) {
          out[i] = { ...frame, id: `${frame.epoch}:${remainingMin - 1}`, wire: undefined };
        }
      }
    }
    this.write(out, mode === 'all' ? null : 'instant');
  }

  /** Closes the stream from the server side (drain, rotation, auth expiry). */
  close(reason: CloseReason = 'closed'): void {
    if (this.closedState) return;
    this.dispose();
    this.sink.close(reason);
  }

  /** The peer went away: forget the connection without writing. Idempotent. */
  dispose(): void {
    if (this.closedState) return;
    this.closedState = true;
    this.clearTimer();
    for (const lane of Object.values(this.lanes)) lane.clear();
    this.dirty.clear();
    this.frames = 0;
    this.bytes = 0;
    this.host.unregister(this);
  }

  private write(frames: Frame[], lane: Lane | null): void {
    this.sink.write(frames);
    const metrics = this.host.metrics;
    metrics.flushBatch?.(frames.length);
    if (metrics.delivered) {
      if (lane) metrics.delivered(lane, frames.length);
      else {
        const counts: Partial<Record<Lane, number>> = {};
        for (const frame of frames) counts[frame.lane] = (counts[frame.lane] ?? 0) + 1;
        for (const [name, n] of Object.entries(counts)) metrics.delivered(name as Lane, n!);
      }
    }
    metrics.publishToWrite?.(this.host.timers.now() - frames[0]!.publishedAt);
  }

  private writeReset(): void {
    const reason = this.resetReason!;
    this.resetReason = null;
    // A reset supersedes everything published before it.
    for (const lane of Object.values(this.lanes)) lane.clear();
    this.dirty.clear();
    this.frames = 0;
    this.bytes = 0;
    this.clearTimer();
    this.sink.write([this.host.resetFrame(reason)]);
    this.host.metrics.resetSent?.(reason);
  }

  private oldestPendingSeq(): number {
    let min = Infinity;
    for (const lane of ['batched', 'coalesced'] as const) {
      const first = this.lanes[lane].values().next();
      if (!first.done && first.value.seq < min) min = first.value.seq;
    }
    for (const frame of this.dirty.values()) if (frame.seq < min) min = frame.seq;
    return min;
  }

  private markDirty(frame: Frame): void {
    if (this.resetReason) return;
    this.dirty.delete(frame.key);
    this.dirty.set(frame.key, frame);
    if (this.dirty.size > this.host.limits.maxDirtyKeys) {
      this.dirty.clear();
      this.resetReason = 'overflow';
    }
    this.ensureTimer();
  }

  /** Moves every lane into dirty keys; what cannot be collapsed is dropped and replaced by a reset. */
  private collapse(): void {
    let collapsed = 0;
    let dropped = 0;
    for (const lane of Object.values(this.lanes)) {
      for (const frame of lane.values()) {
        if (frame.idempotent) {
          collapsed++;
          this.markDirty(frame);
        } else {
          dropped++;
        }
      }
      lane.clear();
    }
    this.frames = 0;
    this.bytes = 0;
    if (dropped) this.resetReason = 'overflow';
    if (this.resetReason) this.dirty.clear();
    this.host.metrics.collapsed?.(collapsed);
    if (dropped) this.host.metrics.dropped?.(dropped);
  }

  private schedule(lane: Lane): void {
    if (this.pausedState || this.holding) return;
    if (lane === 'instant' || this.resetReason) this.host.requestInstantFlush(this);
    else this.ensureTimer();
  }

  private ensureTimer(): void {
    if (this.timer !== null || this.pausedState || this.closedState) return;
    this.timer = this.host.timers.setTimeout(() => {
      this.timer = null;
      this.flush('all');
    }, this.flushIntervalMs());
  }

  private clearTimer(): void {
    if (this.timer === null) return;
    this.host.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  private waitForDrain(): void {
    if (this.waitingForDrain) return;
    this.waitingForDrain = true;
    this.sink.onDrain(() => {
      this.waitingForDrain = false;
      this.flush('all');
    });
  }
}
