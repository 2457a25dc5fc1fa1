/**
 * Time after which no further computation starts in the same macrotask, ms:
 * a change that matches many distinct watched queries (say 40 users each on
 * another order) would otherwise compute them all in one turn (SQLite is
 * synchronous), and no request could be answered meanwhile. The next ones
 * start in a later macrotask, as the hub's fan-out slices its routing
 * (core/fanout.ts, also 4 ms).
 */
export const COMPUTE_SLICE_MS = 4;

/**
 * Computations in flight at once. Above 1 so that queries that wait on I/O
 * (a network database) overlap; bounded, because every one started in a
 * slice may run past its end when the query is synchronous.
 */
export const COMPUTE_CONCURRENCY = 4;

/**
 * When the pushed results' computations may start (`ResultPusher`): at most
 * {@link COMPUTE_CONCURRENCY} in flight, and none started after a slice of
 * `sliceMs` in one macrotask has passed (a slice opens with the first start
 * of a macrotask and ends with it); the rest wait, in order, for a later
 * macrotask. A caller awaits {@link turn}, computes, and calls
 * {@link settled} once, whatever the outcome.
 */
export class ComputeSlices {
  /** When the current slice ends (clock ms); 0: none open. */
  private sliceEnd = 0;
  /** Computations started and not settled. */
  private computing = 0;
  /** Computations waiting for their start, in order. */
  private readonly waiting: Array<() => void> = [];
  private startScheduled = false;

  constructor(
    /** Runs a function in a later macrotask. */
    private readonly defer: (fn: () => void) => void,
    /** Length of a slice, ms. @default COMPUTE_SLICE_MS */
    private readonly sliceMs: number = COMPUTE_SLICE_MS,
    /** The slices' clock, ms. @default performance.now */
    private readonly now: () => number = () => performance.now(),
    /** Most computations in flight. @default COMPUTE_CONCURRENCY */
    private readonly concurrency: number = COMPUTE_CONCURRENCY,
  ) {}

  /** Resolves (or returns at once) when this computation may start; it then counts as in flight until {@link settled}. */
  turn(): Promise<void> | void {
    if (!this.waiting.length && this.computing < this.concurrency && this.sliceHasTime()) {
      this.computing++;
      return;
    }
    return new Promise<void>((resolve) => {
      this.waiting.push(resolve);
      this.startWaiting();
    });
  }

  /** A computation that had its turn finished (or failed): the next waiting one may start. */
  settled(): void {
    this.computing--;
    this.startWaiting();
  }

  /** Starts waiting computations while the bound and the slice allow; else once a later macrotask opens a slice. */
  private startWaiting(): void {
    while (this.waiting.length && this.computing < this.concurrency) {
      if (!this.sliceHasTime()) {
        if (this.startScheduled) return;
        this.startScheduled = true;
        this.defer(() => {
          this.startScheduled = false;
          this.sliceEnd = 0;
          this.startWaiting();
        });
        return;
      }
      this.computing++;
      this.waiting.shift()!();
    }
  }

  private sliceHasTime(): boolean {
    const now = this.now();
    if (this.sliceEnd === 0) {
      this.sliceEnd = now + this.sliceMs;
      this.defer(() => (this.sliceEnd = 0));
    }
    return now < this.sliceEnd;
  }
}
