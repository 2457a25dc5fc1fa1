import type { PublishedEntry } from './backend.ts';
import type { LiveTimers } from './clock.ts';
import type { LiveConnection } from './connection.ts';
import type { FrameFactory } from './frames.ts';
import { groupsMatch } from './groups.ts';
import { routedRun } from './outbox.ts';
import type { Frame } from './sink.ts';
import type { TopicIndex } from './topicIndex.ts';

/**
 * Recipient visits routed per event-loop turn (about 2-4 ms of work). The
 * publishing turn routes this much synchronously (what it publishes reaches
 * each connection in one write); deferred slices also stop at {@link SLICE_MS}.
 */
const ROUTE_BUDGET = 8_192;
/**
 * Frames written per event-loop turn by instant flushes (with `flushSliceSize`
 * connections): a turn of a burst, where each connection writes many frames,
 * costs about what a turn of a one-event fan-out costs. Writes of the same
 * frames share their bytes (node transport), so a frame costs far less than
 * a write; {@link SLICE_MS} bounds the turn in time.
 */
const FLUSH_FRAME_BUDGET = 16_384;
/**
 * Longest instant flushes wait while a burst is still being routed, in ms
 * of the hub's clock: a connection then gets the burst in one write or a
 * few, not one per route slice. Each socket write has a fixed cost at both
 * ends (a 200-event burst to 1,000 streams: ~3 writes per stream, the
 * server's write syscalls ~2x those of one write per stream; profile
 * 2026-12-07). Nothing waits when nothing is queued behind the publishing
 * turn (a single publish is flushed at the end of its tick).
 */
const FLUSH_HOLD_MS = 50;
/**
 * Longest a deferred slice (routing, flushing) runs before it yields, in ms of
 * the hub's clock, whatever the counts above allow: a socket write costs tens
 * of µs (far more than routing), and more on a loaded machine. Keeps a turn of
 * a large fan-out short enough for other requests to be answered in between.
 */
export const SLICE_MS = 4;
/**
 * A deferred slice's limit instead of {@link SLICE_MS} while streams are
 * connecting (one connected less than {@link CONNECTING_WINDOW_MS} ago):
 * Node 20 (libuv 1.46) accepts one connection per event-loop turn, so during
 * a reconnect storm under a steady flow each turn accepts one stream beside a
 * slice of the flow's writes, and the slice's length sets how fast the storm
 * is taken in. Soak row 3c (2,000 streams resume after a restart while 100
 * signals/s go to the 500 streams of each tenant; the restarted server 100%
 * busy, ~60% of it in these writes; profile 2026-12-07), alternated runs
 * 2026-12-08: p99 time to resumed delivery 11.3 / 11.4 / 8.9 s with 4 ms
 * slices, 7.8 / 6.4 / 6.6 s with this (target: the restart + 5 s, 7.7–8.7 s in
 * those runs). The flow's writes to streams already back wait longer meanwhile
 * and so carry more frames each. Row 7's storm (10,000 streams, 1 signal/s:
 * few slices) did not move beyond its noise: p99 4.84 / 4.47 s before, 5.16 /
 * 4.68 s after, 0.49-0.53 ms of server CPU per reconnect in all four.
 *
 * Not always 1 ms: a burst's frames/s is the transport goal closest to its
 * bound (0.81x of batched bare against 0.8x), and shorter slices for every
 * fan-out measured 0.79x in a run of their own (2 ms, 5924e54) and 0.82x /
 * 0.95x against 0.73x / 0.90x for 4 ms in two alternated pairs (1 ms,
 * 2026-12-07, transport bench of batched bare and ours only): within the noise
 * both ways, so a fan-out with no stream connecting keeps {@link SLICE_MS}.
 * With a millisecond clock (`Date.now`) a slice read every 16 writes lasts
 * 0.2-1 ms.
 */
const CONNECTING_SLICE_MS = 1;
/**
 * How long after a stream connects slices stay at {@link CONNECTING_SLICE_MS},
 * in ms of the hub's clock: in a storm, connects reach the hub every few ms
 * (111-280 accepts per second in row 3c's restarted process); one connect now
 * and then shortens the slices of a fan-out in that window only.
 */
const CONNECTING_WINDOW_MS = 100;
/**
 * Most queued entries routed together as one run (see {@link Fanout.routeRun});
 * the turn's budget usually stops a run first.
 */
