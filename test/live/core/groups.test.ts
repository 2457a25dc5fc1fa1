import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { groupsMatch, LiveError, type Hub } from 'trpc-live/core';
import { compactionKey } from '../../../packages/trpc-live/src/core/signal';
import { connectSink, endOfTick, fakeHub } from './fixtures';

describe('groups: recipients are the intersection of scope, groups and topics', () => {
  let hub: Hub;
  beforeEach(() => {
    vi.useFakeTimers();
    ({ hub } = fakeHub());
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('delivers a targeted publish only where scope, group and topic all match', async () => {
    const adminOrders = connectSink(hub, { groups: { role: 'admin', plan: 'pro' }, topics: ['orders.>'] });
    const adminStock = connectSink(hub, { groups: { role: 'admin', plan: 'pro' }, topics: ['stock.>'] });
    const staffOrders = connectSink(hub, { groups: { role: 'staff', plan: 'pro' }, topics: ['orders.>'] });
    const otherTenantAdmin = connectSink(hub, { scope: 'globex', groups: { role: 'admin', plan: 'pro' }, topics: ['orders.>'] });
    await hub.signal('acme', 'orders.refunded', { amount: 10 }, { groups: { role: 'admin' } });
    endOfTick();
    expect(adminOrders.sink.data).toHaveLength(1);
    expect(adminStock.sink.data).toEqual([]); // group matches, topic does not: no union
    expect(staffOrders.sink.data).toEqual([]); // topic matches, group does not
    expect(otherTenantAdmin.sink.data).toEqual([]); // group and topic match, tenant does not
  });

  it('requires every attribute of a filter, and any of the values of an array', () => {
    const groups = { role: 'staff', plan: 'pro', user: 'u1' };
    expect(groupsMatch(undefined, groups)).toBe(true);
    expect(groupsMatch({}, groups)).toBe(true);
    expect(groupsMatch({ role: 'staff', plan: 'pro' }, groups)).toBe(true);
    expect(groupsMatch({ role: 'staff', plan: 'free' }, groups)).toBe(false);
    expect(groupsMatch({ role: ['admin', 'staff'] }, groups)).toBe(true);
    expect(groupsMatch({ role: ['admin'] }, groups)).toBe(false);
    expect(groupsMatch({ role: [] }, groups)).toBe(false);
    expect(groupsMatch({ team: 'x' }, groups)).toBe(false); // a missing attribute never matches
  });

  it('refuses invalid connection groups with a clear error', () => {
    expect(() => connectSink(hub, { groups: { role: 7 as unknown as string } })).toThrowError(LiveError);
    expect(() => connectSink(hub, { groups: { role: '' } })).toThrowError(/Group "role" must be a non-empty string/);
    expect(hub.connectionCount).toBe(0);
  });

  it('keeps replay entries of one key for two audiences apart, so each audience replays its own', async () => {
    const hello = await hub.invalidate('acme', { resource: 'orders' }); // a cursor to resume from
    await hub.invalidate('acme', { resource: 'payroll', id: 'p1', hint: { who: 'admins' } }, { groups: { role: 'admin' } });
    await hub.invalidate('acme', { resource: 'payroll', id: 'p1', hint: { who: 'staff' } }, { groups: { role: 'staff' } });
    const admin = connectSink(hub, { groups: { role: 'admin' }, lastEventId: hello.cursor });
    const staff = connectSink(hub, { groups: { role: 'staff' }, lastEventId: hello.cursor });
    expect(admin.sink.data).toEqual([expect.objectContaining({ resource: 'payroll', hint: { who: 'admins' } })]);
    expect(staff.sink.data).toEqual([expect.objectContaining({ resource: 'payroll', hint: { who: 'staff' } })]);
  });

  it('keeps coalescing keys of one progress key on two topics apart', async () => {
    const both = connectSink(hub, { topics: ['imports.>'] });
    await hub.progress('acme', 'job', 10, 10, undefined, { topic: 'imports.csv' });
    await hub.progress('acme', 'job', 3, 10, undefined, { topic: 'imports.xlsx' });
    vi.advanceTimersByTime(2000);
    expect(both.sink.data.map((m) => m.kind === 'progress' && m.current)).toEqual([10, 3]);
    expect(compactionKey({ kind: 'progress', key: 'job', current: 1, total: 1 }, 'imports.csv')).not.toBe(
      compactionKey({ kind: 'progress', key: 'job', current: 1, total: 1 }, 'imports.xlsx'),
    );
  });

  it('builds the same compaction key for the same audience written in any order', () => {
    const signal = { kind: 'invalidate', resource: 'orders', id: '1', action: 'changed' } as const;
    expect(compactionKey(signal, 'orders', { role: ['b', 'a'], plan: 'pro' })).toBe(compactionKey(signal, 'orders', { plan: 'pro', role: ['a', 'b'] }));
    expect(compactionKey(signal, 'orders', {})).toBe(compactionKey(signal, 'orders'));
    expect(compactionKey({ kind: 'event', topic: 'x' }, 'x')).toBeNull();
  });
});
