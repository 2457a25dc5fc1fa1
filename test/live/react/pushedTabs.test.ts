import { QueryClient, QueryObserver } from '@tanstack/react-query';
import { afterEach, describe, expect, it } from 'vitest';
import { createLiveInvalidator, type LiveInvalidator, type LiveVisibility } from 'trpc-live/client';
import { createSharedLiveStream, type SharedLiveStream } from 'trpc-live/react';
import { diffValues } from '../../../packages/trpc-live/src/shared/delta';
import { defineResources } from '../../../packages/trpc-live/src/shared/registry';
import { watchKey, type WatchRequest, type WatchResponse } from '../../../packages/trpc-live/src/shared/watches';
import { waitFor } from '../../helpers/wait';
import { createLocks, createPage } from './fakeBrowser';

const registry = defineResources({
  orders: { queries: [{ path: 'orders.byId', by: 'id', push: 'scope' }] },
});
const EPOCH = 'e1';
const ORDER = { id: 'ord_1' };
const QUERY_KEY = [['orders', 'byId'], { input: ORDER, type: 'query' }];
const WATCH = watchKey('orders.byId', ORDER);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What the server answered every tab's watch calls with (one server: one list). */
const requests: WatchRequest[] = [];
const watch = async (request: WatchRequest): Promise<WatchResponse> => {
  requests.push(request);
  return { cursor: `${EPOCH}:5`, accepted: (request.add ?? []).map((spec) => watchKey(spec.path, spec.input)), refused: [] };
};

interface Tab {
  invalidator: LiveInvalidator;
  stream: SharedLiveStream;
  page: ReturnType<typeof createPage>;
  queryClient: QueryClient;
  fetches: number;
  data(): unknown;
}

const tabs: Tab[] = [];
let channelName = 0;

/** A tab of one browser: its own QueryClient with `orders.byId(ord_1)` mounted, its invalidator following its page. */
function openTab(
  locks: ReturnType<typeof createLocks>,
  name: string,
  visibility: 'visible' | 'hidden' = 'visible',
  win: ReturnType<typeof createPage> | null = null,
): Tab {
  const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
  const page = createPage(visibility);
  const listeners = new Set<(visible: boolean) => void>();
  const pageVisibility: LiveVisibility = {
    isVisible: () => page.visibilityState === 'visible',
    subscribe: (listener) => (listeners.add(listener), () => listeners.delete(listener)),
  };
  page.addEventListener('visibilitychange', () => {
    for (const listener of listeners) listener(page.visibilityState === 'visible');
  });
  const invalidator = createLiveInvalidator({ queryClient, registry, visibility: pageVisibility, watch, watchBatchMs: 0, holdMs: 200 });
  const tab = { invalidator, page, queryClient, fetches: 0 } as Tab;
  tab.data = () => queryClient.getQueryData(QUERY_KEY);
  new QueryObserver(queryClient, {
    queryKey: QUERY_KEY,
    queryFn: async () => {
      tab.fetches++;
      return { v: 0 };
    },
  }).subscribe(() => undefined);
  tab.stream = createSharedLiveStream({
    name,
    invalidator,
    locks,
    document: page,
    window: win,
    open: () => ({ unsubscribe: () => undefined }),
  });
  tabs.push(tab);
  return tab;
}

afterEach(() => {
  for (const tab of tabs.splice(0)) {
    tab.stream.close();
    tab.invalidator.dispose();
  }
  requests.length = 0;
});

const holdersOf = (connectionId: string) =>
  new Set(requests.filter((r) => r.connectionId === connectionId && r.add?.some((spec) => watchKey(spec.path, spec.input) === WATCH)).map((r) => r.holder));

