import { describe, expect, it } from 'vitest';
import type { MutationRecord } from '../../bench/article/actors';
import { measureFreshness, unchangedShare } from '../../bench/article/freshness';
import { createTabLocks } from '../../bench/article/tabLocks';
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

const log = (queryKey: readonly unknown[], updates: Array<[number, number, 0 | 1]>, tenant = 't1'): ObserverLog => ({
  tenant,
  user: 0,
  page: 'orders',
  queryKey,
  updates,
});

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
