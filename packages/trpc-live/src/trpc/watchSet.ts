import type { LiveConnection } from '../core/index.ts';
import type { PushMode } from '../shared/registry.ts';

/** Where a watch starts: changes at or before it are not pushed (the client fetched after them). */
export interface WatchStart {
  readonly epoch: string;
  readonly seq: number;
}

/** One watched query of one connection. */
export interface Watch<TCtx> {
  /** `watchKey(path, input)`. */
  readonly key: string;
  /** Dot path of the query. */
  readonly path: string;
  /** The input as the client passes it (the procedure's parsers run on every call). */
  readonly input: unknown;
  /** The tRPC query key the client caches it under, as the shared matcher reads it (built once). */
  readonly queryKey: readonly unknown[];
  /** How its result is computed (registry `push`). */
  readonly mode: PushMode;
  /** Tabs that hold it: it stays while any does. */
  readonly holders: Set<string>;
  /** Holders whose last watch call of it did not say `deltas: true`: while any does, results go whole. */
  readonly plain: Set<string>;
  /**
   * The result last queued to this connection for it (`null`: none, or
   * since then a refetch order, or a holder added it again): a delta goes
   * only over exactly this one.
   */
  sent: WatchStart | null;
  /** The context of the latest watch call that held it: computations run with it. */
  ctx: TCtx;
  /** Changes up to this position are not pushed. */
  readonly since: WatchStart;
  /** A change matched it while its stream was paused: computed when the stream resumes (`ResultPusher.resumed`). */
  owed: boolean;
}

/** Bounds of one connection's watch set (see `CreateLiveOptions`). */
export interface WatchLimits {
  readonly maxWatches: number;
  readonly maxWatchBytes: number;
}

/**
 * The watches of one connection (every tab of a browser), bounded in count
 * and in key characters. Additions are reserved before their authorization
 * runs, so concurrent watch calls cannot pass the bounds together.
 */
export class WatchSet<TCtx> {
  readonly watches = new Map<string, Watch<TCtx>>();
  private bytes = 0;
  private reservedCount = 0;
  private reservedBytes = 0;

  constructor(
    /** The stream the watches belong to. */
    readonly connection: LiveConnection,
    private readonly limits: WatchLimits,
    /** Told when a watch appears or disappears (the registry's scope index). */
    private readonly onChange: (set: WatchSet<TCtx>, key: string, present: boolean) => void,
  ) {}

  /**
   * Adds `holder` to an existing watch; false when there is none. Its next
   * result goes whole: the holder (a new tab, or one that lost the base)
   * may not hold the previous one.
   */
  hold(key: string, holder: string, ctx: TCtx, deltas = false): boolean {
    const watch = this.watches.get(key);
    if (!watch) return false;
    watch.holders.add(holder);
    if (deltas) watch.plain.delete(holder);
    else watch.plain.add(holder);
    watch.ctx = ctx;
    watch.sent = null;
    return true;
  }

  /** True when every holder of the watch applies deltas. */
  static takesDeltas(watch: Watch<unknown>): boolean {
    return watch.plain.size === 0;
  }

  /** Drops `holder` from a watch, and the watch once nobody holds it. */
  release(key: string, holder: string): void {
    const watch = this.watches.get(key);
    if (!watch || !watch.holders.delete(holder)) return;
    watch.plain.delete(holder);
    if (watch.holders.size) return;
    this.watches.delete(key);
    this.bytes -= key.length;
    this.onChange(this, key, false);
  }

  /** Reserves room for a new watch; false when it would pass a bound. */
  reserve(key: string): boolean {
    const count = this.watches.size + this.reservedCount + 1;
    const bytes = this.bytes + this.reservedBytes + key.length;
    if (count > this.limits.maxWatches || bytes > this.limits.maxWatchBytes) return false;
    this.reservedCount++;
    this.reservedBytes += key.length;
    return true;
  }

  /** Returns a reservation (the watch was refused, or added with {@link add}). */
  unreserve(key: string): void {
    this.reservedCount--;
    this.reservedBytes -= key.length;
  }

  /** Adds a reserved watch (after {@link unreserve}); joins an existing one (a concurrent call) instead. */
  add(watch: Omit<Watch<TCtx>, 'holders' | 'plain' | 'sent' | 'owed'>, holder: string, deltas = false): void {
    if (this.hold(watch.key, holder, watch.ctx, deltas)) return;
    this.watches.set(watch.key, { ...watch, holders: new Set([holder]), plain: new Set(deltas ? [] : [holder]), sent: null, owed: false });
    this.bytes += watch.key.length;
    this.onChange(this, watch.key, true);
  }
}
