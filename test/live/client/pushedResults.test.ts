import { QueryClient, QueryObserver } from '@tanstack/react-query';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLiveInvalidator, type LiveVisibility } from 'trpc-live/client';
import { diffValues } from '../../../packages/trpc-live/src/shared/delta';
import type { LiveMessage } from '../../../packages/trpc-live/src/shared/messages';
import { defineResources } from '../../../packages/trpc-live/src/shared/registry';
import { watchKey, type WatchRequest, type WatchResponse } from '../../../packages/trpc-live/src/shared/watches';
import { waitFor } from '../../helpers/wait';

const registry = defineResources({
  orders: {
    queries: [
      { path: 'orders.list', push: 'scope' },
      { path: 'orders.byId', by: 'id', push: 'scope' },
    ],
    dependents: ['dashboard.stats'],
  },
  products: { queries: [{ path: 'products.list' }] },
});

const EPOCH = 'ep1';
// Long enough that a loaded CI machine does not reach the bound before the result the test sends.
const HOLD_MS = 300;
const key = (path: string, input?: unknown) => [path.split('.'), { ...(input !== undefined ? { input } : {}), type: 'query' }];
const ORD_1 = { id: 'ord_1' };
const W_ORD_1 = watchKey('orders.byId', ORD_1);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const invalidate = (id: string, seq: number): LiveMessage => ({ kind: 'invalidate', resource: 'orders', id, action: 'updated', seq });
const result = (watch: string, seq: number, data: unknown): LiveMessage => ({ kind: 'result', watch, epoch: EPOCH, seq, data });

interface Row {
  name: string;
  v: number;
}

/**
 * A QueryClient with a test-side "database" (a version per query name that
 * the query function returns), a watch call answered by the test (confirmed
 * at `server.cursor`), and fetches counted per query.
 */
function setup(options: { visible?: boolean; watch?: boolean } = {}) {
  const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
  const db = new Map<string, number>();
  const fetches = new Map<string, number>();
  /** While set, fetches wait for the test to release them, with the version read when they started. */
  let gate: Array<() => void> | null = null;
  const server = {
    cursor: 5,
    epoch: EPOCH,
    requests: [] as WatchRequest[],
    refuse: new Set<string>(),
    fail: false,
  };
  const watch = async (request: WatchRequest): Promise<WatchResponse> => {
    server.requests.push(request);
    if (server.fail) throw new Error('watch failed');
    const added = (request.add ?? []).map((spec) => watchKey(spec.path, spec.input));
    return {
      cursor: `${server.epoch}:${server.cursor}`,
      accepted: added.filter((k) => !server.refuse.has(k)),
      refused: added.filter((k) => server.refuse.has(k)).map((watch) => ({ watch, code: 'refused' as const, message: 'no' })),
    };
  };
  let visible = options.visible ?? true;
  const listeners = new Set<(visible: boolean) => void>();
  const visibility: LiveVisibility = {
    isVisible: () => visible,
    subscribe: (listener) => (listeners.add(listener), () => listeners.delete(listener)),
  };
  const invalidator = createLiveInvalidator({
    queryClient,
    registry,
    visibility,
    batchWindowMs: 0,
    watchBatchMs: 0,
    holdMs: HOLD_MS,
    ...(options.watch === false ? {} : { watch }),
  });
  const unsubscribers: Array<() => void> = [];
  const nameOf = (path: string, input?: unknown) => (input === undefined ? path : `${path}(${JSON.stringify(input)})`);
  const mount = (path: string, input?: unknown) => {
    const name = nameOf(path, input);
    const observer = new QueryObserver(queryClient, {
      queryKey: key(path, input),
      queryFn: async (): Promise<Row> => {
        fetches.set(name, (fetches.get(name) ?? 0) + 1);
        const row = { name, v: db.get(name) ?? 0 };
        if (gate) await new Promise<void>((resolve) => gate!.push(resolve));
        return row;
      },
    });
    const unsubscribe = observer.subscribe(() => undefined);
    unsubscribers.push(unsubscribe);
    return unsubscribe;
  };
  const settle = () => waitFor(() => queryClient.isFetching() === 0, 'queries to settle');
  return {
    queryClient,
    invalidator,
    server,
    db,
    mount,
    settle,
    fetchesOf: (path: string, input?: unknown) => fetches.get(nameOf(path, input)) ?? 0,
    data: (path: string, input?: unknown) => queryClient.getQueryData<Row>(key(path, input)),
    /** The database row changed: what a fetch or a pushed result now returns. */
    change(path: string, input?: unknown): Row {
      const name = nameOf(path, input);
      db.set(name, (db.get(name) ?? 0) + 1);
      return { name, v: db.get(name)! };
    },
    gateFetches: () => (gate = []),
    openGate: () => {
      const waiting = gate ?? [];
      gate = null;
      for (const release of waiting) release();
    },
    /** Says hello on `connectionId` and waits until the server confirmed every held watch. */
    async connect(connectionId = 'c1') {
      const before = server.requests.length;
      invalidator.receive({ kind: 'hello', connectionId, epoch: EPOCH });
      await waitFor(() => server.requests.length > before, 'the watch request');
      await sleep(5);
    },
    show(next: boolean) {
      visible = next;
      for (const listener of listeners) listener(next);
    },
    close() {
      for (const fn of unsubscribers) fn();
      invalidator.dispose();
      queryClient.clear();
    },
  };
}

