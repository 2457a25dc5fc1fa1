import type { LiveMetrics } from './metrics.ts';
import { LANES, type Lane, type ResetReason } from '../shared/messages.ts';
import { coveredByReset, overflow } from './overflow.ts';
import type { Frame } from './sink.ts';

/**
 * Bounds of one connection's outbox. Together they cap the memory a slow or
 * stuck client can pin on the server: at most `maxPendingFrames` +
 * `maxDirtyKeys` frame references, `maxPendingBytes` + `maxDirtyBytes` of
 * payload (plus the one frame being added), and `sinkHighWaterBytes` plus one
 * write in the sink's own buffer.
 */
export interface OutboxLimits {
  /** Frames pending across lanes before they collapse into dirty keys. @default 512 */
  maxPendingFrames: number;
  /** Payload bytes pending across lanes before they collapse. @default 262_144 */
  maxPendingBytes: number;
  /** Distinct dirty keys kept after a collapse or a pause; past this, one reset. @default 2_048 */
  maxDirtyKeys: number;
  /** Payload bytes of dirty keys; past this, one reset. @default 262_144 */
  maxDirtyBytes: number;
  /** Sink buffer above which nothing more is written until it drains. @default 65_536 */
  sinkHighWaterBytes: number;
}

/** The default {@link OutboxLimits}. */
export const defaultOutboxLimits: Readonly<OutboxLimits> = Object.freeze({
  maxPendingFrames: 512,
  maxPendingBytes: 262_144,
  maxDirtyKeys: 2_048,
  maxDirtyBytes: 262_144,
  sinkHighWaterBytes: 65_536,
});

/** Which parts of the outbox a flush takes. The instant lane and dirty keys always go. */
export interface TakeOptions {
  readonly batched: boolean;
  readonly coalesced: boolean;
}

const URGENCY: Record<Lane, number> = { instant: 0, batched: 1, coalesced: 2 };
/**
 * Empty maps every outbox reads until it first queues a frame outside its
 * run: an idle stream's outbox allocates none (its four maps were ~0.8 KB of
 * the ~10 KB an idle fast-transport stream held, heap snapshot of 1,000
 * streams, 2026-12-07). Never written to: writers go through `ownLanes` /
 * `ownDirty`.
 */
const NO_LANES: Readonly<Record<Lane, ReadonlyMap<string, Frame>>> = Object.freeze({ instant: new Map(), batched: new Map(), coalesced: new Map() });
const NO_DIRTY: ReadonlyMap<string, Frame> = new Map();
const bySeq = (a: Frame, b: Frame) => a.seq - b.seq;

/**
 * What one connection has not written yet: three lanes, a set of dirty keys
 * and at most one pending reset. Pure bookkeeping (no timers, no sink), so
 * its invariants are easy to test:
 *
 * - a key is pending at most once across lanes and dirty keys: a newer frame
 *   replaces the older one (last writer wins) and keeps the more urgent lane,
 *   so a key's values never leave out of order and an instant change is never
 *   delayed by a lazier duplicate;
 * - `frames`/`bytes` (lanes) and `dirtyKeys`/`dirtyBytes` stay within
 *   {@link OutboxLimits} once a call returns;
 * - frames are taken in publish (`seq`) order.
 */
export class Outbox {
  /** The lanes past the run ({@link NO_LANES} until first written, and again once empty). */
  private lanes = NO_LANES as Readonly<Record<Lane, Map<string, Frame>>>;
  /** Dirty keys ({@link NO_DIRTY} until first written, and again once empty). */
  private dirty = NO_DIRTY as Map<string, Frame>;
  /**
   * Instant frames pending when nothing else is, oldest first, keys
   * distinct: a fan-out's usual case (one frame, or a burst's frames), kept
   * out of the maps so routing and flushing them cost an array append and a
   * swap. One frame this way: with the hub's flush, 1.1 -> 0.66 µs per
   * recipient in-process (0624bfe); a 200-event burst to 1,000 streams spent
   * 42% of the hub's CPU in the maps' sets and lookups (profile, 2026-12-07).
   * Only the first frame may be any instant frame; later ones are appended
   * only when the fan-out's stamp proves their key is not in the run
   * ({@link appendable}). Counted in `frames` and `bytes`; any operation
   * that adds to what is pending otherwise, or scans it, first moves the run
   * into the instant lane ({@link settle}), where the general rules apply.
   */
  private run: Frame[] = [];
  private frameCount = 0;
  private byteCount = 0;
  private dirtyByteCount = 0;
  private reset: ResetReason | null = null;
  /**
   * Lowest seq the pending reset stands for: a frame it covers (removed) or
   * one dropped before it. A flush writes the reset in its place, so no id
   * written before the reset claims a frame the client only gets through it.
   */
  private floor = Infinity;
  /** Highest seq the pending reset stands for (`-Infinity` when none). */
  private ceil = -Infinity;

