import { focusManager, type Query, type QueryClient, type QueryFilters } from '@tanstack/query-core';
import { formatCursor, parseCursor, type Cursor } from '../shared/cursor.ts';
import type { DomainSignal, LiveMessage } from '../shared/messages.ts';
import type { PublishedKey } from '../shared/fence.ts';
import { pushedQueries, type ResourceRegistry } from '../shared/registry.ts';
import { createQueryMatcher, queryKeyPrefix, type QueryMatcher } from '../shared/queryMatcher.ts';
import { PushedResults, type PushedResultsStats, type SeqChange } from './pushedResults.ts';
import { WatchSync, type LiveWatchCall } from './watchSync.ts';

/** Default of {@link LiveInvalidatorOptions.batchWindowMs}. */
export const DEFAULT_BATCH_WINDOW_MS = 2;

/** Options of {@link createLiveInvalidator}. */
export interface LiveInvalidatorOptions {
  /** The app's TanStack QueryClient, whose matching queries are invalidated (or refetched). */
  queryClient: QueryClient;
  /** The app's resource registry (the same object the server types its meta with). */
  registry: ResourceRegistry;
  /**
   * The `keyPrefix` of this client's tRPC queries (the option of
   * `createTRPCContext` / `createTRPCOptionsProxy`). Changes and resets touch
   * only queries under it, so several tRPC clients with their own prefixes
   * can share one QueryClient, each with its own stream.
   * @default none: tRPC's unprefixed keys (and, on a reset, every other key without a tRPC prefix)
   */
  keyPrefix?: string;
  /**
   * How long after the first change of a batch the batch is applied: every
   * change received in the window is applied in one `invalidateQueries` pass,
   * so a query reading several changed keys (a dashboard depending on orders
   * and products) refetches once. One mutation's signals leave the server in
   * one write, but browsers dispatch each SSE event as its own task and a
   * transport may split them, and a tab that shares another tab's stream gets
   * each one as its own message; all of these land within a millisecond of
   * each other, so a short window absorbs them. Every millisecond here is
   * added to the time to fresh data.
   * @default 2
   */
  batchWindowMs?: number;
  /**
   * Schedules a batch (replaces `batchWindowMs`; tests pass a manual one).
   * @default (fn) => setTimeout(fn, batchWindowMs)
   */
  schedule?: (fn: () => void) => void;
  /**
   * Most keys whose applied sequence is remembered. Past it the oldest is
   * forgotten; the only cost is that a late duplicate of a forgotten key
   * refetches once more. Bounds a long-lived tab's memory.
   * @default 10_000
   */
  maxTrackedKeys?: number;
  /**
   * Whether the page is on screen. While it is hidden, changed queries are
   * only marked stale; they refetch when the page is shown again, once,
   * however many changes arrived meanwhile (a background tab costs nothing).
   * `null`: always visible (refetch at once; tests, servers, workers).
   * @default TanStack Query's `focusManager` (the document's visibility in a browser)
   */
  visibility?: LiveVisibility | null;
  /**
   * Sends this tab's watches of pushable queries (registry bindings with
   * `push`) to the server: the app's `live.watch` mutation,
   * `(request) => trpcClient.live.watch.mutate(request)`. Usually set later
   * with {@link LiveInvalidator.watchWith} (the tRPC client needs the
   * invalidator first); `<LiveProvider watch>` does it.
   * @default none: nothing is watched, every change refetches
   */
  watch?: LiveWatchCall;
  /**
   * How long changes to the watched set gather before one watch request.
   * @default 20 (DEFAULT_WATCH_BATCH_MS)
   */
  watchBatchMs?: number;
  /**
   * Longest an invalidation of a watched query is held for its pushed result
   * (or the server's `refetch`) before it refetches anyway. The server
   * computes the result right after the commit and sends it behind the
   * invalidation, so it normally arrives within milliseconds; the bound
   * only matters when it was lost (a dropped connection).
   * @default 1000 (DEFAULT_HOLD_MS)
   */
  holdMs?: number;
  /**
   * This tab's id as a holder of watches on its connection (a tab holding a
   * shared stream sends every tab's watches under its own). @default a random id
   */
  watchHolder?: string;
}

