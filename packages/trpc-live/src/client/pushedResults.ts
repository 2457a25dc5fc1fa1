import type { Query, QueryClient, QueryCacheNotifyEvent } from '@tanstack/query-core';
import { applyDelta } from '../shared/delta.ts';
import type { LiveDeltaMessage, LiveRefetchMessage, LiveResultMessage } from '../shared/messages.ts';
import type { ChangedKey, QueryMatcher } from '../shared/queryMatcher.ts';
import type { WatchSync } from './watchSync.ts';

/** Default of {@link PushedResultsOptions.holdMs}. */
export const DEFAULT_HOLD_MS = 1_000;

/** A change waiting in the invalidator's batch: its key, its seq, and whether it is applied again (a server render's catch-up). */
export interface SeqChange extends ChangedKey {
  /** The seq it was published at (in the current epoch). */
  readonly seq: number;
  /** Applied again over data a server render put in the cache: always a plain invalidation. */
  readonly again?: boolean;
}

/** Counters of pushed results (tests, inspectors). */
export interface PushedResultsStats {
  /** Results written into the cache (whole or from a delta). */
  results: number;
  /** Deltas applied over the base they name (each also counted in `results` or `staleResults`). */
  deltas: number;
  /** Deltas whose base this tab did not hold: refetched instead (unless the data already reflected them), and the watch added again. */
  deltaMisses: number;
  /** Results ignored: the query already reflected that change or a newer one (or is not cached here). */
  staleResults: number;
  /** Invalidations held for a watched query until its result or refetch arrives. */
  held: number;
  /** Held invalidations released by a result (no request). */
  releasedByResult: number;
  /** Held invalidations released by a `refetch` message (one request). */
  releasedByRefetch: number;
  /** Held invalidations whose result and refetch did not arrive in time (one request). */
  timeouts: number;
}

/** Options of {@link PushedResults}. */
export interface PushedResultsOptions {
  queryClient: QueryClient;
  watches: WatchSync;
  matcher: QueryMatcher;
  /** Invalidates these queries now (refetched if visible, else when shown). */
  invalidate: (queries: readonly Query[]) => void;
  /** The highest seq this client has heard of in the current epoch (a fetch started now reflects every change up to it). */
  highestSeq: () => number;
  /** The current epoch (watch confirmations of another one confirm nothing). */
  epoch: () => string | null;
  /** See `LiveInvalidatorOptions.holdMs`. @default 1000 */
  holdMs?: number;
}

interface Hold {
  /** The newest change whose result (or refetch) is awaited. */
  until: number;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * Pushed results of watched queries, and the invalidations held for them.
 *
 * Per watch key, `covered` is the seq up to which every change is reflected
 * in the cached data or already being refetched (per epoch: {@link forget}
 * on a new one): raised by an applied result, a `refetch` message, and a
 * fetch that succeeded (to the highest seq heard of when it started: it ran
 * after those changes committed). A result at or below it is older than the
 * data and ignored; an invalidation at or below it needs nothing.
 *
 * An invalidation of a watched query whose watch the server confirmed
 * before the change is held (no refetch) until the result or the refetch
 * for that change arrives, or `holdMs` passes (then it refetches): the
 * server sends one of the two for every change after the confirmation, so
 * the query ends with the pushed data or a refetch, never neither, and
 * never both. Unconfirmed or refused watches, and changes from before the
 * confirmation, invalidate as before.
 */
export class PushedResults {
  /** What happened to results and holds so far. */
  readonly stats: PushedResultsStats = { results: 0, deltas: 0, deltaMisses: 0, staleResults: 0, held: 0, releasedByResult: 0, releasedByRefetch: 0, timeouts: 0 };
  private readonly holdMs: number;
  private readonly covered = new Map<string, number>();
  /** Highest seq heard of when each fetching query's fetch started (by query hash). */
  private readonly floors = new Map<string, number>();
  private readonly holds = new Map<string, Hold>();
  /**
   * Per watch key, the last result the server pushed to this tab (whole, or
   * rebuilt from a delta) and its seq, whether or not it was written into
   * the cache: what the server's next delta names as its base. Kept apart
   * from the cache, so a fetch landing in between does not break the chain
   * (the rebuilt result is exact either way, and written only if newer).
   * Usually the very object the cache holds; dropped with the query.
   */
  private readonly bases = new Map<string, { readonly seq: number; readonly data: unknown }>();
  private readonly stopCache: () => void;

  constructor(private readonly options: PushedResultsOptions) {
    this.holdMs = Math.max(0, options.holdMs ?? DEFAULT_HOLD_MS);
    this.stopCache = options.queryClient.getQueryCache().subscribe((event) => this.onCacheEvent(event));
  }

