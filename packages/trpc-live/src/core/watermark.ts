import { formatCursor, MAX_CURSOR_BEYOND, type Cursor } from '../shared/cursor.ts';
import type { Frame } from './sink.ts';

/** What is still pending on the stream (the connection's outbox). */
export interface PendingSource {
  /** Oldest seq of `epoch` the client still lacks once a write is out (`Infinity` when none). */
  pendingAfter(epoch: string): number;
}

/**
 * What one stream's client holds, as the cursor of the last frame it read:
 * the contiguous watermark (every frame of the epoch up to it that the
 * stream should get was written, superseded by a newer value of its key, or
 * covered by a reset) plus the seqs written beyond it. Lanes reorder frames
 * (an instant frame overtakes a pending progress frame), so a plain
 * `epoch:seq` would either skip the pending frame or make a resume send the
 * overtaking one twice; this id says exactly what the client has, so a
 * client that resumes from the last id it saw (any tRPC client: tRPC sends
 * it back as `lastEventId`) gets each frame once.
 *
 * Relies on routing in seq order within an epoch: when a frame is routed,
 * every older entry was routed already, so a seq below the oldest pending
 * frame that is neither written nor pending was not for this stream (or was
 * superseded). Frames written in order keep their shared id `epoch:seq`
 * (encoded once for every recipient); only a frame written while an older
 * one is pending, or right after such frames, gets an id of its own.
 */
export class Watermark {
  private epoch: string | null = null;
  /** The contiguous watermark. */
  private seq = 0;
  /** Seqs above `seq` written, ascending. */
  private beyond: number[] = [];
  /** Highest seq written in `epoch`. */
  private written = 0;
  /**
   * Highest seq of `epoch` covered without being written: by a start, a
   * replay snapshot, or a reset (the frames it stands for). Frames routed and
   * then superseded need no note: their newer value is written or pending.
   */
  private coveredTo = 0;
  /**
   * A lone frame of `epoch` with a seq above this keeps its shared id:
   * `max(seq, coveredTo)` when nothing is listed, else `Infinity`. Kept up to
   * date so the check per recipient of a fan-out reads one field.
   */
  private plainAbove = 0;

  /** The client holds `cursor` (a resume, before its replay is written). */
  startAt(cursor: Cursor): void {
    this.epoch = cursor.epoch;
    this.seq = cursor.seq;
    this.beyond = [...cursor.beyond];
    this.written = this.beyond.length ? this.beyond[this.beyond.length - 1]! : cursor.seq;
    this.coveredTo = this.written;
    this.refresh();
  }

  /** True when the stream's position is in `epoch`. */
  holds(epoch: string): boolean {
    return this.epoch === epoch;
  }

  /**
   * Everything of `epoch` up to `seq` is covered (a fresh stream's start, a
   * replay snapshot, a reset): nothing up to it is routed to the stream
   * afterwards. In another epoch, the stream starts over there at `seq`.
   */
  covered(epoch: string, seq: number): void {
    if (epoch !== this.epoch) this.startAt({ epoch, seq, beyond: [] });
    else if (seq > this.coveredTo) {
      this.coveredTo = seq;
      this.refresh();
    }
  }

  /**
   * How many seqs the id would list after writing `frames` (seq order);
   * `source` as in {@link label}. The caller keeps this within
   * {@link MAX_CURSOR_BEYOND} by writing the older lanes too. No frame of the
   * write gets a longer id than the last one: a frame's id lists only seqs
   * above the next frame still missing.
   */
  beyondAfter(frames: readonly Frame[], source: PendingSource): number {
    if (this.epoch === null) return 0;
    const pending = source.pendingAfter(this.epoch);
    if (pending === Infinity) return 0;
    let written = this.written;
    for (const frame of frames) if (frame.epoch === this.epoch && frame.seq > written) written = frame.seq;
    const watermark = Math.max(this.seq, Math.min(pending - 1, written));
    let count = 0;
    for (const seq of this.beyond) if (seq > watermark) count++;
    for (const frame of frames) if (frame.epoch === this.epoch && frame.id !== null && frame.seq > watermark) count++;
    return count;
  }

