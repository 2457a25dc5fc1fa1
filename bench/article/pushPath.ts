import { watchKey } from 'trpc-live/shared';
import type { MutationRecord } from './actors';
import { affects } from './freshness';
import { PUSHED, type ReflectOracle } from './reflects';
import type { VisibilityTimeline } from './switches';
import type { ObserverLog } from './users';

/** A pushed-variant stream frame as a browser first got it. */
export interface FrameRecord {
  readonly user: number;
  /** A whole result, a delta over the previous one (both carry the data), or a refetch. */
  readonly kind: 'result' | 'delta' | 'refetch';
  /** watchKey(path, input) of the query it is for. */
  readonly watch: string;
  /** Seq of the newest change it reflects. */
  readonly seq: number;
  /** When the first tab of the browser received it (ms since the epoch). */
  readonly at: number;
}

/** Where the pushed variant's time to fresh data goes, per (mutation, observer of the tab on screen) pair that a push made fresh. */
export interface PushPath {
  /** Commit → the result (or delta) frame for that query (seq at or past the mutation's first publish) reached the browser: the server's computation, the write, the wire. */
  readonly toFrame: number[];
  /** That frame's arrival → the observer of the tab on screen held the data: the relay to the tab and the write into its cache. */
  readonly toHeld: number[];
  /**
   * Pairs made fresh by a push without a frame stamped at or past the mutation's seq: a result
   * stamped with an earlier change whose computation ran after this commit (its contents reflect
   * it), a mutation without a seq, or no frame found.
   */
  readonly unmatched: number;
}

/** The watch key of a tRPC query key (`[['orders','byId'], { input, type }]`), as the browser's watch sync names it. */
export function watchKeyOf(queryKey: readonly unknown[]): string {
  const [path, options] = queryKey as [unknown, { input?: unknown } | undefined];
  return watchKey(Array.isArray(path) ? path.join('.') : String(path), options?.input);
}

/**
 * Splits the pushed variant's freshness on the tab on screen in two: for
 * each pair whose fresh data came by push (reflects.ts decides which update
 * that is, as freshness.ts does), the first `result` or `delta` frame for the query's
 * watch with a seq at or past the mutation's first publish (`seq`, from the
 * mutation response's fence; a diagnostic, no oracle reads it) that the user's
 * browser received no later than the data was held. Pairs of a user who
 * switched tabs first are left out, as in freshness.ts.
 */
export function measurePushPath(
  mutations: readonly MutationRecord[],
  logs: readonly ObserverLog[],
  frames: readonly FrameRecord[],
  visible: VisibilityTimeline,
  reflect: ReflectOracle,
): PushPath {
  const byUserWatch = new Map<string, FrameRecord[]>();
  for (const frame of frames) {
    if (frame.kind === 'refetch') continue;
    const key = `${frame.user}\n${frame.watch}`;
    const list = byUserWatch.get(key) ?? [];
    list.push(frame);
    byUserWatch.set(key, list);
  }
  const byTenant = new Map<string, ObserverLog[]>();
  for (const log of logs) byTenant.set(log.tenant, [...(byTenant.get(log.tenant) ?? []), log]);
  const toFrame: number[] = [];
  const toHeld: number[] = [];
  let unmatched = 0;
  for (const mutation of mutations) {
    if (!Number.isFinite(mutation.commitAt) || !mutation.affected) continue;
    for (const log of byTenant.get(mutation.tenant) ?? []) {
      if (visible.tabAt(log.user, mutation.commitAt) !== log.tab || !affects(mutation, log.queryKey, false)) continue;
      const update = log.updates.find((u) => reflect.reflects(u, mutation, log.queryKey));
      if (!update || update[0] !== PUSHED || visible.switchedBetween(log.user, mutation.commitAt, update[1])) continue;
      const frame =
        mutation.seq === undefined
          ? undefined
          : (byUserWatch.get(`${log.user}\n${watchKeyOf(log.queryKey)}`) ?? []).find((f) => f.seq >= mutation.seq! && f.at <= update[1]);
      if (!frame) {
        unmatched++;
        continue;
      }
      toFrame.push(frame.at - mutation.commitAt);
      toHeld.push(update[1] - frame.at);
    }
  }
  return { toFrame, toHeld, unmatched };
}