  /**
   * A pushed result: written into the cache when it reflects a newer change
   * than the query holds. A fetch in flight that started before the change
   * is cancelled first (reverted to the data it started from), so it cannot
   * overwrite the newer result when it lands. Applied while the page is
   * hidden too: showing it needs no refetch.
   */
  result(message: LiveResultMessage): void {
    this.place(message.watch, message.seq, message.data);
  }

  /**
   * A pushed result as a delta: rebuilt over the result at `base` this tab
   * holds (structural sharing: unchanged members keep their identity) and
   * placed like a whole result. Without exactly that base (a frame missed,
   * a tab that joined later, a patch that does not fit) it is a refetch
   * order instead, and the watch is added again so the next result is whole.
   */
  delta(message: LiveDeltaMessage): void {
    const base = this.bases.get(message.watch);
    let data: unknown;
    let fits = base !== undefined && base.seq === message.base;
    if (fits) {
      try {
        data = applyDelta(base!.data, message.ops);
      } catch {
        fits = false;
      }
    }
    if (!fits) {
      this.stats.deltaMisses++;
      this.bases.delete(message.watch);
      this.options.watches.resync(message.watch);
      this.refetch({ kind: 'refetch', watch: message.watch, epoch: message.epoch, seq: message.seq, reason: 'error' });
      return;
    }
    this.stats.deltas++;
    this.place(message.watch, message.seq, data);
  }

  private place(watch: string, seq: number, data: unknown): void {
    const { queryClient, watches } = this.options;
    const queries = watches.queriesOf(watch);
    // The server's result at `seq`, whether or not the cache takes it: the base of its next delta.
    if (queries.length && seq > (this.bases.get(watch)?.seq ?? 0)) this.bases.set(watch, { seq, data });
    const fresh = queries.filter((query) => !this.reflects(query, watch, seq));
    if (!fresh.length) {
      this.stats.staleResults++;
      this.settle(watch);
      return;
    }
    for (const query of fresh) {
      // Only a fetch in flight can land over the result (an idle query has none: no cache walk for nothing).
      if (query.state.fetchStatus !== 'idle') void queryClient.cancelQueries({ queryKey: query.queryKey, exact: true });
      // Into the query the watch names, as setQueryData writes once it found it: setQueryData(queryKey) looks the query
      // up by the client's default hash of the key, so a query with its own queryKeyHashFn was never written (a second
      // entry got the data, and the held invalidation was released: stale for good), and each write hashed the key
      // again (TanStack's defaultQueryOptions + hashKey: 3% of the article benchmark's simulated browsers' CPU at heavy).
      if (data !== undefined) query.setData(data, { manual: true });
    }
    // The next delta's base is what the cache now holds (the same value: TanStack's structural sharing only swaps in
    // equal parts it already held), so the rows it leaves alone keep the cache's own objects, and TanStack's next
    // comparison returns at each of them at once instead of walking and copying every row (rows with Dates never
    // compare equal unless they are the same object). Measured: replaceEqualDeep 7% of a simulated browsers'
    // process's CPU in the article benchmark's (d) heavy phase before.
    // A custom `structuralSharing` may hold anything: the server's own result stays the base then.
    const first = fresh[0]!;
    const held = first.state.data;
    if (held !== undefined && typeof first.options.structuralSharing !== 'function' && this.bases.get(watch)?.seq === seq) this.bases.set(watch, { seq, data: held });
    this.stats.results++;
    this.cover(watch, seq);
    const hold = this.holds.get(watch);
    if (hold && hold.until <= seq) {
      this.release(watch);
      this.stats.releasedByResult++;
    }
  }

  /** The server could not push the watched query's result for a change: refetch it now (a fetch started now reflects it). */
  refetch(message: LiveRefetchMessage): void {
    // A late order for a change the data already reflects: nothing to do, and a hold for a newer change stays.
    if ((this.covered.get(message.watch) ?? 0) >= message.seq) return;
    const queries = this.options.watches.queriesOf(message.watch);
    if (this.holds.has(message.watch)) this.stats.releasedByRefetch++;
    // A fetch started now reflects every change heard of, the held ones included.
    this.release(message.watch);
    this.cover(message.watch, message.seq);
    if (queries.length) this.options.invalidate(queries);
  }

  /**
   * Decides a batch of changes for the watched queries: returns the hashes
   * of the queries that must NOT be invalidated now (their changes are
   * covered, or held until their result arrives). Call once per batch.
   */
  holdBack(changes: readonly SeqChange[]): Set<string> {
    const skip = new Set<string>();
    if (!changes.length) return skip;
    const matches = this.options.matcher.predicate(changes);
    for (const query of this.options.watches.allQueries()) {
      if (!matches(query.queryKey)) continue;
      const key = this.options.watches.keyOf(query)!;
      const until = this.holdUntil(query, key, changes);
      if (until === null) {
        // Invalidated now: that refetch covers whatever was held.
        this.release(key);
        continue;
      }
      skip.add(query.queryHash);
      if (until > 0) this.hold(key, until);
    }
    return skip;
  }

