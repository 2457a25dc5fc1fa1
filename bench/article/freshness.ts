import { createQueryMatcher } from 'trpc-live/client';
import { resources } from '../../src/trpc/resources';
import type { MutationRecord } from './actors';
import { canonicalKey } from './dataOracle';
import { fetchedAfterCommit, PUSHED, type ReflectOracle } from './reflects';
import type { VisibilityTimeline } from './switches';
import type { ObserverLog } from './users';

/** Freshness samples of one set of mutations. */
export interface Freshness {
  /** ms from a mutation's commit until an affected observer held data reflecting it (fetched after it, or pushed), one per (mutation, observer). */
  readonly samples: number[];
  /** For the pairs whose data a fetch brought: ms from the commit until that fetch started (signal or poll, plus batching). */
  readonly startSamples: number[];
  /** Pairs whose observer never held such data before the run ended. */
  readonly unresolved: number;
  /** With a timeline: pairs whose tab was on screen at the commit but sent to the background before it held the new data (no sample). */
  readonly leftBefore: number;
  /** Mutations that failed (no commit). */
  readonly failed: number;
  /**
   * Pairs (of the tab on screen, with a timeline) whose data the mutation changed but whose query the
   * registry and matcher do not connect to the mutation's declared keys: missed invalidations. Only
   * counted for mutations with a data oracle (`affected`).
   */
  readonly undeclared: number;
  /** Pairs the registry connects to the mutation although their data did not change (needless refetches). */
  readonly declaredUnchanged: number;
}

/**
 * Whether `mutation` affected the observer of `queryKey`: from the data
 * (`mutation.affected`, read from the database after it) when recorded,
 * else from the declared keys and the app's registry (`declared`).
 */
export function affects(mutation: MutationRecord, queryKey: readonly unknown[], declared: boolean): boolean {
  return mutation.affected ? mutation.affected.includes(canonicalKey(queryKey)) : declared;
}

/**
 * Pairs every committed mutation with every observer of its tenant whose
 * query's data it changed (the data oracle, dataOracle.ts; for records
 * without one, the app's registry and matcher), and measures how long until
 * that observer held data reflecting the commit (`reflect`: by default, data
 * from a fetch that started after the commit; with pushed results, also
 * pushed data whose contents are a state the query entered at or after the
 * commit: reflects.ts). A
 * change the registry misses is then an observer that never gets fresh
 * (`unresolved`), and is counted in `undeclared`. `registry`: the one the
 * declared side is matched with (default: the app's).
 *
 * Why "started after the commit" means "holds the new data": the server
 * writes the commit timestamp and the change in one synchronous step
 * (better-sqlite3), so a request sent after that timestamp is handled after
 * the change. Times are whole milliseconds of the same machine's clock; the
 * fetch must start at least 1 ms after the commit's millisecond, so a
 * sample may be up to ~1 ms too long, never too short.
 *
 * With `visible` (what the user sees): only observers of the tab on screen
 * at the commit count; when the user brought another tab to the front
 * before the observer held the new data, the pair counts in `leftBefore`
 * instead (the switch measurement covers what that tab shows next time).
 */
export function measureFreshness(
  mutations: readonly MutationRecord[],
  logs: readonly ObserverLog[],
  visible?: VisibilityTimeline,
  registry: Parameters<typeof createQueryMatcher>[0] = resources,
  reflect: ReflectOracle = fetchedAfterCommit,
): Freshness {
  const matcher = createQueryMatcher(registry);
  const byTenant = new Map<string, ObserverLog[]>();
  for (const log of logs) {
    const list = byTenant.get(log.tenant) ?? [];
    list.push(log);
    byTenant.set(log.tenant, list);
  }
  const samples: number[] = [];
  const startSamples: number[] = [];
  let unresolved = 0;
  let leftBefore = 0;
  let failed = 0;
  let undeclared = 0;
  let declaredUnchanged = 0;
  for (const mutation of mutations) {
    if (!Number.isFinite(mutation.commitAt)) {
      failed++;
      continue;
    }
    for (const log of byTenant.get(mutation.tenant) ?? []) {
      if (visible && visible.tabAt(log.user, mutation.commitAt) !== log.tab) continue;
      const declared = matcher.matches(log.queryKey, mutation.keys);
      const changed = affects(mutation, log.queryKey, declared);
      if (mutation.affected && changed && !declared) undeclared++;
      if (mutation.affected && declared && !changed) declaredUnchanged++;
      if (!changed) continue;
      const update = log.updates.find((u) => reflect.reflects(u, mutation, log.queryKey));
      if (visible?.switchedBetween(log.user, mutation.commitAt, update ? update[1] : Infinity)) leftBefore++;
      else if (!update) unresolved++;
      else {
        samples.push(update[1] - mutation.commitAt);
        if (update[0] !== PUSHED) startSamples.push(update[0] - mutation.commitAt);
      }
    }
  }
  return { samples, startSamples, unresolved, leftBefore, failed, undeclared, declaredUnchanged };
}

/** Refetches (fetched observer updates; pushed data is no refetch) whose data was unchanged, among those held within [from, to). */
export function unchangedShare(logs: readonly ObserverLog[], from: number, to: number): { updates: number; unchanged: number } {
  let updates = 0;
  let unchanged = 0;
  for (const log of logs) {
    // The first update of each observer is its initial load, not a refetch.
    for (let i = 1; i < log.updates.length; i++) {
      const [startedAt, heldAt, changed] = log.updates[i]!;
      if (startedAt === PUSHED || heldAt < from || heldAt >= to) continue;
      updates++;
      if (!changed) unchanged++;
    }
  }
  return { updates, unchanged };
}
