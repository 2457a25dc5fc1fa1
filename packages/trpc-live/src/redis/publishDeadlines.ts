import type { PublishedEntry, PublishRequest } from '../core/index.ts';

/** A publish sent to Redis and not answered yet. */
export interface Outgoing {
  readonly request: PublishRequest;
  readonly serial: number;
  /** When it was sent (the backend's clock). */
  readonly sentAt: number;
  /** Delivered to this instance's clients already (Redis went silent, or the command failed). */
  local: PublishedEntry | null;
  /** Past its deadline without an answer from Redis. */
  overdue: boolean;
  /** The publish's promise was settled (first answer wins: Redis's entry, or the local position). */
  answered: boolean;
  answer(entry: PublishedEntry): void;
  fail(error: unknown): void;
}

/** What {@link PublishDeadlines} needs from its backend. */
export interface PublishDeadlinesOptions {
  /** See `RedisBackendOptions.publishTimeoutMs`. */
  readonly publishTimeoutMs: number;
  /** See `RedisBackendOptions.unreachableAfterMs`. */
  readonly unreachableAfterMs: number;
  /**
   * This process's own event loop counts as stalled when no {@link PublishDeadlines.tick}
   * came for this long (the backend ticks from its PING timer).
   */
  readonly stallAfterMs: number;
  readonly now: () => number;
  /** Deadlines only run while this holds (the backend is shared). */
  readonly watching: () => boolean;
  /** A publish passed its deadline: resolve it without Redis's answer. */
  readonly onOverdue: (outgoing: Outgoing) => void;
  /** Redis answered nothing for `unreachableAfterMs` while a publish waited. */
  readonly onSilent: (why: string) => void;
}

/**
 * The backend's publishes in flight, in send (serial) order, and their two
 * deadlines: `publishTimeoutMs` for the publisher's promise, and Redis's
 * silence for `unreachableAfterMs` for the fallback. Silence, not one
 * command's wait: Redis answers in order, so a publish queued behind a
 * burst of thousands waits long while answers keep coming (measured: a
 * 2,000-publish burst kept the last one waiting 250-570 ms on a loaded
 * machine). One timer, armed for the earliest deadline: a timer per
 * publish cost about a third of such a burst's time.
 *
 * Waits are judged after the event loop read what arrived (`after`): a
 * timer is due before the poll phase reads sockets, so a blocked loop would
 * otherwise time out answers that were already there.
 */
export class PublishDeadlines {
  /** By serial; a Map keeps insertion (send) order. */
  readonly inFlight = new Map<number, Outgoing>();
  private overdueCount = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastHeard: number;
  private lastTick: number;

  constructor(private readonly options: PublishDeadlinesOptions) {
    this.lastHeard = options.now();
    this.lastTick = this.lastHeard;
  }

  /** A timer of the backend ran: this process's event loop is turning. */
  tick(): void {
    this.lastTick = this.options.now();
  }

  /**
   * This process blocked its own event loop since the last {@link tick}: Redis's answers may be
   * waiting unread in the socket, so a silence measured now says nothing about Redis. Measured: a
   * burst of 20,000 publishes issued synchronously blocked the loop ~670 ms, and one poll phase then
   * spent ~450 ms on the subscription's messages after reading the command socket; checks right
   * after either judged an answering Redis silent and fell back (faults.test.ts, "slow is not silent").
   */
  stalled(): boolean {
    return this.options.now() - this.lastTick > this.options.stallAfterMs;
  }

  /** Some publish is past its deadline: Redis is slow or gone, and the next ones should not wait for it too. */
  get anyOverdue(): boolean {
    return this.overdueCount > 0;
  }

  /** Redis answered a command (any: a publish, a PING). */
  heard(): void {
    this.lastHeard = this.options.now();
  }

  /** How long Redis has been silent for a command sent at `sentAt`. */
  silentFor(sentAt: number): number {
    return this.options.now() - Math.max(sentAt, this.lastHeard);
  }

  /** Tracks a publish just sent. */
  add(outgoing: Outgoing): void {
    this.inFlight.set(outgoing.serial, outgoing);
    this.watch();
  }

  /** Redis answered the publish or failed it: its deadlines no longer run (it stays listed until {@link remove}). */
  settle(outgoing: Outgoing): void {
    if (outgoing.overdue) this.overdueCount--;
    outgoing.overdue = false;
  }

  remove(outgoing: Outgoing): void {
    this.settle(outgoing);
    this.inFlight.delete(outgoing.serial);
  }

  /** Arms the timer for the earliest deadline (after the backend became shared again, or a publish was added). */
  watch(): void {
    if (this.timer !== null || !this.options.watching()) return;
    const { publishTimeoutMs, unreachableAfterMs } = this.options;
    let next = Infinity;
    for (const outgoing of this.inFlight.values()) {
      // The oldest overdue one decides when Redis counts as silent; the oldest other one, the next answer.
      next = Math.min(
        next,
        outgoing.overdue ? Math.max(outgoing.sentAt, this.lastHeard) + unreachableAfterMs : outgoing.sentAt + publishTimeoutMs,
      );
      if (!outgoing.overdue) break;
    }
    if (next === Infinity) return;
    this.timer = after(Math.max(0, next - this.options.now()), () => {
      this.timer = null;
      this.check();
      this.watch();
    });
  }

  stop(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private check(): void {
    if (!this.options.watching()) return;
    const { publishTimeoutMs, unreachableAfterMs, now } = this.options;
    const t = now();
    for (const outgoing of this.inFlight.values()) {
      if (!outgoing.local && this.silentFor(outgoing.sentAt) >= unreachableAfterMs) {
        // Decided after the loop turned again (watch() re-arms at once: the deadline has passed).
        if (this.stalled()) return;
        this.options.onSilent(`no answer from Redis for ${unreachableAfterMs} ms`);
        return;
      }
      if (outgoing.overdue) continue;
      if (t - outgoing.sentAt < publishTimeoutMs) return;
      outgoing.overdue = true;
      this.overdueCount++;
      this.options.onOverdue(outgoing);
    }
  }
}

/**
 * Calls `fn` once `ms` have passed and the event loop has read what arrived
 * meanwhile. Two `setImmediate` hops, so a whole poll phase runs between
 * the timer and `fn`: with one, a timer that fired just before this process
 * blocked its own loop (e.g. 10,000 publishes issued in one synchronous
 * burst: 335 ms, then 255 ms of their continuations) ran `fn` in the check
 * phase right after the block, before any read, and judged Redis silent
 * for 590 ms while its answers sat unread in the socket (faults.test.ts,
 * "slow is not silent", failed every run on an idle 2-core machine).
 * Unref'd: a deadline never keeps a process alive.
 */
export function after(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
  const timer = setTimeout(() => setImmediate(() => setImmediate(fn)), ms);
  timer.unref?.();
  return timer;
}
