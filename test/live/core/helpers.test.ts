import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveError, type Hub, type PublishedEntry } from 'trpc-live/core';
import { connectSink, endOfTick, fakeHub } from './fixtures';
import { isDataFrame } from '../../helpers/sink';

describe('publishing helpers', () => {
  let hub: Hub;
  let entries: PublishedEntry[];
  beforeEach(() => {
    vi.useFakeTimers();
    ({ hub } = fakeHub());
    entries = [];
    hub.tap((entry) => entries.push(entry));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('invalidates with a hint that travels with the signal, on the instant lane and the resource topic', async () => {
    const { sink } = connectSink(hub);
    const receipt = await hub.invalidate('acme', { resource: 'orders', id: 'o1', action: 'updated', hint: { status: 'paid' } });
    endOfTick();
    expect(sink.data).toEqual([{ kind: 'invalidate', resource: 'orders', id: 'o1', action: 'updated', hint: { status: 'paid' }, seq: receipt.seq }]);
    expect(entries[0]).toMatchObject({ lane: 'instant', topic: 'orders', scope: 'acme' });
  });

  it("defaults an invalidation's action to 'changed' and stringifies ids", async () => {
    const { sink } = connectSink(hub);
    await hub.invalidate('acme', { resource: 'orders', id: 42 as unknown as string });
    endOfTick();
    expect(sink.data).toEqual([{ kind: 'invalidate', resource: 'orders', id: '42', action: 'changed', seq: 1 }]);
  });

  it('reports progress on the coalesced lane with its key as topic, and the extra payload', async () => {
    const { sink } = connectSink(hub, { topics: ['import-7'] });
    await hub.progress('acme', 'import-7', 3, 10, { file: 'a.csv' });
    vi.advanceTimersByTime(2000);
    expect(sink.data).toEqual([{ kind: 'progress', key: 'import-7', current: 3, total: 10, extra: { file: 'a.csv' }, seq: 1 }]);
    expect(entries[0]).toMatchObject({ lane: 'coalesced', topic: 'import-7' });
  });

  it('reports completion on the instant lane, success or failure', async () => {
    const { sink } = connectSink(hub);
    await hub.complete('acme', 'import-7', false, { error: 'row 12 is invalid' });
    endOfTick();
    expect(sink.data).toEqual([{ kind: 'complete', key: 'import-7', ok: false, extra: { error: 'row 12 is invalid' }, seq: 1 }]);
  });

  it('publishes a free-form event on its topic', async () => {
    const { sink } = connectSink(hub, { topics: ['notifications.*'] });
    await hub.signal('acme', 'notifications.alice', { text: 'Order #4' });
    await hub.signal('acme', 'audit', { text: 'not subscribed' });
    endOfTick();
    expect(sink.data).toEqual([{ kind: 'event', topic: 'notifications.alice', data: { text: 'Order #4' }, seq: 1 }]);
  });

  it('delivers a batch of domain events as one frame with one cursor', async () => {
    const { sink } = connectSink(hub);
    const receipt = await hub.batch('acme', [
      { kind: 'invalidate', resource: 'orders', id: 'o1', action: 'created' },
      { kind: 'invalidate', resource: 'products', id: 'p1', action: 'updated' },
      { kind: 'event', topic: 'dashboard', data: { revenue: 249 } },
    ]);
    endOfTick();
    const frames = sink.frames.filter(isDataFrame);
    expect(frames).toHaveLength(1);
    expect(frames[0]!.id).toBe(receipt.cursor);
    expect(frames[0]!.message).toMatchObject({ kind: 'batch', seq: receipt.seq });
    expect((frames[0]!.message as unknown as { events: unknown[] }).events).toHaveLength(3);
  });

  it("routes a batch on its events' common topic, or on 'batch' when they differ, or on the topic it names", async () => {
    await hub.batch('acme', [
      { kind: 'invalidate', resource: 'orders', id: 'o1', action: 'created' },
      { kind: 'invalidate', resource: 'orders', id: 'o2', action: 'created' },
    ]);
    await hub.batch('acme', [
      { kind: 'invalidate', resource: 'orders', id: 'o1', action: 'created' },
      { kind: 'event', topic: 'dashboard' },
    ]);
    await hub.batch('acme', [{ kind: 'event', topic: 'dashboard' }], { topic: 'orders.created' });
    expect(entries.map((e) => e.topic)).toEqual(['orders', 'batch', 'orders.created']);
  });

  it('numbers publishes with increasing sequences and cursors of one epoch', async () => {
    const a = await hub.invalidate('acme', { resource: 'orders' });
    const b = await hub.signal('globex', 'x');
    expect(b.seq).toBe(a.seq + 1);
    expect(a.epoch).toBe(b.epoch);
    expect(a.cursor).toBe(`${a.epoch}:${a.seq}`);
  });

  it.each([
    ['an empty resource', (h: Hub) => h.invalidate('acme', { resource: '' }), /resource name/],
    ['an unknown action', (h: Hub) => h.invalidate('acme', { resource: 'o', action: 'eaten' as 'created' }), /unknown action "eaten"/],
    ['a hint that is not an object', (h: Hub) => h.invalidate('acme', { resource: 'o', hint: 'x' as never }), /hint must be a JSON object/],
    ['non-finite progress', (h: Hub) => h.progress('acme', 'job', Number.NaN, 10), /finite current and total/],
    ['a negative total', (h: Hub) => h.progress('acme', 'job', 1, -1), /finite current and total/],
    ['an empty batch', (h: Hub) => h.batch('acme', []), /batch needs 1-100 events/],
    ['a nested batch', (h: Hub) => h.batch('acme', [{ kind: 'batch', events: [] } as never]), /batch event 0: unknown signal kind "batch"/],
    ['an empty scope', (h: Hub) => h.invalidate('', { resource: 'o' }), /scope must be a non-empty string/],
    ['a wildcard topic', (h: Hub) => h.signal('acme', 'orders.*'), /wildcards are only for subscriptions/],
    ['an unknown lane', (h: Hub) => h.invalidate('acme', { resource: 'o' }, { lane: 'slow' as 'instant' }), /Unknown lane "slow"/],
    ['a group filter with a number', (h: Hub) => h.invalidate('acme', { resource: 'o' }, { groups: { role: 3 as never } }), /Group filter "role"/],
  ])('refuses %s with a LiveError naming the problem, and publishes nothing', async (_what, publish, message) => {
    const error = await publish(hub).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LiveError);
    expect((error as LiveError).message).toMatch(message);
    expect(entries).toEqual([]);
  });
});