const MAX_RUN = 1_024;
/**
 * What one entry of a run costs, in recipient visits of {@link ROUTE_BUDGET}:
 * a run visits its recipients once for all its entries (one
 * `LiveConnection.enqueueRun` each, counted in the run's visits), then each
 * entry is encoded once (~13 µs, about 32 visits) and appended to every
 * recipient's pending run (an array copy: about 64 frames cost a visit), or
 * queued frame by frame (a visit per frame) by a recipient that cannot take
 * the run (`LiveConnection.takesRuns`). Charging a run `visits × entries`,
 * as if routed one by one, split a 200-event burst to 1,000 streams into 22
 * turns and held its first write until they were done (~50 ms); priced like
 * this it routes in 2 turns of ~3 ms each (production server, per-slice
 * trace, 2026-12-07).
 */
const RUN_ENCODE_VISITS = 32;
const RUN_FRAMES_PER_VISIT = 64;
/**
 * Most distinct keys whose last routed seq the fan-out remembers (see
 * {@link Fanout.stamp}); past it the memory starts over, and frames of keys
 * it forgot get a conservative stamp. About 100 bytes a key.
 */
const MAX_STAMPED_KEYS = 4_096;

/** The key of a connection's fan-out bookkeeping: only this module holds it, so nothing else reads or changes it. */
const slot = Symbol('fanout');
interface FanoutSlot {
  /** The last route that visited it: a connection with several matching patterns is visited once per pattern. */
  visitedBy: number;
  /** True while it waits in the flush queue (queued once). */
  queued: boolean;
}
type Tracked = LiveConnection & { [slot]: FanoutSlot };

/**
 * True when `b` goes to exactly the connections `a` goes to: one scope, one
 * topic, and the same audience (no group filter on either, or the very same
 * filter object: a publisher's repeated filter; equal copies route apart).
 */
function sameRoute(a: PublishedEntry, b: PublishedEntry): boolean {
  return a.scope === b.scope && a.topic === b.topic && a.groups === b.groups;
}

/**
 * Fan-out scheduling: hands delivered entries to matching connections and
 * writes their instant lanes at the end of the tick, both in slices, so a
 * burst (hundreds of publishes to thousands of connections in one tick)
 * leaves the event loop free to answer other requests in between. Entries
 * are routed whole and in order; each connection's write is never split.
 */
export class Fanout {
  /** Entries waiting to be routed (a burst beyond this turn's budget); `routeHead` is the next one. */
  private readonly routeQueue: PublishedEntry[] = [];
  private routeHead = 0;
  private routeBudget = ROUTE_BUDGET;
  private routeScheduled = false;
  private routes = 0;
  /** Visits the last {@link recipientsOf} took (the turn's budget counts them). */
  private visits = 0;
  /**
   * Connections waiting for an instant flush, in request order, each once;
   * `flushHead` is the next. An array and a flag, not a Set: a Set's adds,
   * deletes and shrinks made a 10-recipient publish ~20% slower (same-process A/B).
   */
  private readonly flushQueue: Tracked[] = [];
  private flushHead = 0;
  private flushScheduled = false;
  /** When instant flushes started waiting for the routing of a burst (see {@link FLUSH_HOLD_MS}), or `null`. */
  private holdingSince: number | null = null;
  private readonly flushSlice = () => this.flushInstant();
  /** When a stream last connected (see {@link CONNECTING_SLICE_MS}), in ms of the hub's clock. */
  private lastConnectAt = -Infinity;
  /** Callbacks waiting until every entry delivered so far is routed (see {@link whenRouted}). */
  private routedWaiters: Array<() => void> = [];
  /** Last routed seq per key in `stampEpoch` (see {@link stamp}). */
  private readonly lastSeqOfKey = new Map<string, number>();
  private stampEpoch: string | null = null;
  /** Bumped at each epoch change: a stamp says nothing about frames of another stint. */
  private stint = 0;
  /** Highest seq stamped in this stint: a frame at or below it is out of order and gets no useful stamp. */
  private stampedThrough = 0;
  /** Every seq the key memory forgot is at most this. */
  private forgottenThrough = 0;

  constructor(
    private readonly timers: LiveTimers,
    private readonly frames: FrameFactory,
    /** The hub's topic trie per scope. */
    private readonly scopes: ReadonlyMap<string, TopicIndex<LiveConnection>>,
    /** Most connections written per flush slice (`HubOptions.flushSliceSize`). */
    private readonly sliceSize: number,
  ) {}

  /** Gives a new connection its bookkeeping, before it can be routed to (one shape for every connection). */
  track(connection: LiveConnection): void {
    (connection as Tracked)[slot] = { visitedBy: 0, queued: false };
    this.lastConnectAt = this.timers.now();
  }

