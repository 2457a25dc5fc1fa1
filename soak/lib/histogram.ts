/**
 * A fixed-bucket latency histogram that merges by addition, so client
 * processes can each count millions of samples and the runner still gets
 * exact-to-the-bucket percentiles: 0.05 ms buckets up to 1 s, then 1 ms
 * buckets up to 120 s (anything later lands in the last bucket).
 */
const FINE_MS = 0.05;
const FINE_BUCKETS = 20_000; // 0..1 s
const COARSE_MS = 1;
const COARSE_BUCKETS = 119_000; // 1..120 s

export type HistogramData = { counts: number[]; n: number; max: number; sum: number };

export class Histogram {
  private counts = new Uint32Array(FINE_BUCKETS + COARSE_BUCKETS + 1);
  n = 0;
  max = 0;
  sum = 0;

  add(ms: number): void {
    const v = ms < 0 ? 0 : ms;
    const i =
      v < FINE_BUCKETS * FINE_MS
        ? Math.floor(v / FINE_MS)
        : Math.min(FINE_BUCKETS + Math.floor((v - FINE_BUCKETS * FINE_MS) / COARSE_MS), this.counts.length - 1);
    this.counts[i]!++;
    this.n++;
    this.sum += v;
    if (v > this.max) this.max = v;
  }

  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.max = 0;
    this.sum = 0;
  }

  merge(other: HistogramData): void {
    for (let i = 0; i < other.counts.length; i += 2) this.counts[other.counts[i]!]! += other.counts[i + 1]!;
    this.n += other.n;
    this.sum += other.sum;
    if (other.max > this.max) this.max = other.max;
  }

  /** Sparse form for IPC: [bucket, count, bucket, count, …]. */
  toJSON(): HistogramData {
    const counts: number[] = [];
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]) counts.push(i, this.counts[i]!);
    return { counts, n: this.n, max: this.max, sum: this.sum };
  }

  /** Upper edge of the bucket holding the q-quantile (nearest rank), in ms; NaN when empty. */
  quantile(q: number): number {
    if (!this.n) return NaN;
    const rank = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.max, upperEdge(i));
    }
    return this.max;
  }

  get mean(): number {
    return this.n ? this.sum / this.n : NaN;
  }

  static from(data: HistogramData): Histogram {
    const h = new Histogram();
    h.merge(data);
    return h;
  }
}

function upperEdge(i: number): number {
  return i < FINE_BUCKETS ? (i + 1) * FINE_MS : FINE_BUCKETS * FINE_MS + (i - FINE_BUCKETS + 1) * COARSE_MS;
}
