import type { LiveTimers, TimerHandle } from './clock.ts';
import { MAX_CURSOR_BEYOND, type Cursor } from '../shared/cursor.ts';
import type { ConnectionGroups } from './groups.ts';
import type { LiveMetrics } from './metrics.ts';
import { Outbox, type OutboxLimits, type RoutedRun } from './outbox.ts';
import { LANES, type Lane, type LiveControlMessage, type LivePushMessage, type ResetReason } from '../shared/messages.ts';
import { LiveError } from '../shared/errors.ts';
import { isPushFrame, pushKey } from './frames.ts';
import type { CloseReason, Frame, LiveSink } from './sink.ts';
import { laneIntervalMs, type ThrottleSettings } from './throttle.ts';
import { Watermark } from './watermark.ts';

/** The hub services a connection needs; supplied by the hub. */
export interface ConnectionHost {
  readonly timers: LiveTimers;
  readonly metrics: LiveMetrics;
  readonly limits: OutboxLimits;
  readonly throttle: ThrottleSettings;
  /** Ask for `flush('instant')` at the end of this tick (queued once however often it is asked). */
  requestInstantFlush(connection: LiveConnection): void;
  /** Builds a reset frame at the current head. */
  resetFrame(reason: ResetReason): Frame;
  /** Builds a control frame (no cursor). */
  controlFrame(message: LiveControlMessage): Frame;
  /** Builds a pushed result or refetch frame (no cursor); `publishedAt` as `Hub.pushFrame`'s. */
  pushFrame(message: LivePushMessage, publishedAt?: number): Frame;
  /** Removes the connection from every index. */
  unregister(connection: LiveConnection): void;
  /** The connection resumed, after writing what was pending (the hub's `onResume` listeners). @default none */
  resumed?(connection: LiveConnection): void;
}

/** A replay read for one connection (see {@link LiveConnection.sendReplay}). */
export interface Replay {
  /** Entries the client lacks, filtered for this connection, oldest first. */
  readonly frames: readonly Frame[];
  /** Where the client resumes from: what it already holds. */
  readonly cursor: Cursor;
  /** The head the snapshot was taken at, when known (a synchronous backend): live frames up to it are never sent again. @default 0 */
  readonly snapshotSeq?: number;
  /** Oldest seq of what the replay left out (it overflowed): an `overflow` reset stands for it from there on. @default none */
  readonly resetFloor?: number;
}

type TimedLane = 'batched' | 'coalesced';
/**
 * Saturation from which a connection takes no pushed result (see
 * {@link LiveConnection.congested}): at half its bounds its batched window
 * already doubles (`throttle.ts`), and a whole result would take it toward a
 * collapse, which drops results and costs a reset.
 */
const CONGESTED_SATURATION = 0.5;
const TIMED: readonly TimedLane[] = ['batched', 'coalesced'];
const bySeq = (a: Frame, b: Frame) => a.seq - b.seq;

/**
 * One live stream and its outbox.
 *
 * Lanes: `instant` frames are written at the end of the tick they were
 * published in (one write per connection per tick); `batched` frames when the
 * batch window opened by the first of them closes; `coalesced` frames when
 * their coalescing window closes. Windows follow the connection's saturation
 * (see `throttle.ts`) and are re-read when they close, so a connection that
 * falls behind waits longer and one that catches up is flushed sooner.
 *
 * Ordering: frames leave in publish (`seq`) order within a lane and within
 * one write. A newer frame for a pending key replaces it (same-tick
 * deduplication on the instant lane, last writer wins on the others), so a
 * key's values never arrive out of order. Across lanes, an `instant` frame
 * overtakes pending `batched`/`coalesced` ones, and a batched flush overtakes
 * a still-open coalescing window.
 *
 * Cursor: each frame's id says exactly what the client has once it read
 * that frame (see `Watermark`): the contiguous watermark, plus the seqs
 * already written beyond it when frames overtook older pending ones. A
 * resume from it replays what the client lacks and nothing it has, so any
 * tRPC client sees each frame once. Frames written in order keep the shared
 * id (`epoch:seq`, encoded once for every recipient).
 *
 * Backpressure: the outbox is bounded (see `OutboxLimits`). A full outbox on
 * a sink that takes data is written at once; on a sink over its high-water
 * mark it collapses into dirty keys, and past their bound into one reset.
 * Nothing here ever blocks or throws into the publisher.
 */