/** `setup()` with `orders.byId(ord_1)` mounted, fetched once, and its watch confirmed on connection c1: most tests start here. */
async function watchingOrder(): Promise<ReturnType<typeof setup>> {
  const t = setup();
  t.mount('orders.byId', ORD_1);
  await t.settle();
  await t.connect();
  return t;
}

describe('pushed results', () => {
  let t: ReturnType<typeof setup>;
  afterEach(() => t.close());

  it('applies a pushed result over older data without a fetch', async () => {
    t = await watchingOrder();
    const cancels = vi.spyOn(t.queryClient, 'cancelQueries');
    const row = t.change('orders.byId', ORD_1);
    t.invalidator.receive(result(W_ORD_1, 6, row));
    expect(t.data('orders.byId', ORD_1)).toEqual({ name: row.name, v: 1 });
    // No fetch was in flight: nothing to cancel, and no walk of the cache to find it (each result paid one before).
    expect(cancels).not.toHaveBeenCalled();
    await t.settle();
    expect(t.fetchesOf('orders.byId', ORD_1)).toBe(1);
    expect(t.invalidator.pushedStats.results).toBe(1);
  });

  it('writes a pushed result into the query its observer holds, also one with its own queryKeyHashFn', async () => {
    t = setup();
    // The key hashed another way than the client's default: setQueryData(queryKey) looks a query up by the default hash.
    let fetches = 0;
    const observer = new QueryObserver(t.queryClient, {
      queryKey: key('orders.byId', ORD_1),
      queryKeyHashFn: (queryKey) => `custom:${JSON.stringify(queryKey)}`,
      queryFn: async (): Promise<Row> => ({ name: 'orders.byId', v: fetches++ && -1 }),
    });
    const unsubscribe = observer.subscribe(() => undefined);
    try {
      await t.settle();
      await t.connect();
      const row = { name: 'orders.byId', v: 1 };
      t.invalidator.receive(invalidate('ord_1', 6));
      t.invalidator.receive(result(W_ORD_1, 6, row));
      expect(observer.getCurrentResult().data).toEqual(row);
      // No second cache entry under the default hash, holding the result where nobody looks.
      expect(t.queryClient.getQueryCache().getAll()).toHaveLength(1);
      // The change is covered by that result: nothing refetches (a refetch would read v -1), the data stays.
      await sleep(HOLD_MS * 2);
      await t.settle();
      expect(observer.getCurrentResult().data).toEqual(row);
      expect(fetches).toBe(1);
      expect(t.invalidator.pushedStats).toMatchObject({ results: 1, timeouts: 0 });
    } finally {
      unsubscribe();
    }
  });

  it('ignores a pushed result older than the data the query holds', async () => {
    t = await watchingOrder();
    const older = t.change('orders.byId', ORD_1);
    const newer = t.change('orders.byId', ORD_1);
    t.invalidator.receive(result(W_ORD_1, 7, newer));
    t.invalidator.receive(result(W_ORD_1, 6, older));
    expect(t.data('orders.byId', ORD_1)?.v).toBe(2);
    expect(t.invalidator.pushedStats).toMatchObject({ results: 1, staleResults: 1 });
  });

  it('ignores a pushed result for a change a fetch that already landed had seen', async () => {
    t = setup({ watch: false });
    t.mount('orders.byId', ORD_1);
    await t.settle();
    t.invalidator.receive({ kind: 'hello', connectionId: 'c1', epoch: EPOCH });
    // Unwatched here: a plain refetch, which started after the change at seq 6 was heard of.
    const row = t.change('orders.byId', ORD_1);
    t.invalidator.receive(invalidate('ord_1', 6));
    await waitFor(() => t.fetchesOf('orders.byId', ORD_1) === 2, 'the refetch');
    await t.settle();
    t.invalidator.receive(result(W_ORD_1, 6, { name: row.name, v: -1 }));
    expect(t.data('orders.byId', ORD_1)?.v).toBe(1);
    expect(t.invalidator.pushedStats.staleResults).toBe(1);
  });

  it('cancels a fetch in flight that started before the change, so it cannot overwrite the pushed result', async () => {
    t = await watchingOrder();
    t.gateFetches();
    // A fetch that read the row before the change (v0) and is still in flight.
    void t.queryClient.refetchQueries({ queryKey: key('orders.byId', ORD_1), exact: true });
    await waitFor(() => t.fetchesOf('orders.byId', ORD_1) === 2, 'the fetch to start');
    const row = t.change('orders.byId', ORD_1);
    const cancels = vi.spyOn(t.queryClient, 'cancelQueries');
    t.invalidator.receive(result(W_ORD_1, 6, row));
    expect(cancels).toHaveBeenCalledTimes(1);
    t.openGate();
    await t.settle();
    await sleep(10);
    expect(t.data('orders.byId', ORD_1)?.v).toBe(1);
  });

  it('holds an invalidation of a watched query until its result arrives, then fetches nothing', async () => {
    t = setup();
    t.mount('orders.byId', ORD_1);
    t.mount('orders.list');
    t.mount('dashboard.stats');
    await t.settle();
    await t.connect();
    const row = t.change('orders.byId', ORD_1);
    t.invalidator.receive(invalidate('ord_1', 6));
    // Not pushed (dashboard.stats) refetches at once; the watched ones wait.
    await waitFor(() => t.fetchesOf('dashboard.stats') === 2, 'the plain refetch of dashboard.stats');
    expect([t.fetchesOf('orders.byId', ORD_1), t.fetchesOf('orders.list')]).toEqual([1, 1]);
    t.invalidator.receive(result(W_ORD_1, 6, row));
    t.invalidator.receive(result(watchKey('orders.list', undefined), 6, { name: 'orders.list', v: 1 }));
    await sleep(HOLD_MS * 2);
    await t.settle();
    expect([t.fetchesOf('orders.byId', ORD_1), t.fetchesOf('orders.list')]).toEqual([1, 1]);
    expect(t.data('orders.byId', ORD_1)?.v).toBe(1);
    expect(t.invalidator.pushedStats).toMatchObject({ held: 2, releasedByResult: 2, timeouts: 0 });
  });

  it('runs no invalidation pass for a batch whose every matching query is held for its result', async () => {
    t = await watchingOrder();
    t.mount('products.list');
    await t.settle();
    const passes = vi.spyOn(t.queryClient, 'invalidateQueries');
    t.invalidator.receive(invalidate('ord_1', 6));
    await sleep(5);
    // Held: no TanStack pass over the cache (each held change paid one, a no-op, before).
    expect(passes).not.toHaveBeenCalled();
    expect(t.invalidator.pushedStats.held).toBe(1);
    // A change it does not hold still invalidates, in one pass, only what it matches.
    t.invalidator.receive({ kind: 'invalidate', resource: 'products', action: 'updated', seq: 7 });
    await waitFor(() => t.fetchesOf('products.list') === 2, 'the refetch of products.list');
    expect(passes).toHaveBeenCalledTimes(1);
    expect(t.fetchesOf('orders.byId', ORD_1)).toBe(1);
  });

  it('refetches a held query once when the server sends refetch for the change', async () => {
    t = await watchingOrder();
    t.change('orders.byId', ORD_1);
    t.invalidator.receive(invalidate('ord_1', 6));
    await sleep(10);
    expect(t.fetchesOf('orders.byId', ORD_1)).toBe(1);
    t.invalidator.receive({ kind: 'refetch', watch: W_ORD_1, epoch: EPOCH, seq: 6, reason: 'too-large' });
    await sleep(HOLD_MS * 2);
    await t.settle();
    expect(t.fetchesOf('orders.byId', ORD_1)).toBe(2);
    expect(t.data('orders.byId', ORD_1)?.v).toBe(1);
    expect(t.invalidator.pushedStats).toMatchObject({ releasedByRefetch: 1, timeouts: 0 });
  });

  it('keeps holding for a newer change when a late refetch order names an older one the data reflects', async () => {
    t = await watchingOrder();
    t.invalidator.receive(result(W_ORD_1, 7, t.change('orders.byId', ORD_1)));
    t.change('orders.byId', ORD_1);
    t.invalidator.receive(invalidate('ord_1', 8));
    await sleep(10);
    t.invalidator.receive({ kind: 'refetch', watch: W_ORD_1, epoch: EPOCH, seq: 6, reason: 'slow' });
    // Neither the result nor a refetch for seq 8 comes: the hold's bound refetches it.
    await waitFor(() => t.fetchesOf('orders.byId', ORD_1) === 2, 'the refetch at the bound', HOLD_MS * 20);
    await t.settle();
    expect(t.data('orders.byId', ORD_1)?.v).toBe(2);
    expect(t.invalidator.pushedStats.timeouts).toBe(1);
  });

  it('refetches a held query once when neither its result nor a refetch arrives in time', async () => {
    t = await watchingOrder();
    t.change('orders.byId', ORD_1);
    t.invalidator.receive(invalidate('ord_1', 6));
    await sleep(20);
    expect(t.fetchesOf('orders.byId', ORD_1)).toBe(1);
    await waitFor(() => t.fetchesOf('orders.byId', ORD_1) === 2, 'the refetch after the hold', HOLD_MS * 20);
    await sleep(HOLD_MS);
    await t.settle();
    expect(t.fetchesOf('orders.byId', ORD_1)).toBe(2);
    expect(t.data('orders.byId', ORD_1)?.v).toBe(1);
    expect(t.invalidator.pushedStats.timeouts).toBe(1);
  });

  it('sends no request for a mutation of its own when the fence is followed by the stream copy and the result', async () => {
    t = await watchingOrder();
    const row = t.change('orders.byId', ORD_1);
    t.invalidator.receiveFence([{ resource: 'orders', id: 'ord_1', cursor: `${EPOCH}:6` }]);
    // The fence's batch is applied (held) before the stream delivers its copy and the result.
    await sleep(10);
    expect(t.invalidator.pushedStats.held).toBe(1);
    t.invalidator.receive(invalidate('ord_1', 6), `${EPOCH}:6`);
    await sleep(5);
    t.invalidator.receive(result(W_ORD_1, 6, row));
    await sleep(HOLD_MS * 2);
    await t.settle();
    expect(t.fetchesOf('orders.byId', ORD_1)).toBe(1);
    expect(t.data('orders.byId', ORD_1)?.v).toBe(1);
  });

  it('sends no request when the result arrives before the fence of the same change', async () => {
    t = await watchingOrder();
    const row = t.change('orders.byId', ORD_1);
    t.invalidator.receive(result(W_ORD_1, 6, row));
    t.invalidator.receiveFence([{ resource: 'orders', id: 'ord_1', cursor: `${EPOCH}:6` }]);
    await sleep(HOLD_MS * 2);
    await t.settle();
    expect(t.fetchesOf('orders.byId', ORD_1)).toBe(1);
    expect(t.invalidator.pushedStats.held).toBe(0);
  });

  it('refetches at once when the watch is not confirmed (no watch call, a failed one, or refused)', async () => {
    for (const variant of ['none', 'failed', 'refused'] as const) {
      t = setup({ watch: variant !== 'none' });
      if (variant === 'failed') t.server.fail = true;
      if (variant === 'refused') t.server.refuse.add(W_ORD_1);
      t.mount('orders.byId', ORD_1);
      await t.settle();
      if (variant === 'none') t.invalidator.receive({ kind: 'hello', connectionId: 'c1', epoch: EPOCH });
      else await t.connect();
      t.invalidator.receive(invalidate('ord_1', 6));
      await waitFor(() => t.fetchesOf('orders.byId', ORD_1) === 2, `the plain refetch (${variant})`);
      expect(t.invalidator.pushedStats.held).toBe(0);
      t.close();
    }
    t = setup();
  });

  it('refetches a held query at once when the stream reconnects, since results are never replayed', async () => {
    t = setup();
    t.mount('orders.byId', ORD_1);
    await t.settle();
    await t.connect('c1');
    t.change('orders.byId', ORD_1);
    t.invalidator.receive(invalidate('ord_1', 6));
    await sleep(10);
    expect(t.fetchesOf('orders.byId', ORD_1)).toBe(1);
    t.invalidator.receive({ kind: 'hello', connectionId: 'c2', epoch: EPOCH });
    await waitFor(() => t.fetchesOf('orders.byId', ORD_1) === 2, 'the refetch on reconnect');
    await t.settle();
    expect(t.invalidator.pushedStats.timeouts).toBe(0);
    expect(t.data('orders.byId', ORD_1)?.v).toBe(1);
  });

  it('refetches at once when the watch was confirmed in another epoch', async () => {
    t = setup();
    t.server.epoch = 'ep0';
    t.mount('orders.byId', ORD_1);
    await t.settle();
    await t.connect();
    t.invalidator.receive(invalidate('ord_1', 6));
    await waitFor(() => t.fetchesOf('orders.byId', ORD_1) === 2, 'the plain refetch');
    expect(t.invalidator.pushedStats.held).toBe(0);
  });

  it('ignores a result of another epoch than its stream', async () => {
    t = await watchingOrder();
    t.invalidator.receive({ kind: 'result', watch: W_ORD_1, epoch: 'ep0', seq: 99, data: { name: 'stray', v: -1 } });
    expect(t.data('orders.byId', ORD_1)?.v).toBe(0);
  });

  it('refetches at once a change older than the watch confirmation', async () => {
    t = await watchingOrder();
    t.invalidator.receive(invalidate('ord_1', 5));
    await waitFor(() => t.fetchesOf('orders.byId', ORD_1) === 2, 'the plain refetch');
    expect(t.invalidator.pushedStats.held).toBe(0);
  });
});

