// What changed while no stream fed a tab's invalidator is not lost: `<LiveProvider enabled={false}>` (signed out,
// consent not given), then enabled; or data fetched before the provider first listened. Found by following the
// package README in a fresh app: a change committed while the provider was disabled was never applied after it was
// enabled (the query stayed stale under `staleTime: Infinity`).
import { QueryClient, QueryObserver } from '@tanstack/react-query';
import { afterEach, describe, expect, it } from 'vitest';
import { createLiveInvalidator, type LiveInvalidator } from 'trpc-live/client';
import { createSharedLiveStream, type LockManagerLike, type SharedLiveStream } from 'trpc-live/react';
import { resources } from '../../../src/trpc/resources';
import { waitFor } from '../../helpers/wait';
import { createLocks } from './fakeBrowser';

/** The key `orders.list` has in a tRPC query cache (a change to `orders` reaches it). */
const ORDERS = [['orders', 'list'], { type: 'query' }] as const;

interface Browser {
  queryClient: QueryClient;
  invalidator: LiveInvalidator;
  /** Times the server was asked for orders.list (the query function), the oracle of a refetch. */
  fetches: number;
  /** lastEventId of every stream this tab opened, in order. */
  opened: Array<string | null>;
  stream: SharedLiveStream | null;
  stopObserving: () => void;
}

const open: Browser[] = [];
let names = 0;

/** A tab whose orders.list is on screen (an active observer, from now, or from `observe()`), fetched through a counting query function. */
function tab(observeNow = true): Browser & { observe(): void } {
  const queryClient = new QueryClient({ defaultOptions: { queries: { staleTime: Infinity, retry: false } } });
  const invalidator = createLiveInvalidator({ queryClient, registry: resources, schedule: (fn) => fn(), visibility: null });
  const browser = {
    queryClient,
    invalidator,
    fetches: 0,
    opened: [] as Array<string | null>,
    stream: null as SharedLiveStream | null,
    stopObserving: () => undefined as void,
    observe() {
      const observer = new QueryObserver(queryClient, {
        queryKey: ORDERS,
        queryFn: async () => {
          browser.fetches++;
          return [browser.fetches];
        },
      });
      browser.stopObserving = observer.subscribe(() => undefined);
    },
  };
  if (observeNow) browser.observe();
  open.push(browser);
  return browser;
}

/** `<LiveProvider enabled>` turned on: the tab's shared stream is created (and closed again by `stop`). */
function listen(browser: Browser, locks: LockManagerLike | null, name: string): void {
  browser.stream = createSharedLiveStream({
    name,
    invalidator: browser.invalidator,
    locks,
    ...(locks ? {} : { channel: null }),
    document: null,
    window: null,
    open(lastEventId) {
      browser.opened.push(lastEventId);
      return { unsubscribe: () => undefined };
    },
  });
}

function stop(browser: Browser): void {
  browser.stream?.close();
  browser.stream = null;
}

/** True once the tab made `n` fetches of orders.list and holds the last one's data (the query function ran and returned). */
const fetched = (browser: Browser, n: number) => browser.fetches === n && (browser.queryClient.getQueryData(ORDERS) as number[] | undefined)?.[0] === n;

const hello = (connectionId: string) => ({ kind: 'hello' as const, connectionId, epoch: 'e1' });
const ordersChanged = (seq: number) => ({ kind: 'invalidate' as const, resource: 'orders', action: 'changed' as const, seq });

afterEach(() => {
  for (const browser of open.splice(0)) {
    stop(browser);
    browser.stopObserving();
    browser.invalidator.dispose();
  }
});

