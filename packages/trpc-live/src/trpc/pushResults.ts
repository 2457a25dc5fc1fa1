import type { AnyTRPCRouter } from '@trpc/server';
import { receives, type Frame, type Hub, type PublishedEntry } from '../core/index.ts';
import { diffValues } from '../shared/delta.ts';
import type { RefetchReason } from '../shared/messages.ts';
import type { QueryMatcher } from '../shared/queryMatcher.ts';
import { callQuery, isClientError } from './callQuery.ts';
import { changedKeys } from './changedKeys.ts';
import { ComputeSlices } from './computeSlices.ts';
import { PushBases } from './pushBases.ts';
import type { WatchRegistry } from './watchRegistry.ts';
import { WatchSet, type Watch, type WatchStart } from './watchSet.ts';

/**
 * A delta is sent instead of the whole result only when its frame is under
 * this share of the whole frame's size: a delta costs the client a patch,
 * and one it cannot apply costs a refetch, so a small saving is not worth
 * it. Measured on the demo for one new order (test/server/pushDeltaSize.test.ts,
 * superjson frames): orders.list (50 rows) 375 of 13,114 characters (2.9%),
 * products.list 215 of 804 (27%), dashboard.stats 246 of 556 (44%): all three
 * go as deltas; a change that rewrites most of a result goes whole.
 */
export const DELTA_MAX_SHARE = 0.5;

/**
 * Share of `maxResultBytes` above which a result that would go as a delta
 * to every recipient is serialized whole anyway, to check the bound: its
 * size is only estimated (the previous whole frame plus the delta frame),
 * and superjson's meta can grow a little more than the delta says.
 */
export const WHOLE_CHECK_SHARE = 0.9;

/**
 * A computed result: its delta frame when one is worth sending, and its
 * whole frame, serialized on first use only. With deltas the whole result
 * is often sent to nobody (every recipient holds the base), and serializing
 * it was the largest cost of a pushed change in a profile of the production
 * server (orders.list of 50 rows with Dates through superjson).
 */
interface Computed {
  readonly kind: 'result';
  /** The whole result's frame (built once, on the first call). */
  whole(): Frame;
  readonly delta: Frame | null;
  /** The seq the delta applies to. */
  readonly base: number;
}

/** Every recipient gets this refetch order. */
interface Failed {
  readonly kind: 'refetch';
  readonly frame: Frame;
}

/** One computation to run: the newest change it reflects and the streams that get its result. */
interface Job<TCtx> {
  readonly recipients: Set<WatchSet<TCtx>>;
  epoch: string;
  seq: number;
  /**
   * When the hub delivered the oldest change the job waits for
   * (`PublishedEntry.deliveredAt`): its frames' publish-to-write latency
   * starts there. Undefined for a resumed stream's owed watches (from the
   * frame's build).
   */
  publishedAt: number | undefined;
}

/**
 * What is computed together: a watched query of one scope (`push: 'scope'`)
 * or of one connection (`'connection'`). Its computations run one at a time,
 * so its results leave in change order; a change that arrives while one
 * runs is computed after it (`next`).
 */
interface Slot<TCtx> {
  /** Its key in the pusher's slots (and in the delta bases). */
  readonly key: string;
  readonly watch: string;
  readonly path: string;
  readonly input: unknown;
  next: Job<TCtx> | null;
}

/** Counters of a {@link ResultPusher} since it started (`Live.pushStats`). */
export interface PushStats {
  /** Queries computed after a change (each distinct watch once per scope, or once per connection). */
  computations: number;
  /** `result` frames (whole results) handed to connections. */
  results: number;
  /** `delta` frames handed to connections. */
  deltas: number;
  /** `refetch` frames handed to connections, by reason. */
  refetches: Record<RefetchReason, number>;
  /**
   * Watches a change found on a paused stream: nothing is computed or sent
   * for them until it resumes, then each is computed once (the stream's
   * changes collapse into one result per watch).
   */
  owed: number;
}

/** Fresh {@link PushStats}. */
export const emptyPushStats = (): PushStats => ({ computations: 0, results: 0, deltas: 0, refetches: { error: 0, 'too-large': 0, paused: 0, slow: 0 }, owed: 0 });