describe('pushed deltas', () => {
  let t: ReturnType<typeof setup>;
  afterEach(() => t.close());
  const at = (day: number) => new Date(Date.UTC(2026, 0, day));
  const list = (...ids: number[]) => ({ name: 'orders.list', items: ids.map((id) => ({ id, at: at(id) })) });
  const W_LIST = watchKey('orders.list', undefined);
  const delta = (seq: number, base: number, before: unknown, after: unknown): LiveMessage => ({
    kind: 'delta',
    watch: W_LIST,
    epoch: EPOCH,
    seq,
    base,
    ops: diffValues(before, after),
  });
  /** A mounted, fetched and confirmed orders.list that then got the whole result `list(1, 2)` at seq 6. */
  async function withBase() {
    t = setup();
    t.mount('orders.list');
    await t.settle();
    await t.connect();
    t.invalidator.receive(result(W_LIST, 6, list(1, 2)));
  }

  it('says in its watch calls that it applies deltas', async () => {
    await withBase();
    expect(t.server.requests[0]).toMatchObject({ deltas: true });
  });

  it('applies a delta over exactly its base, Dates intact, and its invalidation fetches nothing', async () => {
    await withBase();
    t.invalidator.receive(invalidate('ord_3', 7));
    t.invalidator.receive(delta(7, 6, list(1, 2), list(3, 1, 2)));
    const data = t.queryClient.getQueryData<ReturnType<typeof list>>(key('orders.list'));
    expect(data).toEqual(list(3, 1, 2));
    expect(data!.items[0]!.at).toBeInstanceOf(Date);
    await sleep(HOLD_MS * 2);
    await t.settle();
    expect(t.fetchesOf('orders.list')).toBe(1);
    expect(t.invalidator.pushedStats).toMatchObject({ results: 2, deltas: 1, deltaMisses: 0, timeouts: 0 });
  });

  it('rebuilds the next delta over the data the cache holds, so TanStack\'s structural sharing skips the rows it leaves alone, and holds the server\'s value', async () => {
    t = setup();
    t.mount('orders.list');
    await t.settle();
    await t.connect();
    // The first whole result's rows count how often anyone lists their keys (what TanStack's replaceEqualDeep does to compare two distinct objects).
    let keyReads = 0;
    const counted = <T extends object>(row: T): T =>
      new Proxy(row, {
        ownKeys(target) {
          keyReads++;
          return Reflect.ownKeys(target);
        },
      });
    t.invalidator.receive(result(W_LIST, 6, { ...list(1, 2), items: list(1, 2).items.map(counted) }));
    t.invalidator.receive(delta(7, 6, list(1, 2), list(3, 1, 2)));
    keyReads = 0;
    const after = list(3, 1, 2);
    after.items[0] = { id: 3, at: at(9) };
    t.invalidator.receive(delta(8, 7, list(3, 1, 2), after));
    const reads = keyReads; // read before the assertions below, which list keys themselves
    expect(t.queryClient.getQueryData(key('orders.list'))).toEqual(after);
    // Rows 1 and 2 are untouched by the delta and are the cache's own objects: compared by identity, their keys never
    // listed. Before, the base was the pushed result rather than what the cache held, and each such row was walked.
    expect(reads).toBe(0);
    const third = { ...after, items: [{ id: 4, at: at(4) }, ...after.items] };
    t.invalidator.receive(delta(9, 8, after, third));
    expect(t.queryClient.getQueryData(key('orders.list'))).toEqual(third);
    expect(t.invalidator.pushedStats).toMatchObject({ deltas: 3, deltaMisses: 0 });
  });

  it('refetches a delta over another base than the one it holds, and adds the watch again so the next result is whole', async () => {
    await withBase();
    const requests = t.server.requests.length;
    t.invalidator.receive(invalidate('ord_3', 8));
    t.invalidator.receive(delta(8, 7, list(1), list(3, 1)));
    await waitFor(() => t.fetchesOf('orders.list') === 2, 'the refetch');
    await waitFor(() => t.server.requests.length > requests, 'the watch added again');
    expect(t.server.requests.at(-1)!.add!.map((spec) => spec.path)).toEqual(['orders.list']);
    expect(t.invalidator.pushedStats).toMatchObject({ deltas: 0, deltaMisses: 1 });
    await t.settle();
    expect(t.data('orders.list')).toEqual({ name: 'orders.list', v: 0 }); // what the fetch returned, not a guess
  });

  it('refetches a delta that does not fit its base', async () => {
    await withBase();
    t.invalidator.receive({ kind: 'delta', watch: W_LIST, epoch: EPOCH, seq: 7, base: 6, ops: { a: [[5, 1]] } });
    await waitFor(() => t.fetchesOf('orders.list') === 2, 'the refetch');
    expect(t.invalidator.pushedStats.deltaMisses).toBe(1);
  });

  it('after a fetch replaced the data, rebuilds a newer delta over the pushed base it kept, and ignores one the fetch already reflects', async () => {
    await withBase();
    // A fetch that started after the change at seq 7 was heard of lands (its data is the test database's).
    t.invalidator.receive({ kind: 'invalidate', resource: 'products', action: 'updated', seq: 7 });
    await t.queryClient.refetchQueries({ queryKey: key('orders.list'), exact: true });
    expect(t.data('orders.list')).toEqual({ name: 'orders.list', v: 0 });
    t.invalidator.receive(delta(7, 6, list(1, 2), list(1, 2, 7)));
    expect(t.data('orders.list')).toEqual({ name: 'orders.list', v: 0 });
    t.invalidator.receive(delta(8, 7, list(1, 2, 7), list(8, 1, 2, 7)));
    expect(t.queryClient.getQueryData(key('orders.list'))).toEqual(list(8, 1, 2, 7));
    expect(t.invalidator.pushedStats).toMatchObject({ deltas: 2, deltaMisses: 0, staleResults: 1 });
    expect(t.fetchesOf('orders.list')).toBe(2);
  });
});