  /**
   * The common case of a fan-out, kept to a few compares per frame (it runs
   * once per recipient): `frames` (one, or a burst's) are cursored frames of
   * this epoch in ascending seq order, none a reset, all above what the
   * client holds, with nothing older pending or listed. Then every shared
   * id is exact and the watermark moves to the last frame, as the general
   * rule of {@link label} would (a 200-event burst to 1,000 streams spent
   * ~8% of the hub's CPU in that rule's per-frame work, profile 2026-12-07).
   * Returns false (and changes nothing) otherwise.
   */
  private inOrder(frames: readonly Frame[], source: PendingSource): boolean {
    let above = this.plainAbove;
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i]!;
      if (frame.seq <= above || frame.epoch !== this.epoch || frame.id === null || frame.message.kind === 'reset') return false;
      above = frame.seq;
    }
    if (source.pendingAfter(this.epoch!) !== Infinity) return false;
    this.seq = this.written = this.plainAbove = above;
    return true;
  }

  /**
   * Gives each frame of one write (seq order, a reset last) the id that says
   * what the client holds once it has read that frame; returns `frames`
   * with re-labelled copies where the shared id would say something else.
   * `source.pendingAfter(epoch)` is the oldest seq of `epoch` still pending once
   * this write is out (`Infinity` when none); `resetFloor` the oldest seq a
   * reset in this write stands for (it is placed there, in seq order).
   */
  label(frames: Frame[], source: PendingSource, resetFloor = Infinity): Frame[] {
    if (frames.length !== 0 && this.inOrder(frames, source)) return frames;
    let pending = Infinity;
    let pendingEpoch: string | null = null;
    let resetInWrite = false;
    for (const frame of frames) if (frame.message.kind === 'reset') resetInWrite = true;
    for (let i = 0; i < frames.length; i++) {
      const frame = frames[i]!;
      if (frame.id === null) continue;
      if (frame.message.kind === 'reset') {
        // Everything pending goes out in this write, so once the frames after it are read the
        // client has all that was routed here. Not the head the reset points at: entries up to
        // it that are still being routed come later and must not be skipped by a resume.
        if (frame.epoch !== this.epoch) this.startAt({ epoch: frame.epoch, seq: frame.seq, beyond: [] });
        const next = this.nextMissing(frames, i, Infinity, Infinity);
        const all = Math.max(this.written, this.coveredTo);
        this.advance(next === Infinity ? all : Math.min(next - 1, all));
        frames[i] = this.relabel(frame);
        continue;
      }
      if (frame.epoch !== this.epoch) this.startAt({ epoch: frame.epoch, seq: 0, beyond: [] });
      const epoch = frame.epoch;
      if (pendingEpoch !== epoch) {
        pendingEpoch = epoch;
        pending = source.pendingAfter(epoch);
      }
      if (frame.seq > this.written) this.written = frame.seq;
      const next = this.nextMissing(frames, i, pending, resetFloor);
      this.advance(next === Infinity ? Math.max(this.written, this.coveredTo) : Math.min(next - 1, this.written));
      // Written in order (the usual case), the watermark is past it now and nothing is listed.
      if (frame.seq > this.seq) this.addBeyond(frame.seq);
      // The shared id `epoch:seq` is exact when nothing is listed and nothing above it was written:
      // seqs between it and the watermark were not for this stream (or come later in this write, which a
      // resume from it sends again). Not beside a reset, which stands for frames it never sent. Keeping it
      // spares a copy and a re-encoding per frame and recipient where seqs have gaps: every frame of a
      // replay but the last, and every frame of a multi-frame write when other tenants publish between.
      const exact = this.beyond.length === 0 && (this.seq === frame.seq || (!resetInWrite && this.written === frame.seq));
      if (!exact) frames[i] = this.relabel(frame);
    }
    this.refresh();
    return frames;
  }

  /**
   * The oldest seq the client still lacks after reading `frames[i]`: the
   * next frame of this write (a reset counts as the oldest seq it stands
   * for), or the oldest left pending.
   */
  private nextMissing(frames: readonly Frame[], i: number, pending: number, resetFloor: number): number {
    for (let j = i + 1; j < frames.length; j++) {
      const later = frames[j]!;
      if (later.id === null || later.epoch !== this.epoch) continue;
      return Math.min(later.message.kind === 'reset' ? resetFloor : later.seq, pending);
    }
    return pending;
  }

  /** The id for the current position. */
  id(): string {
    // MAX_CURSOR_BEYOND is kept by the connection's flush; past it (never expected),
    // list the lowest ones only: a resume then resends the rest (a duplicate), never skips one.
    const beyond = this.beyond.length > MAX_CURSOR_BEYOND ? this.beyond.slice(0, MAX_CURSOR_BEYOND) : this.beyond;
    return formatCursor(this.epoch!, this.seq, beyond);
  }

  private refresh(): void {
    this.plainAbove = this.beyond.length !== 0 ? Infinity : Math.max(this.seq, this.coveredTo);
  }

  private relabel(frame: Frame): Frame {
    return { ...frame, id: this.id(), wire: undefined };
  }

  private advance(watermark: number): void {
    if (watermark <= this.seq) return;
    this.seq = watermark;
    let drop = 0;
    while (drop < this.beyond.length && this.beyond[drop]! <= watermark) drop++;
    if (drop) this.beyond.splice(0, drop);
  }

  private addBeyond(seq: number): void {
    const beyond = this.beyond;
    let at = beyond.length;
    while (at > 0 && beyond[at - 1]! > seq) at--;
    if (at > 0 && beyond[at - 1] === seq) return;
    beyond.splice(at, 0, seq);
  }
}