export class LiveConnection {
  private readonly outbox: Outbox;
  /** When each timed lane's window opened (its first pending frame), or `null`. */
  private readonly openedAt: Record<TimedLane, number | null> = { batched: null, coalesced: null };
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;
  private waitingForDrain = false;
  private pausedState = false;
  private closedState = false;
  /** Replay in progress (async backends): hold live frames until it is written. */
  private holding = false;
  /** Highest seq the replay snapshot covered: live frames up to it were already sent. */
  private replayedThrough = 0;
  /** Epoch of `replayedThrough`: a seq says nothing about frames of another epoch (e.g. a local fallback). */
  private replayedEpoch: string | null = null;
  /** What the client holds: gives each written frame its id. */
  private readonly watermark = new Watermark();
  /**
   * Signals of one origin the client already holds under another name (it
   * resumed from a cursor of that origin's local fallback, see
   * {@link holdsFrom}): their later copies are not written. Lives as long as
   * the stream; its ids do not carry it.
   */
  private held: { readonly origin: string; readonly upTo: number; readonly beyond: readonly number[] } | null = null;

  constructor(
    /** The hub-assigned id (also sent in the stream's `hello`). */
    readonly id: string,
    /** The tenant this connection belongs to; it receives nothing of other scopes. */
    readonly scope: string,
    /** The topic patterns it subscribed to. */
    readonly patterns: readonly string[],
    /** Its attributes, which publishes' group filters match. */
    readonly groups: ConnectionGroups,
    private readonly sink: LiveSink,
    private readonly host: ConnectionHost,
  ) {
    this.outbox = new Outbox(host.limits, host.metrics);
  }

  /** True once the connection was closed (by the client, the hub or a drain); it gets nothing more. */
  get closed(): boolean {
    return this.closedState;
  }

  /** True while paused (`pause()`, or `Hub.setPaused`): idempotent signals collapse into dirty keys until `resume()`. */
  get paused(): boolean {
    return this.pausedState;
  }

  /** Frames waiting in lanes (dirty keys not included). */
  get pendingFrames(): number {
    return this.outbox.frames;
  }

  /** Payload bytes waiting in lanes. */
  get pendingBytes(): number {
    return this.outbox.bytes;
  }

  /** Distinct keys waiting after a collapse or a pause. */
  get dirtyKeys(): number {
    return this.outbox.dirtyKeys;
  }

  /** Payload bytes of dirty keys. */
  get dirtyBytes(): number {
    return this.outbox.dirtyBytes;
  }

  /** True when a reset is waiting to be written. */
  get resetPending(): boolean {
    return this.outbox.resetReason !== null;
  }

  /**
   * Share of the outbox in use, from what the client has not taken yet: lane
   * frames and bytes, dirty keys, and the sink's own buffer.
   */
  saturation(): number {
    return this.outbox.saturation(this.sink.pendingBytes());
  }

  /** The current flush interval of a timed lane (default: batched). */
  flushIntervalMs(lane: TimedLane = 'batched'): number {
    return laneIntervalMs(lane, this.saturation(), this.host.throttle);
  }

  /** Queues a published frame on its lane. Never blocks, never throws. */
  enqueue(frame: Frame): void {
    if (this.closedState || (frame.epoch === this.replayedEpoch && frame.seq <= this.replayedThrough)) return;
    if (this.held !== null && frame.origin === this.held.origin && this.holds(frame.serial!)) return;
    if (this.pausedState && frame.idempotent) {
      // While paused only the latest value per key matters.
      this.outbox.pushDirty(frame);
      return;
    }
    this.queue(frame);
  }

