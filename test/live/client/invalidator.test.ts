import { QueryClient, QueryObserver } from '@tanstack/react-query';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createLiveInvalidator } from 'trpc-live/client';
import type { LiveMessage } from 'trpc-live/core';
import { defineResources } from '../../../packages/trpc-live/src/shared/registry';
import { waitFor } from '../../helpers/wait';

const registry = defineResources({
  orders: { queries: [{ path: 'orders.list' }, { path: 'orders.byId', by: 'id' }], dependents: ['dashboard.stats'] },
  products: { queries: [{ path: 'products.list' }] },
});

const EPOCH = 'ep1';
const key = (path: string, input?: unknown) => [path.split('.'), { ...(input !== undefined ? { input } : {}), type: 'query' }];
const invalidate = (resource: string, id: string | undefined, seq: number): LiveMessage => ({
  kind: 'invalidate',
  resource,
  ...(id !== undefined ? { id } : {}),
  action: 'updated',
  seq,
});

/** A QueryClient with active observers on a few queries, counting each query's fetches. */
function setup(options: { maxTrackedKeys?: number } = {}) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
  const fetches = new Map<string, number>();
  const tasks: Array<() => void> = [];
  const invalidator = createLiveInvalidator({ queryClient, registry, schedule: (fn) => tasks.push(fn), ...options });
  const unsubscribers: Array<() => void> = [];
  const watch = (path: string, input?: unknown) => {
    const queryKey = key(path, input);
    const name = input === undefined ? path : `${path}(${JSON.stringify(input)})`;
    const observer = new QueryObserver(queryClient, {
      queryKey,
      queryFn: async () => {
        fetches.set(name, (fetches.get(name) ?? 0) + 1);
        return name;
      },
    });
    unsubscribers.push(observer.subscribe(() => undefined));
  };
  watch('orders.list');
  watch('orders.byId', { id: 'ord_1' });
  watch('orders.byId', { id: 'ord_2' });
  watch('products.list');
  watch('dashboard.stats');
  watch('auth.me');
  const idle = () => waitFor(() => queryClient.isFetching() === 0, 'queries to settle');
  /** Runs the scheduled batches, then waits for the refetches; returns fetches since the last call. */
  let last = new Map<string, number>();
  const flush = async () => {
    const ran = tasks.length;
    for (const task of tasks.splice(0)) task();
    await idle();
    const delta: Record<string, number> = {};
    for (const [name, count] of fetches) {
      const d = count - (last.get(name) ?? 0);
      if (d) delta[name] = d;
    }
    last = new Map(fetches);
    return { batches: ran, refetched: delta };
  };
  return {
    queryClient,
    invalidator,
    tasks,
    flush,
    async ready() {
      await idle();
      last = new Map(fetches);
      invalidator.receive({ kind: 'hello', connectionId: 'c1', epoch: EPOCH });
    },
    close: () => unsubscribers.forEach((fn) => fn()),
  };
}

