import { describe, expect, it } from 'vitest';
import { TabChannel, type Envelope } from '../../../packages/trpc-live/src/react/tabChannel.ts';
import { createChannel } from './fakeBrowser';

describe('TabChannel (one tab\'s end of the BroadcastChannel)', () => {
  it('signs what it sends with its tab id', () => {
    const fake = createChannel();
    const channel = new TabChannel(fake, () => undefined);
    channel.send({ type: 'visibility', visible: false });
    expect(fake.sent).toEqual([{ type: 'visibility', visible: false, from: channel.tabId }]);
  });

  it('hands over other tabs\' envelopes, never its own echo nor an empty message', () => {
    const fake = createChannel();
    const heard: Envelope[] = [];
    const channel = new TabChannel(fake, (envelope) => heard.push(envelope));
    fake.deliver({ type: 'bye', from: channel.tabId });
    fake.deliver(null);
    fake.deliver({ type: 'bye', from: 'other-tab' });
    expect(heard).toEqual([{ type: 'bye', from: 'other-tab' }]);
  });

  it('gives two tabs different ids', () => {
    expect(new TabChannel(createChannel(), () => undefined).tabId).not.toBe(new TabChannel(createChannel(), () => undefined).tabId);
  });

  it('sends nothing and throws nothing once the browser closed the channel (a page going away)', () => {
    const fake = createChannel();
    const channel = new TabChannel(fake, () => undefined);
    fake.close();
    expect(() => channel.send({ type: 'bye' })).not.toThrow();
    expect(fake.sent).toEqual([]);
  });

  it('closes the channel once, then sends nothing', () => {
    const fake = createChannel();
    const channel = new TabChannel(fake, () => undefined);
    channel.close();
    channel.close();
    channel.send({ type: 'bye' });
    expect(fake.closed).toBe(true);
    expect(fake.sent).toEqual([]);
  });

  it("sends an envelope for one tab on that tab's inbox only, which that tab hears like the shared channel's", () => {
    const shared = [createChannel(), createChannel()];
    const inboxes = new Map<string, ReturnType<typeof createChannel>>();
    // Each name opens a new end; what one end posts, the test hands to the other ends of the same name.
    const ends: Array<{ name: string; end: ReturnType<typeof createChannel> }> = [];
    const open = (name: string) => {
      const end = createChannel();
      ends.push({ name, end });
      if (!inboxes.has(name)) inboxes.set(name, end);
      return end;
    };
    const heard: Envelope[] = [];
    const leader = new TabChannel(shared[0]!, () => undefined, (tabId) => open(`inbox:${tabId}`));
    const follower = new TabChannel(shared[1]!, (envelope) => heard.push(envelope), (tabId) => open(`inbox:${tabId}`));
    const message = { kind: 'result', watch: 'w', epoch: 'e1', seq: 6, data: { v: 1 } } as const;
    leader.sendTo(follower.tabId, { type: 'pushed', message });
    // Nothing on the shared channel; one post on the follower's inbox, from an end the leader opened.
    expect(shared[0]!.sent).toEqual([]);
    const posted = ends.filter(({ name, end }) => name === `inbox:${follower.tabId}` && end.sent.length);
    expect(posted).toHaveLength(1);
    inboxes.get(`inbox:${follower.tabId}`)!.deliver(posted[0]!.end.sent[0]);
    expect(heard).toEqual([{ type: 'pushed', message, from: leader.tabId }]);
    // The follower left: the leader's end of its inbox is closed; closing the follower's channel closes its inbox.
    leader.forget(follower.tabId);
    expect(posted[0]!.end.closed).toBe(true);
    follower.close();
    expect(inboxes.get(`inbox:${follower.tabId}`)!.closed).toBe(true);
  });

  it('without inboxes, sends an envelope for one tab on the shared channel with its address, and every other tab drops it', () => {
    const fake = createChannel();
    const heard: Envelope[] = [];
    const channel = new TabChannel(fake, (envelope) => heard.push(envelope));
    const message = { kind: 'result', watch: 'w', epoch: 'e1', seq: 6, data: { v: 1 } } as const;
    channel.sendTo('tab-b', { type: 'pushed', message });
    expect(fake.sent).toEqual([{ type: 'pushed', message, to: 'tab-b', from: channel.tabId }]);
    fake.deliver({ type: 'pushed', message, to: 'tab-b', from: 'leader' });
    fake.deliver({ type: 'pushed', message, to: channel.tabId, from: 'leader' });
    expect(heard).toEqual([{ type: 'pushed', message, to: channel.tabId, from: 'leader' }]);
  });
});