describe('watch sync', () => {
  let t: ReturnType<typeof setup>;
  afterEach(() => t.close());

  it('sends the queries mounted together in one request, and only pushable ones of type query', async () => {
    t = setup();
    t.invalidator.receive({ kind: 'hello', connectionId: 'c1', epoch: EPOCH });
    t.mount('orders.byId', ORD_1);
    t.mount('orders.byId', { id: 'ord_2' });
    t.mount('orders.list');
    t.mount('products.list');
    await t.settle();
    await sleep(10);
    expect(t.server.requests).toHaveLength(1);
    const [request] = t.server.requests;
    expect(request).toMatchObject({ connectionId: 'c1', remove: [] });
    expect(request!.add!.map((spec) => watchKey(spec.path, spec.input)).sort()).toEqual(
      [W_ORD_1, watchKey('orders.byId', { id: 'ord_2' }), 'orders.list'].sort(),
    );
  });

  it('removes a watch when its query loses its last observer, and keeps it while another observes it', async () => {
    t = setup();
    const first = t.mount('orders.byId', ORD_1);
    const second = t.mount('orders.byId', ORD_1);
    await t.settle();
    await t.connect();
    first();
    await sleep(10);
    expect(t.server.requests).toHaveLength(1);
    second();
    await waitFor(() => t.server.requests.length === 2, 'the remove');
    expect(t.server.requests[1]).toMatchObject({ add: [], remove: [W_ORD_1] });
  });

  it('invalidates a held query at once when its watch is removed, not at the hold bound: its result may never reach this tab', async () => {
    t = setup();
    const unmount = t.mount('orders.byId', ORD_1);
    await t.settle();
    await t.connect();
    t.invalidator.receive(invalidate('ord_1', 6));
    await waitFor(() => t.invalidator.pushedStats.held === 1, 'the invalidation to be held');
    unmount();
    await waitFor(() => t.server.requests.length === 2, 'the remove');
    // Well inside HOLD_MS: the query is marked stale now (it has no observer, so nothing is fetched until it is used again).
    const query = t.queryClient.getQueryCache().find({ queryKey: key('orders.byId', ORD_1), exact: true })!;
    expect(query.state.isInvalidated).toBe(true);
    expect(t.fetchesOf('orders.byId', ORD_1)).toBe(1);
    expect(t.invalidator.pushedStats.timeouts).toBe(0);
    // Used again: it refetches rather than showing the data from before the change.
    t.mount('orders.byId', ORD_1);
    await waitFor(() => t.fetchesOf('orders.byId', ORD_1) === 2, 'the refetch on mount');
  });

  it('invalidates a held query at once when the tab learns of a new connection other than by a hello (a follower told by the leader)', async () => {
    t = await watchingOrder();
    t.invalidator.receive(invalidate('ord_1', 6));
    await waitFor(() => t.invalidator.pushedStats.held === 1, 'the invalidation to be held');
    t.invalidator.useConnection('c2', EPOCH);
    // The old connection's result never comes (results are not replayed): refetched now, not at HOLD_MS.
    await waitFor(() => t.fetchesOf('orders.byId', ORD_1) === 2, 'the refetch', HOLD_MS / 2);
    expect(t.invalidator.pushedStats.timeouts).toBe(0);
  });

  it('neither removes nor re-adds a query unmounted and mounted again within the batch', async () => {
    t = setup();
    const first = t.mount('orders.byId', ORD_1);
    await t.settle();
    await t.connect();
    first();
    t.mount('orders.byId', ORD_1);
    await sleep(20);
    expect(t.server.requests).toHaveLength(1);
  });

  it('sends the whole set again on a new hello, and forgets the previous confirmations', async () => {
    t = setup();
    t.mount('orders.byId', ORD_1);
    t.mount('orders.list');
    await t.settle();
    await t.connect('c1');
    t.server.fail = true;
    await t.connect('c2');
    expect(t.server.requests.map((request) => [request.connectionId, request.add?.length])).toEqual([
      ['c1', 2],
      ['c2', 2],
    ]);
    expect(t.server.requests[1]!.holder).toBe(t.server.requests[0]!.holder);
    // The new connection's watches are not confirmed: plain refetch.
    t.invalidator.receive(invalidate('ord_1', 6));
    await waitFor(() => t.fetchesOf('orders.byId', ORD_1) === 2, 'the plain refetch');
  });

  it('retries a failed watch call with the next change, never throwing', async () => {
    t = setup();
    t.server.fail = true;
    t.mount('orders.byId', ORD_1);
    await t.settle();
    await t.connect();
    await sleep(20);
    expect(t.server.requests).toHaveLength(1);
    expect(t.invalidator.watchStats.failures).toBe(1);
    t.server.fail = false;
    t.mount('orders.list');
    await waitFor(() => t.server.requests.length === 2, 'the retry');
    expect(t.server.requests[1]!.add!.map((spec) => spec.path).sort()).toEqual(['orders.byId', 'orders.list']);
  });

  it('does not send a refused watch again until its query goes and comes back', async () => {
    t = setup();
    t.server.refuse.add(W_ORD_1);
    const unmount = t.mount('orders.byId', ORD_1);
    await t.settle();
    await t.connect();
    t.mount('orders.list');
    await waitFor(() => t.server.requests.length === 2, 'the second request');
    expect(t.server.requests[1]!.add!.map((spec) => spec.path)).toEqual(['orders.list']);
    unmount();
    await sleep(20);
    // The server never held it: nothing to remove.
    expect(t.server.requests).toHaveLength(2);
    t.mount('orders.byId', ORD_1);
    await waitFor(() => t.server.requests.length === 3, 'the watch sent again');
    expect(t.server.requests[2]!.add!.map((spec) => spec.path)).toEqual(['orders.byId']);
  });
});

