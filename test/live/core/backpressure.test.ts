import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Hub, LiveConnection } from 'trpc-live/core';
import { connectSink, endOfTick, fakeHub, view } from './fixtures';

const limits = { maxPendingFrames: 4, maxPendingBytes: 100_000, maxDirtyKeys: 3, maxDirtyBytes: 100_000, sinkHighWaterBytes: 1000 };

function expectWithinBounds(connection: LiveConnection, bounds = limits) {
  expect(connection.pendingFrames).toBeLessThanOrEqual(bounds.maxPendingFrames);
  expect(connection.pendingBytes).toBeLessThanOrEqual(bounds.maxPendingBytes);
  expect(connection.dirtyKeys).toBeLessThanOrEqual(bounds.maxDirtyKeys);
  expect(connection.dirtyBytes).toBeLessThanOrEqual(bounds.maxDirtyBytes);
}

describe('backpressure: bounded outbox, collapse, reset', () => {
  let hub: Hub;
  let counts: ReturnType<typeof fakeHub>['counts'];
  beforeEach(() => {
    vi.useFakeTimers();
    ({ hub, counts } = fakeHub({ limits }));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes a full outbox at once when the sink is taking data, without collapsing', async () => {
    const { dataWrites, connection } = connectSink(hub);
    for (let i = 1; i <= 5; i++) await hub.invalidate('acme', { resource: 'orders', id: `o${i}` }, { lane: 'batched' });
    expect(dataWrites().map((w) => w.length)).toEqual([5]);
    expect(connection.pendingFrames).toBe(0);
    expect(counts.collapsed).toBe(0);
  });

  it('writes nothing while the sink is over its high-water mark, and everything once it drains', async () => {
    const { sink, dataWrites } = connectSink(hub);
    sink.pending = 1001;
    await hub.invalidate('acme', { resource: 'orders', id: 'a' });
    endOfTick();
    vi.advanceTimersByTime(60_000);
    expect(dataWrites()).toEqual([]);
    sink.drain();
    expect(dataWrites().map((w) => w.map(view))).toEqual([['invalidate:orders:a@1']]);
  });

  it('collapses pending invalidations into distinct dirty keys when the sink is stuck, and delivers the latest of each on drain', async () => {
    ({ hub, counts } = fakeHub({ limits: { ...limits, maxDirtyKeys: 10 } }));
    const { sink, connection, dataWrites } = connectSink(hub);
    sink.pending = 5000;
    for (let i = 0; i < 5; i++) await hub.invalidate('acme', { resource: 'orders', id: `k${i}` }, { lane: 'batched' });
    // Five distinct keys overflow the 4-frame outbox of a stuck sink: they collapse.
    expect(connection.pendingFrames).toBe(0);
    expect(connection.dirtyKeys).toBe(5);
    expect(counts.collapsed).toBe(5);
    await hub.invalidate('acme', { resource: 'orders', id: 'k5' }); // seq 6, queued again
    await hub.invalidate('acme', { resource: 'orders', id: 'k0' }); // seq 7 supersedes the dirty k0@1
    expect(connection.dirtyKeys).toBe(4);
    expect(connection.pendingFrames).toBe(2);
    endOfTick();
    vi.advanceTimersByTime(60_000);
    expect(dataWrites()).toEqual([]);
    sink.drain();
    expect(dataWrites().map((w) => w.map(view))).toEqual([
      ['invalidate:orders:k1@2', 'invalidate:orders:k2@3', 'invalidate:orders:k3@4', 'invalidate:orders:k4@5', 'invalidate:orders:k5@6', 'invalidate:orders:k0@7'],
    ]);
    expect(counts.resets).toEqual([]);
    expect(counts.dropped).toBe(0);
  });

  it('turns the dirty keys into one reset past their bound, at the head, written when the sink drains', async () => {
    const { sink, connection, dataWrites } = connectSink(hub);
    sink.pending = 5000;
    let last = await hub.invalidate('acme', { resource: 'orders', id: 'k0' });
    for (let i = 1; i < 20; i++) last = await hub.invalidate('acme', { resource: 'orders', id: `k${i}` });
    expect(connection.resetPending).toBe(true);
    expectWithinBounds(connection);
    sink.drain();
    const writes = dataWrites();
    expect(writes.map((w) => w.map(view))).toEqual([[`reset:reset@${last.seq}`]]);
    expect(sink.frames.at(-1)!.id).toBe(last.cursor);
    expect(sink.frames.at(-1)!.message).toEqual({ kind: 'reset', reason: 'overflow', seq: last.seq });
    expect(counts.resets).toEqual(['overflow']);
  });

  it('drops events it cannot collapse, counts them, and sends a reset so nothing is lost silently', async () => {
    const { sink, dataWrites } = connectSink(hub);
    sink.pending = 5000;
    for (let i = 0; i < 5; i++) await hub.signal('acme', 'notifications', { n: i });
    expect(counts.dropped).toBe(5);
    sink.drain();
    expect(dataWrites().map((w) => w.map((f) => f.message.kind))).toEqual([['reset']]);
    expect(counts.resets).toEqual(['overflow']);
  });

  it('keeps progress and completion through an overflow reset, so the final value still arrives', async () => {
    const { sink, dataWrites } = connectSink(hub);
    sink.pending = 5000;
    await hub.progress('acme', 'import', 100, 100);
    await hub.complete('acme', 'import', true);
    for (let i = 0; i < 20; i++) await hub.invalidate('acme', { resource: 'orders', id: `k${i}` });
    sink.drain();
    expect(dataWrites().map((w) => w.map(view))).toEqual([['progress:import=100@1', 'complete:complete@2', 'reset:reset@22']]);
  });

  it('keeps delivering to other connections, and resolves every publish, while one connection is stuck', async () => {
    const stuck = connectSink(hub);
    const healthy = connectSink(hub);
    stuck.sink.pending = 1_000_000;
    for (let i = 0; i < 2000; i++) {
      await hub.invalidate('acme', { resource: 'orders', id: `o${i}` });
      if (i % 100 === 99) endOfTick();
      expectWithinBounds(stuck.connection);
    }
    endOfTick();
    expect(healthy.sink.data).toHaveLength(2000);
    expect(stuck.sink.data).toEqual([]);
    expect(stuck.connection.resetPending).toBe(true);
  });

  it('bounds the bytes a stuck connection holds, not only the frame count', async () => {
    ({ hub, counts } = fakeHub({ limits: { ...limits, maxPendingFrames: 1000, maxPendingBytes: 2000, maxDirtyKeys: 1000, maxDirtyBytes: 3000 } }));
    const { sink, connection } = connectSink(hub);
    sink.pending = 5000;
    const big = { text: 'x'.repeat(400) };
    for (let i = 0; i < 50; i++) {
      await hub.invalidate('acme', { resource: 'orders', id: `o${i}`, hint: big });
      expect(connection.pendingBytes).toBeLessThanOrEqual(2000);
      expect(connection.dirtyBytes).toBeLessThanOrEqual(3000);
    }
    expect(connection.resetPending).toBe(true);
  });

  it('drops the oldest progress past the dirty bound after a reset, and counts it', async () => {
    const { sink, connection } = connectSink(hub);
    sink.pending = 5000;
    for (let i = 0; i < 6; i++) await hub.progress('acme', `job-${i}`, 1, 1);
    // 6 distinct progress keys do not fit in 3 dirty keys and a reset does not cover them.
    expectWithinBounds(connection);
    expect(counts.dropped).toBeGreaterThan(0);
    expect(counts.dropped + connection.dirtyKeys + connection.pendingFrames).toBe(6);
  });

  it('sends a reset to every connection when the backend reports a gap', async () => {
    const a = connectSink(hub);
    const b = connectSink(hub, { scope: 'globex' });
    hub.resetAll('gap');
    endOfTick();
    expect(a.sink.data).toEqual([{ kind: 'reset', reason: 'gap', seq: 0 }]);
    expect(b.sink.data).toEqual([{ kind: 'reset', reason: 'gap', seq: 0 }]);
  });
});