describe('LiveInvalidator', () => {
  let t: ReturnType<typeof setup>;
  beforeEach(async () => {
    t = setup();
    await t.ready();
  });
  afterEach(() => t.close());

  it('refetches exactly the affected active queries once when orders/ord_1 changes', async () => {
    t.invalidator.receive(invalidate('orders', 'ord_1', 1), `${EPOCH}:1`);
    expect(await t.flush()).toEqual({
      batches: 1,
      refetched: { 'orders.list': 1, 'orders.byId({"id":"ord_1"})': 1, 'dashboard.stats': 1 },
    });
  });

  it('applies signals arriving together in one batch, refetching a query once even when several of its keys changed', async () => {
    const spy = vi.spyOn(t.queryClient, 'invalidateQueries');
    t.invalidator.receive(invalidate('orders', 'ord_1', 1));
    t.invalidator.receive(invalidate('orders', 'ord_2', 2));
    t.invalidator.receive({ kind: 'batch', seq: 3, events: [{ kind: 'invalidate', resource: 'products', action: 'updated' }] });
    expect(t.tasks).toHaveLength(1);
    expect(await t.flush()).toEqual({
      batches: 1,
      refetched: {
        'orders.list': 1,
        'orders.byId({"id":"ord_1"})': 1,
        'orders.byId({"id":"ord_2"})': 1,
        'products.list': 1,
        'dashboard.stats': 1,
      },
    });
    expect(spy).toHaveBeenCalledTimes(1);
    expect(t.invalidator.stats).toMatchObject({ applied: 3, flushes: 1 });
  });

  it('invalidates every active query, registered or not, on a reset', async () => {
    t.invalidator.receive(invalidate('orders', 'ord_1', 1));
    t.invalidator.receive({ kind: 'reset', reason: 'evicted', seq: 2 });
    expect((await t.flush()).refetched).toEqual({
      'orders.list': 1,
      'orders.byId({"id":"ord_1"})': 1,
      'orders.byId({"id":"ord_2"})': 1,
      'products.list': 1,
      'dashboard.stats': 1,
      'auth.me': 1,
    });
    expect(t.invalidator.stats.resets).toBe(1);
  });

  it('refetches once when the fence arrives before the stream copy of the same change', async () => {
    t.invalidator.receiveFence([{ resource: 'orders', id: 'ord_1', cursor: `${EPOCH}:7` }]);
    expect((await t.flush()).refetched).toEqual({ 'orders.list': 1, 'orders.byId({"id":"ord_1"})': 1, 'dashboard.stats': 1 });
    t.invalidator.receive(invalidate('orders', 'ord_1', 7), `${EPOCH}:7`);
    expect(await t.flush()).toEqual({ batches: 0, refetched: {} });
    expect(t.invalidator.stats.duplicates).toBe(1);
  });

  it('refetches once when the stream copy arrives before the fence of the same change', async () => {
    t.invalidator.receive(invalidate('orders', 'ord_1', 7), `${EPOCH}:7`);
    expect((await t.flush()).refetched).toEqual({ 'orders.list': 1, 'orders.byId({"id":"ord_1"})': 1, 'dashboard.stats': 1 });
    t.invalidator.receiveFence([{ resource: 'orders', id: 'ord_1', cursor: `${EPOCH}:7` }]);
    expect(await t.flush()).toEqual({ batches: 0, refetched: {} });
  });

  it('refetches again for a newer change of the same key, and not for a replayed older one', async () => {
    t.invalidator.receiveFence([{ resource: 'orders', id: 'ord_1', cursor: `${EPOCH}:7` }]);
    await t.flush();
    t.invalidator.receive(invalidate('orders', 'ord_1', 5));
    t.invalidator.receive(invalidate('orders', 'ord_1', 9));
    expect((await t.flush()).refetched).toEqual({ 'orders.list': 1, 'orders.byId({"id":"ord_1"})': 1, 'dashboard.stats': 1 });
  });

  it('forgets applied sequences when the epoch changes, since they are not comparable', async () => {
    t.invalidator.receive(invalidate('orders', 'ord_1', 7));
    await t.flush();
    t.invalidator.receive({ kind: 'hello', connectionId: 'c2', epoch: 'ep2' });
    t.invalidator.receive(invalidate('orders', 'ord_1', 3));
    expect((await t.flush()).refetched).toEqual({ 'orders.list': 1, 'orders.byId({"id":"ord_1"})': 1, 'dashboard.stats': 1 });
  });

  it('applies by the message seq when frames carry watermark ids, keeps the last id verbatim, and matches fence receipts', async () => {
    // Seq 3 overtook a pending seq 2: its id says "up to 1, plus 3".
    t.invalidator.receive(invalidate('orders', 'ord_1', 3), `${EPOCH}:1.2`);
    expect(t.invalidator.lastCursor).toBe(`${EPOCH}:1.2`);
    t.invalidator.receive(invalidate('products', undefined, 2), `${EPOCH}:3`);
    expect(t.invalidator.lastCursor).toBe(`${EPOCH}:3`);
    // The mutation's response fence for the change at seq 3 (a publish receipt) is the same change.
    t.invalidator.receiveFence([{ resource: 'orders', id: 'ord_1', cursor: `${EPOCH}:3` }]);
    expect(t.invalidator.stats).toMatchObject({ applied: 2, duplicates: 1 });
    expect((await t.flush()).refetched).toEqual({ 'orders.list': 1, 'orders.byId({"id":"ord_1"})': 1, 'products.list': 1, 'dashboard.stats': 1 });
  });

  it('ignores fence entries whose cursor is not epoch:seq', async () => {
    t.invalidator.receiveFence([
      { resource: 'orders', id: 'ord_1', cursor: 'garbage' },
      { resource: 'orders', id: 'ord_1', cursor: `${EPOCH}:x` },
    ]);
    expect(await t.flush()).toEqual({ batches: 0, refetched: {} });
  });

  it('hands every message to listeners, including control and progress messages', () => {
    const seen: string[] = [];
    const stop = t.invalidator.subscribe((message) => seen.push(message.kind));
    t.invalidator.receive({ kind: 'progress', key: 'import.1', current: 1, total: 2, seq: 1 });
    t.invalidator.receive(invalidate('orders', 'ord_1', 2));
    stop();
    t.invalidator.receive(invalidate('orders', 'ord_1', 3));
    expect(seen).toEqual(['progress', 'invalidate']);
  });
});

describe('LiveInvalidator memory bound', () => {
  it('forgets the least recently applied key past maxTrackedKeys, costing at most one extra refetch for it', async () => {
    const t = setup({ maxTrackedKeys: 2 });
    await t.ready();
    t.invalidator.receive(invalidate('orders', 'ord_1', 1));
    t.invalidator.receive(invalidate('orders', 'ord_2', 2));
    t.invalidator.receive(invalidate('products', undefined, 3));
    await t.flush();
    // products and ord_2 are remembered; ord_1 was forgotten.
    t.invalidator.receive(invalidate('products', undefined, 3));
    t.invalidator.receive(invalidate('orders', 'ord_2', 2));
    expect(await t.flush()).toEqual({ batches: 0, refetched: {} });
    t.invalidator.receive(invalidate('orders', 'ord_1', 1));
    expect((await t.flush()).refetched).toMatchObject({ 'orders.byId({"id":"ord_1"})': 1 });
    t.close();
  });
});