describe('pushed results on a hidden page', () => {
  let t: ReturnType<typeof setup>;
  afterEach(() => t.close());

  it('applies a pushed result while hidden, so showing the page fetches nothing', async () => {
    t = setup({ visible: false });
    t.mount('orders.byId', ORD_1);
    await t.settle();
    await t.connect();
    const row = t.change('orders.byId', ORD_1);
    t.invalidator.receive(invalidate('ord_1', 6));
    await sleep(5);
    t.invalidator.receive(result(W_ORD_1, 6, row));
    expect(t.data('orders.byId', ORD_1)?.v).toBe(1);
    t.show(true);
    await sleep(HOLD_MS * 2);
    await t.settle();
    expect(t.fetchesOf('orders.byId', ORD_1)).toBe(1);
    expect(t.invalidator.stats.shown).toBe(0);
  });

  it('refetches on show a query whose change was not pushed (no watch)', async () => {
    t = setup({ visible: false, watch: false });
    t.mount('orders.byId', ORD_1);
    await t.settle();
    t.invalidator.receive({ kind: 'hello', connectionId: 'c1', epoch: EPOCH });
    t.change('orders.byId', ORD_1);
    t.invalidator.receive(invalidate('ord_1', 6));
    await sleep(10);
    expect(t.fetchesOf('orders.byId', ORD_1)).toBe(1);
    t.show(true);
    await waitFor(() => t.fetchesOf('orders.byId', ORD_1) === 2, 'the refetch on show');
    await t.settle();
    expect(t.data('orders.byId', ORD_1)?.v).toBe(1);
  });
});