  /** When a deferred slice that starts at `started` yields: sooner while streams are connecting. */
  private sliceDeadline(started: number): number {
    return started + (started - this.lastConnectAt < CONNECTING_WINDOW_MS ? CONNECTING_SLICE_MS : SLICE_MS);
  }

  /** Routes `entry` now while this turn has budget and nothing is queued ahead (per-entry order); else queues it. */
  deliver(entry: PublishedEntry): void {
    if (this.routeHead === this.routeQueue.length && this.routeBudget > 0) this.route(entry);
    else this.routeQueue.push(entry);
    this.scheduleRouteSlice();
  }

  /**
   * Calls `fn` once every entry delivered so far has been handed to its
   * connections: now when nothing is queued, else after the slice that
   * routes the last of them. A pushed result written after it follows the
   * invalidation of its change on every connection.
   */
  whenRouted(fn: () => void): void {
    if (this.routeHead === this.routeQueue.length) fn();
    else this.routedWaiters.push(fn);
  }

  /** Queues `connection` for `flush('instant')` at the end of this tick (once, however often it asks). */
  requestInstantFlush(connection: LiveConnection): void {
    const tracked = connection as Tracked;
    if (tracked[slot].queued) return;
    tracked[slot].queued = true;
    this.flushQueue.push(tracked);
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    this.timers.defer(this.flushSlice);
  }

  /** The next turn gets a fresh budget and routes what is queued. */
  private scheduleRouteSlice(): void {
    if (this.routeScheduled) return;
    this.routeScheduled = true;
    this.timers.defer(() => this.routeSlice());
  }

  private routeSlice(): void {
    this.routeScheduled = false;
    this.routeBudget = ROUTE_BUDGET;
    const deadline = this.sliceDeadline(this.timers.now());
    const queue = this.routeQueue;
    while (this.routeHead < queue.length && this.routeBudget > 0) {
      const entry = queue[this.routeHead]!;
      // Entries queued behind it on the same route (a burst) go to its recipients together.
      let end = this.routeHead + 1;
      while (end < queue.length && end - this.routeHead < MAX_RUN && sameRoute(queue[end]!, entry)) end++;
      if (end - this.routeHead === 1) {
        queue[this.routeHead++] = undefined as unknown as PublishedEntry;
        this.route(entry);
      } else {
        this.routeRun(end, deadline);
      }
      if (this.timers.now() >= deadline) break;
    }
    if (this.routeHead === this.routeQueue.length) {
      this.routeQueue.length = 0;
      this.routeHead = 0;
      const waiters = this.routedWaiters;
      if (waiters.length) {
        this.routedWaiters = [];
        for (const fn of waiters) fn();
      }
    } else {
      this.scheduleRouteSlice();
    }
  }

  /**
   * Routes queued entries from `routeHead` (up to `end`, as many as this
   * turn's budget allows, at least one) that share one route (scope, topic,
   * groups: the same recipients, found once): each recipient takes their
   * frames in one call (`LiveConnection.enqueueRun`), in seq order, as if
   * routed one by one. Frames are built and stamped in order, before any is
   * queued, only when someone receives them. A 200-event burst to 1,000
   * streams (in-process, no-op sinks, median of 30 bursts in each of 5
   * processes per variant, alternated, beside other work): 34.1 ms of CPU
   * (runs 28.5-46.4) routed entry by entry, 22.1 ms (21.3-27.1) in runs.
   */
  private routeRun(end: number, deadline: number): void {
    const queue = this.routeQueue;
    const recipients = this.recipientsOf(queue[this.routeHead]!);
    const visits = this.visits;
    // Counted here, not in recipientsOf: a single entry's route (the hot path) has no use for it.
    let slow = 0;
    for (const connection of recipients) if (!connection.takesRuns) slow++;
    const perEntry = RUN_ENCODE_VISITS + Math.ceil((recipients.length - slow) / RUN_FRAMES_PER_VISIT) + slow;
    const most = Math.max(1, Math.min(end - this.routeHead, Math.floor((this.routeBudget - visits) / perEntry)));
    const frames: Frame[] = [];
    let count = 0;
    while (count < most) {
      const entry = queue[this.routeHead]!;
      queue[this.routeHead++] = undefined as unknown as PublishedEntry;
      count++;
      if (recipients.length === 0) continue;
      const frame = this.frames.data(entry);
      this.stamp(frame);
      frames.push(frame);
      // Encoding is the run's cost that grows with its entries: the slice's time bound holds here too.
      if (this.timers.now() >= deadline) break;
    }
    const routed = routedRun(frames);
    let oneByOne = 0;
    for (const connection of recipients) if (!connection.enqueueRun(routed)) oneByOne++;
    // Recipients that took the frames one by one though they looked able to take the run (an outbox past its
    // bounds with them, or a replay that covered them) cost a visit per frame: the budget counts them after the fact.
    this.routeBudget -= visits + perEntry * count + Math.max(0, oneByOne - slow) * count;
  }

