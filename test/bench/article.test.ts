import { describe, expect, it } from 'vitest';
import type { MutationRecord } from '../../bench/article/actors';
import { breakEven } from '../../bench/article/breakEven';
import { measureFreshness, unchangedShare } from '../../bench/article/freshness';
import { createRandom } from '../../bench/article/random';
import { createVisibilityTimeline, measureSwitches, planTabs, type SwitchRecord } from '../../bench/article/switches';
import { createTabLocks } from '../../bench/article/tabLocks';
import { createTabPage } from '../../bench/article/tabPage';
import type { ObserverLog } from '../../bench/article/users';

const listKey = [['orders', 'list'], { input: { limit: 50 }, type: 'query' }];
const byIdKey = (id: string) => [['orders', 'byId'], { input: { id }, type: 'query' }];
const notificationsKey = [['notifications', 'list'], { type: 'query' }];

const mutation = (over: Partial<MutationRecord>): MutationRecord => ({
  tenant: 't1',
  phase: 'light',
  kind: 'status',
  sentAt: 1000,
  respondedAt: 1010,
  commitAt: 1005,
  keys: [{ resource: 'orders', id: 'ord_1' }],
  ...over,
});

const log = (queryKey: readonly unknown[], updates: Array<[number, number, 0 | 1]>, tenant = 't1', tab = 0, user = 0): ObserverLog => ({
  tenant,
  user,
  page: 'orders',
  tab,
  queryKey,
  updates,
});

/** User 0 opened with tab 0 on screen at t=0, then brought the tabs in `switches` ([at, tab]) to the front. */
const timeline = (switches: Array<[number, number]>): SwitchRecord[] => {
  const records: SwitchRecord[] = [{ user: 0, tenant: 't1', at: 0, from: -1, to: 0 }];
  let tab = 0;
  for (const [at, to] of switches) {
    records.push({ user: 0, tenant: 't1', at, from: tab, to });
    tab = to;
  }
  return records;
};

describe('article benchmark: freshness', () => {
  it('counts from the commit to the first data fetched at least 1 ms after it', () => {
    const result = measureFreshness(
      [mutation({})],
      [
        log(listKey, [
          [0, 10, 1],
          [1005, 1020, 1], // started in the commit's millisecond: may predate the change
          [1006, 1040, 1],
        ]),
      ],
    );
    expect(result.samples).toEqual([35]);
    expect(result.startSamples).toEqual([1]);
    expect(result.unresolved).toBe(0);
  });

  it('pairs a mutation only with observers of its tenant whose query reads a changed key', () => {
    const result = measureFreshness(
      [mutation({})],
      [
        log(byIdKey('ord_1'), [[1100, 1150, 1]]),
        log(byIdKey('ord_2'), [[1100, 1160, 1]]),
        log(notificationsKey, [[1100, 1170, 1]]),
        log(listKey, [[1100, 1180, 1]], 't2'),
      ],
    );
    expect(result.samples).toEqual([145]);
  });

  it('reports observers that never held the new data as unresolved and failed mutations apart', () => {
    const result = measureFreshness([mutation({}), mutation({ commitAt: NaN, error: 'CONFLICT' })], [log(listKey, [[0, 10, 1]])]);
    expect(result).toMatchObject({ samples: [], unresolved: 1, failed: 1 });
  });

  it('counts only observers of the tab on screen at the commit when given a timeline', () => {
    const logs = [log(listKey, [[1100, 1150, 1]], 't1', 0), log(listKey, [[1100, 1170, 1]], 't1', 3)];
    const visible = createVisibilityTimeline(timeline([[500, 3]]));
    expect(measureFreshness([mutation({})], logs, visible).samples).toEqual([165]);
    expect(measureFreshness([mutation({})], logs).samples).toEqual([145, 165]);
  });

  it('counts a pair apart when the user left the tab before it held the new data', () => {
    const visible = createVisibilityTimeline(timeline([[1100, 2]]));
    const landed = measureFreshness([mutation({})], [log(listKey, [[1100, 1150, 1]])], visible);
    expect(landed).toMatchObject({ samples: [], leftBefore: 1, unresolved: 0 });
    // Never landed, but the user had left: not unresolved either.
    const never = measureFreshness([mutation({})], [log(listKey, [[0, 10, 1]])], visible);
    expect(never).toMatchObject({ samples: [], leftBefore: 1, unresolved: 0 });
  });

  it('counts refetches with unchanged data in a window, skipping each observer\u2019s initial load', () => {
    const share = unchangedShare(
      [
        log(listKey, [
          [0, 10, 1],
          [100, 110, 0],
          [200, 210, 1],
          [300, 310, 0],
        ]),
      ],
      100,
      300,
    );
    expect(share).toEqual({ updates: 2, unchanged: 1 });
  });
});

describe('article benchmark: tab locks', () => {
  it('grants one holder at a time and the next waiter when the holder releases', async () => {
    const locks = createTabLocks();
    const order: string[] = [];
    let releaseFirst!: () => void;
    const first = locks.request('stream', {}, () => {
      order.push('first');
      return new Promise<void>((resolve) => (releaseFirst = resolve));
    });
    const second = locks.request('stream', {}, async () => {
      order.push('second');
    });
    await Promise.resolve();
    expect(order).toEqual(['first']);
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
  });

  it('drops a waiter whose signal aborts, and rejects its request', async () => {
    const locks = createTabLocks();
    let release!: () => void;
    const held = locks.request('stream', {}, () => new Promise<void>((resolve) => (release = resolve)));
    const abort = new AbortController();
    let ran = false;
    const waiting = locks.request('stream', { signal: abort.signal }, async () => {
      ran = true;
    });
    abort.abort();
    await expect(waiting).rejects.toThrow(/aborted/);
    release();
    await held;
    expect(ran).toBe(false);
    // The lock is free again.
    await locks.request('stream', {}, async () => undefined);
  });
});