  constructor(
    private readonly limits: OutboxLimits,
    private readonly metrics: LiveMetrics,
  ) {}

  /** Frames waiting in lanes. */
  get frames(): number {
    return this.frameCount;
  }
  /** Payload bytes waiting in lanes. */
  get bytes(): number {
    return this.byteCount;
  }
  /** Distinct keys waiting after a collapse or a pause. */
  get dirtyKeys(): number {
    return this.dirty.size;
  }
  /** Payload bytes of dirty keys. */
  get dirtyBytes(): number {
    return this.dirtyByteCount;
  }
  /** The reason of a reset waiting to be written, or `null`. */
  get resetReason(): ResetReason | null {
    return this.reset;
  }
  /** Lowest seq the pending reset stands for (`Infinity` when none): where a flush writes it. */
  get resetFloor(): number {
    return this.floor;
  }
  /** Highest seq the pending reset stands for (`-Infinity` when none): the client has everything up to it once the reset's write is read. */
  get resetCeil(): number {
    return this.ceil;
  }
  /** True when nothing but the run is pending (maybe nothing): {@link appendRun} then takes a run within the bounds. */
  get onlyRun(): boolean {
    return this.frameCount === this.run.length && this.dirty.size === 0 && this.reset === null;
  }
  /** True when nothing at all is waiting. */
  get empty(): boolean {
    return this.frameCount === 0 && this.dirty.size === 0 && this.reset === null;
  }
  /** Frames waiting on `lane`. */
  laneSize(lane: Lane): number {
    return this.lanes[lane].size + (lane === 'instant' ? this.run.length : 0);
  }

  /** True when the lanes are over their frame or byte bound (the caller flushes or collapses). */
  get overLimit(): boolean {
    return this.frameCount > this.limits.maxPendingFrames || this.byteCount > this.limits.maxPendingBytes;
  }

  /**
   * Share in [0, 1] of the outbox the client has not taken: the fullest of
   * lanes (frames, bytes), dirty keys (count, bytes) and the sink's own
   * buffer against its high-water mark.
   */
  saturation(sinkPendingBytes: number): number {
    const l = this.limits;
    return Math.min(
      1,
      Math.max(
        this.frameCount / l.maxPendingFrames,
        this.byteCount / l.maxPendingBytes,
        this.dirty.size / l.maxDirtyKeys,
        this.dirtyByteCount / l.maxDirtyBytes,
        sinkPendingBytes / l.sinkHighWaterBytes,
      ),
    );
  }

  /**
   * Queues `frame` on `lane` (by default its own). Returns the lane it
   * landed on (a pending instant duplicate keeps the frame instant), or
   * `null` when a pending reset already covers it.
   */
  push(frame: Frame, lane: Lane = frame.lane): Lane | null {
    const run = this.run;
    if (this.frameCount === run.length && this.dirty.size === 0 && this.reset === null) {
      // Nothing pending but the run (a fan-out's usual case): no duplicate to look for, or a proof there is none.
      if (run.length === 0 || (lane === 'instant' && this.appendable(frame, run))) {
        if (lane === 'instant') run.push(frame);
        else this.ownLanes()[lane].set(frame.key, frame);
        this.frameCount++;
        this.byteCount += frame.bytes;
        return lane;
      }
    }
    this.settle();
    if (this.reset && coveredByReset(frame)) {
      this.standFor(frame.seq);
      return null;
    }
    const previous = this.remove(frame.key);
    if (previous && previous !== 'dirty') {
      if (URGENCY[previous] < URGENCY[lane]) lane = previous;
      this.metrics.coalesced?.(lane);
    }
    this.ownLanes()[lane].set(frame.key, frame);
    this.frameCount++;
    this.byteCount += frame.bytes;
    return lane;
  }