/** What {@link ResultPusher} needs from the binding. */
export interface ResultPusherOptions<TCtx> {
  readonly hub: Hub;
  readonly registry: WatchRegistry<TCtx>;
  /** The registry's matcher: the same rules as the client's invalidation. */
  readonly matcher: QueryMatcher;
  /** The app router (the watch call made sure one is bound). */
  readonly router: () => Promise<AnyTRPCRouter>;
  /** The hub's position now (`hub.cursor()`, parsed): what a computation starting now reflects. */
  readonly position: () => WatchStart;
  /** Largest serialized result pushed; a larger one is a refetch (`too-large`). */
  readonly maxResultBytes: number;
  /** A computation failed with a server error (a client error, e.g. NOT_FOUND after a delete, is not reported). */
  readonly onError: (error: unknown, path: string) => void;
  /** Budget of the previous results kept for deltas (`0`: never send deltas). @default DEFAULT_DELTA_BASE_BYTES (8 MiB) */
  readonly deltaBaseBytes?: number;
  /** Runs `fn` after the current macrotask (every publish of one mutation is one batch). @default setImmediate */
  readonly defer?: (fn: () => void) => void;
  /** No computation starts after this long in one macrotask; the next wait for a later one. @default COMPUTE_SLICE_MS (4 ms) */
  readonly sliceMs?: number;
  /** Clock of the slices, ms. @default performance.now */
  readonly now?: () => number;
}

const defaultDefer = (fn: () => void): void => {
  const g = globalThis as { setImmediate?: (fn: () => void) => unknown };
  if (g.setImmediate) g.setImmediate(fn);
  else setTimeout(fn, 0);
};

/** True when `entry` is newer than the position a watch started at (another epoch counts as newer). */
const after = (entry: PublishedEntry, since: WatchStart): boolean => entry.epoch !== since.epoch || entry.seq > since.seq;

/**
 * Pushes watched queries' results after a change. It observes every entry
 * the hub delivers (`hub.tap`: changes of other instances through Redis
 * count too), collects the invalidated keys of a macrotask, finds the
 * watches they match (the shared query matcher) on the connections that
 * received the entry (scope, topics, groups), computes each distinct
 * (scope, watch) once (`push: 'scope'`, with one watcher's context) or each
 * (connection, watch) once (`'connection'`), and writes one frame, encoded
 * once, to every recipient. What cannot be pushed becomes a refetch order:
 * the computation threw (`error`), the result is over `maxResultBytes`
 * (`too-large`) or the stream is congested (`slow`).
 *
 * A paused stream (every tab of the browser hidden) receives nothing and
 * costs no computation: a change only marks its matching watches owed
 * (`Watch.owed`), and when it resumes ({@link resumed}) each owed watch is
 * computed once, at the hub's position then, and pushed like any result
 * (per scope: together with other recipients waiting for the same query).
 * So the tab shown again gets data without a request of its own, and the
 * changes of a long pause cost one computation per watch, not one each.
 */
export class ResultPusher<TCtx> {
  private entries: PublishedEntry[] = [];
  private scheduled = false;
  private readonly slots = new Map<string, Slot<TCtx>>();
  private readonly defer: (fn: () => void) => void;
  private readonly bases: PushBases | null;
  /** When each computation may start (bounded, in slices). */
  private readonly slices: ComputeSlices;
  /** Counters since this pusher started. */
  readonly stats: PushStats = emptyPushStats();

  constructor(private readonly options: ResultPusherOptions<TCtx>) {
    this.defer = options.defer ?? defaultDefer;
    this.bases = options.deltaBaseBytes === 0 ? null : new PushBases(options.deltaBaseBytes);
    this.slices = new ComputeSlices(this.defer, options.sliceMs, options.now);
  }

  /** The hub's tap: costs a map lookup for a scope where nobody watches anything. */
  observe(entry: PublishedEntry): void {
    if (entry.signal.kind !== 'invalidate' && entry.signal.kind !== 'batch') return;
    if (!this.options.registry.scope(entry.scope)) return;
    this.entries.push(entry);
    if (this.scheduled) return;
    this.scheduled = true;
    this.defer(() => this.run());
  }

  /** Computations queued or running (tests). */
  get busy(): number {
    return this.slots.size + this.entries.length;
  }

  private run(): void {
    this.scheduled = false;
    const entries = this.entries;
    this.entries = [];
    // Started once every entry of the batch has added its recipients: one computation serves them all.
    const idle: Slot<TCtx>[] = [];
    // In delivery order: a job ends up with the newest change that matched it.
    for (const entry of entries) {
      const watched = this.options.registry.scope(entry.scope);
      const keys = changedKeys(entry);
      if (!watched || !keys.length) continue;
      const matches = this.options.matcher.predicate(keys);
      for (const [key, sets] of watched) {
        let checked: boolean | undefined;
        for (const set of sets) {
          const watch = set.watches.get(key);
          if (!watch) continue;
          // Every watch of one key has the same path and input: match once.
          checked ??= matches(watch.queryKey);
          if (!checked) break;
          if (!after(entry, watch.since) || !receives(set.connection, entry)) continue;
          if (set.connection.paused) {
            this.owe(watch);
            continue;
          }
          const slot = this.schedule(this.slotKey(watch, set, entry.scope), watch, set, entry, entry.deliveredAt);
          if (slot) idle.push(slot);
        }
      }
    }
    for (const slot of idle) void this.drive(slot);
  }

