import { QueryClient } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import type { MutationRecord } from '../../bench/article/actors';
import { canonicalKey } from '../../bench/article/dataOracle';
import { dataDigest } from '../../bench/article/digest';
import { measureFreshness } from '../../bench/article/freshness';
import { measurePushPath, watchKeyOf, type FrameRecord } from '../../bench/article/pushPath';
import { createReflectOracle, pushedMatches, PUSHED, type ObserverUpdate } from '../../bench/article/reflects';
import { createVisibilityTimeline, measureSwitches, type SwitchRecord } from '../../bench/article/switches';
import { DigestQueue, observeTabQueries } from '../../bench/article/tabQueries';
import type { ObserverLog } from '../../bench/article/users';

const listKey = [['orders', 'list'], { input: { limit: 50 }, type: 'query' }];
const list = canonicalKey(listKey);

/** What the database held for orders.list after each mutation (as JSON), and its digest. */
const state = (n: number) => dataDigest(JSON.stringify([{ id: 'ord_1', status: `s${n}` }]));

const mutation = (commitAt: number, n: number): MutationRecord => ({
  tenant: 't1',
  phase: 'light',
  kind: 'status',
  sentAt: commitAt - 5,
  respondedAt: commitAt + 5,
  commitAt,
  keys: [{ resource: 'orders', id: 'ord_1' }],
  affected: [list],
  states: { [list]: state(n) },
});

const log = (updates: ObserverUpdate[], tab = 0): ObserverLog => ({ tenant: 't1', user: 0, page: 'orders', tab, queryKey: listKey, updates });

describe('article benchmark: pushed data reflects a commit by its contents', () => {
  const first = mutation(1000, 1);
  const second = mutation(2000, 2);
  const oracle = createReflectOracle([first, second]);

  it('counts pushed data equal to the state the mutation left, from the commit to when it was held', () => {
    const result = measureFreshness([first], [log([[PUSHED, 1012, 1, state(1)]])], undefined, undefined, oracle);
    expect(result).toMatchObject({ samples: [12], startSamples: [], unresolved: 0 });
  });

  it('does not count pushed data holding the state from before the commit, whatever its time', () => {
    // A result computed before the commit, applied after it: the state of the mutation before (n = 0).
    const result = measureFreshness([first], [log([[PUSHED, 1012, 1, state(0)]])], undefined, undefined, oracle);
    expect(result).toMatchObject({ samples: [], unresolved: 1 });
  });

  it('counts pushed data of a later mutation\u2019s state for an earlier one (one result for several changes)', () => {
    const result = measureFreshness([first, second], [log([[PUSHED, 2010, 1, state(2)]])], undefined, undefined, oracle);
    expect(result.samples).toEqual([1010, 10]);
  });

  it('never counts pushed data with the default oracle (fetch after the commit only), as before pushed results', () => {
    const result = measureFreshness([first], [log([[PUSHED, 1012, 1, state(1)]])]);
    expect(result).toMatchObject({ samples: [], unresolved: 1 });
  });

  it('shows a tab brought to the front as up to date when it holds the pushed state of every change', () => {
    const switches: SwitchRecord[] = [
      { user: 0, tenant: 't1', at: 0, from: -1, to: 0 },
      { user: 0, tenant: 't1', at: 3000, from: 0, to: 1 },
    ];
    const fresh = measureSwitches(switches, [first, second], [log([[0, 10, 1], [PUSHED, 2010, 1, state(2)]], 1)], oracle);
    expect(fresh).toEqual([{ user: 0, at: 3000, outdated: false, ageMs: NaN, freshMs: 0 }]);
    // Holding the first change's state only: outdated since the second, fresh once a later write holds it.
    const stale = measureSwitches(switches, [first, second], [log([[0, 10, 1], [PUSHED, 1010, 1, state(1)], [PUSHED, 3020, 1, state(2)]], 1)], oracle);
    expect(stale).toEqual([{ user: 0, at: 3000, outdated: true, ageMs: 1000, freshMs: 20 }]);
  });

  it('tells how many pushed updates of a window hold a state the data oracle recorded', () => {
    const logs = [log([[PUSHED, 1010, 1, state(1)], [PUSHED, 1020, 1, 'not-a-state'], [PUSHED, 1030, 1, state(0)], [1500, 1600, 1], [PUSHED, 5000, 1, state(2)]])];
    expect(pushedMatches(logs, [first, second], 1000, 2000)).toEqual({ pushed: 3, matched: 1, unmatched: { 'orders.list': 2 } });
    // The state before the first mutation is placed when the actors recorded it.
    expect(pushedMatches(logs, [first, second], 1000, 2000, { t1: { [list]: state(0) } })).toEqual({ pushed: 3, matched: 2, unmatched: { 'orders.list': 1 } });
  });
});

describe('article benchmark: a tab logs where its data came from', () => {
  it('logs a fetch with its start and a setQueryData write (a pushed result) as pushed, with its digest', async () => {
    const queryClient = new QueryClient();
    const updates: ObserverUpdate[] = [];
    let loaded = 0;
    const data = [{ id: 'ord_1', status: 'paid' }];
    const before = Date.now();
    const options = { queryKey: listKey, queryFn: async () => data };
    const stop = observeTabQueries(queryClient, [{ options, updates }], () => loaded++);
    await waitUntil(() => updates.length === 1);
    expect(updates[0]![0]).toBeGreaterThanOrEqual(before);
    expect(updates[0]![3]).toBeUndefined();
    const pushed = [{ id: 'ord_1', status: 'shipped' }];
    queryClient.setQueryData(listKey, pushed);
    expect(updates[1]).toEqual([PUSHED, expect.any(Number), 1, dataDigest(JSON.stringify(pushed))]);
    expect(loaded).toBe(1);
    stop();
    queryClient.clear();
  });
});

