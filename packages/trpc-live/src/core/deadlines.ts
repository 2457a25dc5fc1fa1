import type { LiveTimers, TimerHandle } from './clock.ts';

interface Entry<T, R> {
  readonly at: number;
  /** `null` once deleted (removal is lazy, see {@link Deadlines}). */
  item: T | null;
  readonly reason: R;
}

/**
 * When each of many items is due (a stream's credential expiry or
 * rotation), on ONE timer of the injected clock for all of them, armed for
 * the earliest. A runtime timer per stream cost ~0.35 KB of each idle
 * stream's heap (a Timeout, a timer list per distinct delay, a closure;
 * heap snapshot of 1,000 fast-transport streams, 2026-12-07); here an entry
 * in a binary heap and a map. Deleting empties the entry; the heap is
 * rebuilt when emptied entries outnumber the live ones, so memory stays
 * O(items pending).
 */
export class Deadlines<T, R> {
  private heap: Array<Entry<T, R>> = [];
  private readonly entries = new Map<T, Entry<T, R>>();
  /** Emptied entries still in the heap. */
  private deleted = 0;
  private timer: TimerHandle | null = null;
  private timerAt = Infinity;

  constructor(
    private readonly timers: LiveTimers,
    /** Called once per item when its time comes, with the reason it was set with. */
    private readonly due: (item: T, reason: R) => void,
  ) {}

  /** Items pending. */
  get size(): number {
    return this.entries.size;
  }

  /** Calls `due(item, reason)` at `at` (ms of the clock), replacing an earlier deadline of `item`. */
  set(item: T, at: number, reason: R): void {
    this.delete(item);
    const entry: Entry<T, R> = { at, item, reason };
    this.entries.set(item, entry);
    this.heap.push(entry);
    this.siftUp(this.heap.length - 1);
    this.arm();
  }

  /** Forgets `item`'s deadline (a no-op when it has none). */
  delete(item: T): void {
    const entry = this.entries.get(item);
    if (entry === undefined) return;
    this.entries.delete(item);
    entry.item = null;
    this.deleted++;
    if (this.entries.size === 0) {
      this.heap = [];
      this.deleted = 0;
      this.arm();
    } else if (this.deleted > this.entries.size) {
      this.heap = this.heap.filter((e) => e.item !== null);
      this.deleted = 0;
      for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
    }
  }

  private readonly fire = (): void => {
    this.timer = null;
    this.timerAt = Infinity;
    const now = this.timers.now();
    while (this.heap.length && this.heap[0]!.at <= now) {
      const entry = this.pop();
      const item = entry.item;
      if (item === null) {
        this.deleted--;
        continue;
      }
      this.entries.delete(item);
      entry.item = null;
      this.due(item, entry.reason);
    }
    this.arm();
  };

  /** Keeps the one timer armed for the earliest live deadline, and none when there is none. */
  private arm(): void {
    while (this.heap.length && this.heap[0]!.item === null) {
      this.pop();
      this.deleted--;
    }
    const next = this.heap.length ? this.heap[0]!.at : Infinity;
    if (next === this.timerAt) return;
    if (this.timer !== null) this.timers.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = next;
    if (next !== Infinity) this.timer = this.timers.setTimeout(this.fire, Math.max(0, next - this.timers.now()));
  }

  private pop(): Entry<T, R> {
    const heap = this.heap;
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      this.siftDown(0);
    }
    return top;
  }

  private siftUp(i: number): void {
    const heap = this.heap;
    const entry = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= entry.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    const entry = heap[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= heap.length) break;
      if (child + 1 < heap.length && heap[child + 1]!.at < heap[child]!.at) child++;
      if (heap[child]!.at >= entry.at) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = entry;
  }
}
