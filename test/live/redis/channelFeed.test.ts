import { describe, expect, it } from 'vitest';
import type { PublishedEntry, ResetReason } from 'trpc-live/core';
import { ChannelFeed } from '../../../packages/trpc-live/src/redis/channelFeed.ts';
import { Delivery } from '../../../packages/trpc-live/src/redis/delivery.ts';
import { SeenSerials } from '../../../packages/trpc-live/src/redis/seenSerials.ts';

const CHANNEL = 'p:signals';

/**
 * A channel message as PUBLISH_SCRIPT writes it, spelled out by hand (`<epoch>:<seq>|<payload>`), so the
 * feed is checked against the wire format and not against the backend's own encoder.
 */
function message(epoch: string, seq: number, serial: number, origin = 'o1'): string {
  const signal = { kind: 'invalidate', resource: 'orders' };
  const payload = { scope: 'acme', topic: 'orders', lane: 'instant', key: `orders:${serial}`, signal, o: origin, n: serial };
  return `${epoch}:${seq}|${JSON.stringify(payload)}`;
}

/** A feed whose hub is a recorder: `d:<epoch>:<seq>` per delivery, `gap:<reason>` per reset. */
function feed(seen?: SeenSerials) {
  const events: string[] = [];
  const warnings: string[] = [];
  let newEpochs = 0;
  const delivery = new Delivery(seen);
  delivery.attach({
    deliver: (entry: PublishedEntry) => events.push(`d:${entry.epoch}:${entry.seq}`),
    gap: (reason: ResetReason) => events.push(`gap:${reason}`),
  });
  const channelFeed = new ChannelFeed({
    channel: CHANNEL,
    delivery,
    logger: { warn: (line: string) => warnings.push(line) },
    onNewEpoch: () => newEpochs++,
  });
  return { feed: channelFeed, delivery, events, warnings, newEpochs: () => newEpochs };
}

describe('ChannelFeed', () => {
  it('delivers an unbroken sequence with no reset', () => {
    const { feed: f, events, delivery } = feed();
    for (let seq = 1; seq <= 3; seq++) f.receive(CHANNEL, message('e1', seq, seq));
    expect(events).toEqual(['d:e1:1', 'd:e1:2', 'd:e1:3']);
    expect(delivery.gaps).toBe(0);
  });

  it('resets the clients once when a seq is missing, and still delivers the entry after the hole', () => {
    const { feed: f, events, delivery } = feed();
    f.receive(CHANNEL, message('e1', 1, 1));
    f.receive(CHANNEL, message('e1', 3, 3));
    f.receive(CHANNEL, message('e1', 4, 4));
    expect(events).toEqual(['d:e1:1', 'gap:gap', 'd:e1:3', 'd:e1:4']);
    expect(delivery.gaps).toBe(1);
  });

  it('takes any seq as the start after a resubscribe (what was missed meanwhile is the join reset’s job)', () => {
    const { feed: f, events } = feed();
    f.join('e1');
    f.receive(CHANNEL, message('e1', 1, 1));
    f.resubscribed();
    f.receive(CHANNEL, message('e1', 9, 9));
    expect(events).toEqual(['d:e1:1', 'd:e1:9']);
  });

  it('adopts the first epoch silently and resets with reason epoch when Redis starts a new one', () => {
    const { feed: f, events, warnings, newEpochs } = feed();
    f.receive(CHANNEL, message('e1', 5, 1));
    expect(f.epoch).toBe('e1');
    f.receive(CHANNEL, message('e2', 1, 2));
    expect(f.epoch).toBe('e2');
    // The new epoch starts its own sequence: seq 1 after seq 5 is no hole, and only one reset is sent.
    expect(events).toEqual(['d:e1:5', 'gap:epoch', 'd:e2:1']);
    expect(warnings).toEqual(['[live:redis] Redis started a new epoch e2: its history was lost; resetting clients']);
    expect(newEpochs()).toBe(1);
  });

  it('resets on the gap message and on a malformed message, and ignores other channels', () => {
    const { feed: f, events, warnings } = feed();
    f.receive(CHANNEL, '!gap');
    f.receive(CHANNEL, 'e1:1|{not json');
    f.receive(CHANNEL, 'no bar at all');
    f.receive('other:signals', message('e1', 1, 1));
    expect(events).toEqual(['gap:gap', 'gap:gap', 'gap:gap']);
    expect(warnings).toHaveLength(2);
    expect(f.epoch).toBeNull();
  });

  it('reports a join into another epoch than the one it followed, and a first join as no change', () => {
    const { feed: f } = feed();
    expect(f.join('e1')).toBe(false);
    expect(f.join('e1')).toBe(false);
    expect(f.join('e2')).toBe(true);
  });

  it('lets a publish answer adopt a new epoch like the channel does', () => {
    const { feed: f, events } = feed();
    f.adopt('e1');
    f.adopt('e1');
    f.adopt('e2');
    expect(events).toEqual(['gap:epoch']);
  });
});

describe('Delivery', () => {
  it('hands the hub the first copy of each identity, whatever its epoch, and counts the copies dropped', () => {
    const { feed: f, events, delivery } = feed();
    // The same publish (origin o1, serial 7) arrives under two epochs: a thaw, then a forward into a new history.
    f.receive(CHANNEL, message('e1', 1, 7));
    f.receive(CHANNEL, message('e1', 2, 7));
    f.receive(CHANNEL, message('e2', 1, 7));
    f.receive(CHANNEL, message('e2', 2, 7, 'o2'));
    expect(events).toEqual(['d:e1:1', 'gap:epoch', 'd:e2:2']);
    expect(delivery.duplicatesDropped).toBe(2);
  });

  it('delivers entries without an identity every time (written before identities existed)', () => {
    const events: string[] = [];
    const delivery = new Delivery();
    delivery.attach({ deliver: (entry) => events.push(`${entry.epoch}:${entry.seq}`), gap: () => events.push('gap') });
    const signal = { kind: 'invalidate', resource: 'r', action: 'changed' } as const;
    const entry: PublishedEntry = { scope: 'acme', topic: 't', lane: 'instant', key: 'k', signal, epoch: 'e1', seq: 1 };
    delivery.deliver(entry);
    delivery.deliver(entry);
    expect(events).toEqual(['e1:1', 'e1:1']);
  });

  it('drops a copy too old to tell apart and resets instead', () => {
    const { feed: f, events, delivery } = feed(new SeenSerials(32));
    f.receive(CHANNEL, message('e1', 1, 1));
    f.receive(CHANNEL, message('e1', 2, 100));
    f.receive(CHANNEL, message('e1', 3, 2));
    expect(events).toEqual(['d:e1:1', 'd:e1:2', 'gap:gap']);
    expect([delivery.duplicatesDropped, delivery.gaps]).toEqual([1, 1]);
  });

  it('delivers nothing once detached', () => {
    const { feed: f, events, delivery } = feed();
    delivery.attach(null);
    f.receive(CHANNEL, message('e1', 1, 1));
    f.receive(CHANNEL, '!gap');
    expect(events).toEqual([]);
  });
});