describe('a stream that starts after the cache holds data', () => {
  it('refetches a query fetched while no stream listened, once the first stream is connected', async () => {
    const a = tab();
    await waitFor(() => fetched(a, 1), 'the first fetch');
    listen(a, null, `g${names++}`);
    // Not before the hello: a refetch read before the stream is registered could miss a change again.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(a.fetches).toBe(1);
    a.invalidator.receive(hello('conn-a'), null);
    await waitFor(() => fetched(a, 2), 'the refetch at the hello');
    expect(a.queryClient.getQueryData(ORDERS)).toEqual([2]);
  });

  it('refetches nothing at the hello of a first load (data written after the stream started)', async () => {
    const a = tab(false);
    listen(a, null, `g${names++}`);
    // The page's query is fetched as the provider's stream is created (React runs the effects of one commit child
    // first): its data arrives after the stream started, and before or after the hello.
    a.observe();
    await waitFor(() => fetched(a, 1), 'the first fetch');
    a.invalidator.receive(hello('conn-a'), null);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(a.fetches).toBe(1);
  });

  it('does not refetch data rewritten between the stream starting and its hello', async () => {
    const a = tab();
    await waitFor(() => fetched(a, 1), 'the first fetch');
    listen(a, null, `g${names++}`);
    // A change the stream will not deliver was applied some other way (a mutation's fence, a manual refetch).
    await a.queryClient.refetchQueries({ queryKey: ORDERS });
    expect(a.fetches).toBe(2);
    a.invalidator.receive(hello('conn-a'), null);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(a.fetches).toBe(2);
  });
});

describe('a stream closed and created again (LiveProvider enabled, then disabled, then enabled)', () => {
  it('resumes from the last cursor the closed stream delivered, alone in its browser', async () => {
    const a = tab();
    await waitFor(() => fetched(a, 1), 'the first fetch');
    const name = `g${names++}`;
    listen(a, null, name);
    a.invalidator.receive(hello('conn-a'), null);
    await waitFor(() => fetched(a, 2), 'the refetch of data held before the first stream');
    a.invalidator.receive(ordersChanged(5), 'e1:5');
    await waitFor(() => fetched(a, 3), 'the refetch for e1:5');
    stop(a);
    listen(a, null, name);
    // The server replays everything after e1:5 on the new stream, so a change committed while disabled arrives.
    expect(a.opened).toEqual([null, 'e1:5']);
    a.invalidator.receive(hello('conn-a2'), 'e1:5');
    a.invalidator.receive(ordersChanged(6), 'e1:6');
    await waitFor(() => fetched(a, 4), 'the replayed change applied');
  });

  it('asks the tab holding the shared stream what it relayed while this tab was not listening, and applies it', async () => {
    const locks = createLocks();
    const name = `g${names++}`;
    const leader = tab();
    const follower = tab();
    await waitFor(() => fetched(leader, 1) && fetched(follower, 1), 'the first fetches');
    listen(leader, locks, name);
    await waitFor(() => leader.stream?.status().role === 'leader', 'the leader');
    listen(follower, locks, name);
    leader.invalidator.receive(hello('conn-l'), null);
    await waitFor(() => follower.stream?.status().role === 'follower', 'the follower');
    leader.invalidator.receive(ordersChanged(3), 'e1:3');
    await waitFor(() => follower.invalidator.lastCursor === 'e1:3', 'the relay of e1:3');
    const before = follower.fetches;

    stop(follower);
    // Relayed while the follower was not listening: it never hears this one.
    leader.invalidator.receive(ordersChanged(4), 'e1:4');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(follower.fetches).toBe(before);

    listen(follower, locks, name);
    await waitFor(() => fetched(follower, before + 1), 'the follower to catch up on e1:4');
    expect(follower.opened).toEqual([]);
    expect(follower.invalidator.pendingSeed).toBeNull();
  });

  it('refetches everything when the tab holding the stream cannot say what it relayed (it opened its stream later)', async () => {
    const locks = createLocks();
    const name = `g${names++}`;
    const first = tab();
    await waitFor(() => fetched(first, 1), 'the first fetch');
    listen(first, locks, name);
    await waitFor(() => first.stream?.status().role === 'leader', 'the first tab to lead');
    first.invalidator.receive(hello('conn-1'), null);
    first.invalidator.receive(ordersChanged(3), 'e1:3');
    await waitFor(() => fetched(first, 3), 'the refetches at the hello and for e1:3');
    stop(first);

    // Another tab holds the stream now, from a cursor after e1:3: it cannot tell what happened between.
    const other = tab();
    await waitFor(() => fetched(other, 1), 'the other tab fetching');
    other.invalidator.seedCursor('e1:9');
    listen(other, locks, name);
    await waitFor(() => other.stream?.status().role === 'leader', 'the other tab to lead');
    other.invalidator.receive(hello('conn-2'), 'e1:9');

    listen(first, locks, name);
    await waitFor(() => fetched(first, 4), 'the first tab to refetch (a reset)');
  });
});