  /** Hands an entry's frame to every connection of its scope whose topics and groups match. */
  private route(entry: PublishedEntry): void {
    const recipients = this.recipientsOf(entry);
    this.routeBudget -= this.visits;
    if (recipients.length === 0) return;
    const frame = this.frames.data(entry);
    this.stamp(frame);
    for (const connection of recipients) connection.enqueue(frame);
  }

  /**
   * The connections of `entry`'s scope whose topics and groups match, each
   * once (one with several matching patterns is visited once per pattern),
   * in the topic index's order; {@link visits} says how many visits it took.
   */
  private recipientsOf(entry: PublishedEntry): LiveConnection[] {
    const recipients: LiveConnection[] = [];
    this.visits = 1;
    const index = this.scopes.get(entry.scope);
    if (!index) return recipients;
    const route = ++this.routes;
    index.match(entry.topic, (connection) => {
      this.visits++;
      const bookkeeping = (connection as Tracked)[slot];
      if (bookkeeping.visitedBy === route) return;
      bookkeeping.visitedBy = route;
      if (groupsMatch(entry.groups, connection.groups)) recipients.push(connection);
    });
    return recipients;
  }

  /**
   * Records on a frame being routed the highest seq of the same key routed
   * before it in this stint (or a bound on it): one map lookup per routed
   * entry, so that each recipient's outbox can append the frame to its
   * pending run without a lookup of its own (`Outbox.push`). Without it, a
   * 200-event burst to 1,000 streams spent 42% of the hub's CPU in the
   * outboxes' per-key maps (in-process profile of the burst, 2026-12-07).
   * Frames routed out of seq order, or already stamped, keep what they have.
   */
  private stamp(frame: Frame): void {
    if (frame.routeStint !== undefined) return;
    if (frame.epoch !== this.stampEpoch) {
      this.stampEpoch = frame.epoch;
      this.stint++;
      this.lastSeqOfKey.clear();
      this.stampedThrough = this.forgottenThrough = 0;
    }
    if (frame.seq <= this.stampedThrough) return;
    const known = this.lastSeqOfKey;
    if (known.size >= MAX_STAMPED_KEYS) {
      known.clear();
      this.forgottenThrough = this.stampedThrough;
    }
    frame.sameKeyBefore = known.get(frame.key) ?? this.forgottenThrough;
    frame.routeStint = this.stint;
    known.set(frame.key, frame.seq);
    this.stampedThrough = frame.seq;
  }

  /**
   * Writes queued instant frames, a slice at a time so the event loop keeps
   * serving: at most `sliceSize` connections, about {@link FLUSH_FRAME_BUDGET}
   * frames and {@link SLICE_MS} per turn ({@link CONNECTING_SLICE_MS} while
   * streams are connecting). A connection that closed while
   * queued writes nothing.
   */
  private flushInstant(): void {
    this.flushScheduled = false;
    const started = this.timers.now();
    if (this.routeHead < this.routeQueue.length) {
      this.holdingSince ??= started;
      if (started - this.holdingSince < FLUSH_HOLD_MS) {
        this.flushScheduled = true;
        this.timers.defer(this.flushSlice);
        return;
      }
    }
    this.holdingSince = null;
    const deadline = this.sliceDeadline(started);
    const queue = this.flushQueue;
    let connections = 0;
    let frames = 0;
    while (this.flushHead < queue.length) {
      const connection = queue[this.flushHead]!;
      queue[this.flushHead++] = undefined as unknown as Tracked;
      connection[slot].queued = false;
      frames += connection.flush('instant');
      if (++connections >= this.sliceSize || frames >= FLUSH_FRAME_BUDGET) break;
      // The clock is read every 16 writes: cheap next to the writes themselves.
      if ((connections & 15) === 0 && this.timers.now() >= deadline) break;
    }
    if (this.flushHead === queue.length) {
      queue.length = 0;
      this.flushHead = 0;
      return;
    }
    // Connections re-queued behind the head: compact so the array stays O(connections).
    if (this.flushHead * 2 >= queue.length) {
      queue.copyWithin(0, this.flushHead);
      queue.length -= this.flushHead;
      this.flushHead = 0;
    }
    this.flushScheduled = true;
    this.timers.defer(this.flushSlice);
  }
}
