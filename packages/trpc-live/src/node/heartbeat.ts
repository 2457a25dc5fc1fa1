/** Something the heartbeat visits every half ping interval. */
export interface HeartbeatMember {
  /** Called on every tick with the current time (ms since the epoch). */
  beat(now: number): void;
}

/**
 * One interval timer for every open stream, instead of a timer per stream
 * (what tRPC's `withPing` costs: a timer and a promise race per message).
 * It ticks every `periodMs` only while it has members (whose sockets keep
 * the process alive anyway, so the timer is not unref'd: it stays visible to
 * leak checks). With `periodMs` `null` it only keeps the set of members
 * (pings disabled).
 *
 * Budget: a tick is one cheap call per open stream; at 4,000 streams that is
 * well under a millisecond of work every `periodMs`.
 */
export class Heartbeat<T extends HeartbeatMember = HeartbeatMember> {
  private readonly members = new Set<T>();
  private timer: ReturnType<typeof setInterval> | null = null;

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
  }

  private tick(): void {
    const now = this.now();
    // Members may leave while we visit them (a ping to a dead socket closes it).
    for (const member of [...this.members]) member.beat(now);
  }
}
