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
});
