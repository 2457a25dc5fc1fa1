/** Default {@link PushBases} budget per binding: the serialized size of the previous results kept for deltas. */
export const DEFAULT_DELTA_BASE_BYTES = 8 * 1024 * 1024;

/** The previous result of one computed slot (a scope's or a connection's watch). */
export interface PushBase {
  readonly epoch: string;
  readonly seq: number;
  readonly data: unknown;
  /** Serialized size of its whole result frame (what it counts against the budget). */
  readonly bytes: number;
}

/**
 * The previous pushed result of each slot, so the next one can go as a
 * delta against it. Bounded by a byte budget (serialized sizes): the least
 * recently pushed slot is forgotten first, and its next result goes whole.
 * A result larger than a quarter of the budget is not kept.
 */
export class PushBases {
  private readonly bases = new Map<string, PushBase>();
  private total = 0;

  constructor(private readonly budget: number = DEFAULT_DELTA_BASE_BYTES) {}

  get(slot: string): PushBase | undefined {
    return this.bases.get(slot);
  }

  /** Keeps `base` as the slot's previous result (most recent: evicted last). */
  set(slot: string, base: PushBase): void {
    this.delete(slot);
    if (base.bytes > this.budget / 4) return;
    this.bases.set(slot, base);
    this.total += base.bytes;
    for (const [key, old] of this.bases) {
      if (this.total <= this.budget) break;
      this.bases.delete(key);
      this.total -= old.bytes;
    }
  }

  delete(slot: string): void {
    const old = this.bases.get(slot);
    if (!old) return;
    this.bases.delete(slot);
    this.total -= old.bytes;
  }

  /** Bytes kept (tests, stats). */
  get bytes(): number {
    return this.total;
  }

  clear(): void {
    this.bases.clear();
    this.total = 0;
  }
}