/** A source of page visibility (see {@link LiveInvalidatorOptions.visibility}). */
export interface LiveVisibility {
  /** True while the page is visible now. */
  isVisible(): boolean;
  /** Calls `listener` when visibility changes; returns an unsubscribe function. */
  subscribe(listener: (visible: boolean) => void): () => void;
}

/** Page visibility as TanStack Query sees it (document visibility in a browser, always visible elsewhere). */
export const focusVisibility: LiveVisibility = {
  isVisible: () => focusManager.isFocused(),
  subscribe: (listener) => focusManager.subscribe(listener),
};

/** A change a stream delivered: its key and the sequence it was published at. */
export interface AppliedChange {
  /** The resource that changed. */
  readonly resource: string;
  /** The instance, absent when the whole resource changed. */
  readonly id?: string;
  /** The seq it was published at (orders changes within the stream's epoch). */
  readonly seq: number;
}

/** A listener for every message (progress bars, toasts, inspectors, other tabs). */
export type LiveMessageListener = (message: LiveMessage) => void;

/** Counters of what the invalidator did (tests, inspectors). */
export interface LiveInvalidatorStats {
  /** Changes that will be or were applied. */
  applied: number;
  /** Changes skipped because the same or a newer sequence was already applied (stream after fence, replays). */
  duplicates: number;
  /** `invalidateQueries` passes (one per batch). */
  flushes: number;
  /** Reset passes (every query invalidated). */
  resets: number;
  /** Passes applied while hidden (stale only, no refetch). */
  deferred: number;
  /**
   * Times showing the page refetched queries it had missed changes of (each
   * one batched request with a batching link); a show with nothing stale
   * among the active queries does not count.
   */
  shown: number;
}

/**
 * Turns live messages into precise TanStack Query invalidations.
 *
 * Exactly once: every key remembers the newest sequence already applied,
 * whether it came from the stream or from a mutation response's fence, so
 * the same change never triggers a second refetch, in whichever order the
 * two copies arrive.
 */
export class LiveInvalidator {
  private readonly matcher: QueryMatcher;
  private readonly schedule: (fn: () => void) => void;
  private readonly maxTrackedKeys: number;
  private readonly applied = new Map<string, number>();
  private epoch: string | null = null;
  /** Highest seq heard of in `epoch` (stream, fences, results): a fetch started now reflects every change up to it. */
  private highest = 0;
  private pending: SeqChange[] = [];
  private pendingReset = false;
  private scheduled = false;
  private readonly listeners = new Set<LiveMessageListener>();
  /** What this invalidator did so far. */
  readonly stats: LiveInvalidatorStats = { applied: 0, duplicates: 0, flushes: 0, resets: 0, deferred: 0, shown: 0 };
  private readonly visibility: LiveVisibility | null;
  private readonly stopVisibility: () => void;
  /** Invalidations were applied while hidden: refetch them when shown. */
  private deferredWhileHidden = false;
  /** Connection id from the stream's hello (for pause/resume). */
  connectionId: string | null = null;
  /** Latest cursor seen on the stream (an SSE id: see `formatCursor`); a resume starts from it. */
  lastCursor: string | null = null;
  /**
   * Every change of `epoch` with a seq above `from` that the stream delivered
   * is in `applied` (null: not known, e.g. before the stream's hello, or
   * after the epoch changed). Lets a later server render's cursor be caught
   * up without the server (see {@link seedCursor}).
   */
  private covered: { epoch: string; from: number } | null = null;
  /** A server render's cursor not caught up yet (see {@link pendingSeed}). */
  private seed: Cursor | null = null;
  /** Whether a stream (or another tab's relay) has set `lastCursor`, rather than a seed. */
  private streamed = false;
  private readonly seedListeners = new Set<(cursor: string) => void>();
  /**
   * Queries that held data when a stream started feeding this invalidator
   * for the first time, with no cursor to resume from (see {@link listening}),
   * and when that data was written: refetched once the stream is connected,
   * unless newer data reached them first. Null when there is nothing to check.
   */
  private heldBeforeListening: Map<Query, number> | null = null;
  /** Watches of this tab's pushable queries (null: the registry pushes nothing). */
  private readonly watches: WatchSync | null = null;
  private readonly pushed: PushedResults | null = null;