  /**
   * Appends a fan-out run to the pending run when {@link push} would append
   * each of its frames the same way and none would pass the bounds; returns
   * false and changes nothing otherwise (the caller then queues them one by
   * one). The run's own checks were made once for every recipient
   * ({@link routedRun}); here only the outbox's: O(1) before the copy.
   */
  appendRun(routed: RoutedRun): boolean {
    const frames = routed.frames;
    const run = this.run;
    if (routed.stint === undefined || frames.length === 0) return false;
    if (!this.onlyRun) return false;
    if (this.frameCount + frames.length > this.limits.maxPendingFrames || this.byteCount + routed.bytes > this.limits.maxPendingBytes) return false;
    if (run.length === 0) {
      this.run = frames.slice();
    } else {
      // What `appendable` asks of each frame, against the run's first frame.
      const first = run[0]!;
      if (first.sameKeyBefore === undefined || first.routeStint !== routed.stint) return false;
      if (routed.newestKeyBefore >= first.seq || frames[0]!.seq <= run[run.length - 1]!.seq) return false;
      this.run = run.concat(frames);
    }
    this.frameCount += frames.length;
    this.byteCount += routed.bytes;
    return true;
  }

  /** Keeps `frame` as a dirty key (latest per key), within the dirty bounds. */
  pushDirty(frame: Frame): void {
    this.settle();
    if (this.reset && coveredByReset(frame)) {
      this.standFor(frame.seq);
      return;
    }
    this.remove(frame.key);
    this.ownDirty().set(frame.key, frame);
    this.dirtyByteCount += frame.bytes;
    this.enforceDirtyBounds();
  }

  /**
   * Moves idempotent frames of `lanes` into dirty keys (pause). Frames that
   * cannot be collapsed stay where they are.
   */
  collapseIdempotent(lanes: readonly Lane[]): void {
    this.settle();
    let collapsed = 0;
    for (const lane of lanes) {
      for (const frame of [...this.lanes[lane].values()]) {
        if (!frame.idempotent) continue;
        this.pushDirty(frame);
        collapsed++;
      }
    }
    if (collapsed) this.metrics.collapsed?.(collapsed);
  }

  /**
   * Backpressure: every lane collapses into dirty keys. Frames that cannot
   * be collapsed (events, batches) are dropped, and a reset tells the client
   * so: nothing is lost silently.
   */
  collapse(): void {
    this.settle();
    let collapsed = 0;
    let dropped = 0;
    let oldestDropped = Infinity;
    for (const lane of LANES) {
      for (const frame of [...this.lanes[lane].values()]) {
        if (frame.idempotent) {
          this.pushDirty(frame);
          collapsed++;
        } else {
          this.remove(frame.key);
          dropped++;
          // A frame without a cursor (a pushed result) stands for no seq: no id claims it.
          if (frame.id !== null) oldestDropped = Math.min(oldestDropped, frame.seq);
        }
      }
    }
    if (collapsed) this.metrics.collapsed?.(collapsed);
    if (dropped) {
      this.metrics.dropped?.(dropped);
      this.requestReset('overflow', oldestDropped);
    }
  }

  /**
   * Schedules one reset. It covers every pending invalidation (they are
   * removed); progress, completion and events older than what it covers
   * still go out before it, newer ones after it. `floor`: the lowest seq of
   * frames dropped before this call that it stands for too.
   */
  requestReset(reason: ResetReason, floor = Infinity): void {
    this.settle();
    this.reset ??= reason;
    this.standFor(floor);
    for (const lane of LANES) {
      for (const frame of [...this.lanes[lane].values()]) {
        if (!coveredByReset(frame)) continue;
        this.remove(frame.key);
        this.standFor(frame.seq);
      }
    }
    for (const frame of [...this.dirty.values()]) {
      if (!coveredByReset(frame)) continue;
      this.remove(frame.key);
      this.standFor(frame.seq);
    }
  }

  /** Takes the pending reset, if any (read {@link resetFloor} and {@link resetCeil} first). */
  takeReset(): ResetReason | null {
    const reason = this.reset;
    this.reset = null;
    this.floor = Infinity;
    this.ceil = -Infinity;
    return reason;
  }

