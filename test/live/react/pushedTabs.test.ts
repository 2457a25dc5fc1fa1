import { QueryClient, QueryObserver, type Query } from '@tanstack/react-query';
import { afterEach, describe, expect, it } from 'vitest';
import { createLiveInvalidator, type LiveInvalidator, type LiveVisibility } from 'trpc-live/client';
import { createSharedLiveStream, type SharedLiveStream } from 'trpc-live/react';
import { diffValues } from '../../../packages/trpc-live/src/shared/delta';
import type { LiveMessage } from '../../../packages/trpc-live/src/shared/messages';
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

/** Every watch call the browser made (one server: one list). */
const requests: WatchRequest[] = [];
/**
 * The server's watch sets as the server keeps them (connection -> key ->
 * holders): a watch stays while any holder holds it. Written from the watch
 * protocol (shared/watches.ts), not from the client code under test.
 */
const server = new Map<string, Map<string, Set<string>>>();
const watch = async (request: WatchRequest): Promise<WatchResponse> => {
  requests.push(structuredClone(request));
  const holder = request.holder ?? 'default';
  const set = server.get(request.connectionId) ?? new Map<string, Set<string>>();
  server.set(request.connectionId, set);
  for (const key of request.remove ?? []) {
    set.get(key)?.delete(holder);
    if (!set.get(key)?.size) set.delete(key);
  }
  const accepted = (request.add ?? []).map((spec) => watchKey(spec.path, spec.input));
  for (const key of accepted) set.set(key, (set.get(key) ?? new Set()).add(holder));
  return { cursor: `${EPOCH}:5`, accepted, refused: [] };
};
/** The keys the server watches on `connectionId`. */
const watchedOn = (connectionId: string) => new Set(server.get(connectionId)?.keys());
const orderKey = (id: string) => watchKey('orders.byId', { id });

interface Tab {
  invalidator: LiveInvalidator;
  stream: SharedLiveStream;
  page: ReturnType<typeof createPage>;
  queryClient: QueryClient;
  fetches: number;
  data(): unknown;
  /** Mounts `orders.byId({ id })` (a component observing it); returns the unmount. */
  mount(id: string): () => void;
  /** Opens another tab of the same browser. */
  sibling(options?: TabOptions): Tab;
  /** Every message this tab's invalidator received (the leader's from its stream, a follower's from the leader). */
  heard: LiveMessage[];
  /** The pushed results and deltas this tab received for `key`. */
  resultsOf(key: string): LiveMessage[];
  /** Fetches of `orders.byId({ id })` in this tab. */
  fetchesOf(id: string): number;
  /** The cached `orders.byId({ id })` query. */
  query(id: string): Query | undefined;
}

const tabs: Tab[] = [];
let channelName = 0;

interface TabOptions {
  visibility?: 'visible' | 'hidden';
  win?: ReturnType<typeof createPage> | null;
  /** The tab's watch batch window (`watchBatchMs`). @default 0 */
  batchMs?: number;
  /** The tab's `holdMs`. @default 200 */
  holdMs?: number;
}