  constructor(private readonly options: LiveInvalidatorOptions) {
    this.matcher = createQueryMatcher(options.registry, { keyPrefix: options.keyPrefix });
    const pushed = pushedQueries(options.registry);
    if (pushed.size) {
      this.watches = new WatchSync({
        queryCache: options.queryClient.getQueryCache(),
        pushed,
        keyPrefix: options.keyPrefix,
        ...(options.watchHolder !== undefined ? { holder: options.watchHolder } : {}),
        ...(options.watchBatchMs !== undefined ? { batchMs: options.watchBatchMs } : {}),
        onUnconfirmed: (keys) => this.pushed?.unconfirmed(keys),
      });
      this.pushed = new PushedResults({
        queryClient: options.queryClient,
        watches: this.watches,
        matcher: this.matcher,
        invalidate: (queries) => this.invalidateNow(queries),
        highestSeq: () => this.highest,
        epoch: () => this.epoch,
        ...(options.holdMs !== undefined ? { holdMs: options.holdMs } : {}),
      });
      if (options.watch) this.watches.setCall(options.watch);
    }
    const windowMs = Math.max(0, options.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS);
    this.schedule = options.schedule ?? ((fn) => void setTimeout(fn, windowMs));
    this.maxTrackedKeys = Math.max(1, options.maxTrackedKeys ?? 10_000);
    this.visibility = options.visibility === undefined ? focusVisibility : options.visibility;
    this.stopVisibility = this.visibility?.subscribe((visible) => visible && this.refetchDeferred()) ?? (() => undefined);
  }

  /** Stops following page visibility and the cache, and drops this tab's watches (the invalidator is no longer used). */
  dispose(): void {
    this.stopVisibility();
    this.watches?.dispose();
    this.pushed?.dispose();
  }

  /**
   * Sets (or, with null, clears) the watch call (see
   * {@link LiveInvalidatorOptions.watch}). Clearing it removes this tab's
   * watches from the server, best effort. No effect when the registry
   * pushes no query.
   */
  watchWith(call: LiveWatchCall | null): void {
    this.watches?.setCall(call);
  }

  /**
   * The connection this tab's stream (or the tab holding the shared one)
   * runs on, when it is learnt other than from a hello on this tab's
   * stream: a tab that joined after the hello was relayed. Watches are
   * sent for it.
   */
  useConnection(connectionId: string, epoch: string): void {
    // Only when this tab knows no epoch yet: a fence may already have brought a newer one than the leader's stream.
    if (this.epoch === null) this.setEpoch(epoch);
    this.connectionId = connectionId;
    this.watches?.connected(connectionId);
    this.refetchHeldBeforeListening();
  }

