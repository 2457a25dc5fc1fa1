import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Hub } from 'trpc-live/core';
import { laneIntervalMs, throttleFactor } from '../../../packages/trpc-live/src/core/throttle';
import { connectSink, fakeHub } from './fixtures';

/** Advances the clock 1 ms at a time until `sink` got a data write; returns the elapsed ms (or -1). */
function msUntilWrite(writes: () => unknown[][], limitMs: number): number {
  for (let ms = 0; ms <= limitMs; ms++) {
    if (writes().length) return ms;
    vi.advanceTimersByTime(1);
  }
  return -1;
}

describe('adaptive throttling', () => {
  it.each([
    [0, 0.25],
    [0.0999, 0.25],
    [0.1, 1],
    [0.4999, 1],
    [0.5, 2],
    [0.8, 2],
    [0.8001, 4],
    [1, 4],
  ])('uses factor %s → %s of the base interval', (saturation, factor) => {
    expect(throttleFactor(saturation)).toBe(factor);
  });

  it('never lets the coalesced lane flush faster than its coalescing window, but slows it like the batched lane', () => {
    const settings = { flushIntervalMs: 2000, coalesceWindowMs: 2000 };
    expect(laneIntervalMs('batched', 0, settings)).toBe(500);
    expect(laneIntervalMs('coalesced', 0, settings)).toBe(2000);
    expect(laneIntervalMs('coalesced', 0.9, settings)).toBe(8000);
    expect(laneIntervalMs('coalesced', 0, { flushIntervalMs: 2000, coalesceWindowMs: 200 })).toBe(500);
  });

  describe('per connection, on fake timers', () => {
    let hub: Hub;
    beforeEach(() => {
      vi.useFakeTimers();
      ({ hub } = fakeHub({ limits: { sinkHighWaterBytes: 1000, maxPendingFrames: 20 } }));
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    it.each([
      [0, 500],
      [300, 2000],
      [600, 4000],
      [900, 8000],
    ])('flushes the batched lane after %s bytes unread in the sink at %s ms', async (unread, expected) => {
      const { sink, dataWrites } = connectSink(hub);
      sink.pending = unread;
      await hub.invalidate('acme', { resource: 'orders', id: 'a' }, { lane: 'batched' });
      expect(msUntilWrite(dataWrites, 9000)).toBe(expected);
    });

    it.each([
      [1, 500],
      [5, 2000],
      [12, 4000],
      [17, 8000],
    ])('flushes the batched lane with %s of 20 frames pending at %s ms', async (frames, expected) => {
      const { dataWrites } = connectSink(hub);
      for (let i = 0; i < frames; i++) await hub.invalidate('acme', { resource: 'orders', id: `o${i}` }, { lane: 'batched' });
      expect(msUntilWrite(dataWrites, 9000)).toBe(expected);
      expect(dataWrites()[0]).toHaveLength(frames);
    });

    it('flushes a connection that keeps up four times as often as one at the base band', async () => {
      ({ hub } = fakeHub({ limits: { sinkHighWaterBytes: 1000 } })); // default 512-frame outbox: 5 frames are <10%
      const fast = connectSink(hub);
      const normal = connectSink(hub);
      normal.sink.pending = 300; // 30% of the sink's high-water mark: base band
      for (let t = 0; t < 10_000; t += 100) {
        await hub.invalidate('acme', { resource: 'orders', id: `o${t}` }, { lane: 'batched' });
        vi.advanceTimersByTime(100);
      }
      expect(fast.dataWrites()).toHaveLength(20);
      expect(normal.dataWrites()).toHaveLength(5);
      // Nothing lost either way: every key reached both.
      expect(fast.sink.data).toHaveLength(100);
      expect(normal.sink.data).toHaveLength(100);
    });

    it('lengthens an open window when the sink falls behind before it closes', async () => {
      const { sink, dataWrites } = connectSink(hub);
      await hub.invalidate('acme', { resource: 'orders', id: 'a' }, { lane: 'batched' });
      vi.advanceTimersByTime(100);
      sink.pending = 900;
      vi.advanceTimersByTime(400); // the 500 ms window would close now, but saturation is over 80%
      expect(dataWrites()).toEqual([]);
      expect(msUntilWrite(dataWrites, 9000)).toBe(7500);
    });

    it('shortens a long window as soon as a lagging sink drains', async () => {
      const { sink, dataWrites } = connectSink(hub);
      sink.pending = 900;
      await hub.invalidate('acme', { resource: 'orders', id: 'a' }, { lane: 'batched' });
      vi.advanceTimersByTime(1000);
      expect(dataWrites()).toEqual([]);
      sink.drain(); // the client caught up: the window is now the fast one, which closed long ago
      expect(dataWrites()).toHaveLength(1);
    });

    it('reports the current interval of each lane from the saturation', () => {
      const { sink, connection } = connectSink(hub);
      expect(connection.flushIntervalMs()).toBe(500);
      expect(connection.flushIntervalMs('coalesced')).toBe(2000);
      sink.pending = 900;
      expect(connection.saturation()).toBeCloseTo(0.9);
      expect(connection.flushIntervalMs()).toBe(8000);
      expect(connection.flushIntervalMs('coalesced')).toBe(8000);
    });

    it('sends progress once per coalescing window to a fast connection, and faster when the window is set lower', async () => {
      const slowWindow = connectSink(hub, { topics: ['job'] });
      const { hub: eager } = fakeHub({ coalesceWindowMs: 500 });
      const fastWindow = connectSink(eager, { topics: ['job'] });
      for (let i = 1; i <= 100; i++) {
        await hub.progress('acme', 'job', i, 100);
        await eager.progress('acme', 'job', i, 100);
        vi.advanceTimersByTime(100);
      }
      vi.advanceTimersByTime(2000);
      expect(slowWindow.sink.data).toHaveLength(5);
      expect(fastWindow.sink.data).toHaveLength(20);
      expect(slowWindow.sink.data.at(-1)).toMatchObject({ current: 100 });
      expect(fastWindow.sink.data.at(-1)).toMatchObject({ current: 100 });
    });
  });
});