/** A tab of one browser: its own QueryClient with `orders.byId(ord_1)` mounted, its invalidator following its page. */
function openTab(locks: ReturnType<typeof createLocks>, name: string, options: TabOptions = {}): Tab {
  const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
  const page = createPage(options.visibility ?? 'visible');
  const listeners = new Set<(visible: boolean) => void>();
  const pageVisibility: LiveVisibility = {
    isVisible: () => page.visibilityState === 'visible',
    subscribe: (listener) => (listeners.add(listener), () => listeners.delete(listener)),
  };
  page.addEventListener('visibilitychange', () => {
    for (const listener of listeners) listener(page.visibilityState === 'visible');
  });
  const invalidator = createLiveInvalidator({
    queryClient,
    registry,
    visibility: pageVisibility,
    watch,
    watchBatchMs: options.batchMs ?? 0,
    holdMs: options.holdMs ?? 200,
  });
  const tab = { invalidator, page, queryClient, fetches: 0, heard: [] as LiveMessage[] } as Tab;
  const fetchesById = new Map<string, number>();
  invalidator.subscribe((message) => tab.heard.push(message));
  tab.resultsOf = (key) => tab.heard.filter((m) => (m.kind === 'result' || m.kind === 'delta') && m.watch === key);
  tab.fetchesOf = (id) => fetchesById.get(id) ?? 0;
  tab.query = (id) => queryClient.getQueryCache().find({ queryKey: [['orders', 'byId'], { input: { id }, type: 'query' }], exact: true });
  tab.data = () => queryClient.getQueryData(QUERY_KEY);
  tab.mount = (id) =>
    new QueryObserver(queryClient, {
      queryKey: [['orders', 'byId'], { input: { id }, type: 'query' }],
      queryFn: async () => {
        tab.fetches++;
        fetchesById.set(id, (fetchesById.get(id) ?? 0) + 1);
        return { v: 0 };
      },
    }).subscribe(() => undefined);
  tab.sibling = (siblingOptions) => openTab(locks, name, siblingOptions);
  tab.mount(ORDER.id);
  tab.stream = createSharedLiveStream({
    name,
    invalidator,
    locks,
    document: page,
    window: options.win ?? null,
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
  server.clear();
});

/** Every tab holds a confirmation of `key` (through the leader, for the followers). */
const confirmed = (key: string, ...of: Tab[]) => of.every((tab) => tab.invalidator.watchSync!.confirmedAt(key) !== null);
const requestsOn = (connectionId: string) => requests.filter((r) => r.connectionId === connectionId);

/** Opens A (the leader), then the others as followers, and says hello on A's stream. */
async function browserOf(count: number, options: TabOptions = {}): Promise<Tab[]> {
  const locks = createLocks();
  const name = `push${channelName++}`;
  const a = openTab(locks, name, options);
  await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
  const others = Array.from({ length: count - 1 }, () => openTab(locks, name, options));
  await waitFor(() => others.every((tab) => tab.stream.status().role === 'follower'), 'the others to follow');
  a.invalidator.receive({ kind: 'hello', connectionId: 'conn-a', epoch: EPOCH });
  return [a, ...others];
}

describe('pushed results across the tabs of one browser', () => {
  it("sends every tab's watches through the leader under one holder on the shared connection, a tab that joined after the hello included", async () => {
    const locks = createLocks();
    const name = `push${channelName++}`;
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const b = openTab(locks, name);
    await waitFor(() => b.stream.status().role === 'follower', 'B to follow');
    a.invalidator.receive({ kind: 'hello', connectionId: 'conn-a', epoch: EPOCH });
    await waitFor(() => confirmed(WATCH, a, b), 'A and B to hold a confirmed watch');
    // C never saw the hello: it learns the connection from the leader's status, and its confirmation from the leader.
    const c = openTab(locks, name);
    await waitFor(() => confirmed(WATCH, c), 'C to hold a confirmed watch');
    expect(c.invalidator.connectionId).toBe('conn-a');
    expect(requests.every((request) => request.connectionId === 'conn-a')).toBe(true);
    expect(new Set(requests.map((request) => request.holder))).toEqual(new Set([a.invalidator.watchSync!.holder]));
    expect(watchedOn('conn-a')).toEqual(new Set([WATCH]));
  });

  it('sends one watch request for three tabs that send their watches in the same moment, each query once', async () => {
    const [a, b, c] = await browserOf(3, { batchMs: 40 });
    await waitFor(() => confirmed(WATCH, a!, b!, c!), 'every tab to hold a confirmed watch');
    await sleep(100);
    // After the hello, every tab sends its whole set: one request carries them all.
    expect(requests).toHaveLength(1);
    a!.mount('ord_2');
    b!.mount('ord_2');
    c!.mount('ord_3');
    await waitFor(() => confirmed(orderKey('ord_2'), a!, b!) && confirmed(orderKey('ord_3'), c!), 'the new watches to be confirmed');
    await sleep(100);
    expect(requests).toHaveLength(2);
    expect(requests[1]!.add!.map((spec) => watchKey(spec.path, spec.input)).sort()).toEqual([orderKey('ord_2'), orderKey('ord_3')]);
    expect(watchedOn('conn-a')).toEqual(new Set([WATCH, orderKey('ord_2'), orderKey('ord_3')]));
  });

  it('confirms a tab opening a watch the others hold without a request while no result of it was pushed, and sends the add once one was', async () => {
    const [a, b] = await browserOf(2);
    await waitFor(() => confirmed(WATCH, a!, b!), 'A and B to watch');
    await sleep(30);
    const before = requests.length;
    const c = a!.sibling();
    await waitFor(() => confirmed(WATCH, c), 'C to hold a confirmed watch');
    await sleep(30);
    expect(requests).toHaveLength(before);

    // A result reaches every tab that has the query now; a tab opened later would lack it as a delta's base.
    a!.invalidator.receive({ kind: 'invalidate', resource: 'orders', id: 'ord_1', action: 'updated', seq: 6 }, `${EPOCH}:6`);
    a!.invalidator.receive({ kind: 'result', watch: WATCH, epoch: EPOCH, seq: 6, data: { v: 1 } });
    await waitFor(() => (c.data() as { v: number }).v === 1, 'C to apply the result');
    const d = a!.sibling();
    await waitFor(() => confirmed(WATCH, d), 'D to hold a confirmed watch');
    expect(requests).toHaveLength(before + 1);
    expect(requests.at(-1)!.add!.map((spec) => watchKey(spec.path, spec.input))).toEqual([WATCH]);
  });

  it('sends the watches of a leader without other tabs after its own window only', async () => {
    const [a] = await browserOf(1, { batchMs: 300 });
    const helloAt = Date.now();
    await waitFor(() => requests.length === 1, 'the watch request');
    // One window (300 ms), not two (600 ms): no other tab to gather.
    expect(Date.now() - helloAt).toBeLessThan(500);
    expect(confirmed(WATCH, a!)).toBe(true);
  });

  it('removes a watch from the server only when the last tab holding it drops it', async () => {
    const [a, b] = await browserOf(2);
    const unmountA = a!.mount('ord_2');
    const unmountB = b!.mount('ord_2');
    await waitFor(() => confirmed(WATCH, a!, b!) && confirmed(orderKey('ord_2'), a!, b!), 'A and B to watch both orders');
    await sleep(30);
    const before = requests.length;
    unmountB();
    await sleep(60);
    expect(requests).toHaveLength(before);
    expect(watchedOn('conn-a')).toEqual(new Set([WATCH, orderKey('ord_2')]));
    unmountA();
    await waitFor(() => !watchedOn('conn-a').has(orderKey('ord_2')), 'the server to drop ord_2');
    expect(requests).toHaveLength(before + 1);
    expect(requests.at(-1)).toEqual({ connectionId: 'conn-a', holder: a!.invalidator.watchSync!.holder, add: [], remove: [orderKey('ord_2')], deltas: true });
    expect(watchedOn('conn-a')).toEqual(new Set([WATCH]));
  });

  it('relays a pushed result to every tab holding its query, which applies it without a fetch, a hidden one included', async () => {
    const locks = createLocks();
    const name = `push${channelName++}`;
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const b = openTab(locks, name);
    const c = openTab(locks, name, { visibility: 'hidden' });
    await waitFor(() => b.stream.status().role === 'follower' && c.stream.status().role === 'follower', 'B and C to follow');
    a.invalidator.receive({ kind: 'hello', connectionId: 'conn-a', epoch: EPOCH });
    await waitFor(() => confirmed(WATCH, a, b, c), 'every tab to hold a confirmed watch');
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

  it('relays a delta to every tab holding its query, which applies it over the result it holds, and a tab that joined after that result refetches instead', async () => {
    const locks = createLocks();
    const name = `push${channelName++}`;
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const b = openTab(locks, name, { visibility: 'hidden' });
    await waitFor(() => b.stream.status().role === 'follower', 'B to follow');
    a.invalidator.receive({ kind: 'hello', connectionId: 'conn-a', epoch: EPOCH });
    await waitFor(() => confirmed(WATCH, a, b), 'A and B to watch');
    const before = { v: 1, at: new Date(Date.UTC(2026, 0, 1)), lines: [{ id: 1, n: 1 }] };
    const after = { v: 2, at: new Date(Date.UTC(2026, 0, 2)), lines: [{ id: 2, n: 5 }, { id: 1, n: 1 }] };
    a.invalidator.receive({ kind: 'result', watch: WATCH, epoch: EPOCH, seq: 6, data: before });
    await waitFor(() => [a, b].every((tab) => (tab.data() as { v: number }).v === 1), 'A and B to hold the result');
    const c = openTab(locks, name);
    await waitFor(() => confirmed(WATCH, c), 'C to watch');
    await sleep(10);
    const adds = () => requests.filter((r) => r.add?.some((spec) => watchKey(spec.path, spec.input) === WATCH)).length;
    const addsBefore = adds();

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
    // C added its watch again (through the leader): the server's next result of it is whole.
    expect(adds()).toBe(addsBefore + 1);
  });

  it("sends the union of every remaining tab's watches for the new leader's connection after a takeover", async () => {
    const [a, b, c] = await browserOf(3, { batchMs: 40 });
    a!.mount('ord_9');
    b!.mount('ord_2');
    c!.mount('ord_3');
    await waitFor(() => watchedOn('conn-a').size === 4, 'the server to watch every tab\'s orders');
    a!.stream.close();
    await waitFor(() => b!.stream.status().role === 'leader' || c!.stream.status().role === 'leader', 'a takeover');
    const leader = b!.stream.status().role === 'leader' ? b! : c!;
    leader.invalidator.receive({ kind: 'hello', connectionId: 'conn-2', epoch: EPOCH });
    await waitFor(() => confirmed(orderKey('ord_2'), b!) && confirmed(orderKey('ord_3'), c!) && confirmed(WATCH, b!, c!), 'B and C to watch on the new connection');
    await sleep(100);
    // A's own order went with A; the remaining tabs' union, in one request under the new leader's holder.
    expect(watchedOn('conn-2')).toEqual(new Set([WATCH, orderKey('ord_2'), orderKey('ord_3')]));
    expect(requestsOn('conn-2')).toHaveLength(1);
    expect(requestsOn('conn-2')[0]!.holder).toBe(leader.invalidator.watchSync!.holder);
  });

  it("sends the union again, in one request, when the leader's stream reconnects on a new connection", async () => {
    const [a, b, c] = await browserOf(3, { batchMs: 40 });
    b!.mount('ord_2');
    c!.mount('ord_3');
    await waitFor(() => watchedOn('conn-a').size === 3, "the server to watch every tab's orders");
    await sleep(100);
    a!.invalidator.receive({ kind: 'hello', connectionId: 'conn-b', epoch: EPOCH });
    await waitFor(() => confirmed(orderKey('ord_2'), b!) && confirmed(orderKey('ord_3'), c!) && confirmed(WATCH, a!, b!, c!), 'every tab to watch on conn-b');
    await sleep(100);
    expect(watchedOn('conn-b')).toEqual(new Set([WATCH, orderKey('ord_2'), orderKey('ord_3')]));
    expect(requestsOn('conn-b')).toHaveLength(1);
  });

  it("removes the watches only a leaving tab held through the leader, and the tab sends them again when its page comes back", async () => {
    const locks = createLocks();
    const name = `push${channelName++}`;
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const win = createPage();
    const b = openTab(locks, name, { win });
    b.mount('ord_4');
    await waitFor(() => b.stream.status().role === 'follower', 'B to follow');
    a.invalidator.receive({ kind: 'hello', connectionId: 'conn-a', epoch: EPOCH });
    await waitFor(() => confirmed(WATCH, a, b) && confirmed(orderKey('ord_4'), b), 'A and B to watch');
    await sleep(10);
    // Into the back/forward cache: B says bye and cannot be trusted to reach the server.
    win.fire('pagehide');
    await waitFor(() => !watchedOn('conn-a').has(orderKey('ord_4')), "the leader to remove B's own watch");
    expect(requests.at(-1)).toEqual({ connectionId: 'conn-a', holder: a.invalidator.watchSync!.holder, add: [], remove: [orderKey('ord_4')], deltas: true });
    expect(watchedOn('conn-a')).toEqual(new Set([WATCH]));
    win.fire('pageshow');
    await waitFor(() => watchedOn('conn-a').has(orderKey('ord_4')), 'B to watch again');
  });
});

describe('pushed results go only to the tabs holding their watch', () => {
  const change = (id: string, seq: number) => ({ kind: 'invalidate', resource: 'orders', id, action: 'updated', seq }) as const;
  const resultOf = (id: string, seq: number, data: unknown) => ({ kind: 'result', watch: orderKey(id), epoch: EPOCH, seq, data }) as const;
  /** Listens on the channel every tab shares, as one more tab would: what it hears, every tab deserializes. */
  function spyOnShared(name: string) {
    const heard: Array<{ type: string; message?: LiveMessage }> = [];
    const spy = new BroadcastChannel(`trpc-live:${name}`);
    spy.onmessage = (event: MessageEvent) => heard.push(event.data as { type: string; message?: LiveMessage });
    spies.push(spy);
    return heard;
  }
  const spies: BroadcastChannel[] = [];
  afterEach(() => {
    for (const spy of spies.splice(0)) spy.close();
  });

  it('sends a result to the follower holding its query, and none to a follower without it (hidden tabs alike), while the invalidation reaches both', async () => {
    const locks = createLocks();
    const name = `push${channelName++}`;
    const shared = spyOnShared(name);
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const b = openTab(locks, name, { visibility: 'hidden' });
    const c = openTab(locks, name, { visibility: 'hidden' });
    await waitFor(() => b.stream.status().role === 'follower' && c.stream.status().role === 'follower', 'B and C to follow');
    b.mount('ord_2');
    a.invalidator.receive({ kind: 'hello', connectionId: 'conn-a', epoch: EPOCH });
    await waitFor(() => confirmed(orderKey('ord_2'), b) && confirmed(WATCH, a, b, c), 'the watches to be confirmed');
    await sleep(10);

    a.invalidator.receive(change('ord_2', 6), `${EPOCH}:6`);
    a.invalidator.receive(resultOf('ord_2', 6, { v: 1 }));
    await waitFor(() => (b.queryClient.getQueryData([['orders', 'byId'], { input: { id: 'ord_2' }, type: 'query' }]) as { v: number } | undefined)?.v === 1, 'B to apply the result');
    await waitFor(() => c.heard.some((m) => m.kind === 'invalidate' && m.seq === 6), 'C to get the invalidation');
    await sleep(50);
    expect(b.resultsOf(orderKey('ord_2'))).toHaveLength(1);
    expect(c.resultsOf(orderKey('ord_2'))).toEqual([]);
    // Not on the shared channel either: nothing any other tab would have to deserialize.
    expect(shared.filter((e) => e.message?.kind === 'result' || e.type === 'pushed')).toEqual([]);
    expect(b.fetchesOf('ord_2')).toBe(1);
    expect(b.invalidator.pushedStats.timeouts + c.invalidator.pushedStats.timeouts).toBe(0);
  });

  it('refetches in a follower that mounted the query just before its watch reached the leader, and sends it no result', async () => {
    const locks = createLocks();
    const name = `push${channelName++}`;
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    // B gathers its watch changes for 300 ms: its add of ord_2 is still on its way when the change comes.
    const b = openTab(locks, name, { batchMs: 300 });
    await waitFor(() => b.stream.status().role === 'follower', 'B to follow');
    a.mount('ord_2');
    a.invalidator.receive({ kind: 'hello', connectionId: 'conn-a', epoch: EPOCH });
    await waitFor(() => confirmed(orderKey('ord_2'), a) && confirmed(WATCH, b), 'A to watch ord_2, B ord_1');
    b.mount('ord_2');
    await waitFor(() => b.fetchesOf('ord_2') === 1, "B's first fetch");
    a.invalidator.receive(change('ord_2', 6), `${EPOCH}:6`);
    a.invalidator.receive(resultOf('ord_2', 6, { v: 1 }));
    // Never neither: B's watch is not confirmed, so its invalidation refetched at once.
    await waitFor(() => b.fetchesOf('ord_2') === 2, 'B to refetch ord_2');
    expect(b.resultsOf(orderKey('ord_2'))).toEqual([]);
    expect(a.fetchesOf('ord_2')).toBe(1);
  });

  /** Resolves once the leader has answered one more of its followers' watch requests (it folded it in before answering). */
  async function nextAnswer(shared: Array<{ type: string }>, act: () => void): Promise<void> {
    await sleep(30);
    const answered = shared.filter((e) => e.type === 'watched').length;
    act();
    await waitFor(() => shared.filter((e) => e.type === 'watched').length > answered, "the leader's answer");
  }

  it('invalidates at once the held query of a follower that unmounts it before its result, which it is not sent', async () => {
    const shared = spyOnShared(`push${channelName}`);
    const [a, b] = await browserOf(2, { holdMs: 5_000 });
    a!.mount('ord_2');
    const unmountB = b!.mount('ord_2');
    await waitFor(() => confirmed(orderKey('ord_2'), a!, b!), 'A and B to watch ord_2');
    a!.invalidator.receive(change('ord_2', 6), `${EPOCH}:6`);
    await waitFor(() => b!.invalidator.pushedStats.held === 1, "B to hold ord_2's invalidation");
    // The leader folds B's remove in (A still holds ord_2, so the server keeps it; B's tab no longer counts).
    await nextAnswer(shared, unmountB);
    a!.invalidator.receive(resultOf('ord_2', 6, { v: 1 }));
    await sleep(50);
    expect(b!.resultsOf(orderKey('ord_2'))).toEqual([]);
    // Never neither: marked stale well before holdMs (5 s), and refetched when used again.
    expect(b!.query('ord_2')!.state.isInvalidated).toBe(true);
    b!.mount('ord_2');
    await waitFor(() => b!.fetchesOf('ord_2') === 2, 'B to refetch ord_2 when mounted again');
    expect(b!.invalidator.pushedStats.timeouts).toBe(0);
  });

  it("refetches at once the held query of a follower when the leader leaves before the change's result, then sends the new connection's results only to its holders", async () => {
    const [a, b, c] = await browserOf(3, { holdMs: 5_000 });
    c!.mount('ord_2');
    await waitFor(() => confirmed(WATCH, a!, b!, c!) && confirmed(orderKey('ord_2'), c!), 'every tab to watch');
    a!.invalidator.receive(change('ord_1', 6), `${EPOCH}:6`);
    await waitFor(() => b!.invalidator.pushedStats.held === 1 && c!.invalidator.pushedStats.held === 1, 'B and C to hold');
    a!.stream.close();
    await waitFor(() => b!.stream.status().role === 'leader' || c!.stream.status().role === 'leader', 'a takeover');
    const [leader, follower] = b!.stream.status().role === 'leader' ? [b!, c!] : [c!, b!];
    leader.invalidator.receive({ kind: 'hello', connectionId: 'conn-2', epoch: EPOCH });
    // The result for seq 6 was owed on A's connection and is never replayed: both refetch now, not after holdMs (5 s).
    await waitFor(() => leader.fetchesOf('ord_1') === 2 && follower.fetchesOf('ord_1') === 2, 'B and C to refetch ord_1', 2_000);
    expect([leader, follower].map((tab) => tab.invalidator.pushedStats.timeouts)).toEqual([0, 0]);
    await waitFor(() => confirmed(WATCH, leader, follower) && confirmed(orderKey('ord_2'), c!), 'the watches on conn-2');
    leader.invalidator.receive(change('ord_2', 7), `${EPOCH}:7`);
    leader.invalidator.receive(resultOf('ord_2', 7, { v: 2 }));
    await waitFor(() => c!.resultsOf(orderKey('ord_2')).length === 1, 'C to get the result of ord_2');
    await sleep(30);
    expect(b!.resultsOf(orderKey('ord_2'))).toHaveLength(b === leader ? 1 : 0);
  });

  it("refetches, never misses, a delta in a follower that dropped the watch and added it again: it was not sent the delta's base", async () => {
    const shared = spyOnShared(`push${channelName}`);
    const [a, b] = await browserOf(2);
    const before = { v: 1, lines: [{ id: 1, n: 1 }] };
    const middle = { v: 2, lines: [{ id: 1, n: 2 }] };
    const after = { v: 3, lines: [{ id: 2, n: 1 }, { id: 1, n: 2 }] };
    a!.mount('ord_2');
    const unmountB = b!.mount('ord_2');
    await waitFor(() => confirmed(orderKey('ord_2'), a!, b!), 'A and B to watch ord_2');
    a!.invalidator.receive(resultOf('ord_2', 6, before));
    await waitFor(() => b!.resultsOf(orderKey('ord_2')).length === 1, 'B to get the result at 6');
    await nextAnswer(shared, unmountB);
    // While B does not hold ord_2, its result at 7 goes to A alone.
    a!.invalidator.receive(resultOf('ord_2', 7, middle));
    await sleep(30);
    expect(b!.resultsOf(orderKey('ord_2'))).toHaveLength(1);
    b!.mount('ord_2');
    await waitFor(() => confirmed(orderKey('ord_2'), b!), 'B to watch ord_2 again');
    a!.invalidator.receive(change('ord_2', 8), `${EPOCH}:8`);
    a!.invalidator.receive({ kind: 'delta', watch: orderKey('ord_2'), epoch: EPOCH, seq: 8, base: 7, ops: diffValues(middle, after) });
    // B holds the result at 6, not the delta's base (7): it refetches instead of applying it, or of waiting for nothing.
    await waitFor(() => b!.fetchesOf('ord_2') === 2, 'B to refetch ord_2');
    expect(b!.invalidator.pushedStats.deltaMisses).toBe(1);
    expect(a!.invalidator.pushedStats.deltaMisses).toBe(0);
    expect(a!.queryClient.getQueryData([['orders', 'byId'], { input: { id: 'ord_2' }, type: 'query' }])).toEqual(after);
  });
});