  /**
   * These watches are no longer confirmed (see `WatchSyncOptions.onUnconfirmed`):
   * the results their held invalidations wait for may never come to this
   * tab, so those queries are invalidated now rather than at `holdMs`
   * (refetched if observed and visible; a query no component observes any
   * more is only marked stale, which costs nothing).
   */
  unconfirmed(keys: readonly string[]): void {
    const queries: Query[] = [];
    for (const key of keys) {
      if (!this.holds.has(key)) continue;
      this.release(key);
      queries.push(...this.options.watches.queriesOf(key));
    }
    if (queries.length) this.options.invalidate(queries);
  }

  /** Every query is being invalidated (a reset): nothing stays held. */
  reset(): void {
    for (const key of [...this.holds.keys()]) this.release(key);
  }

  /** A new epoch: seqs of the old one mean nothing; held invalidations refetch now. */
  forget(): void {
    this.refetchHeld();
    this.covered.clear();
    this.floors.clear();
    this.bases.clear();
  }

  /**
   * A new connection: results are never replayed, so what the old one still
   * owed never comes; held invalidations refetch now rather than at their bound.
   */
  refetchHeld(): void {
    const held = [...this.holds.keys()];
    for (const key of held) this.release(key);
    const queries = held.flatMap((key) => this.options.watches.queriesOf(key));
    if (queries.length) this.options.invalidate(queries);
  }

  /** Stops following the cache and cancels the hold timers. */
  dispose(): void {
    this.stopCache();
    for (const key of [...this.holds.keys()]) this.release(key);
  }

  /**
   * `null`: invalidate now (a matching change is not pushed for this query);
   * `0`: nothing to do (every matching change is already reflected); else
   * the seq to hold for.
   */
  private holdUntil(query: Query, key: string, changes: readonly SeqChange[]): number | null {
    const covered = this.covered.get(key) ?? 0;
    const confirmed = this.options.watches.confirmedAt(key);
    let until = 0;
    for (const change of changes) {
      if (!this.options.matcher.matches(query.queryKey, [change])) continue;
      if (change.again) return null;
      if (change.seq <= covered) continue;
      // Confirmed after the change (or not at all): the server pushes nothing for it.
      if (!confirmed || confirmed.epoch !== this.options.epoch() || change.seq <= confirmed.seq) return null;
      until = Math.max(until, change.seq);
    }
    return until;
  }

  private hold(key: string, until: number): void {
    const hold = this.holds.get(key);
    if (hold) {
      hold.until = Math.max(hold.until, until);
      return;
    }
    this.stats.held++;
    const timer = setTimeout(() => this.expire(key), this.holdMs);
    this.holds.set(key, { until, timer });
  }

  private expire(key: string): void {
    const hold = this.holds.get(key);
    if (!hold) return;
    this.holds.delete(key);
    if ((this.covered.get(key) ?? 0) >= hold.until) return;
    this.stats.timeouts++;
    const queries = this.options.watches.queriesOf(key);
    if (queries.length) this.options.invalidate(queries);
  }

  private release(key: string): void {
    const hold = this.holds.get(key);
    if (!hold) return;
    clearTimeout(hold.timer);
    this.holds.delete(key);
  }

  /** A hold that an ignored result proves unneeded (the data already reflects it). */
  private settle(key: string): void {
    const hold = this.holds.get(key);
    if (hold && (this.covered.get(key) ?? 0) >= hold.until) this.release(key);
  }

  private cover(key: string, seq: number): void {
    this.covered.set(key, Math.max(seq, this.covered.get(key) ?? 0));
  }

  /** Whether the query's data (or its fetch in flight) already reflects the change at `seq`. */
  private reflects(query: Query, key: string, seq: number): boolean {
    if ((this.covered.get(key) ?? 0) >= seq) return true;
    const floor = this.floors.get(query.queryHash);
    return query.state.fetchStatus !== 'idle' && floor !== undefined && floor >= seq;
  }

  private onCacheEvent(event: QueryCacheNotifyEvent): void {
    if (event.type === 'removed') {
      this.floors.delete(event.query.queryHash);
      const key = this.options.watches.keyOf(event.query);
      if (key !== null && !this.options.watches.queriesOf(key).length) {
        this.covered.delete(key);
        this.bases.delete(key);
        this.release(key);
      }
      return;
    }
    if (event.type !== 'updated') return;
    const { query, action } = event;
    const key = this.options.watches.keyOf(query);
    if (key === null) return;
    if (action.type === 'fetch') this.floors.set(query.queryHash, this.options.highestSeq());
    // A fetch landed: it ran after every change heard of when it started.
    else if (action.type === 'success' && !action.manual) this.cover(key, this.floors.get(query.queryHash) ?? 0);
    if (query.state.fetchStatus === 'idle') this.floors.delete(query.queryHash);
  }
}
