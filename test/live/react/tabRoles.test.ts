import { QueryClient, QueryObserver } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import { createLiveInvalidator } from 'trpc-live/client';
import { FollowerRole } from '../../../packages/trpc-live/src/react/followerRole.ts';
import { LeaderRole } from '../../../packages/trpc-live/src/react/leaderRole.ts';
import { StandaloneRole } from '../../../packages/trpc-live/src/react/standaloneRole.ts';
import { TabChannel, type Envelope } from '../../../packages/trpc-live/src/react/tabChannel.ts';
import type { TabContext, TabRole } from '../../../packages/trpc-live/src/react/tabRole.ts';
import { TabStatus } from '../../../packages/trpc-live/src/react/tabStatus.ts';
import { watchKey } from '../../../packages/trpc-live/src/shared/watches.ts';
import { resources } from '../../../src/trpc/resources';
import { waitFor } from '../../helpers/wait';
import { createChannel, createPage } from './fakeBrowser';

/**
 * One role on its own: a real invalidator and status, a fake channel that
 * records what the role tells the other tabs, and an `open` that records
 * each subscription. The invalidator's messages reach the role as
 * createSharedLiveStream forwards them.
 */
function harness(make: (tab: TabContext, channel: TabChannel) => TabRole, { seed }: { seed?: string } = {}) {
  const queryClient = new QueryClient();
  const invalidator = createLiveInvalidator({ queryClient, registry: resources, schedule: (fn) => fn(), visibility: null });
  if (seed) invalidator.seedCursor(seed);
  const page = createPage();
  const fake = createChannel();
  const paused: Array<[string, boolean]> = [];
  const opened: Array<string | null> = [];
  const tab: TabContext = {
    invalidator,
    status: new TabStatus(),
    visible: () => page.visibilityState !== 'hidden',
    open: (lastEventId) => {
      opened.push(lastEventId);
      return { unsubscribe: () => undefined };
    },
    setPaused: (id, value) => void paused.push([id, value]),
    pauseAfterMs: 0,
  };
  const channel = new TabChannel(fake, () => undefined);
  const role = make(tab, channel);
  invalidator.subscribe((message) => role.received(message));
  role.start();
  /** What the role sent since the last call, `from` left out. */
  const sent = () => fake.sent.splice(0).map(({ from: _from, ...rest }) => rest);
  const hear = (envelope: Envelope) => role.heard(envelope);
  return { role, tab, invalidator, queryClient, page, paused, opened, sent, hear, tabId: channel.tabId };
}

const change = (seq: number, id = 'ord_1') => ({ kind: 'invalidate', resource: 'orders', id, action: 'updated', seq }) as const;
const hello = (connectionId: string) => ({ kind: 'hello' as const, connectionId, epoch: 'e1' });

describe('FollowerRole (a tab that shares another tab\'s stream)', () => {
  it('announces itself, is connecting until it hears a leader, then shows the leader\'s status', () => {
    const h = harness((tab, channel) => new FollowerRole(tab, channel));
    expect(h.sent()).toEqual([{ type: 'hello', visible: true }]);
    expect(h.tab.status.get().role).toBe('connecting');
    h.hear({ type: 'status', from: 'L1', tabs: 3, paused: true, connected: true });
    expect(h.tab.status.get()).toEqual({ role: 'follower', tabs: 3, paused: true, connected: true });
    h.hear({ type: 'bye', from: 'someone-else' });
    expect(h.tab.status.get().connected).toBe(true);
    h.hear({ type: 'bye', from: 'L1' });
    expect(h.tab.status.get().connected).toBe(false);
  });

  it('applies a relayed message with its cursor to its own invalidator', () => {
    const h = harness((tab, channel) => new FollowerRole(tab, channel));
    h.hear({ type: 'signal', from: 'L1', message: change(7), cursor: 'e1:7' });
    expect(h.invalidator.lastCursor).toBe('e1:7');
    expect(h.invalidator.stats.applied).toBe(1);
  });

  it('asks each new leader once for what changed since its render, and takes only its own answer', () => {
    const h = harness((tab, channel) => new FollowerRole(tab, channel), { seed: 'e1:4' });
    h.sent();
    h.hear({ type: 'leader', from: 'L1' });
    h.hear({ type: 'signal', from: 'L1', message: change(9), cursor: 'e1:9' });
    expect(h.sent()).toEqual([{ type: 'since', cursor: 'e1:4' }]);
    // L1 left before answering; L2 is asked again.
    h.hear({ type: 'leader', from: 'L2' });
    expect(h.sent()).toEqual([{ type: 'since', cursor: 'e1:4' }]);
    h.hear({ type: 'catchup', from: 'L2', to: 'another-tab', changes: [] });
    expect(h.invalidator.pendingSeed).toBe('e1:4');
    h.hear({ type: 'catchup', from: 'L2', to: h.tabId, changes: [{ resource: 'orders', id: 'ord_1', seq: 5 }] });
    expect(h.invalidator.pendingSeed).toBeNull();
    expect(h.invalidator.stats.resets).toBe(0);
  });

  it("confirms a watch no earlier than the newest change it heard before the leader's answer, whose result may have been relayed before the leader counted this tab", async () => {
    const h = harness((tab, channel) => new FollowerRole(tab, channel));
    const key = watchKey('orders.byId', { id: 'ord_1' });
    // The follower hands its requests to the leader (the call itself is never used here).
    h.invalidator.watchWith(() => Promise.reject(new Error('not called')));
    h.invalidator.useConnection('conn-1', 'e1');
    new QueryObserver(h.queryClient, { queryKey: [['orders', 'byId'], { input: { id: 'ord_1' }, type: 'query' }], queryFn: async () => ({}) }).subscribe(() => undefined);
    const asked: Array<Record<string, unknown>> = [];
    await waitFor(() => (asked.push(...h.sent()), asked.some((e) => e.type === 'watch')), 'the watch request to the leader');
    h.hear({ type: 'signal', from: 'L1', message: change(7), cursor: 'e1:7' });
    // A watch the other tabs held: answered with the cursor of the union's last request, older than the change at 7.
    h.hear({ type: 'watched', from: 'L1', to: h.tabId, id: 0, response: { cursor: 'e1:5', accepted: [key], refused: [] } });
    await waitFor(() => h.invalidator.watchSync!.confirmedAt(key) !== null, 'the confirmation');
    expect(h.invalidator.watchSync!.confirmedAt(key)).toMatchObject({ epoch: 'e1', seq: 7 });
  });

  it('tells the leader when its page is shown or hidden', () => {
    const h = harness((tab, channel) => new FollowerRole(tab, channel));
    h.sent();
    h.page.set('hidden');
    h.role.visibilityChanged();
    expect(h.sent()).toEqual([{ type: 'visibility', visible: false }]);
  });
});