  /**
   * Queues the frames of one fan-out run (`Fanout.routeRun`: entries of one
   * route, in seq order, stamped in one stint) exactly as {@link enqueue}
   * would one by one. In the usual case (open, not paused, nothing held back
   * or replayed past them, the outbox holding only its run and room for
   * them) they join the pending run in one step; any other case takes them
   * one by one. Frame by frame, queueing was about a third of the hub's CPU
   * in a 200-event burst to 1,000 streams (in-process profile, 2026-12-07).
   * Returns false when they went one by one (the fan-out's turn budget
   * counts each of them then).
   */
  enqueueRun(routed: RoutedRun): boolean {
    const frames = routed.frames;
    if (frames.length === 0) return true;
    if (this.closedState) return true;
    const first = frames[0]!;
    if (
      this.pausedState ||
      this.held !== null ||
      (first.epoch === this.replayedEpoch && first.seq <= this.replayedThrough) ||
      !this.outbox.appendRun(routed)
    ) {
      for (const frame of frames) this.enqueue(frame);
      return false;
    }
    this.requestFlush();
    return true;
  }

  /**
   * False when a fan-out run given to it now would go frame by frame
   * (paused, holding back a takeover's frames, or frames pending besides a
   * run): the fan-out prices its runs by it.
   */
  get takesRuns(): boolean {
    return !this.pausedState && this.held === null && this.outbox.onlyRun;
  }

  /**
   * Queues a pushed result or refetch order (`Hub.pushFrame`, one frame
   * shared by every recipient) through the outbox like any frame: instant
   * lane, backpressure, pause and close apply. Unlike {@link enqueue} it is
   * never dropped as covered by a replay or a starting cursor (it has no
   * cursor and no replay carries it), and it never moves the stream's
   * watermark or the ids of other frames. A newer frame of the same watch
   * replaces a pending one. While paused a result becomes a refetch order
   * (`paused`): a paused stream holds no data. Never blocks.
   * @throws LiveError BAD_SIGNAL for a frame that is not a pushed result or refetch.
   */
  push(frame: Frame): void {
    if (frame.id !== null || !isPushFrame(frame)) throw new LiveError('BAD_SIGNAL', 'push takes pushed result and refetch frames only');
    if (this.closedState) return;
    const out = this.pausedState ? this.withoutData(frame) : frame;
    // It replaces a pending frame of its watch, whose change it reflects too: its latency counts from the older one.
    const pending = this.outbox.pending(out.key);
    this.queue(pending && pending.publishedAt < out.publishedAt ? { ...out, publishedAt: pending.publishedAt } : out);
  }

  /**
   * True when a pushed result of `bytes` should not be queued now (the
   * caller sends a refetch order instead): the outbox, with the sink's own
   * buffer, is at half its bounds or more, or `bytes` more would pass its
   * byte bound.
   */
  congested(bytes: number): boolean {
    return this.saturation() >= CONGESTED_SATURATION || this.outbox.bytes + bytes > this.host.limits.maxPendingBytes;
  }

  /**
   * True while a pushed frame of `watch` waits in the outbox: a newer one
   * would replace it, so the stream would never see the result a delta's
   * base names (the pusher sends the whole result instead).
   */
  pushPending(watch: string): boolean {
    return this.outbox.has(pushKey(watch));
  }

  /** A pushed result or delta as a refetch order (`paused`); other frames as they are. */
  private withoutData(frame: Frame): Frame {
    const message = frame.message;
    if (message.kind !== 'result' && message.kind !== 'delta') return frame;
    return this.host.pushFrame({ kind: 'refetch', watch: message.watch, epoch: message.epoch, seq: message.seq, reason: 'paused' }, frame.publishedAt);
  }

  private queue(frame: Frame): void {
    const alone = this.outbox.empty;
    const lane = this.outbox.push(frame);
    // One instant frame alone on a writable connection is no burst, whatever its size: it is written
    // at the end of the tick like any instant frame (and waits for a lagging sink rather than collapse).
    if (this.outbox.overLimit && !(alone && lane === 'instant' && this.canWrite())) {
      // A full outbox on a sink that takes data is just a burst: write it
      // now. Only a sink that is not taking data makes the outbox collapse.
      if (this.canWrite() && this.sink.pendingBytes() <= this.host.limits.sinkHighWaterBytes) {
        this.flush('all');
        return;
      }
      this.outbox.collapse();
      this.openWindow('batched');
      this.reschedule();
    }
    if (this.outbox.resetReason || lane === 'instant') this.requestFlush();
    else if (lane) this.openWindow(lane);
  }

