import { QueryClient, QueryObserver } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import { createLiveInvalidator, type LiveVisibility } from 'trpc-live/client';
import { defineResources } from '../../../packages/trpc-live/src/shared/registry';
import { waitFor } from '../../helpers/wait';

const registry = defineResources({
  orders: { queries: [{ path: 'orders.list' }], dependents: ['dashboard.stats'] },
  products: { queries: [{ path: 'products.list' }] },
});

/** A page whose visibility the test switches, like a browser tab. */
function page(visible: boolean) {
  const listeners = new Set<(visible: boolean) => void>();
  const source: LiveVisibility = {
    isVisible: () => visible,
    subscribe: (listener) => (listeners.add(listener), () => listeners.delete(listener)),
  };
  return {
    source,
    show(next: boolean) {
      visible = next;
      for (const listener of listeners) listener(next);
    },
  };
}

function setup(visible: boolean) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
  const tab = page(visible);
  const tasks: Array<() => void> = [];
  const invalidator = createLiveInvalidator({ queryClient, registry, schedule: (fn) => tasks.push(fn), visibility: tab.source });
  const fetches: Record<string, number> = {};
  for (const path of ['orders.list', 'dashboard.stats', 'products.list']) {
    const observer = new QueryObserver(queryClient, {
      queryKey: [path.split('.'), { type: 'query' }],
      queryFn: async () => {
        fetches[path] = (fetches[path] ?? 0) + 1;
        return path;
      },
    });
    observer.subscribe(() => undefined);
  }
  const settle = () => waitFor(() => queryClient.isFetching() === 0, 'queries to settle');
  const apply = async () => {
    for (const task of tasks.splice(0)) task();
    await settle();
  };
  return { queryClient, tab, invalidator, fetches, settle, apply };
}

describe('LiveInvalidator: hidden pages refetch when shown', () => {
  it('refetches at once while the page is visible', async () => {
    const t = setup(true);
    await t.settle();
    t.invalidator.receive({ kind: 'invalidate', resource: 'orders', id: 'o1', action: 'updated', seq: 1 });
    await t.apply();
    expect(t.fetches).toEqual({ 'orders.list': 2, 'dashboard.stats': 2, 'products.list': 1 });
  });

  it('only marks queries stale while hidden, then refetches each once when shown, however many changes came', async () => {
    const t = setup(false);
    await t.settle();
    for (let seq = 1; seq <= 5; seq++) {
      t.invalidator.receive({ kind: 'invalidate', resource: 'orders', id: `o${seq}`, action: 'updated', seq });
      await t.apply();
    }
    expect(t.fetches).toEqual({ 'orders.list': 1, 'dashboard.stats': 1, 'products.list': 1 });
    expect(t.queryClient.getQueryState([['orders', 'list'], { type: 'query' }])?.isInvalidated).toBe(true);
    expect(t.invalidator.stats).toMatchObject({ applied: 5, deferred: 5 });

    t.tab.show(true);
    await t.settle();
    expect(t.fetches).toEqual({ 'orders.list': 2, 'dashboard.stats': 2, 'products.list': 1 });
    // Shown again without anything new: nothing more.
    t.tab.show(false);
    t.tab.show(true);
    await t.settle();
    expect(t.fetches).toEqual({ 'orders.list': 2, 'dashboard.stats': 2, 'products.list': 1 });
    expect(t.invalidator.stats.shown).toBe(1);
  });

  it('counts a show only when it refetched something: changes that touched no active query cost no request', async () => {
    const t = setup(false);
    await t.settle();
    // A resource no query of this page reads.
    t.invalidator.receive({ kind: 'invalidate', resource: 'notifications', action: 'created', seq: 1 });
    await t.apply();
    t.tab.show(true);
    await t.settle();
    expect(t.fetches).toEqual({ 'orders.list': 1, 'dashboard.stats': 1, 'products.list': 1 });
    expect(t.invalidator.stats.shown).toBe(0);
  });

  it('defers a reset while hidden, then refetches every active query once when shown', async () => {
    const t = setup(false);
    await t.settle();
    t.invalidator.receive({ kind: 'reset', reason: 'gap', seq: 3 });
    await t.apply();
    expect(t.fetches).toEqual({ 'orders.list': 1, 'dashboard.stats': 1, 'products.list': 1 });
    t.tab.show(true);
    await t.settle();
    expect(t.fetches).toEqual({ 'orders.list': 2, 'dashboard.stats': 2, 'products.list': 2 });
  });

  it('stops following visibility once disposed', async () => {
    const t = setup(false);
    await t.settle();
    t.invalidator.receive({ kind: 'invalidate', resource: 'products', action: 'updated', seq: 1 });
    await t.apply();
    t.invalidator.dispose();
    t.tab.show(true);
    await t.settle();
    expect(t.fetches['products.list']).toBe(1);
  });
});