  /** Removes and returns, in seq order, the instant lane, dirty keys and the lanes asked for. */
  take(options: TakeOptions): Frame[] {
    const run = this.run;
    if (run.length !== 0) {
      // Nothing else is pending (see `run`), in seq order.
      this.run = [];
      this.frameCount = 0;
      this.byteCount = 0;
      return run;
    }
    const out: Frame[] = [];
    for (const lane of LANES) {
      if (lane === 'batched' && !options.batched) continue;
      if (lane === 'coalesced' && !options.coalesced) continue;
      const map = this.lanes[lane];
      if (map.size === 0) continue;
      for (const frame of map.values()) {
        out.push(frame);
        this.frameCount--;
        this.byteCount -= frame.bytes;
      }
      map.clear();
    }
    if (this.dirty.size) {
      for (const frame of this.dirty.values()) out.push(frame);
    }
    this.dirty = NO_DIRTY as Map<string, Frame>;
    this.dirtyByteCount = 0;
    if (this.frameCount === 0) this.lanes = NO_LANES as Readonly<Record<Lane, Map<string, Frame>>>;
    // Insertion order is seq order unless a replaced key moved a frame or lanes interleave (a burst's
    // instant frames usually are in order): sort only then.
    for (let i = 1; i < out.length; i++) {
      if (out[i]!.seq < out[i - 1]!.seq) {
        out.sort(bySeq);
        break;
      }
    }
    return out;
  }

  /**
   * Lowest seq of `epoch` still pending anywhere (`Infinity` when none is).
   * Frames without a cursor (pushed results) are not counted: no id claims them.
   */
  oldestPendingSeq(epoch: string): number {
    if (this.frameCount === 0 && this.dirty.size === 0) return Infinity;
    // The run's oldest frame is its first; past one frame, all are routed frames of its epoch (see `appendable`).
    const first = this.run[0];
    if (first !== undefined) return first.epoch === epoch && first.id !== null ? first.seq : Infinity;
    let min = Infinity;
    for (const lane of LANES) {
      // Lanes are in insertion order, which is seq order except for replaced keys; scan them.
      for (const frame of this.lanes[lane].values()) if (frame.seq < min && frame.epoch === epoch && frame.id !== null) min = frame.seq;
    }
    for (const frame of this.dirty.values()) if (frame.seq < min && frame.epoch === epoch) min = frame.seq;
    return min;
  }

  /**
   * Oldest seq of `epoch` the client still lacks once a write is out:
   * pending, or stood for by a pending reset (what the watermark labels ids against).
   */
  pendingAfter(epoch: string): number {
    return Math.min(this.oldestPendingSeq(epoch), this.floor);
  }

  /**
   * Drops everything of `epoch` whose seq is at most `seq` (covered by a
   * replay or a starting cursor). Frames without a cursor (pushed results)
   * stay: a replay never carries them.
   */
  dropUpTo(epoch: string, seq: number): void {
    this.settle();
    const covered = (frame: Frame) => frame.epoch === epoch && frame.seq <= seq && frame.id !== null;
    for (const lane of LANES) {
      for (const frame of [...this.lanes[lane].values()]) if (covered(frame)) this.remove(frame.key);
    }
    for (const frame of [...this.dirty.values()]) if (covered(frame)) this.remove(frame.key);
  }

  /**
   * Replaces each pending frame without a cursor (a pushed result or
   * refetch) by `replace(frame)`, under the same key and lane (e.g. a paused
   * connection keeps a small refetch order instead of a whole result).
   */
  replaceUncursored(replace: (frame: Frame) => Frame): void {
    this.settle();
    for (const lane of LANES) {
      const map = this.lanes[lane];
      for (const [key, frame] of map) {
        if (frame.id !== null) continue;
        const next = replace(frame);
        if (next === frame) continue;
        map.set(key, next);
        this.byteCount += next.bytes - frame.bytes;
      }
    }
  }

  /** Forgets everything (the connection closed). */
  clear(): void {
    this.run = [];
    this.lanes = NO_LANES as Readonly<Record<Lane, Map<string, Frame>>>;
    this.dirty = NO_DIRTY as Map<string, Frame>;
    this.frameCount = 0;
    this.byteCount = 0;
    this.dirtyByteCount = 0;
    this.reset = null;
    this.floor = Infinity;
    this.ceil = -Infinity;
  }

  /** The lanes, allocated on first write. */
  private ownLanes(): Readonly<Record<Lane, Map<string, Frame>>> {
    if (this.lanes === NO_LANES) this.lanes = { instant: new Map(), batched: new Map(), coalesced: new Map() };
    return this.lanes;
  }

  /** The dirty keys, allocated on first write. */
  private ownDirty(): Map<string, Frame> {
    if (this.dirty === NO_DIRTY) this.dirty = new Map();
    return this.dirty;
  }

  /** Moves the run into the instant lane, before anything that adds to the lanes otherwise or scans them. */
  private settle(): void {
    const run = this.run;
    if (run.length === 0) return;
    this.run = [];
    const instant = this.ownLanes().instant;
    for (const frame of run) instant.set(frame.key, frame);
  }

