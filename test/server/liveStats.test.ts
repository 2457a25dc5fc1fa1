import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createHub, type Hub } from 'trpc-live/core';
import { LiveStats } from '../../src/server/liveStats';
import { RecordingSink } from '../helpers/sink';

describe('LiveStats (the inspector collector)', () => {
  let now: number;
  let stats: LiveStats;
  let hub: Hub;
  beforeEach(() => {
    now = 1_700_000_000_000;
    stats = new LiveStats(() => now);
    hub = createHub({ metrics: stats });
    stats.attach(hub);
  });
  afterEach(async () => {
    await hub.close();
  });

  it('counts published signals per second and lane for each tenant, and lists them newest first', async () => {
    await hub.invalidate('acme', { resource: 'orders', id: 'ord_1', action: 'created' });
    await hub.progress('acme', 'imports.x', 5, 10);
    now += 1000;
    await hub.invalidate('acme', { resource: 'products' });
    await hub.signal('globex', 'notifications', { title: 'Not for acme' });
    now += 1000;

    const acme = stats.snapshot(hub, 'acme');
    expect(acme.publishedPerSecond.instant.slice(-2)).toEqual([1, 1]);
    expect(acme.publishedPerSecond.coalesced.slice(-2)).toEqual([1, 0]);
    expect(acme.publishedPerSecond.instant).toHaveLength(60);
    expect(acme.recent.map((r) => r.summary)).toEqual(['products changed', 'imports.x 5/10', 'orders/ord_1 created']);
    expect(acme.totals.publishedByTenant).toBe(3);
    expect(stats.snapshot(hub, 'globex').recent.map((r) => r.summary)).toEqual(['notifications: Not for acme']);
  });

  it('drops seconds older than the 60-second window', async () => {
    await hub.invalidate('acme', { resource: 'orders' });
    now += 61_000;
    const acme = stats.snapshot(hub, 'acme');
    expect(acme.publishedPerSecond.instant).toHaveLength(60);
    expect(acme.publishedPerSecond.instant.every((n) => n === 0)).toBe(true);
    expect(acme.recent).toHaveLength(1);
  });

  it('lists only the tenant own connections, with the server-wide count', () => {
    hub.connect({ scope: 'acme', groups: { user: 'usr_bob', role: 'staff' }, sink: new RecordingSink() });
    hub.connect({ scope: 'globex', groups: { user: 'usr_carol', role: 'admin' }, sink: new RecordingSink() });
    const acme = stats.snapshot(hub, 'acme');
    expect(acme.connections).toEqual([expect.objectContaining({ user: 'usr_bob', role: 'staff', paused: false })]);
    expect(acme.serverConnections).toBe(2);
    expect(acme.totals.opened).toBe(2);
  });

  it('counts replay hits, misses and resets', async () => {
    const receipt = await hub.invalidate('acme', { resource: 'orders' });
    hub.connect({ scope: 'acme', lastEventId: `${receipt.epoch}:0`, sink: new RecordingSink() });
    hub.connect({ scope: 'acme', lastEventId: 'other-epoch:3', sink: new RecordingSink() });
    const totals = stats.snapshot(hub, 'acme').totals;
    expect(totals).toMatchObject({ replayHits: 1, replayMisses: 1, replayedFrames: 1 });
    expect(Object.values(totals.resets).reduce((a, b) => a + (b ?? 0), 0)).toBe(1);
  });
});