  /**
   * A paused stream resumed (the hub's `onResume`): computes each watch it
   * was owed once, labelled with the hub's position now (the computation
   * starts after it, so its result reflects every change up to there), and
   * pushes the results like any others.
   */
  resumed(set: WatchSet<TCtx>): void {
    let at: WatchStart | null = null;
    const idle: Slot<TCtx>[] = [];
    for (const watch of set.watches.values()) {
      if (!watch.owed) continue;
      watch.owed = false;
      at ??= this.options.position();
      const slot = this.schedule(this.slotKey(watch, set, set.connection.scope), watch, set, at);
      if (slot) idle.push(slot);
    }
    for (const slot of idle) void this.drive(slot);
  }

  /** Marks a paused stream's watch owed a result (see {@link resumed}). */
  private owe(watch: Watch<TCtx>): void {
    if (watch.owed) return;
    watch.owed = true;
    this.stats.owed++;
  }

  /** What is computed together: the scope's query (`push: 'scope'`) or the connection's. */
  private slotKey(watch: Watch<TCtx>, set: WatchSet<TCtx>, scope: string): string {
    return watch.mode === 'scope' ? `s\u0000${scope}\u0000${watch.key}` : `c\u0000${set.connection.id}\u0000${watch.key}`;
  }

  /**
   * Adds a recipient to the slot's next job (not started yet: it reflects
   * whatever is committed when it starts), which then names the newest
   * position given; returns the slot when it is new (the caller starts it).
   */
  private schedule(key: string, watch: Watch<TCtx>, set: WatchSet<TCtx>, at: WatchStart, publishedAt?: number): Slot<TCtx> | null {
    let slot = this.slots.get(key);
    const created = slot === undefined;
    if (!slot) this.slots.set(key, (slot = { key, watch: watch.key, path: watch.path, input: watch.input, next: null }));
    const job = (slot.next ??= { recipients: new Set(), epoch: at.epoch, seq: at.seq, publishedAt });
    job.recipients.add(set);
    if (publishedAt !== undefined && (job.publishedAt === undefined || publishedAt < job.publishedAt)) job.publishedAt = publishedAt;
    if (at.epoch !== job.epoch || at.seq > job.seq) {
      job.epoch = at.epoch;
      job.seq = at.seq;
    }
    return created ? slot : null;
  }

  /** Runs a slot's jobs one after the other until none is left, then forgets the slot. */
  private async drive(slot: Slot<TCtx>): Promise<void> {
    const slotKey = slot.key;
    try {
      while (slot.next) {
        await this.slices.turn();
        const job = slot.next;
        slot.next = null;
        let computed: Computed | Failed | null;
        try {
          computed = await this.compute(slotKey, slot, job);
        } finally {
          this.slices.settled();
        }
        if (!computed) continue;
        // After the change's invalidation has reached every connection (a burst is routed in slices).
        await new Promise<void>((resolve) => this.options.hub.whenRouted(resolve));
        this.write(slot, job, computed);
      }
    } catch (error) {
      // Not expected (compute catches what the query throws): report it rather than lose it silently.
      this.options.onError(error, slot.path);
    } finally {
      this.slots.delete(slotKey);
    }
  }