  /**
   * A stream (this tab's, or another tab's relay) starts feeding this
   * invalidator; `createSharedLiveStream` calls it. What changed while
   * nothing fed it is not lost:
   * - after an earlier stream (`<LiveProvider enabled>` false, then true
   *   again), its last cursor becomes a pending seed, as a server render's
   *   cursor is: the stream resumes from it (the server replays the gap), or
   *   the tab holding the shared stream says what it relayed since (it
   *   cannot tell: every query refetches);
   * - with no cursor at all, the queries already holding data (fetched while
   *   the provider was disabled, restored from storage, hydrated without
   *   `LiveCursorSeed`) are refetched once the stream is connected, since
   *   nothing says what changed after they were read. An empty cache (a page's
   *   first load) refetches nothing.
   */
  listening(): void {
    if (this.lastCursor !== null) {
      // A server render's seed not caught up yet already does this.
      if (!this.streamed) return;
      const at = parseCursor(this.lastCursor);
      // Changes went by unseen since the stream closed: this tab cannot answer for them until it has caught up.
      this.covered = null;
      this.streamed = false;
      if (at) this.keepOldestSeed(at);
      else this.catchUp(null);
      return;
    }
    const held = new Map<Query, number>();
    for (const query of this.options.queryClient.getQueryCache().getAll()) {
      if (query.state.dataUpdatedAt > 0 && this.owns(query.queryKey)) held.set(query, query.state.dataUpdatedAt);
    }
    this.heldBeforeListening = held.size ? held : null;
  }

  /** The stream is connected (its hello, or the relay joined): refetches what {@link listening} found held, unless rewritten since. */
  private refetchHeldBeforeListening(): void {
    const held = this.heldBeforeListening;
    if (!held) return;
    this.heldBeforeListening = null;
    const cache = this.options.queryClient.getQueryCache();
    const stale = [...held].filter(([query, at]) => query.state.dataUpdatedAt === at && cache.get(query.queryHash) === query).map(([query]) => query);
    if (stale.length) this.invalidateNow(stale);
  }

  /** The connection and epoch of the stream's last hello (this tab's, or the relayed one), or null before it. */
  get connection(): { readonly connectionId: string; readonly epoch: string } | null {
    return this.connectionId !== null && this.epoch !== null ? { connectionId: this.connectionId, epoch: this.epoch } : null;
  }

  /**
   * The epoch and the highest seq this invalidator has heard of in it (the
   * stream or the relay, fences, results), or null before any.
   */
  get latestHeard(): { readonly epoch: string; readonly seq: number } | null {
    return this.epoch !== null && this.highest > 0 ? { epoch: this.epoch, seq: this.highest } : null;
  }

  /** This tab's watches of pushable queries (null: the registry pushes nothing); the shared stream's roles use it. */
  get watchSync(): WatchSync | null {
    return this.watches;
  }

  /** What pushed results and held invalidations did so far (all zero when the registry pushes nothing). */
  get pushedStats(): Readonly<PushedResultsStats> {
    return this.pushed?.stats ?? NO_PUSHED_STATS;
  }

  /** Watch requests sent and failed so far. */
  get watchStats(): Readonly<{ requests: number; failures: number }> {
    return this.watches?.stats ?? { requests: 0, failures: 0 };
  }

  /** The page was shown again: refetch, once, the active queries invalidated while it was hidden. */
  private refetchDeferred(): void {
    if (!this.deferredWhileHidden) return;
    this.deferredWhileHidden = false;
    const filters: QueryFilters = { type: 'active', predicate: (query) => query.state.isInvalidated && this.owns(query.queryKey) };
    if (!this.options.queryClient.getQueryCache().findAll(filters).length) return;
    this.stats.shown++;
    void this.options.queryClient.refetchQueries(filters);
  }

  /** True for the queries this invalidator is responsible for: those under its `keyPrefix`. */
  private owns(queryKey: readonly unknown[]): boolean {
    return queryKeyPrefix(queryKey) === this.options.keyPrefix;
  }

  /** `active` when visible, else `none` (remembered, so showing the page refetches). */
  private refetchType(): 'active' | 'none' {
    if (!this.visibility || this.visibility.isVisible()) return 'active';
    this.deferredWhileHidden = true;
    this.stats.deferred++;
    return 'none';
  }

  /** True while a batch is scheduled and not yet applied. */
  get batchPending(): boolean {
    return this.scheduled;
  }

