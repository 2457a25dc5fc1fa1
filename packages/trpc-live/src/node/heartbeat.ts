/** Something the heartbeat visits every half ping interval. */
export interface HeartbeatMember {
  /** Called on every tick with the current time (ms since the epoch). */
  beat(now: number): void;
}

/**
 * Longest one event-loop turn of a tick visits members before the rest of
 * the tick goes on in a later turn (`setImmediate`), in ms of the heartbeat's
 * clock. A due ping is a socket write (~10 µs here): 10,000 idle streams
 * pinged in one turn held the event loop ~110 ms at every ping (`/api/health`
 * beside them, pings every 2 s, nothing else running: p50 1.2 ms, p99 73.2
 * ms, max 113.5 ms, n=926; 2026-12-08). The hub's fan-out slices keep the same
 * bound (core/fanout.ts).
 */
const TICK_SLICE_MS = 4;
/** Members visited between two reads of the clock (a read costs more than a visit that writes nothing). */
const VISITS_PER_CLOCK_READ = 32;

/**
 * One interval timer for every open stream, instead of a timer per stream
 * (what tRPC's `withPing` costs: a timer and a promise race per message).
 * It ticks every `periodMs` only while it has members (whose sockets keep
 * the process alive anyway, so the timer is not unref'd: it stays visible to
 * leak checks). With `periodMs` `null` it only keeps the set of members
 * (pings disabled).
 *
 * Budget: a tick is one call per open stream, and a socket write for each
 * idle one due a ping, visited in slices of about {@link TICK_SLICE_MS} per
 * event-loop turn.
 */
export class Heartbeat<T extends HeartbeatMember = HeartbeatMember> {
  private readonly members = new Set<T>();
  private timer: ReturnType<typeof setInterval> | null = null;
  /** The members of the tick being visited (a snapshot), or `null` between ticks. */
  private visiting: T[] | null = null;
  /** The next member of {@link visiting} to visit. */
  private next = 0;
  /** When the tick being visited started: every member of a tick gets this time. */
  private tickAt = 0;

  constructor(
    /** Tick period in ms, or `null` for no ticks. */
    readonly periodMs: number | null,
    private readonly now: () => number = Date.now,
  ) {}

  /** Members currently visited. */
  get size(): number {
    return this.members.size;
  }

  /** Visits `member` on every tick from now on; starts the timer with the first member. */
  add(member: T): void {
    this.members.add(member);
    if (this.timer === null && this.periodMs !== null) {
      this.timer = setInterval(() => this.tick(), this.periodMs);
    }
  }

  /** Stops visiting `member`; the timer stops with the last one. */
  delete(member: T): void {
    this.members.delete(member);
    if (this.members.size === 0) this.stop();
  }

  /** Stops ticking and forgets every member. */
  stop(): void {
    this.members.clear();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.visiting = null;
  }

  private tick(): void {
    // The previous tick is still being visited (a machine too busy to finish it in a period): it goes on, this one is skipped.
    if (this.visiting !== null) return;
    this.visiting = [...this.members];
    this.next = 0;
    this.tickAt = this.now();
    this.visitSlice();
  }

  /** Visits the tick's members for up to {@link TICK_SLICE_MS}, then yields; the rest in a later turn. */
  private readonly visitSlice = (): void => {
    const members = this.visiting;
    if (members === null) return;
    const started = this.now();
    while (this.next < members.length) {
      const member = members[this.next++]!;
      // Members may leave while the tick is visited (a ping to a dead socket closes it; a peer leaves between slices).
      if (this.members.has(member)) member.beat(this.tickAt);
      if (this.next % VISITS_PER_CLOCK_READ === 0 && this.next < members.length && this.now() - started >= TICK_SLICE_MS) {
        setImmediate(this.visitSlice);
        return;
      }
    }
    this.visiting = null;
  };
}