  /**
   * Writes the hello of a fresh stream, which carries the cursor it starts
   * from (the head), ahead of anything queued; entries up to that cursor
   * still being routed are not sent to it (it starts after them).
   */
  sendStart(frame: Frame): void {
    if (this.closedState) return;
    this.coveredThrough(frame.epoch, frame.seq);
    this.sink.write([frame]);
  }

  /** Writes a control frame ahead of anything queued (hello, reconnect hints). */
  sendControl(message: LiveControlMessage): void {
    if (this.closedState) return;
    this.sink.write([this.host.controlFrame(message)]);
  }

  /**
   * Answers a resume whose cursor could not be replayed (malformed, unknown,
   * evicted, of another epoch): the cursor means nothing here, so the client
   * starts over at the head with a reset written at once, ahead of live
   * frames held meanwhile, and no id it reads before the reset claims a thing.
   * Unlike {@link reset}, which queues a reset behind what the client has.
   */
  sendReset(reason: ResetReason): void {
    if (this.closedState) return;
    this.holding = false;
    const frame = this.host.resetFrame(reason);
    this.coveredThrough(frame.epoch, frame.seq);
    this.write(this.watermark.label([frame], this.outbox));
    this.host.metrics.resetSent?.(reason);
    if (!this.outbox.empty) this.flush('all');
  }

  /**
   * Writes a replay (frames already filtered for this connection, oldest
   * first) right after registration, then live frames held meanwhile. With a
   * `resetFloor` (the replay overflowed), a reset follows the frames older
   * than it and precedes the newer ones.
   */
  sendReplay(replay: Replay): void {
    if (this.closedState) return;
    this.holding = false;
    const { frames, cursor, snapshotSeq = 0, resetFloor } = replay;
    this.watermark.startAt(cursor);
    // Live frames that arrived while an async replay was read are covered by it.
    const last = frames.length ? frames[frames.length - 1]! : null;
    this.coveredThrough(last?.epoch ?? cursor.epoch, Math.max(snapshotSeq, last?.seq ?? 0));
    // Frames newer than the oldest one a reset stands for go out after the reset (see `flush`).
    let direct = frames.length;
    if (resetFloor !== undefined) {
      while (direct > 0 && frames[direct - 1]!.seq > resetFloor) direct--;
      for (let i = direct; i < frames.length; i++) this.outbox.push(frames[i]!);
      this.outbox.requestReset('overflow', resetFloor);
    }
    if (direct) {
      this.sink.write(this.watermark.label(frames.slice(0, direct), this.outbox));
      this.host.metrics.delivered?.('replay', direct);
    }
    if (!this.outbox.empty) this.flush('all');
  }

  /** Marks everything of `epoch` up to `seq` as sent: such frames are dropped from the outbox and never enqueued again. */
  private coveredThrough(epoch: string, seq: number): void {
    if (epoch !== this.replayedEpoch) {
      this.replayedEpoch = epoch;
      this.replayedThrough = seq;
    } else {
      this.replayedThrough = Math.max(this.replayedThrough, seq);
    }
    this.outbox.dropUpTo(epoch, this.replayedThrough);
    this.watermark.covered(epoch, this.replayedThrough);
  }

  /**
   * The client resumed from `cursor`, a position in `origin`'s local fallback
   * history, whose seqs are that origin's serials: it holds every one of
   * them up to the watermark that was for it, and those listed beyond. A
   * copy of one (the same publish sequenced again in the shared history) is
   * not written to it again.
   */
  holdsFrom(origin: string, cursor: Cursor): void {
    this.held = { origin, upTo: cursor.seq, beyond: cursor.beyond };
  }

  private holds(serial: number): boolean {
    return serial <= this.held!.upTo || this.held!.beyond.includes(serial);
  }

  /** Holds live frames until {@link sendReplay} or {@link sendReset} (async replay). */
  hold(): void {
    this.holding = true;
  }