describe('pushed results across the tabs of one browser', () => {
  it("sends each tab's watches on the shared connection with its own holder, a tab that joined after the hello included", async () => {
    const locks = createLocks();
    const name = `push${channelName++}`;
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const b = openTab(locks, name);
    await waitFor(() => b.stream.status().role === 'follower', 'B to follow');
    a.invalidator.receive({ kind: 'hello', connectionId: 'conn-a', epoch: EPOCH });
    await waitFor(() => holdersOf('conn-a').size === 2, 'A and B to watch');
    // C never saw the hello: it learns the connection from the leader's status.
    const c = openTab(locks, name);
    await waitFor(() => holdersOf('conn-a').size === 3, 'C to watch on the same connection');
    expect(c.invalidator.connectionId).toBe('conn-a');
    expect(requests.every((request) => request.connectionId === 'conn-a')).toBe(true);
  });

  it('relays a pushed result to every tab, which applies it to its own query without a fetch, a hidden one included', async () => {
    const locks = createLocks();
    const name = `push${channelName++}`;
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const b = openTab(locks, name);
    const c = openTab(locks, name, 'hidden');
    await waitFor(() => b.stream.status().role === 'follower' && c.stream.status().role === 'follower', 'B and C to follow');
    a.invalidator.receive({ kind: 'hello', connectionId: 'conn-a', epoch: EPOCH });
    await waitFor(() => holdersOf('conn-a').size === 3, 'every tab to watch');
    await sleep(10);
    for (const tab of [a, b, c]) expect(tab.fetches).toBe(1);

    // The change's invalidation, then its result, as the leader's stream delivers them.
    a.invalidator.receive({ kind: 'invalidate', resource: 'orders', id: 'ord_1', action: 'updated', seq: 6 }, `${EPOCH}:6`);
    a.invalidator.receive({ kind: 'result', watch: WATCH, epoch: EPOCH, seq: 6, data: { v: 1 } });
    await waitFor(() => [a, b, c].every((tab) => (tab.data() as { v: number }).v === 1), 'every tab to hold the pushed result');
    c.page.set('visible');
    await sleep(400);
    expect([a, b, c].map((tab) => tab.fetches)).toEqual([1, 1, 1]);
    expect([a, b, c].map((tab) => tab.invalidator.pushedStats.timeouts)).toEqual([0, 0, 0]);
  });

  it('relays a delta to every tab, which applies it over the result it holds, and a tab that joined after that result refetches instead', async () => {
    const locks = createLocks();
    const name = `push${channelName++}`;
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const b = openTab(locks, name, 'hidden');
    await waitFor(() => b.stream.status().role === 'follower', 'B to follow');
    a.invalidator.receive({ kind: 'hello', connectionId: 'conn-a', epoch: EPOCH });
    await waitFor(() => holdersOf('conn-a').size === 2, 'A and B to watch');
    const before = { v: 1, at: new Date(Date.UTC(2026, 0, 1)), lines: [{ id: 1, n: 1 }] };
    const after = { v: 2, at: new Date(Date.UTC(2026, 0, 2)), lines: [{ id: 2, n: 5 }, { id: 1, n: 1 }] };
    a.invalidator.receive({ kind: 'result', watch: WATCH, epoch: EPOCH, seq: 6, data: before });
    await waitFor(() => [a, b].every((tab) => (tab.data() as { v: number }).v === 1), 'A and B to hold the result');
    const c = openTab(locks, name);
    await waitFor(() => holdersOf('conn-a').size === 3, 'C to watch');
    await sleep(10);
    const cRequests = requests.filter((r) => r.holder === requests.at(-1)!.holder).length;

    a.invalidator.receive({ kind: 'invalidate', resource: 'orders', id: 'ord_1', action: 'updated', seq: 7 }, `${EPOCH}:7`);
    a.invalidator.receive({ kind: 'delta', watch: WATCH, epoch: EPOCH, seq: 7, base: 6, ops: diffValues(before, after) });
    await waitFor(() => [a, b].every((tab) => (tab.data() as { v: number }).v === 2), 'A and B to apply the delta');
    for (const tab of [a, b]) {
      expect(tab.data()).toEqual(after);
      expect((tab.data() as typeof after).at).toBeInstanceOf(Date);
    }
    await waitFor(() => c.fetches === 2, 'C to refetch');
    await sleep(50);
    expect([a, b].map((tab) => tab.fetches)).toEqual([1, 1]);
    expect([a, b, c].map((tab) => tab.invalidator.pushedStats.deltaMisses)).toEqual([0, 0, 1]);
    // C added its watch again: the server's next result of it is whole.
    expect(requests.filter((r) => r.holder === requests.at(-1)!.holder).length).toBe(cRequests + 1);
  });

  it("sends every tab's watches again for the new leader's connection after a takeover", async () => {
    const locks = createLocks();
    const name = `push${channelName++}`;
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const b = openTab(locks, name);
    const c = openTab(locks, name);
    await waitFor(() => b.stream.status().role === 'follower' && c.stream.status().role === 'follower', 'B and C to follow');
    a.invalidator.receive({ kind: 'hello', connectionId: 'conn-a', epoch: EPOCH });
    await waitFor(() => holdersOf('conn-a').size === 3, 'every tab to watch');
    a.stream.close();
    await waitFor(() => b.stream.status().role === 'leader' || c.stream.status().role === 'leader', 'a takeover');
    const leader = b.stream.status().role === 'leader' ? b : c;
    leader.invalidator.receive({ kind: 'hello', connectionId: 'conn-2', epoch: EPOCH });
    await waitFor(() => holdersOf('conn-2').size === 2, 'B and C to watch on the new connection');
  });

  it("removes a tab's watches through the leader when the tab leaves, and the tab sends them again when its page comes back", async () => {
    const locks = createLocks();
    const name = `push${channelName++}`;
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const win = createPage();
    const b = openTab(locks, name, 'visible', win);
    await waitFor(() => b.stream.status().role === 'follower', 'B to follow');
    a.invalidator.receive({ kind: 'hello', connectionId: 'conn-a', epoch: EPOCH });
    await waitFor(() => holdersOf('conn-a').size === 2, 'A and B to watch');
    const holderB = b.invalidator.watchSync!.holder;
    const removedForB = () => requests.filter((r) => r.holder === holderB && r.remove?.includes(WATCH)).length;
    await sleep(10);
    // Into the back/forward cache: B says bye and cannot be trusted to reach the server.
    win.fire('pagehide');
    await waitFor(() => removedForB() === 1, "the leader to remove B's watch");
    expect(requests.at(-1)).toEqual({ connectionId: 'conn-a', holder: holderB, add: [], remove: [WATCH] });
    const addsForB = () => requests.filter((r) => r.holder === holderB && r.add?.length).length;
    win.fire('pageshow');
    await waitFor(() => addsForB() === 2, 'B to watch again');
  });
});