describe('article benchmark: tab switches', () => {
  it('plans one tab at a time, never switching to the tab already on screen, with gaps in range', () => {
    const plan = planTabs(createRandom(42), { tabs: 6, durationMs: 600_000, minGapMs: 20_000, maxGapMs: 40_000 });
    expect(plan.initialTab).toBeGreaterThanOrEqual(0);
    expect(plan.initialTab).toBeLessThan(6);
    expect(plan.switches.length).toBeGreaterThanOrEqual(14);
    let tab = plan.initialTab;
    let at = 0;
    for (const [i, planned] of plan.switches.entries()) {
      expect(planned.tab).not.toBe(tab);
      expect(planned.atMs).toBeLessThan(600_000);
      const gap = planned.atMs - at;
      if (i === 0) expect(gap).toBeLessThanOrEqual(40_000);
      else {
        expect(gap).toBeGreaterThanOrEqual(20_000 - 1);
        expect(gap).toBeLessThanOrEqual(40_000 + 1);
      }
      tab = planned.tab;
      at = planned.atMs;
    }
  });

  it('plans the same schedule from the same seed', () => {
    const options = { tabs: 6, durationMs: 600_000, minGapMs: 20_000, maxGapMs: 40_000 };
    expect(planTabs(createRandom(7), options)).toEqual(planTabs(createRandom(7), options));
    expect(planTabs(createRandom(7), options)).not.toEqual(planTabs(createRandom(8), options));
  });

  it('reports a switch onto a tab whose query missed a change, and when it held data fetched after it', () => {
    const samples = measureSwitches(
      timeline([[2000, 1]]),
      [mutation({ commitAt: 1005 }), mutation({ commitAt: 1500, keys: [{ resource: 'orders', id: 'ord_1' }] })],
      // Tab 1 last fetched at 900, then again after the switch (started 2010, held 2040).
      [log(listKey, [[900, 950, 1], [2010, 2040, 1]], 't1', 1)],
    );
    expect(samples).toEqual([{ user: 0, at: 2000, outdated: true, ageMs: 995, freshMs: 40 }]);
  });

  it('reports a switch onto a tab that already held every change as fresh at once', () => {
    const samples = measureSwitches(
      timeline([[2000, 1]]),
      [mutation({ commitAt: 1005 }), mutation({ commitAt: 2500 })],
      // Polled after the commit while hidden; the change after the switch is not the switch's business.
      [log(listKey, [[1200, 1250, 1], [3000, 3050, 1]], 't1', 1), log(notificationsKey, [[0, 10, 1]], 't1', 1)],
    );
    expect(samples).toEqual([{ user: 0, at: 2000, outdated: false, ageMs: NaN, freshMs: 0 }]);
  });

  it('waits for the slowest outdated query of the tab, and reports one that never caught up', () => {
    const mutations = [mutation({ commitAt: 1005 }), mutation({ commitAt: 1100, keys: [{ resource: 'notifications' }] })];
    const both = measureSwitches(timeline([[2000, 1]]), mutations, [
      log(listKey, [[0, 10, 1], [2010, 2030, 1]], 't1', 1),
      log(notificationsKey, [[0, 10, 1], [2010, 2090, 1]], 't1', 1),
    ]);
    expect(both[0]).toMatchObject({ outdated: true, freshMs: 90 });
    const stuck = measureSwitches(timeline([[2000, 1]]), mutations, [log(listKey, [[0, 10, 1]], 't1', 1)]);
    expect(stuck[0]).toMatchObject({ outdated: true, freshMs: NaN });
  });

  it('tells which tab was on screen at a time and whether the user switched in between', () => {
    const visible = createVisibilityTimeline(timeline([[100, 2], [300, 4]]));
    expect([visible.tabAt(0, 50), visible.tabAt(0, 100), visible.tabAt(0, 299), visible.tabAt(0, 300)]).toEqual([0, 2, 2, 4]);
    expect(visible.switchedBetween(0, 100, 299)).toBe(false);
    expect(visible.switchedBetween(0, 99, 100)).toBe(true);
  });
});

describe('article benchmark: tab page', () => {
  it('tells the document listeners, then the visibility subscribers, only on a change', () => {
    const page = createTabPage(false);
    const seen: string[] = [];
    page.addEventListener('visibilitychange', () => seen.push(`document:${page.visibilityState}`));
    page.subscribe((visible) => seen.push(`subscriber:${visible}`));
    page.setVisible(false);
    page.setVisible(true);
    expect(page.isVisible()).toBe(true);
    page.setVisible(false);
    expect(seen).toEqual(['document:visible', 'subscriber:true', 'document:hidden', 'subscriber:false']);
  });
});

describe('article benchmark: break-even', () => {
  it('interpolates between the measured phases where live starts costing more than polling', () => {
    expect(breakEven([
      { rate: 0, diff: -12 },
      { rate: 2, diff: -8 },
      { rate: 30, diff: 20 },
    ])).toEqual({ rate: 10, how: 'interpolated' });
  });

  it('extrapolates from the two fastest phases when live never costs more in the measured range', () => {
    expect(breakEven([
      { rate: 0, diff: -12 },
      { rate: 1, diff: -10 },
      { rate: 2, diff: -8 },
    ])).toEqual({ rate: 6, how: 'extrapolated' });
    expect(breakEven([{ rate: 0, diff: -12 }, { rate: 2, diff: -12 }]).how).toBe('none');
  });
});
