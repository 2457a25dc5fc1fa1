import { createQueryMatcher } from 'trpc-live/client';
import { resources } from '../../src/trpc/resources';
import type { MutationRecord } from './actors';
import { affects } from './freshness';
import { fetchedAfterCommit, type ObserverUpdate, type ReflectOracle } from './reflects';
import type { Random } from './random';
import type { ObserverLog } from './users';

/** A planned tab switch: when (real ms after the schedule starts) and which tab comes to the front. */
export interface PlannedSwitch {
  readonly atMs: number;
  readonly tab: number;
}

/** One user's tabs over a run: the tab on screen when the browser opens, then the switches. */
export interface TabPlan {
  readonly initialTab: number;
  readonly switches: readonly PlannedSwitch[];
}

/**
 * Plans which of a user's tabs is on screen: one at a time; the user brings
 * another (never the same) to the front after a gap drawn uniformly from
 * [minGapMs, maxGapMs]. The first switch comes after a uniform share of one
 * such gap, so users do not all switch at the same moment. Draws only from
 * `random`, so a seeded source gives both variants the same schedule.
 */
export function planTabs(random: Random, options: { tabs: number; durationMs: number; minGapMs: number; maxGapMs: number }): TabPlan {
  const gap = () => options.minGapMs + random.next() * (options.maxGapMs - options.minGapMs);
  const initialTab = random.int(0, options.tabs - 1);
  const switches: PlannedSwitch[] = [];
  let tab = initialTab;
  for (let at = random.next() * gap(); at < options.durationMs; at += gap()) {
    tab = (tab + random.int(1, options.tabs - 1)) % options.tabs;
    switches.push({ atMs: Math.round(at), tab });
  }
  return { initialTab, switches };
}

/**
 * What a browser did: from `at` (ms since the epoch) on, tab `to` is on
 * screen. `from` is the tab it replaced, −1 for the tab on screen when the
 * browser opened.
 */
export interface SwitchRecord {
  readonly user: number;
  readonly tenant: string;
  readonly at: number;
  readonly from: number;
  readonly to: number;
}

/** Which tab each user had on screen, when. */
export interface VisibilityTimeline {
  /** The tab on screen for `user` at `time` (a switch at `time` has happened). */
  tabAt(user: number, time: number): number;
  /** True when `user` brought another tab to the front after `from`, up to and including `to`. */
  switchedBetween(user: number, from: number, to: number): boolean;
}

/** Builds a {@link VisibilityTimeline} from every user's records (the initial one included). */
export function createVisibilityTimeline(records: readonly SwitchRecord[]): VisibilityTimeline {
  const byUser = new Map<number, SwitchRecord[]>();
  for (const record of records) {
    const list = byUser.get(record.user) ?? [];
    list.push(record);
    byUser.set(record.user, list);
  }
  for (const list of byUser.values()) list.sort((a, b) => a.at - b.at);
  return {
    tabAt(user, time) {
      const list = byUser.get(user);
      if (!list?.length) return -1;
      let tab = list[0]!.to;
      for (const record of list) {
        if (record.at > time) break;
        tab = record.to;
      }
      return tab;
    },
    switchedBetween(user, from, to) {
      return (byUser.get(user) ?? []).some((r) => r.from !== -1 && r.at > from && r.at <= to);
    },
  };
}

/** What one switch showed the user. */
export interface SwitchSample {
  readonly user: number;
  readonly at: number;
  /** Some query of the tab brought to the front held data older than a change committed before the switch. */
  readonly outdated: boolean;
  /** When outdated: how long ago the oldest change it had not shown yet was committed (ms); else NaN. */
  readonly ageMs: number;
  /** ms from the switch until every query of the tab held data reflecting every change committed before the switch (0: it already did); NaN: never within the run. */
  readonly freshMs: number;
}

/**
 * For each switch, looks at the observers of the tab brought to the front:
 * a query is outdated when a mutation of the user's tenant that changed its
 * data (the data oracle; without one, the app's registry and matcher: see
 * `affects` in freshness.ts) committed before the switch, and the
 * data the query held at the switch does not reflect that commit (`reflect`:
 * by default, it came from a fetch started before the commit, +1 ms, as in
 * measureFreshness; with pushed results, pushed data whose contents are a
 * state from before it: reflects.ts). The tab is fresh once every outdated
 * query holds data reflecting its newest such commit.
 */
export function measureSwitches(
  switches: readonly SwitchRecord[],
  mutations: readonly MutationRecord[],
  logs: readonly ObserverLog[],
  reflect: ReflectOracle = fetchedAfterCommit,
): SwitchSample[] {
  const matcher = createQueryMatcher(resources);
  const observers = new Map<string, ObserverLog[]>();
  for (const log of logs) {
    const key = `${log.user}:${log.tab}`;
    const list = observers.get(key) ?? [];
    list.push(log);
    observers.set(key, list);
  }
  const byTenant = new Map<string, MutationRecord[]>();
  for (const mutation of mutations) {
    if (!Number.isFinite(mutation.commitAt)) continue;
    const list = byTenant.get(mutation.tenant) ?? [];
    list.push(mutation);
    byTenant.set(mutation.tenant, list);
  }
  const samples: SwitchSample[] = [];
  for (const record of switches) {
    if (record.from === -1) continue;
    let oldest = Infinity;
    let freshAt = record.at;
    let unresolved = false;
    for (const log of observers.get(`${record.user}:${record.to}`) ?? []) {
      // What the query held at the switch: the data of its last update before it.
      let held: ObserverUpdate | undefined;
      for (const update of log.updates) {
        if (update[1] > record.at) break;
        held = update;
      }
      let newest: MutationRecord | undefined;
      for (const mutation of byTenant.get(record.tenant) ?? []) {
        if (mutation.commitAt >= record.at || (held && reflect.reflects(held, mutation, log.queryKey))) continue;
        if (!affects(mutation, log.queryKey, matcher.matches(log.queryKey, mutation.keys))) continue;
        oldest = Math.min(oldest, mutation.commitAt);
        if (!newest || mutation.commitAt >= newest.commitAt) newest = mutation;
      }
      if (!newest) continue;
      const last = newest;
      const update = log.updates.find((u) => u[1] > record.at && reflect.reflects(u, last, log.queryKey));
      if (update) freshAt = Math.max(freshAt, update[1]);
      else unresolved = true;
    }
    const outdated = oldest !== Infinity;
    samples.push({
      user: record.user,
      at: record.at,
      outdated,
      ageMs: outdated ? record.at - oldest : NaN,
      freshMs: unresolved ? NaN : freshAt - record.at,
    });
  }
  return samples;
}
