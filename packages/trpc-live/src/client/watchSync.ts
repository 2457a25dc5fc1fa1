import type { Query, QueryCache, QueryCacheNotifyEvent } from '@tanstack/query-core';
import { parseCursor, type Cursor } from '../shared/cursor.ts';
import { parseQueryKey } from '../shared/queryMatcher.ts';
import type { PushMode } from '../shared/registry.ts';
import { watchKey, type WatchRequest, type WatchResponse, type WatchSpec } from '../shared/watches.ts';

/**
 * A {@link WatchRequest} as this client sends it: every field present, plain
 * arrays (so it fits the watch mutation's input type as zod infers it).
 */
export interface LiveWatchRequest extends WatchRequest {
  /** This tab's holder id. */
  readonly holder: string;
  /** Queries to watch (may be empty). */
  readonly add: WatchSpec[];
  /** Watch keys this tab no longer holds (may be empty). */
  readonly remove: string[];
}

/**
 * The app's watch call: sends a {@link LiveWatchRequest} to the server and
 * resolves with its {@link WatchResponse} (`trpcClient.live.watch.mutate`).
 */
export type LiveWatchCall = (request: LiveWatchRequest) => Promise<WatchResponse> | PromiseLike<WatchResponse>;

/**
 * Where a tab's watch requests go instead of the server (see
 * {@link WatchSync.route}); `call` is the tab's own watch call.
 */
export type WatchRoute = (request: LiveWatchRequest, call: LiveWatchCall) => Promise<WatchResponse> | PromiseLike<WatchResponse>;

/** Default of {@link WatchSyncOptions.batchMs}. */
export const DEFAULT_WATCH_BATCH_MS = 20;

/** Options of {@link WatchSync}. */
export interface WatchSyncOptions {
  /** The QueryCache whose queries are watched. */
  queryCache: QueryCache;
  /** Paths the registry marks `push` (`pushedQueries(registry)`). */
  pushed: ReadonlyMap<string, PushMode>;
  /** The tRPC `keyPrefix` of this client's queries. @default none */
  keyPrefix?: string | undefined;
  /**
   * Who holds these watches on the server: this tab (a tab holding a shared
   * stream sends every tab's under it). @default a random id per instance
   */
  holder?: string;
  /**
   * How long changes to the watch set gather before one request goes out:
   * a page mounts its queries within a few milliseconds, and a navigation
   * unmounts one page's queries and mounts the next page's in one commit, so
   * a query both pages use is neither removed nor re-added.
   * @default 20
   */
  batchMs?: number;
  /**
   * Called with the watches whose confirmation this tab just dropped: it
   * removed them (no query observes them any more), sends its whole set
   * again (its page came back from the back/forward cache), or moved to a
   * new connection. The results the server owes them for changes already
   * heard of may never reach this tab (a shared stream's leader sends a
   * result only to the tabs holding its watch), so what waits for them
   * must not wait (PushedResults invalidates it).
   */
  onUnconfirmed?: (keys: readonly string[]) => void;
}

/** What the server was told of one watch on the current connection. */
type Told =
  /** Sent (or being sent), not confirmed: its invalidations refetch as before. */
  | { readonly state: 'sent' }
  /** Registered at `cursor`: results are pushed for changes after it. */
  | { readonly state: 'confirmed'; readonly cursor: Cursor }
  /** Refused: not sent again until its query goes and comes back (or a new connection). */
  | { readonly state: 'refused' };

const randomId = () => Math.random().toString(36).slice(2, 10) + Date.now().toString(36);

/**
 * Keeps the server's watch set of this tab equal to the pushable queries it
 * holds. A query is held while it has observers (a mounted component uses
 * it); when its last observer goes (the page unmounts) the watch is dropped:
 * its cached data then gets plain invalidations (marked stale, refetched
 * when next used), as every query did before results were pushed.
 *
 * Changes are batched into one {@link WatchRequest} per window, one request
 * at a time (so an add and a later remove cannot overtake each other). The
 * server's answer confirms each accepted watch at its cursor; a failed call
 * leaves the watches unconfirmed (plain invalidations) and they are sent
 * again with the next change or the next connection; nothing throws into
 * the app. A new connection (a new `hello`) starts with no watches on the
 * server, so the whole set is sent again.
 */
export class WatchSync {
  /** This tab's id as a holder of watches. */
  readonly holder: string;
  private readonly batchMs: number;
  /** Parsed watch key per query hash (`null`: not a pushable query of this client). */
  private readonly keys = new Map<string, string | null>();
  /** Every cached pushable query of this client, by watch key. */
  private readonly cached = new Map<string, Set<Query>>();
  /** Watches this tab holds now (queries with observers), with their specs. */
  private readonly held = new Map<string, WatchSpec>();
  /** What the server was told, for {@link connectionId}. */
  private readonly told = new Map<string, Told>();
  private call: LiveWatchCall | null = null;
  private connectionId: string | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight = false;
  /** The held set changed since the last request was sent. */
  private dirty = false;
  private readonly stopCache: () => void;
  private via: WatchRoute | null = null;
  /** Requests sent and failed so far (tests, inspectors). */
  readonly stats = { requests: 0, failures: 0 };

