import { describe, expect, it, vi } from 'vitest';
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
    // A relay is posted at the end of the task.
    leader.flush();
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
    channel.flush();
    expect(fake.sent).toEqual([{ type: 'pushed', message, to: 'tab-b', from: channel.tabId }]);
    fake.deliver({ type: 'pushed', message, to: 'tab-b', from: 'leader' });
    fake.deliver({ type: 'pushed', message, to: channel.tabId, from: 'leader' });
    expect(heard).toEqual([{ type: 'pushed', message, to: channel.tabId, from: 'leader' }]);
  });

  describe('relays of one task (bundles)', () => {
    const signal = (seq: number) => ({ type: 'signal', message: { kind: 'invalidate', resource: 'orders', action: 'updated', seq }, cursor: `e1:${seq}` }) as const;
    const delta = (seq: number) => ({ type: 'pushed', message: { kind: 'delta', watch: 'w', epoch: 'e1', seq, base: seq - 1, ops: null } }) as const;

    /** A leader and a follower with inboxes; each name's ends hand a post to the other ends of that name, as a BroadcastChannel does. */
    function pair() {
      const ends = new Map<string, Array<ReturnType<typeof createChannel>>>();
      const open = (name: string) => {
        const end = createChannel();
        ends.set(name, [...(ends.get(name) ?? []), end]);
        return end;
      };
      const tasks: Array<() => void> = [];
      const heard: Envelope[] = [];
      const leader = new TabChannel(open('shared'), () => undefined, (tabId) => open(`inbox:${tabId}`), (fn) => void tasks.push(fn));
      const follower = new TabChannel(open('shared'), (envelope) => heard.push(envelope), (tabId) => open(`inbox:${tabId}`));
      const posted: Array<Record<string, unknown>> = [];
      /** Hands every post so far to the other ends of its name (channel by channel); returns how many posts there were. */
      const carry = () => {
        let posts = 0;
        for (const group of ends.values()) {
          for (const from of group) {
            for (const message of from.sent.splice(0)) {
              posts++;
              posted.push(message);
              for (const to of group) if (to !== from) to.deliver(message);
            }
          }
        }
        return posts;
      };
      const endTask = () => {
        for (const task of tasks.splice(0)) task();
      };
      return { leader, follower, heard, carry, endTask, tasks, posted };
    }

    it('posts the envelopes relayed in one task as one message per channel, which the other tab hears in the order sent', () => {
      const { leader, follower, heard, carry, endTask } = pair();
      leader.send(signal(5));
      leader.sendTo(follower.tabId, delta(5));
      leader.send(signal(6));
      leader.sendTo(follower.tabId, delta(6));
      // Nothing posted within the task.
      expect(carry()).toBe(0);
      endTask();
      // One post on the shared channel (two signals), one on the follower's inbox (two deltas): 2, not 4.
      expect(carry()).toBe(2);
      const from = leader.tabId;
      expect(heard.filter((e) => e.type === 'signal')).toEqual([{ ...signal(5), from }, { ...signal(6), from }]);
      expect(heard.filter((e) => e.type === 'pushed')).toEqual([{ ...delta(5), from }, { ...delta(6), from }]);
    });

    it('posts a lone relay as itself, and schedules one flush per task', () => {
      const { leader, follower, carry, endTask, tasks, posted } = pair();
      leader.send(signal(5));
      leader.send(signal(6));
      leader.sendTo(follower.tabId, delta(6));
      expect(tasks).toHaveLength(1);
      endTask();
      expect(carry()).toBe(2);
      leader.send(signal(7));
      endTask();
      expect(carry()).toBe(1);
      expect(posted.at(-1)).toEqual({ ...signal(7), from: leader.tabId });
    });

    it('posts any other envelope at once, behind what was relayed before it on its channel', () => {
      const { leader, follower, heard, carry } = pair();
      leader.send(signal(5));
      leader.send({ type: 'watched', to: follower.tabId, id: 1, response: null });
      // No end of task needed: the answer went out, and the relay before it first.
      expect(carry()).toBe(2);
      expect(heard.map((e) => e.type)).toEqual(['signal', 'watched']);
    });

    it('posts what is queued when it closes, and when the tab it was queued for leaves', () => {
      const { leader, follower, heard, carry } = pair();
      leader.sendTo(follower.tabId, delta(5));
      leader.forget(follower.tabId);
      leader.send(signal(6));
      leader.close();
      carry();
      // (Two channels: no order between them.)
      expect(heard.map((e) => e.type).sort()).toEqual(['pushed', 'signal']);
    });

    it("hears the rest of a bundle when its handler throws on one envelope", () => {
      vi.useFakeTimers({ toFake: ['setTimeout'] });
      try {
        const fake = createChannel();
        const heard: number[] = [];
        const channel = new TabChannel(fake, (envelope) => {
          const seq = (envelope as { message: { seq: number } }).message.seq;
          if (seq === 5) throw new Error('handler failed');
          heard.push(seq);
        });
        fake.deliver({ type: 'bundle', from: 'leader', envelopes: [signal(4), signal(5), signal(6)].map((e) => ({ ...e, from: 'leader' })) });
        expect(heard).toEqual([4, 6]);
        // The error is reported, not swallowed.
        expect(() => vi.runAllTimers()).toThrow('handler failed');
        expect(channel.tabId).toBeTruthy();
      } finally {
        vi.useRealTimers();
      }
    });
  });
});