  /** Tells the client to drop every cached query (at the current head). */
  reset(reason: ResetReason): void {
    if (this.closedState) return;
    this.outbox.requestReset(reason);
    this.requestFlush();
  }

  /**
   * Pauses delivery (e.g. every tab of the browser is hidden): pending and
   * new idempotent signals (invalidations, progress, completion) collapse
   * into dirty keys, other frames wait within the outbox bounds; everything
   * is delivered on {@link resume}. Past the bounds, one reset (counted).
   */
  pause(): void {
    if (this.closedState || this.pausedState) return;
    this.pausedState = true;
    this.clearTimer();
    this.outbox.collapseIdempotent(LANES);
    // Pending results become refetch orders: a paused stream holds no data.
    this.outbox.replaceUncursored((frame) => this.withoutData(frame));
  }

  /**
   * Resumes delivery and writes everything pending, then tells the hub's
   * `onResume` listeners (the result pusher computes what the stream was
   * owed while paused).
   */
  resume(): void {
    if (this.closedState || !this.pausedState) return;
    this.pausedState = false;
    this.flush('all');
    this.host.resumed?.(this);
  }

  /**
   * Writes what is due: `instant` writes the instant lane, dirty keys, a
   * pending reset and the timed lanes whose window has closed; `all` writes
   * everything. Waits for the sink to drain when its buffer is over the
   * high-water mark. Returns how many frames it wrote (the hub's slice budget).
   */
  flush(mode: 'instant' | 'all'): number {
    if (!this.canWrite()) return 0;
    if (this.sink.pendingBytes() > this.host.limits.sinkHighWaterBytes) {
      this.waitForDrain();
      return 0;
    }
    const outbox = this.outbox;
    const resetFloor = outbox.resetFloor;
    const resetCeil = outbox.resetCeil;
    const reset = outbox.resetReason === null ? null : outbox.takeReset();
    let batched = mode === 'all' || reset !== null || this.windowClosed('batched');
    let coalesced = mode === 'all' || reset !== null || this.windowClosed('coalesced');
    const out = outbox.take({ batched, coalesced });
    // With nothing left pending (a fan-out's usual case) no id lists seqs beyond the watermark.
    if (!reset && out.length && !outbox.empty && this.watermark.beyondAfter(out, this.outbox) > MAX_CURSOR_BEYOND) {
      // The id would list too many seqs written past an older pending frame (a long import's
      // progress overtaken by many instant frames): write the older lanes now, early, so the
      // watermark moves past them and the id is short again.
      out.push(...outbox.take({ batched: true, coalesced: true }));
      out.sort(bySeq);
      batched = coalesced = true;
    }
    if (batched) this.openedAt.batched = null;
    if (coalesced) this.openedAt.coalesced = null;
    if (reset) {
      // Everything pending goes out with it. In the place of the oldest frame it stands for: an
      // id written before it then claims nothing the client only gets through the reset.
      const frame = this.host.resetFrame(reset);
      // A reset in an epoch the client holds nothing of starts it there, at the head.
      if (!this.watermark.holds(frame.epoch)) this.coveredThrough(frame.epoch, frame.seq);
      // What it stands for was routed here: nothing up to it comes later.
      else if (resetCeil !== -Infinity) this.watermark.covered(frame.epoch, resetCeil);
      let at = out.length;
      while (at > 0 && out[at - 1]!.seq > resetFloor) at--;
      out.splice(at, 0, frame);
      this.host.metrics.resetSent?.(reset);
    }
    if (out.length) this.write(this.watermark.label(out, this.outbox, resetFloor));
    this.reschedule();
    return out.length;
  }

  /** True when `lane`'s window is open and has lasted its interval at the current saturation. */
  private windowClosed(lane: TimedLane): boolean {
    const opened = this.openedAt[lane];
    return opened !== null && this.host.timers.now() >= opened + laneIntervalMs(lane, this.saturation(), this.host.throttle);
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
    this.outbox.clear();
    this.host.unregister(this);
  }

  private canWrite(): boolean {
    return !this.closedState && !this.pausedState && !this.holding;
  }

