import { QueryClient } from '@tanstack/react-query';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLiveInvalidator, type LiveInvalidator } from 'trpc-live/client';
import {
  createSharedLiveStream,
  type LockManagerLike,
  type PageLike,
  type SharedLiveStream,
  type StreamEvents,
} from 'trpc-live/react';
import { resources } from '../../../src/trpc/resources';
import { waitFor } from '../../helpers/wait';
import { createLocks, createPage } from './fakeBrowser';

interface Tab {
  invalidator: LiveInvalidator;
  stream: SharedLiveStream;
  page: ReturnType<typeof createPage>;
  /** lastEventId of every `open` call, in order. */
  opened: Array<string | null>;
  /** Open subscriptions (closed ones are removed). */
  live: number;
  paused: Array<[string, boolean]>;
  invalidated: number;
  /** The events handle of the last `open`. */
  events: StreamEvents | null;
}

const tabs: Tab[] = [];
let channelName = 0;

/** `pauseAfterMs` 0 (pause the moment every tab is hidden) unless a test is about the delay. */
function openTab(
  locks: LockManagerLike | null,
  name: string,
  visibility: 'visible' | 'hidden' = 'visible',
  pauseAfterMs = 0,
  /** The cursor of the server render this tab's page came from (`LiveCursorSeed`, before the provider's effect). */
  seed?: string,
  /** The page's window (`pagehide`, `pageshow`). */
  win: PageLike | null = null,
): Tab {
  const queryClient = new QueryClient();
  const invalidator = createLiveInvalidator({ queryClient, registry: resources, schedule: (fn) => fn(), visibility: null });
  if (seed) invalidator.seedCursor(seed);
  const page = createPage(visibility);
  const tab = { invalidator, page, opened: [], live: 0, paused: [], invalidated: 0 } as unknown as Tab;
  const invalidate = queryClient.invalidateQueries.bind(queryClient);
  queryClient.invalidateQueries = ((...args: Parameters<typeof invalidate>) => {
    tab.invalidated++;
    return invalidate(...args);
  }) as typeof queryClient.invalidateQueries;
  tab.stream = createSharedLiveStream({
    name,
    invalidator,
    locks,
    document: page,
    window: win,
    open(lastEventId, events) {
      tab.events = events;
      tab.opened.push(lastEventId);
      tab.live++;
      return { unsubscribe: () => void tab.live-- };
    },
    setPaused: (connectionId, paused) => void tab.paused.push([connectionId, paused]),
    pauseAfterMs,
  });
  // A query the tests' orders changes reach: each applied change is one invalidation pass over it (the app's registry
  // pushes orders.list, but this tab watches nothing, so a change invalidates it at once). An empty cache gets no pass.
  // Fetched after the stream started listening: data held before is refetched at the hello (listeningGap.test.ts).
  queryClient.setQueryData([['orders', 'list'], { type: 'query' }], []);
  tabs.push(tab);
  return tab;
}

/** What the leader's tRPC link does with a stream message. */
const deliver = (tab: Tab, message: Parameters<LiveInvalidator['receive']>[0], cursor?: string) =>
  tab.invalidator.receive(message, cursor ?? null);

const hello = (connectionId: string) => ({ kind: 'hello' as const, connectionId, epoch: 'e1' });

afterEach(() => {
  for (const tab of tabs.splice(0)) tab.stream.close();
  vi.useRealTimers();
});

