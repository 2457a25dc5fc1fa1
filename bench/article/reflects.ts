import type { MutationRecord } from './actors';
import { canonicalKey } from './dataOracle';

/**
 * One data update an observer saw: [fetch started (ms since the epoch), or
 * {@link PUSHED} for data a pushed result set; observer held the data; 1 if
 * the data differed from what it held before, else 0; for pushed data, the
 * digest of its JSON (digest.ts)].
 */
export type ObserverUpdate = [startedAt: number, heldAt: number, changed: 0 | 1, digest?: string];

/** `startedAt` of an update that no fetch brought: the data came in a pushed `result` (set with setQueryData). */
export const PUSHED = -1;

/** Decides whether an observer's update holds data that reflects a committed mutation. */
export interface ReflectOracle {
  /**
   * True when `update` (of the observer of `queryKey`) holds data reflecting
   * `mutation`: fetched by a request that started at least 1 ms after the
   * commit (freshness.ts says why), or pushed data whose contents equal what
   * the database held for that query after the mutation or after a later
   * one of its tenant (decided by the data oracle's digests, not by the
   * cursor the server stamped on the result).
   */
  reflects(update: ObserverUpdate, mutation: MutationRecord, queryKey: readonly unknown[]): boolean;
}

/**
 * Builds the oracle from every mutation of a run (warm-up included), in the
 * order each tenant's actor ran them (one at a time per tenant): for each
 * (tenant, query, state digest), the last position at which a mutation left
 * the query in that state. Pushed data reflects mutation m when its state was
 * entered at m or after it: a result computed before m's commit holds a state
 * entered before m, unless a later mutation brought the query back to
 * exactly that state, which then is the truth after m.
 */
export function createReflectOracle(mutations: readonly MutationRecord[]): ReflectOracle {
  const position = new Map<MutationRecord, number>();
  const lastEntered = new Map<string, number>();
  const counters = new Map<string, number>();
  for (const mutation of mutations) {
    const at = counters.get(mutation.tenant) ?? 0;
    counters.set(mutation.tenant, at + 1);
    position.set(mutation, at);
    for (const [key, digest] of Object.entries(mutation.states ?? {})) lastEntered.set(`${mutation.tenant}\n${key}\n${digest}`, at);
  }
  return {
    reflects(update, mutation, queryKey) {
      const [startedAt, , , digest] = update;
      if (startedAt !== PUSHED) return startedAt >= mutation.commitAt + 1;
      const at = position.get(mutation);
      if (at === undefined || digest === undefined) return false;
      return (lastEntered.get(`${mutation.tenant}\n${canonicalKey(queryKey)}\n${digest}`) ?? -1) >= at;
    },
  };
}

/** The oracle without digests: an update reflects a mutation only when its fetch started after the commit (polling and invalidate-and-refetch). */
export const fetchedAfterCommit: ReflectOracle = createReflectOracle([]);

/**
 * Pushed updates held within [from, to) and how many of them hold a state
 * the data oracle recorded (what a query held before the run's first
 * mutation, `initial` by tenant and canonical key, or a mutation's result for
 * it): a pushed result the oracle cannot place is data no commit produced,
 * or a digest the two sides compute differently, and would read as "never
 * fresh". Those it cannot place are counted by query path.
 */
export function pushedMatches(
  logs: ReadonlyArray<{ tenant: string; queryKey: readonly unknown[]; updates: readonly ObserverUpdate[] }>,
  mutations: readonly MutationRecord[],
  from: number,
  to: number,
  initial: Readonly<Record<string, Readonly<Record<string, string>>>> = {},
): { pushed: number; matched: number; unmatched: Record<string, number> } {
  const known = new Set<string>();
  for (const [tenant, states] of Object.entries(initial)) for (const [key, digest] of Object.entries(states)) known.add(`${tenant}\n${key}\n${digest}`);
  for (const mutation of mutations) for (const [key, digest] of Object.entries(mutation.states ?? {})) known.add(`${mutation.tenant}\n${key}\n${digest}`);
  let pushed = 0;
  let matched = 0;
  const unmatched: Record<string, number> = {};
  for (const log of logs) {
    const key = canonicalKey(log.queryKey);
    for (const [startedAt, heldAt, , digest] of log.updates) {
      if (startedAt !== PUSHED || heldAt < from || heldAt >= to) continue;
      pushed++;
      if (known.has(`${log.tenant}\n${key}\n${digest}`)) matched++;
      else {
        const path = key.replace(/\{.*$/, '');
        unmatched[path] = (unmatched[path] ?? 0) + 1;
      }
    }
  }
  return { pushed, matched, unmatched };
}