  constructor(private readonly options: WatchSyncOptions) {
    this.holder = options.holder ?? randomId();
    this.batchMs = Math.max(0, options.batchMs ?? DEFAULT_WATCH_BATCH_MS);
    this.stopCache = options.queryCache.subscribe((event) => this.onCacheEvent(event));
    for (const query of options.queryCache.getAll()) this.track(query, false);
  }

  /**
   * The watch key of a pushable query of this client, else `null`. Only
   * plain queries (`type: 'query'`): an infinite query's data is pages, not
   * the procedure's result.
   */
  keyOf(query: Query): string | null {
    let key = this.keys.get(query.queryHash);
    if (key === undefined) {
      key = this.parse(query.queryKey);
      // A removed query is not remembered again (listeners after this one still ask).
      if (this.options.queryCache.get(query.queryHash) === query) this.keys.set(query.queryHash, key);
    }
    return key;
  }

  /** The cached queries with this watch key (usually one). */
  queriesOf(key: string): readonly Query[] {
    const queries = this.cached.get(key);
    return queries ? [...queries] : [];
  }

  /** Every cached pushable query of this client. */
  *allQueries(): Iterable<Query> {
    for (const queries of this.cached.values()) yield* queries;
  }

  /** Where the server confirmed the watch on the current connection, or null (unconfirmed, refused, not held). */
  confirmedAt(key: string): Cursor | null {
    const told = this.told.get(key);
    return told?.state === 'confirmed' ? told.cursor : null;
  }

  /** Sets the watch call (null: stop watching; the server's watches of this tab are removed, best effort). */
  setCall(call: LiveWatchCall | null): void {
    if (call === this.call) return;
    if (!call) this.removeAll();
    this.call = call;
    if (call) this.flushSoon();
  }

  /** The stream said hello on `connectionId`: a new connection has no watches, so the whole set is sent again. */
  connected(connectionId: string): void {
    if (connectionId === this.connectionId) return;
    this.connectionId = connectionId;
    this.forgetTold();
    // A request in flight named the previous connection: its answer is ignored (see send).
    this.inFlight = false;
    this.flushSoon();
  }

  /**
   * Routes this tab's requests through `via` instead of sending them to the
   * server itself (null: straight to the server): the tabs sharing one
   * stream hand their requests to the tab holding it, which sends one
   * request for them all (WatchUnion). Requests still go only while a watch
   * call is set (the app watches at all); `via` gets it.
   */
  route(via: WatchRoute | null): void {
    this.via = via;
  }

  /** The watch call set with {@link setCall} (null: none). */
  get watchCall(): LiveWatchCall | null {
    return this.call;
  }

  /** How long changes gather before a request (`batchMs`). */
  get batchWindowMs(): number {
    return this.batchMs;
  }

  /**
   * Adds the watch again (this tab could not apply a delta: it lacks the
   * result the server takes it to hold), so the server's next result of it
   * is whole. Until confirmed again its invalidations refetch as before.
   */
  resync(key: string): void {
    const told = this.told.get(key);
    if (!told || told.state === 'refused' || !this.held.has(key)) return;
    this.told.delete(key);
    this.dirty = true;
    this.flushSoon();
  }

  /** Sends the whole set again (this tab's watches were dropped on the server while its page was away). */
  rewatch(): void {
    this.forgetTold();
    this.dirty = true;
    this.flushSoon();
  }