  private requestFlush(): void {
    if (this.canWrite()) this.host.requestInstantFlush(this);
  }

  private write(frames: Frame[]): void {
    this.sink.write(frames);
    const metrics = this.host.metrics;
    metrics.flushBatch?.(frames.length);
    const delivered = metrics.delivered !== undefined;
    const latency = metrics.publishToWrite !== undefined || metrics.pushToWrite !== undefined;
    if (!delivered && !latency) return;
    // Once per recipient of a fan-out: one pass over the write's frames for every metric (it was
    // two), and no allocation when they are of one lane. This method's own time, mostly those
    // passes, was ~5% of the server's CPU while 200-event bursts went to 1,000 streams (profile,
    // 2026-12-07, beside other work). Only a frame without a cursor can be a pushed one.
    const lane = frames[0]!.lane;
    let oneLane = true;
    let oldest = Infinity;
    let oldestPush = Infinity;
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i]!;
      if (frame.lane !== lane) oneLane = false;
      const at = frame.publishedAt;
      if (at < oldest) oldest = at;
      if (at < oldestPush && frame.id === null && isPushFrame(frame)) oldestPush = at;
    }
    if (delivered) {
      if (oneLane) {
        metrics.delivered!(lane, frames.length);
      } else {
        const counts: Partial<Record<Lane, number>> = {};
        for (const frame of frames) counts[frame.lane] = (counts[frame.lane] ?? 0) + 1;
        for (const [other, n] of Object.entries(counts)) metrics.delivered!(other as Lane, n!);
      }
    }
    if (latency) {
      const now = this.host.timers.now();
      metrics.publishToWrite?.(now - oldest);
      if (oldestPush !== Infinity) metrics.pushToWrite?.(now - oldestPush);
    }
  }

  /** Opens `lane`'s window if it is not open yet. */
  private openWindow(lane: TimedLane): void {
    if (this.openedAt[lane] !== null) return;
    this.openedAt[lane] = this.host.timers.now();
    this.reschedule();
  }

  /**
   * Arms the one timer of this connection for the earliest window that
   * closes, with the current saturation. Called whenever a window opens or
   * something was written (saturation fell, so windows may close sooner).
   */
  private reschedule(): void {
    if (!this.canWrite()) {
      this.clearTimer();
      return;
    }
    if (this.outbox.empty) {
      // Nothing to wait for (the usual case once a fan-out's frame is written): what follows would close both windows.
      this.openedAt.batched = this.openedAt.coalesced = null;
      this.clearTimer();
      return;
    }
    // The dirty set rides on the batched window.
    if (this.outbox.laneSize('batched') === 0 && this.outbox.dirtyKeys === 0) this.openedAt.batched = null;
    if (this.outbox.laneSize('coalesced') === 0) this.openedAt.coalesced = null;
    const saturation = this.saturation();
    // Adapt the other way too: when a lagging sink catches up, re-read the
    // windows (and write a waiting reset) at once instead of waiting out a long window.
    if (!this.outbox.empty && saturation >= 0.1 && this.sink.pendingBytes() > 0) this.waitForDrain();
    let next = Infinity;
    for (const lane of TIMED) {
      const opened = this.openedAt[lane];
      if (opened !== null) next = Math.min(next, opened + laneIntervalMs(lane, saturation, this.host.throttle));
    }
    if (next === Infinity) {
      this.clearTimer();
      return;
    }
    if (this.timer !== null && this.timerAt <= next) return;
    this.clearTimer();
    const now = this.host.timers.now();
    this.timerAt = next;
    this.timer = this.host.timers.setTimeout(() => {
      this.timer = null;
      this.timerAt = Infinity;
      this.flush('instant');
    }, Math.max(0, next - now));
  }

  private clearTimer(): void {
    if (this.timer === null) return;
    this.host.timers.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = Infinity;
  }

  private waitForDrain(): void {
    if (this.waitingForDrain) return;
    this.waitingForDrain = true;
    this.sink.onDrain(() => {
      this.waitingForDrain = false;
      this.flush('instant');
    });
  }
}