describe('article benchmark: the digests of data writes are computed off the timing path, and are the same', () => {
  it('logs the time at the write and settles changed flags and digests later, in order, from the data written', async () => {
    const queryClient = new QueryClient();
    const updates: ObserverUpdate[] = [];
    const queue = new DigestQueue({ timer: false });
    const options = { queryKey: listKey, queryFn: async () => [{ id: 'ord_1', status: 'pending', at: new Date(0) }] };
    const stop = observeTabQueries(queryClient, [{ options, updates }], () => undefined, queue);
    await waitUntil(() => updates.length === 1);
    const writes = [
      [{ id: 'ord_1', status: 'paid', at: new Date(1) }],
      [{ id: 'ord_1', status: 'paid', at: new Date(1) }], // the same contents again: unchanged
      [{ id: 'ord_1', status: 'shipped', at: new Date(2) }],
    ];
    const before = Date.now();
    for (const data of writes) queryClient.setQueryData(listKey, data);
    // Logged at once with the time it was held; nothing computed yet (no JSON, no digest inside TanStack's dispatch).
    expect(updates).toHaveLength(4);
    expect(updates.slice(1).map((u) => [u[0], u[1] >= before, u[3]])).toEqual(writes.map(() => [PUSHED, true, undefined]));
    expect(queue.size).toBe(4);
    queue.drain();
    // What the synchronous logging computed: JSON.stringify of each write and its digest, changed against the previous write.
    expect(updates.map((u) => u[2])).toEqual([1, 1, 0, 1]);
    expect(updates.slice(1).map((u) => u[3])).toEqual(writes.map((data) => dataDigest(JSON.stringify(data))));
    expect(queue.stats).toMatchObject({ drained: 4, forced: 0, idle: 0, peak: 4 });
    stop();
    queryClient.clear();
  });

  it('settles the oldest write at each new one once the bound is reached, and idle slices settle the rest', async () => {
    const queryClient = new QueryClient();
    const updates: ObserverUpdate[] = [];
    const queue = new DigestQueue({ timer: false, maxPending: 2 });
    const options = { queryKey: listKey, queryFn: async () => [] };
    const stop = observeTabQueries(queryClient, [{ options, updates }], () => undefined, queue);
    await waitUntil(() => updates.length === 1);
    for (let n = 1; n <= 4; n++) queryClient.setQueryData(listKey, [{ id: 'ord_1', status: `s${n}` }]);
    // 5 writes, at most 2 waiting: the 3 oldest were settled when the 3rd, 4th and 5th came.
    expect(queue.stats.forced).toBe(3);
    expect(queue.size).toBe(2);
    expect(updates.slice(0, 3).map((u) => u[3] !== undefined || u[0] !== PUSHED)).toEqual([true, true, true]);
    queue.idleSlice();
    expect(queue.size).toBe(0);
    expect(queue.stats.idle).toBe(2);
    expect(updates.at(-1)![3]).toBe(dataDigest(JSON.stringify([{ id: 'ord_1', status: 's4' }])));
    stop();
    queryClient.clear();
  });
});

async function waitUntil(ok: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !ok(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  expect(ok()).toBe(true);
}

describe('article benchmark: visibility timeline with pushed data', () => {
  it('counts a pushed pair of a tab the user left before the data landed apart', () => {
    const visible = createVisibilityTimeline([
      { user: 0, tenant: 't1', at: 0, from: -1, to: 0 },
      { user: 0, tenant: 't1', at: 1005, from: 0, to: 2 },
    ]);
    const change = mutation(1000, 1);
    const result = measureFreshness([change], [log([[PUSHED, 1012, 1, state(1)]])], visible, undefined, createReflectOracle([change]));
    expect(result).toMatchObject({ samples: [], leftBefore: 1, unresolved: 0 });
  });
});

describe('article benchmark: where the pushed variant\u2019s time goes', () => {
  it('splits commit → held into commit → result frame at the browser and frame → held, matching the frame by watch and seq', () => {
    const change = { ...mutation(1000, 1), seq: 7 };
    const visible = createVisibilityTimeline([{ user: 0, tenant: 't1', at: 0, from: -1, to: 0 }]);
    const frames: FrameRecord[] = [
      { user: 0, kind: 'result', watch: watchKeyOf(listKey), seq: 6, at: 1001 }, // an older change's result
      { user: 1, kind: 'result', watch: watchKeyOf(listKey), seq: 7, at: 1002 }, // another browser
      { user: 0, kind: 'refetch', watch: watchKeyOf(listKey), seq: 7, at: 1006 }, // no data
      { user: 0, kind: 'delta', watch: watchKeyOf(listKey), seq: 7, at: 1008 },
    ];
    const path = measurePushPath([change], [log([[PUSHED, 1011, 1, state(1)]])], frames, visible, createReflectOracle([change]));
    expect(path).toEqual({ toFrame: [8], toHeld: [3], unmatched: 0 });
    expect(watchKeyOf(listKey)).toBe('orders.list:{"limit":50}');
  });

  it('leaves out pairs a fetch made fresh and counts pushed ones whose frame is missing', () => {
    const change = { ...mutation(1000, 1), seq: 7 };
    const visible = createVisibilityTimeline([{ user: 0, tenant: 't1', at: 0, from: -1, to: 0 }]);
    const oracle = createReflectOracle([change]);
    expect(measurePushPath([change], [log([[1001, 1030, 1]])], [], visible, oracle)).toEqual({ toFrame: [], toHeld: [], unmatched: 0 });
    expect(measurePushPath([change], [log([[PUSHED, 1011, 1, state(1)]])], [], visible, oracle)).toEqual({ toFrame: [], toHeld: [], unmatched: 1 });
  });
});