describe('LeaderRole (the tab that holds the stream and relays it)', () => {
  it('opens the stream, announces itself, and relays each message with the cursor after it', () => {
    const h = harness((tab, channel) => new LeaderRole(tab, channel, false));
    expect(h.opened).toEqual([null]);
    expect(h.sent()).toEqual([
      { type: 'leader' },
      { type: 'census' },
      { type: 'status', tabs: 1, paused: false, connected: false },
    ]);
    h.invalidator.receive(change(7), 'e1:7');
    expect(h.sent()).toEqual([{ type: 'signal', message: change(7), cursor: 'e1:7' }]);
  });

  it('counts the tabs that said hello until they say bye, and pauses once none is visible', async () => {
    const h = harness((tab, channel) => new LeaderRole(tab, channel, false));
    h.invalidator.receive(hello('conn-a'));
    h.hear({ type: 'hello', from: 'B', visible: true });
    h.hear({ type: 'hello', from: 'C', visible: false });
    expect(h.tab.status.get().tabs).toBe(3);
    h.page.set('hidden');
    h.role.visibilityChanged();
    h.hear({ type: 'visibility', from: 'B', visible: false });
    await Promise.resolve();
    expect(h.paused).toEqual([['conn-a', true]]);
    h.hear({ type: 'bye', from: 'C' });
    expect(h.tab.status.get()).toMatchObject({ tabs: 2, paused: true });
  });

  it('answers a follower\'s since with the changes its stream delivered after that cursor', () => {
    const h = harness((tab, channel) => new LeaderRole(tab, channel, false));
    h.invalidator.receive(hello('conn-a'), 'e1:2');
    h.invalidator.receive(change(3, 'ord_2'), 'e1:3');
    h.invalidator.receive(change(5, 'ord_1'), 'e1:5');
    h.sent();
    h.hear({ type: 'since', from: 'B', cursor: 'e1:4' });
    expect(h.sent()).toEqual([{ type: 'catchup', to: 'B', changes: [{ resource: 'orders', id: 'ord_1', seq: 5 }] }]);
  });

  it('resets every tab once its stream is live after a takeover that had no cursor', () => {
    const h = harness((tab, channel) => new LeaderRole(tab, channel, true));
    h.sent();
    h.invalidator.receive(hello('conn-b'));
    expect(h.invalidator.stats.resets).toBe(1);
    expect(h.sent().filter((e) => e.type === 'signal').map((e) => (e as { message: { kind: string } }).message.kind)).toEqual([
      'hello',
      'reset',
    ]);
  });
});

describe('StandaloneRole (a tab that cannot share its stream)', () => {
  it('opens its own stream, counts one tab, and pauses it while its page is hidden', async () => {
    const h = harness((tab) => new StandaloneRole(tab));
    expect(h.opened).toEqual([null]);
    expect(h.tab.status.get()).toMatchObject({ role: 'standalone', tabs: 1 });
    h.invalidator.receive(hello('conn-s'));
    h.page.set('hidden');
    h.role.visibilityChanged();
    await Promise.resolve();
    expect(h.paused).toEqual([['conn-s', true]]);
    expect(h.sent()).toEqual([]);
  });
});
