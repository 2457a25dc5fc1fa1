import type { CloseReason, Frame, LiveSink } from 'trpc-live/core';

/** True for frames that carry a published signal (not the hello, even when it carries a starting cursor). */
export const isDataFrame = (frame: Frame): boolean => frame.id !== null && frame.message.kind !== 'hello';

/** A sink that records writes; `pending` simulates a socket buffer the peer has not read. */
export class RecordingSink implements LiveSink {
  readonly writes: Frame[][] = [];
  closed: CloseReason | null = null;
  pending = 0;
  private drainWaiters: Array<() => void> = [];

  write(frames: readonly Frame[]): void {
    this.writes.push([...frames]);
  }
  pendingBytes(): number {
    return this.pending;
  }
  onDrain(fn: () => void): void {
    this.drainWaiters.push(fn);
  }
  close(reason: CloseReason): void {
    this.closed ??= reason;
  }
  /** The peer read everything: fire drain listeners. */
  drain(): void {
    this.pending = 0;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const fn of waiters) fn();
  }
  /** Every frame written, in order. */
  get frames(): Frame[] {
    return this.writes.flat();
  }
  /** Messages of data frames (control frames left out). */
  get data() {
    // The hello of a fresh stream carries a cursor (its starting point) but is not data.
    return this.frames.filter(isDataFrame).map((f) => f.message);
  }
}