  /** Subscribes to every message received; returns an unsubscribe function. */
  subscribe(listener: LiveMessageListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Handles one message from the live stream (`cursor`: the SSE id of its frame, if any). */
  receive(message: LiveMessage, cursor?: string | null): void {
    if (cursor) this.lastCursor = cursor;
    this.streamed = true;
    switch (message.kind) {
      case 'hello':
        if (message.connectionId !== this.connectionId) this.pushed?.refetchHeld();
        this.connectionId = message.connectionId;
        this.setEpoch(message.epoch);
        this.streamStarted(message.epoch);
        this.watches?.connected(message.connectionId);
        this.refetchHeldBeforeListening();
        break;
      case 'result':
      case 'delta':
      case 'refetch':
        // From this stream, so of its epoch; anything else is a stray of another history.
        if (this.epoch !== null && message.epoch !== this.epoch) break;
        this.setEpoch(message.epoch);
        this.heard(message.seq);
        if (message.kind === 'result') this.pushed?.result(message);
        else if (message.kind === 'delta') this.pushed?.delta(message);
        else this.pushed?.refetch(message);
        break;
      case 'reset': {
        // Everything up to the head it points at may be lost; what follows arrives.
        const at = parseCursor(this.lastCursor ?? '');
        this.covered = at ? { epoch: at.epoch, from: Math.max(message.seq, at.seq) } : null;
        // Every query refetches after this, the ones a server render seeded included.
        this.seed = null;
        this.pendingReset = true;
        this.flushSoon();
        break;
      }
      case 'invalidate':
        this.change(message.resource, message.id, message.seq);
        break;
      case 'batch':
        for (const event of message.events) this.receiveDomain(event, message.seq);
        break;
      default:
        break;
    }
    for (const listener of this.listeners) listener(message);
  }

  /**
   * Applies what a mutation response says it published (read-your-writes):
   * invalidated now, and the stream's copy of the same change is skipped.
   */
  receiveFence(keys: readonly PublishedKey[]): void {
    for (const key of keys) {
      // A publish receipt: `epoch:seq` of the change itself.
      const cursor = parseCursor(key.cursor);
      if (!cursor) continue;
      this.setEpoch(cursor.epoch);
      this.change(key.resource, key.id, cursor.seq);
    }
  }

  /**
   * The page was rendered on the server at `cursor` (the hub's position the
   * render read before its queries ran: `live.cursor()`), and its data is
   * going into the cache. Whatever changed after `cursor` must reach it:
   * - before the stream has a position, the stream opens from `cursor`
   *   and the server replays the changes after it. Several renders seed the
   *   oldest: replaying from an older cursor only re-sends changes (the
   *   newer render's data refetches once more), while a newer one would skip
   *   what the older render missed. Cursors of different epochs cannot be
   *   ordered; the first stays, and the server answers a foreign epoch with
   *   a reset (every query refetches), never a gap;
   * - once the stream runs (a client-side navigation to a prefetching page),
   *   the changes after `cursor` it already delivered are applied again
   *   (they may have reached the cache before this render's data), if this
   *   invalidator saw all of them; else {@link pendingSeed} is set and the
   *   seed listeners decide (a tab that shares another tab's stream asks
   *   that tab: see `createSharedLiveStream`; otherwise call
   *   {@link catchUp} with null, a reset).
   * A malformed cursor resets.
   */
  seedCursor(cursor: string): void {
    const seed = parseCursor(cursor);
    if (!seed) {
      this.catchUp(null);
      return;
    }
    if (!this.streamed) {
      const current = this.lastCursor === null ? null : parseCursor(this.lastCursor);
      if (!current || (current.epoch === seed.epoch && seed.seq < current.seq)) this.lastCursor = cursor;
      this.keepOldestSeed(seed);
      return;
    }
    this.keepOldestSeed(seed);
    this.settleSeed();
  }

  /** Catches the pending seed up from what this invalidator saw, else asks the seed listeners (none: reset). */
  private settleSeed(): void {
    const cursor = this.pendingSeed;
    if (!cursor) return;
    const changes = this.changesSince(cursor);
    if (changes) {
      this.catchUp(changes);
      return;
    }
    // Nobody else to ask (no tab shares this stream): a reset is the safe answer.
    if (!this.seedListeners.size) this.catchUp(null);
    for (const listener of this.seedListeners) listener(cursor);
  }

  /**
   * A server render's cursor this invalidator has not caught up from yet
   * (see {@link seedCursor}): cleared by the stream's hello when it opened
   * from that cursor or before, or by {@link catchUp}.
   */
  get pendingSeed(): string | null {
    return this.seed ? formatCursor(this.seed.epoch, this.seed.seq) : null;
  }

  /** Calls `listener` when a seed cannot be caught up locally (see {@link seedCursor}); returns an unsubscribe function. */
  onSeed(listener: (cursor: string) => void): () => void {
    this.seedListeners.add(listener);
    return () => this.seedListeners.delete(listener);
  }

  /**
   * The changes this invalidator applied from the stream after `cursor`,
   * or `null` when it cannot tell (it did not see everything since then:
   * another epoch, a reset or a forgotten key after it, or no stream yet).
   * Before the stream's hello, a stream that will open at or before
   * `cursor` has nothing to report yet: `[]`.
   */
  changesSince(cursor: string): AppliedChange[] | null {
    const since = parseCursor(cursor);
    if (!since) return null;
    if (!this.covered) {
      const opensAt = this.lastCursor === null ? null : parseCursor(this.lastCursor);
      return !this.streamed && opensAt && opensAt.epoch === since.epoch && opensAt.seq <= since.seq ? [] : null;
    }
    if (this.covered.epoch !== since.epoch || this.covered.from > since.seq || this.epoch !== since.epoch) return null;
    const changes: AppliedChange[] = [];
    for (const [key, seq] of this.applied) {
      if (seq <= since.seq) continue;
      const [resource, id] = key.split('\u0000') as [string, string | undefined];
      changes.push(id === undefined ? { resource, seq } : { resource, id, seq });
    }
    return changes;
  }

  /**
   * Settles {@link pendingSeed} with what another source (the tab holding
   * the shared stream) says changed after it: each change is applied again,
   * even if already seen (it may have reached the cache before the render's
   * data); `null` (nobody can tell) resets every query instead.
   */
  catchUp(changes: readonly AppliedChange[] | null): void {
    const seed = this.seed;
    this.seed = null;
    if (!changes) {
      this.pendingReset = true;
      this.flushSoon();
      return;
    }
    this.reapply(changes);
    if (seed && seed.epoch === this.epoch && !this.covered) this.covered = { epoch: seed.epoch, from: seed.seq };
  }

  private keepOldestSeed(seed: Cursor): void {
    if (!this.seed || (this.seed.epoch === seed.epoch && seed.seq < this.seed.seq)) this.seed = seed;
  }

  /** Applied again even when seen: the render's data may have replaced what the first application refetched. */
  private reapply(changes: readonly AppliedChange[]): void {
    for (const change of changes) this.change(change.resource, change.id, change.seq, true);
  }

  /** A stream said hello: it resumed from `lastCursor` (or started at the head it sent). */
  private streamStarted(epoch: string): void {
    const at = parseCursor(this.lastCursor ?? '');
    if (!at || at.epoch !== epoch) {
      // Another epoch: the reset that follows says from where this stream's history holds.
      if (this.covered?.epoch !== epoch) this.covered = null;
      return;
    }
    if (this.covered?.epoch !== epoch) this.covered = { epoch, from: at.seq };
    if (this.seed && this.seed.epoch === epoch && at.seq <= this.seed.seq) this.seed = null;
    // Seeded after this stream had opened (a page that hydrated late): not replayed by it.
    this.settleSeed();
  }

  private receiveDomain(event: DomainSignal, seq: number): void {
    if (event.kind === 'invalidate') this.change(event.resource, event.id, seq);
  }

  private setEpoch(epoch: string): void {
    // Sequences of another history are not comparable: forget what was applied.
    if (this.epoch !== epoch) {
      this.epoch = epoch;
      this.applied.clear();
      this.covered = null;
      this.highest = 0;
      this.pushed?.forget();
    }
  }

  private heard(seq: number): void {
    if (seq > this.highest) this.highest = seq;
  }

  private change(resource: string, id: string | undefined, seq: number, again = false): void {
    this.heard(seq);
    const key = id === undefined ? resource : `${resource}\u0000${id}`;
    const seen = this.applied.get(key);
    if (!again && seen !== undefined && seen >= seq) {
      this.stats.duplicates++;
      return;
    }
    // Re-insert so the Map's order is least recently applied first.
    this.applied.delete(key);
    this.applied.set(key, Math.max(seq, seen ?? 0));
    if (this.applied.size > this.maxTrackedKeys) {
      const [oldest, oldestSeq] = this.applied.entries().next().value!;
      this.applied.delete(oldest);
      // What was applied up to its seq is no longer all known (see changesSince).
      if (this.covered && this.covered.from < oldestSeq) this.covered = { ...this.covered, from: oldestSeq };
    }
    this.stats.applied++;
    this.pending.push({ resource, ...(id === undefined ? {} : { id }), seq, ...(again ? { again } : {}) });
    this.flushSoon();
  }

  private flushSoon(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }

  /** Applies everything pending in one invalidation pass (normally called by the scheduler). */
  flush(): void {
    this.scheduled = false;
    const { queryClient } = this.options;
    if (this.pendingReset) {
      this.pendingReset = false;
      this.pending = [];
      this.stats.resets++;
      this.pushed?.reset();
      // Every query of this client: active ones refetch now (or when shown), the rest when next used.
      void queryClient.invalidateQueries({ predicate: (query) => this.owns(query.queryKey), refetchType: this.refetchType() });
      return;
    }
    const changes = this.pending;
    if (!changes.length) return;
    this.pending = [];
    this.stats.flushes++;
    const matches = this.matcher.predicate(changes);
    // Watched queries whose pushed result is coming (or already here) are left alone.
    const heldBack = this.pushed?.holdBack(changes);
    if (!heldBack) {
      void queryClient.invalidateQueries({ predicate: (query) => matches(query.queryKey), refetchType: this.refetchType() });
      return;
    }
    // With pushed results, one walk of the cache picks the queries to invalidate; that is usually none (every match is
    // held for its result), and TanStack's invalidate-then-refetch pass (two more walks, a batch, a promise) is skipped.
    // Measured: this flush was 10% of a simulated browsers' process's CPU in the article benchmark's (d) heavy phase.
    const refetchType = this.refetchType();
    const targets = new Set(queryClient.getQueryCache().findAll({ predicate: (query) => matches(query.queryKey) && !heldBack.has(query.queryHash) }));
    if (targets.size) void queryClient.invalidateQueries({ predicate: (query) => targets.has(query), refetchType });
  }

  /** Invalidates these queries now: refetched if the page is visible, else when it is shown. */
  private invalidateNow(queries: readonly Query[]): void {
    const hashes = new Set(queries.map((query) => query.queryHash));
    void this.options.queryClient.invalidateQueries({ predicate: (query) => hashes.has(query.queryHash), refetchType: this.refetchType() });
  }
}

const NO_PUSHED_STATS: PushedResultsStats = { results: 0, deltas: 0, deltaMisses: 0, staleResults: 0, held: 0, releasedByResult: 0, releasedByRefetch: 0, timeouts: 0 };

/** Creates a {@link LiveInvalidator}. */
export function createLiveInvalidator(options: LiveInvalidatorOptions): LiveInvalidator {
  return new LiveInvalidator(options);
}
