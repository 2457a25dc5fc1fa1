import { focusManager, type QueryClient, type QueryFilters } from '@tanstack/query-core';
import { parseCursor } from '../core/cursor.ts';
import type { DomainSignal, LiveMessage } from '../core/signal.ts';
import type { PublishedKey } from '../trpc/publishLog.ts';
import type { ResourceRegistry } from '../trpc/registry.ts';
import { createQueryMatcher, queryKeyPrefix, type ChangedKey, type QueryMatcher } from './queryMatcher.ts';

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
  private pending: ChangedKey[] = [];
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

  constructor(private readonly options: LiveInvalidatorOptions) {
    this.matcher = createQueryMatcher(options.registry, { keyPrefix: options.keyPrefix });
    const windowMs = Math.max(0, options.batchWindowMs ?? DEFAULT_BATCH_WINDOW_MS);
    this.schedule = options.schedule ?? ((fn) => void setTimeout(fn, windowMs));
    this.maxTrackedKeys = Math.max(1, options.maxTrackedKeys ?? 10_000);
    this.visibility = options.visibility === undefined ? focusVisibility : options.visibility;
    this.stopVisibility = this.visibility?.subscribe((visible) => visible && this.refetchDeferred()) ?? (() => undefined);
  }

  /** Stops following page visibility (the invalidator is no longer used). */
  dispose(): void {
    this.stopVisibility();
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
    switch (message.kind) {
      case 'hello':
        this.connectionId = message.connectionId;
        this.setEpoch(message.epoch);
        break;
      case 'reset':
        this.pendingReset = true;
        this.flushSoon();
        break;
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

  private receiveDomain(event: DomainSignal, seq: number): void {
    if (event.kind === 'invalidate') this.change(event.resource, event.id, seq);
  }

  private setEpoch(epoch: string): void {
    // Sequences of another history are not comparable: forget what was applied.
    if (this.epoch !== epoch) {
      this.epoch = epoch;
      this.applied.clear();
    }
  }

  private change(resource: string, id: string | undefined, seq: number): void {
    const key = id === undefined ? resource : `${resource}\u0000${id}`;
    const seen = this.applied.get(key);
    if (seen !== undefined && seen >= seq) {
      this.stats.duplicates++;
      return;
    }
    // Re-insert so the Map's order is least recently applied first.
    this.applied.delete(key);
    this.applied.set(key, seq);
    if (this.applied.size > this.maxTrackedKeys) {
      const oldest = this.applied.keys().next().value;
      if (oldest !== undefined) this.applied.delete(oldest);
    }
    this.stats.applied++;
    this.pending.push(id === undefined ? { resource } : { resource, id });
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
      // Every query of this client: active ones refetch now (or when shown), the rest when next used.
      void queryClient.invalidateQueries({ predicate: (query) => this.owns(query.queryKey), refetchType: this.refetchType() });
      return;
    }
    const changes = this.pending;
    if (!changes.length) return;
    this.pending = [];
    this.stats.flushes++;
    const matches = this.matcher.predicate(changes);
    void queryClient.invalidateQueries({ predicate: (query) => matches(query.queryKey), refetchType: this.refetchType() });
  }
}

/** Creates a {@link LiveInvalidator}. */
export function createLiveInvalidator(options: LiveInvalidatorOptions): LiveInvalidator {
  return new LiveInvalidator(options);
}