/** Lets BroadcastChannel messages (delivered by the event loop, not by timers) arrive. */
const channelTurns = async (turns = 5) => {
  for (let i = 0; i < turns; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('createSharedLiveStream (one live connection per browser)', () => {
  it('opens one stream for several tabs and relays every message with its cursor to the others', async () => {
    const locks = createLocks();
    const name = `t${channelName++}`;
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const b = openTab(locks, name);
    const c = openTab(locks, name);
    deliver(a, hello('conn-a'));
    await waitFor(() => b.stream.status().role === 'follower' && c.stream.status().role === 'follower', 'B and C to follow');
    expect(a.opened).toEqual([null]);
    expect(b.opened).toEqual([]);
    expect(c.opened).toEqual([]);
    await waitFor(() => a.stream.status().tabs === 3, 'the leader to count three tabs');

    deliver(a, { kind: 'invalidate', resource: 'orders', id: 'ord_1', action: 'created', seq: 7 }, 'e1:7');
    await waitFor(() => b.invalidator.lastCursor === 'e1:7' && c.invalidator.lastCursor === 'e1:7', 'the relay');
    expect(b.invalidated).toBe(1);
    expect(c.invalidated).toBe(1);
    expect(b.stream.status()).toMatchObject({ role: 'follower', tabs: 3, connected: true });
  });

  it('hands the stream to another tab when the leader closes, resuming from the last cursor', async () => {
    const locks = createLocks();
    const name = `t${channelName++}`;
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const b = openTab(locks, name);
    deliver(a, hello('conn-a'));
    deliver(a, { kind: 'invalidate', resource: 'orders', action: 'changed', seq: 41 }, 'e1:41');
    await waitFor(() => b.invalidator.lastCursor === 'e1:41', 'the relay to B');

    a.stream.close();
    expect(a.live).toBe(0);
    await waitFor(() => b.stream.status().role === 'leader', 'B to take over');
    // The server replays everything after e1:41 on this new connection: no gap.
    expect(b.opened).toEqual(['e1:41']);
    expect(b.live).toBe(1);
  });

  it('resumes a takeover from the exact id last seen when frames overtook others (watermark plus extras)', async () => {
    const locks = createLocks();
    const name = `t${channelName++}`;
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const b = openTab(locks, name);
    deliver(a, hello('conn-a'));
    // Seq 43 overtook a pending 42; then 44: the id says "up to 41, plus 43 and 44".
    deliver(a, { kind: 'invalidate', resource: 'orders', action: 'changed', seq: 43 }, 'e1:41.2');
    deliver(a, { kind: 'invalidate', resource: 'products', action: 'changed', seq: 44 }, 'e1:41.2.1');
    await waitFor(() => b.invalidator.lastCursor === 'e1:41.2.1', 'the relay to B');
    a.stream.close();
    await waitFor(() => b.stream.status().role === 'leader', 'B to take over');
    // Resuming from anything shorter would get 43 and 44 again (or skip 42 if it said 44).
    expect(b.opened).toEqual(['e1:41.2.1']);
  });

  it('resets every tab after a takeover when no cursor was seen, since the gap cannot be replayed', async () => {
    const locks = createLocks();
    const name = `t${channelName++}`;
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const b = openTab(locks, name);
    const c = openTab(locks, name);
    deliver(a, hello('conn-a'));
    await waitFor(() => b.stream.status().role === 'follower' && c.stream.status().role === 'follower', 'followers');

    await waitFor(() => c.stream.status().connected, 'C to show the stream connected');
    a.stream.close();
    await waitFor(() => b.stream.status().role === 'leader', 'B to take over');
    // C is not connected until the new leader's stream says hello.
    await waitFor(() => !c.stream.status().connected, 'C to show the handover');
    expect(b.opened).toEqual([null]);
    expect(b.invalidated).toBe(0);
    deliver(b, hello('conn-b'));
    expect(b.invalidated).toBe(1);
    await waitFor(() => c.invalidated === 1, 'C to reset too');
    await waitFor(() => c.stream.status().connected, 'C to show the new stream connected');
  });

  it('does not reset on the first election of a fresh browser', async () => {
    const locks = createLocks();
    const a = openTab(locks, `t${channelName++}`);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    deliver(a, hello('conn-a'));
    expect(a.invalidated).toBe(0);
    expect(a.stream.status()).toMatchObject({ role: 'leader', connected: true, tabs: 1 });
  });

  it('shows every tab disconnected while the transport reconnects, until the next hello', async () => {
    const locks = createLocks();
    const name = `t${channelName++}`;
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const b = openTab(locks, name);
    deliver(a, hello('conn-1'));
    await waitFor(() => b.stream.status().connected, 'B to show the stream connected');
    a.events!.disconnected();
    expect(a.stream.status().connected).toBe(false);
    await waitFor(() => !b.stream.status().connected, 'B to show the stream down');
    deliver(a, hello('conn-2'));
    await waitFor(() => b.stream.status().connected, 'B to show the stream back');
    expect(a.opened).toEqual([null]); // the transport reconnected by itself: no second subscription
  });

  it('connects every tab on its own when Web Locks are missing', () => {
    const name = `t${channelName++}`;
    const a = openTab(null, name);
    const b = openTab(null, name);
    expect(a.opened).toEqual([null]);
    expect(b.opened).toEqual([null]);
    expect(a.stream.status().role).toBe('standalone');
  });

  it('counts a follower again when its page comes back from the back/forward cache', async () => {
    const locks = createLocks();
    const name = `t${channelName++}`;
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const win = createPage();
    const b = openTab(locks, name, 'visible', 0, undefined, win);
    await waitFor(() => a.stream.status().tabs === 2, 'the leader to count B');
    win.fire('pagehide');
    await waitFor(() => a.stream.status().tabs === 1, 'the leader to forget B');
    win.fire('pageshow');
    await waitFor(() => a.stream.status().tabs === 2, 'the leader to count B again');
    expect(b.stream.status().role).toBe('follower');
    expect(b.opened).toEqual([]);
  });

  it('pauses a standalone tab\'s own stream while it is hidden', async () => {
    const a = openTab(null, `t${channelName++}`, 'hidden');
    deliver(a, hello('conn-s'));
    await waitFor(() => a.paused.length === 1, 'a pause');
    expect(a.paused).toEqual([['conn-s', true]]);
    expect(a.stream.status()).toMatchObject({ role: 'standalone', tabs: 1, paused: true });
  });

  it('pauses the connection when every tab is hidden and resumes when one is shown', async () => {
    const locks = createLocks();
    const name = `t${channelName++}`;
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const b = openTab(locks, name);
    deliver(a, hello('conn-a'));
    await waitFor(() => a.stream.status().tabs === 2, 'the leader to count B');

    a.page.set('hidden');
    expect(a.paused).toEqual([]); // B is still visible
    b.page.set('hidden');
    await waitFor(() => a.paused.length === 1, 'a pause');
    expect(a.paused).toEqual([['conn-a', true]]);
    await waitFor(() => b.stream.status().paused, 'B to show the pause');

    b.page.set('visible');
    await waitFor(() => a.paused.length === 2, 'a resume');
    expect(a.paused[1]).toEqual(['conn-a', false]);
  });

  it('re-applies a pause to a new connection of a hidden leader', async () => {
    const locks = createLocks();
    const a = openTab(locks, `t${channelName++}`, 'hidden');
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    deliver(a, hello('conn-1'));
    await waitFor(() => a.paused.length === 1, 'the first pause');
    // The transport reconnected: a new connection starts unpaused on the server.
    deliver(a, hello('conn-2'));
    await waitFor(() => a.paused.length === 2, 'the second pause');
    expect(a.paused).toEqual([
      ['conn-1', true],
      ['conn-2', true],
    ]);
  });

  it('forgets a tab that left, so the remaining hidden tabs pause the stream', async () => {
    const locks = createLocks();
    const name = `t${channelName++}`;
    const a = openTab(locks, name);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const b = openTab(locks, name);
    deliver(a, hello('conn-a'));
    await waitFor(() => a.stream.status().tabs === 2, 'the leader to count B');
    a.page.set('hidden');
    expect(a.paused).toEqual([]);
    b.stream.close();
    await waitFor(() => a.paused.length === 1, 'a pause once B left');
    expect(a.stream.status().tabs).toBe(1);
  });

  /** Tab A leads on screen (connection `conn-a`), tab B is hidden, both with a 3 s pause delay; then fake timers. */
  const leaderAndHiddenFollower = async () => {
    const locks = createLocks();
    const name = `t${channelName++}`;
    const a = openTab(locks, name, 'visible', 3000);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    const b = openTab(locks, name, 'hidden', 3000);
    deliver(a, hello('conn-a'));
    await waitFor(() => a.stream.status().tabs === 2, 'the leader to count B');
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    return { a, b };
  };

  it('does not pause for a tab switch: every tab hidden for less than pauseAfterMs costs no call', async () => {
    const { a, b } = await leaderAndHiddenFollower();

    // The user brings B to the front: A is hidden first, B shown a moment later.
    a.page.set('hidden');
    await vi.advanceTimersByTimeAsync(2999);
    b.page.set('visible');
    await channelTurns();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(a.paused).toEqual([]);
    expect(a.stream.status().paused).toBe(false);
  });

  it('pauses once every tab has been hidden for pauseAfterMs, and resumes at once when one is shown', async () => {
    const { a, b } = await leaderAndHiddenFollower();

    a.page.set('hidden');
    await vi.advanceTimersByTimeAsync(2999);
    expect(a.paused).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(a.paused).toEqual([['conn-a', true]]);
    expect(a.stream.status().paused).toBe(true);

    b.page.set('visible');
    await channelTurns();
    expect(a.paused).toEqual([
      ['conn-a', true],
      ['conn-a', false],
    ]);
    expect(a.stream.status().paused).toBe(false);
  });

  it('cancels a pending pause when the leader closes', async () => {
    const locks = createLocks();
    const a = openTab(locks, `t${channelName++}`, 'visible', 3000);
    await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
    deliver(a, hello('conn-a'));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    a.page.set('hidden');
    a.stream.close();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(a.paused).toEqual([]);
  });

  describe('a page rendered on the server at a cursor (LiveCursorSeed)', () => {
    const change = (seq: number, id = 'ord_1') =>
      ({ kind: 'invalidate', resource: 'orders', id, action: 'updated', seq }) as const;

    it('opens the first tab\'s stream from the render\'s cursor, so the server replays the gap', async () => {
      const a = openTab(createLocks(), `t${channelName++}`, 'visible', 0, 'e1:4');
      await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
      expect(a.opened).toEqual(['e1:4']);
      // The resume's hello carries no cursor; the seed is settled by it.
      deliver(a, hello('conn-a'));
      expect(a.invalidator.pendingSeed).toBeNull();
      expect(a.invalidated).toBe(0);
    });

    it('gives a follower the changes its leader relayed before the follower listened, once', async () => {
      const locks = createLocks();
      const name = `t${channelName++}`;
      const a = openTab(locks, name);
      await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
      deliver(a, hello('conn-a'), 'e1:2');
      // B's page was rendered at e1:4; order 1 changed at 5, before B's script ran: nobody relayed it to B.
      deliver(a, change(5), 'e1:5');
      deliver(a, change(3, 'ord_2'), 'e1:5');
      const b = openTab(locks, name, 'visible', 0, 'e1:4');
      await waitFor(() => b.invalidator.pendingSeed === null, 'B to be caught up');
      expect(b.stream.status().role).toBe('follower');
      expect(b.opened).toEqual([]);
      // One invalidation pass for the change after the render (not the one at 3, which the render saw), no reset.
      expect(b.invalidated).toBe(1);
      expect(b.invalidator.stats).toMatchObject({ applied: 1, resets: 0 });
    });

    it('costs a follower nothing when nothing changed after its render', async () => {
      const locks = createLocks();
      const name = `t${channelName++}`;
      const a = openTab(locks, name);
      await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
      deliver(a, hello('conn-a'), 'e1:2');
      deliver(a, change(5), 'e1:5');
      const b = openTab(locks, name, 'visible', 0, 'e1:5');
      await waitFor(() => b.invalidator.pendingSeed === null, 'B to be caught up');
      expect(b.invalidated).toBe(0);
    });

    it('resets a follower whose render is older than what its leader saw, since nobody can replay that', async () => {
      const locks = createLocks();
      const name = `t${channelName++}`;
      const a = openTab(locks, name);
      await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
      // A's stream started fresh at e1:10: it knows nothing of 5..10.
      deliver(a, hello('conn-a'), 'e1:10');
      const b = openTab(locks, name, 'visible', 0, 'e1:4');
      await waitFor(() => b.invalidator.pendingSeed === null, 'B to be settled');
      expect(b.invalidator.stats.resets).toBe(1);
    });

    it('applies a change again when a client-side navigation renders data older than the stream', async () => {
      const a = openTab(createLocks(), `t${channelName++}`, 'visible', 0, 'e1:3');
      await waitFor(() => a.stream.status().role === 'leader', 'tab A to lead');
      deliver(a, hello('conn-a'));
      deliver(a, change(5), 'e1:5');
      expect(a.invalidated).toBe(1);
      // A page prefetched at e1:4 hydrates after the stream applied 5: its data may predate 5.
      a.invalidator.seedCursor('e1:4');
      expect(a.invalidated).toBe(2);
      // One prefetched at e1:5 already has it.
      a.invalidator.seedCursor('e1:5');
      expect(a.invalidated).toBe(2);
      expect(a.invalidator.stats.resets).toBe(0);
    });
  });
});