  /** The job's frames: its result (and delta), or a refetch order; `null` when no recipient still watches. */
  private async compute(slotKey: string, slot: Slot<TCtx>, job: Job<TCtx>): Promise<Computed | Failed | null> {
    let ctx: TCtx | undefined;
    let found = false;
    for (const set of job.recipients) {
      const watch = set.watches.get(slot.watch);
      if (!watch || set.connection.closed) continue;
      ctx = watch.ctx;
      found = true;
      break;
    }
    if (!found) return null;
    let data: unknown;
    this.stats.computations++;
    try {
      data = await callQuery(await this.options.router(), slot.path, slot.input, ctx);
    } catch (error) {
      if (!isClientError(error)) this.options.onError(error, slot.path);
      return this.failed(slotKey, slot, job, 'error');
    }
    const hub = this.options.hub;
    const max = this.options.maxResultBytes;
    const previous = this.bases?.get(slotKey);
    let delta: Frame | null = null;
    let estimate = Infinity;
    if (previous && previous.epoch === job.epoch && previous.seq < job.seq) {
      // Diffed once and encoded once for every recipient that holds the previous result.
      let frame: Frame;
      try {
        frame = hub.pushFrame(
          { kind: 'delta', watch: slot.watch, epoch: job.epoch, seq: job.seq, base: previous.seq, ops: diffValues(previous.data, data) },
          job.publishedAt,
        );
      } catch (error) {
        // The hub's serializer refused a value of the result (e.g. a BigInt without superjson).
        this.options.onError(error, slot.path);
        return this.failed(slotKey, slot, job, 'error');
      }
      // Against the previous whole frame: the new one is not serialized unless someone needs it.
      if (frame.bytes < previous.bytes * DELTA_MAX_SHARE) {
        delta = frame;
        estimate = previous.bytes + frame.bytes;
      }
    }
    let whole: Frame | null = null;
    const build = (): Frame => (whole ??= hub.pushFrame({ kind: 'result', watch: slot.watch, epoch: job.epoch, seq: job.seq, data }, job.publishedAt));
    // Without a delta, or near the bound, the whole frame decides (its size); else it waits for a recipient that needs it.
    if (estimate > max * WHOLE_CHECK_SHARE) {
      try {
        build();
      } catch (error) {
        this.options.onError(error, slot.path);
        return this.failed(slotKey, slot, job, 'error');
      }
      if (whole!.bytes > max) return this.failed(slotKey, slot, job, 'too-large');
    }
    this.bases?.set(slotKey, { epoch: job.epoch, seq: job.seq, data, bytes: whole ? (whole as Frame).bytes : estimate });
    return { kind: 'result', whole: build, delta, base: previous?.seq ?? 0 };
  }

  /** A refetch order for every recipient; the slot's previous result is forgotten (nobody gets this one). */
  private failed(slotKey: string, slot: Slot<TCtx>, job: Job<TCtx>, reason: RefetchReason): Failed {
    this.bases?.delete(slotKey);
    return { kind: 'refetch', frame: this.refetch(slot, job, reason) };
  }

  private refetch(slot: Slot<TCtx>, job: Job<TCtx>, reason: RefetchReason): Frame {
    return this.options.hub.pushFrame({ kind: 'refetch', watch: slot.watch, epoch: job.epoch, seq: job.seq, reason }, job.publishedAt);
  }

  /**
   * One frame to every recipient that still watches: the delta to those
   * the previous result was queued to last (and that apply deltas), else
   * the whole result; a congested one gets a refetch order instead. One
   * paused since the job was scheduled is owed it (see {@link resumed}).
   */
  private write(slot: Slot<TCtx>, job: Job<TCtx>, computed: Computed | Failed): void {
    let slow: Frame | undefined;
    let tooLarge: Frame | undefined;
    let failedWhole: Frame | undefined;
    for (const set of job.recipients) {
      const connection = set.connection;
      const watch = set.watches.get(slot.watch);
      if (connection.closed || !watch) continue;
      if (connection.paused) {
        this.owe(watch);
        continue;
      }
      let out: Frame;
      if (computed.kind === 'refetch') out = computed.frame;
      // Over exactly the base it names, and not replacing a pending frame (the stream would never see that base).
      else if (
        computed.delta &&
        watch.sent?.epoch === job.epoch &&
        watch.sent.seq === computed.base &&
        WatchSet.takesDeltas(watch) &&
        !connection.pushPending(slot.watch)
      ) {
        out = computed.delta;
      } else {
        try {
          out = computed.whole();
          // Built only now (its size was estimated under the bound): a rare overshoot still never goes out.
          if (out.bytes > this.options.maxResultBytes) out = tooLarge ??= this.refetch(slot, job, 'too-large');
        } catch (error) {
          // Not expected (its delta serialized): the serializer refused the result.
          if (!failedWhole) this.options.onError(error, slot.path);
          out = failedWhole ??= this.refetch(slot, job, 'error');
        }
      }
      // A congested stream would collapse (and drop it) soon.
      if (out.message.kind !== 'refetch' && connection.congested(out.bytes)) out = slow ??= this.refetch(slot, job, 'slow');
      connection.push(out);
      const kind = out.message.kind;
      if (kind === 'refetch') {
        this.stats.refetches[(out.message as { reason: RefetchReason }).reason]++;
        watch.sent = null;
      } else {
        if (kind === 'delta') this.stats.deltas++;
        else this.stats.results++;
        watch.sent = { epoch: job.epoch, seq: job.seq };
      }
    }
  }
}
