import type { LiveConnection } from '../core/index.ts';
import { WatchSet, type WatchLimits } from './watchSet.ts';

/**
 * Every connection's watch set, and per scope which connections watch each
 * key, so a change visits only the watched queries of its scope. A closed
 * connection's watches go with it (`forget`, from the hub's `onClose`):
 * memory is bounded by open connections × their bounds.
 */
export class WatchRegistry<TCtx> {
  private readonly sets = new Map<LiveConnection, WatchSet<TCtx>>();
  private readonly scopes = new Map<string, Map<string, Set<WatchSet<TCtx>>>>();

  constructor(private readonly limits: WatchLimits) {}

  /** The watch set of `connection`, created on first use. */
  setOf(connection: LiveConnection): WatchSet<TCtx> {
    let set = this.sets.get(connection);
    if (!set) {
      set = new WatchSet(connection, this.limits, (changed, key, present) => this.index(changed, key, present));
      this.sets.set(connection, set);
    }
    return set;
  }

  /** The watch set of `connection`, if it has one. */
  find(connection: LiveConnection): WatchSet<TCtx> | undefined {
    return this.sets.get(connection);
  }

  /** Watched keys of `scope` and the sets that watch each; `undefined` when nobody in it watches anything. */
  scope(scope: string): ReadonlyMap<string, ReadonlySet<WatchSet<TCtx>>> | undefined {
    return this.scopes.get(scope);
  }

  /** Drops a closed connection's watches. */
  forget(connection: LiveConnection): void {
    const set = this.sets.get(connection);
    if (!set) return;
    this.sets.delete(connection);
    for (const key of set.watches.keys()) this.index(set, key, false);
    set.watches.clear();
  }

  /** Forgets everything (the binding moved to another hub). */
  clear(): void {
    this.sets.clear();
    this.scopes.clear();
  }

  /** Open connections with a watch set (tests, stats). */
  get size(): number {
    return this.sets.size;
  }

  private index(set: WatchSet<TCtx>, key: string, present: boolean): void {
    const scope = set.connection.scope;
    let keys = this.scopes.get(scope);
    if (present) {
      if (!keys) this.scopes.set(scope, (keys = new Map()));
      let sets = keys.get(key);
      if (!sets) keys.set(key, (sets = new Set()));
      sets.add(set);
      return;
    }
    const sets = keys?.get(key);
    if (!sets) return;
    sets.delete(set);
    if (sets.size) return;
    keys!.delete(key);
    if (!keys!.size) this.scopes.delete(scope);
  }
}