  /**
   * True when `frame` can join `run` keeping its keys distinct and its seqs
   * ascending, without a lookup: it and the run's first frame were stamped
   * by the fan-out in one stint (so every frame of the run was routed before
   * it, in seq order), and the newest frame of its key routed before it is
   * older than the run.
   */
  private appendable(frame: Frame, run: readonly Frame[]): boolean {
    const first = run[0]!;
    return (
      frame.sameKeyBefore !== undefined &&
      first.sameKeyBefore !== undefined &&
      frame.routeStint === first.routeStint &&
      frame.sameKeyBefore < first.seq &&
      frame.seq > run[run.length - 1]!.seq
    );
  }

  private standFor(seq: number): void {
    if (seq < this.floor) this.floor = seq;
    if (seq > this.ceil && seq !== Infinity) this.ceil = seq;
  }

  /** True when a frame of `key` is pending (in any lane or dirty). */
  has(key: string): boolean {
    return this.pending(key) !== undefined;
  }

  /** The frame of `key` that is pending (in any lane or dirty), if any. */
  pending(key: string): Frame | undefined {
    for (const frame of this.run) if (frame.key === key) return frame;
    if (this.run.length !== 0) return undefined;
    return this.lanes.instant.get(key) ?? this.lanes.batched.get(key) ?? this.lanes.coalesced.get(key) ?? this.dirty.get(key);
  }

  /** Removes `key` wherever it is pending; returns where it was. */
  private remove(key: string): Lane | 'dirty' | null {
    for (const lane of LANES) {
      const map = this.lanes[lane];
      // A burst usually fills one lane: skip the lookups in the others.
      if (map.size === 0) continue;
      const frame = map.get(key);
      if (frame) {
        map.delete(key);
        this.frameCount--;
        this.byteCount -= frame.bytes;
        return lane;
      }
    }
    const frame = this.dirty.size === 0 ? undefined : this.dirty.get(key);
    if (frame) {
      this.dirty.delete(key);
      this.dirtyByteCount -= frame.bytes;
      return 'dirty';
    }
    return null;
  }

  /** Past its bounds the dirty set overflows (see `overflow.ts`, the rule a replay follows too) into one reset. */
  private enforceDirtyBounds(): void {
    const { maxDirtyKeys, maxDirtyBytes } = this.limits;
    if (this.dirty.size <= maxDirtyKeys && this.dirtyByteCount <= maxDirtyBytes) return;
    const { dropped } = overflow([...this.dirty.values()], { maxKeys: maxDirtyKeys, maxBytes: maxDirtyBytes });
    // The reset covers the invalidations of the lanes as well as the dirty ones.
    this.requestReset('overflow');
    for (const frame of dropped) {
      this.remove(frame.key);
      this.standFor(frame.seq);
    }
    if (dropped.length) this.metrics.dropped?.(dropped.length);
  }
}

/**
 * A fan-out run (`Fanout.routeRun`): frames of consecutive entries of one
 * route, with what every recipient's {@link Outbox.appendRun} needs of them,
 * worked out once.
 */
export interface RoutedRun {
  readonly frames: readonly Frame[];
  /** Their bytes. */
  readonly bytes: number;
  /**
   * The stint they were stamped in, when `push` would append each to a run
   * that starts with the first (all instant, stamped in one stint, seqs
   * ascending, each one's newest same-key seq below the first's seq); else
   * `undefined` (they go one by one).
   */
  readonly stint: number | undefined;
  /** The highest `sameKeyBefore` of them. */
  readonly newestKeyBefore: number;
}

/** Describes `frames` (in routing order) for {@link Outbox.appendRun}. */
export function routedRun(frames: readonly Frame[]): RoutedRun {
  let bytes = 0;
  let newestKeyBefore = -Infinity;
  let ok = frames.length > 0;
  const first = frames[0];
  for (let i = 0; ok && i < frames.length; i++) {
    const frame = frames[i]!;
    bytes += frame.bytes;
    if (frame.lane !== 'instant' || frame.sameKeyBefore === undefined || frame.routeStint !== first!.routeStint) ok = false;
    else if (i > 0 && (frame.sameKeyBefore >= first!.seq || frame.seq <= frames[i - 1]!.seq)) ok = false;
    else if (frame.sameKeyBefore > newestKeyBefore) newestKeyBefore = frame.sameKeyBefore;
  }
  return { frames, bytes, stint: ok ? first!.routeStint : undefined, newestKeyBefore };
}