  /** Stops following the cache and removes this tab's watches from the server (best effort). */
  dispose(): void {
    this.stopCache();
    this.setCall(null);
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private parse(queryKey: readonly unknown[]): string | null {
    const parsed = parseQueryKey(queryKey);
    if (!parsed || parsed.prefix !== this.options.keyPrefix || !this.options.pushed.has(parsed.path)) return null;
    const meta = queryKey[parsed.prefix === undefined ? 1 : 2] as { type?: unknown } | undefined;
    if (meta?.type !== 'query') return null;
    return watchKey(parsed.path, parsed.input);
  }

  private onCacheEvent(event: QueryCacheNotifyEvent): void {
    switch (event.type) {
      case 'added':
      case 'observerAdded':
      case 'observerRemoved':
        this.track(event.query, false);
        return;
      case 'removed':
        this.track(event.query, true);
        this.keys.delete(event.query.queryHash);
        return;
      default:
    }
  }

  private track(query: Query, removed: boolean): void {
    const key = this.keyOf(query);
    if (key === null) return;
    const queries = this.cached.get(key) ?? new Set<Query>();
    if (removed) queries.delete(query);
    else queries.add(query);
    if (queries.size) this.cached.set(key, queries);
    else this.cached.delete(key);
    let observed = false;
    for (const cachedQuery of queries) if (cachedQuery.getObserversCount() > 0) observed = true;
    if (observed === this.held.has(key)) return;
    if (observed) {
      const parsed = parseQueryKey(query.queryKey)!;
      this.held.set(key, parsed.input === undefined ? { path: parsed.path } : { path: parsed.path, input: parsed.input });
    } else {
      this.held.delete(key);
    }
    this.dirty = true;
    this.flushSoon();
  }

  private flushSoon(): void {
    if (this.timer !== null || !this.call || !this.connectionId) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.flush();
    }, this.batchMs);
  }

  /** Sends the difference between what this tab holds and what the server was told. */
  private flush(): void {
    const { call, connectionId } = this;
    if (!call || !connectionId || this.inFlight) return;
    this.dirty = false;
    const add: WatchSpec[] = [];
    const remove: string[] = [];
    for (const [key, spec] of this.held) {
      if (!this.told.has(key)) {
        add.push(spec);
        this.told.set(key, { state: 'sent' });
      }
    }
    const unconfirmed: string[] = [];
    for (const [key, told] of this.told) {
      if (this.held.has(key)) continue;
      this.told.delete(key);
      if (told.state === 'confirmed') unconfirmed.push(key);
      // The server never held a refused watch.
      if (told.state !== 'refused') remove.push(key);
    }
    if (unconfirmed.length) this.options.onUnconfirmed?.(unconfirmed);
    if (!add.length && !remove.length) return;
    // This package's client applies deltas (PushedResults).
    this.send(call, { connectionId, holder: this.holder, add, remove, deltas: true });
  }

  private send(call: LiveWatchCall, request: LiveWatchRequest): void {
    this.inFlight = true;
    this.stats.requests++;
    const current = () => this.connectionId === request.connectionId;
    const addedKeys = request.add.map((spec) => watchKey(spec.path, spec.input));
    void Promise.resolve()
      .then(() => this.dispatch(call, request))
      .then(
        (response) => {
          if (current()) this.confirm(addedKeys, response);
        },
        () => {
          this.stats.failures++;
          if (current()) this.failed(addedKeys, request.remove);
        },
      )
      .finally(() => {
        if (!current()) return;
        this.inFlight = false;
        // Changes made meanwhile; a failure alone waits for the next change or hello.
        if (this.dirty) this.flushSoon();
      });
  }

  private dispatch(call: LiveWatchCall, request: LiveWatchRequest): Promise<WatchResponse> | PromiseLike<WatchResponse> {
    return this.via ? this.via(request, call) : call(request);
  }

  private confirm(addedKeys: readonly string[], response: WatchResponse): void {
    const cursor = parseCursor(response.cursor);
    const accepted = new Set(response.accepted);
    const refused = new Set(response.refused.map((refusal) => refusal.watch));
    for (const key of addedKeys) {
      if (this.told.get(key)?.state !== 'sent') continue;
      if (cursor && accepted.has(key)) this.told.set(key, { state: 'confirmed', cursor });
      else if (refused.has(key)) this.told.set(key, { state: 'refused' });
      // Neither (a malformed answer): unconfirmed; sent again with the next change.
      else this.told.delete(key);
    }
  }

  private failed(addedKeys: readonly string[], removed: readonly string[]): void {
    // Unknown on the server: sent again with the next change or hello.
    for (const key of addedKeys) if (this.told.get(key)?.state === 'sent') this.told.delete(key);
    // The server may still hold them: told again, unless held again meanwhile (then simply re-added).
    for (const key of removed) if (!this.held.has(key) && !this.told.has(key)) this.told.set(key, { state: 'sent' });
  }

  /** Forgets what the server was told (nothing is confirmed any more), and says which confirmations went. */
  private forgetTold(): void {
    const unconfirmed = [...this.told].filter(([, told]) => told.state === 'confirmed').map(([key]) => key);
    this.told.clear();
    if (unconfirmed.length) this.options.onUnconfirmed?.(unconfirmed);
  }

  /** Tells the server this tab holds nothing any more (its page is going away); the answer is not awaited. */
  private removeAll(): void {
    const { call, connectionId } = this;
    const remove = [...this.told].filter(([, told]) => told.state !== 'refused').map(([key]) => key);
    this.forgetTold();
    if (!call || !connectionId || !remove.length) return;
    this.stats.requests++;
    void Promise.resolve()
      .then(() => this.dispatch(call, { connectionId, holder: this.holder, add: [], remove }))
      .catch(() => {
        this.stats.failures++;
      });
  }
}
