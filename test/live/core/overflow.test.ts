import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Frame } from 'trpc-live/core';
import { overflow } from '../../../packages/trpc-live/src/core/overflow';
import { connectSink, endOfTick, fakeHub } from './fixtures';

/** A frame with only what the overflow rule reads. */
const frame = (seq: number, kind: 'invalidate' | 'progress' | 'complete' | 'event', bytes = 10): Frame =>
  ({ seq, bytes, idempotent: kind !== 'event', message: { kind } }) as unknown as Frame;

/** kind@seq of what a sink got, resets included. */
const written = (frames: readonly Frame[]) =>
  frames.filter((f) => f.id !== null && f.message.kind !== 'hello').map((f) => {
    const m = f.message as { kind: string; key?: string };
    return m.kind === 'reset' ? 'reset' : `${m.kind}:${m.key}`;
  });

describe('overflow: one rule for a stuck outbox and a long replay', () => {
  it('keeps what a reset does not cover when it fits, and covers every invalidation', () => {
    const frames = [frame(1, 'invalidate'), frame(2, 'event'), frame(3, 'progress'), frame(4, 'invalidate')];
    const result = overflow(frames, { maxKeys: 2, maxBytes: Infinity });
    expect(result.kept.map((f) => f.seq)).toEqual([2, 3]);
    expect(result.covered.map((f) => f.seq)).toEqual([1, 4]);
    expect(result.dropped).toEqual([]);
  });

  it('keeps only the newest progress and completion that fit when the rest does not, dropping events', () => {
    const frames = [frame(1, 'progress'), frame(2, 'event'), frame(3, 'invalidate'), frame(4, 'complete'), frame(5, 'progress')];
    const result = overflow(frames, { maxKeys: 2, maxBytes: Infinity });
    expect(result.kept.map((f) => f.seq)).toEqual([4, 5]);
    expect(result.covered.map((f) => f.seq)).toEqual([3]);
    expect(result.dropped.map((f) => f.seq)).toEqual([1, 2]);
  });

  it('bounds bytes as well as keys', () => {
    const frames = [frame(1, 'progress', 50), frame(2, 'progress', 50), frame(3, 'progress', 50)];
    const result = overflow(frames, { maxKeys: 10, maxBytes: 100 });
    expect(result.kept.map((f) => f.seq)).toEqual([2, 3]);
    expect(result.dropped.map((f) => f.seq)).toEqual([1]);
  });

  describe('applied by the outbox and by replay alike', () => {
    beforeEach(() => {
      vi.useFakeTimers();
    });
    afterEach(() => {
      vi.useRealTimers();
    });

    // Five changes to distinct keys against a bound of 3: a reset covers the invalidation, the oldest progress is dropped.
    const publishFive = async (hub: ReturnType<typeof fakeHub>['hub']) => {
      await hub.invalidate('acme', { resource: 'orders', id: 'a' });
      await hub.progress('acme', 'j1', 1, 10);
      await hub.progress('acme', 'j2', 1, 10);
      await hub.complete('acme', 'j3', true);
      await hub.progress('acme', 'j4', 1, 10);
    };
    const expected = ['reset', 'progress:j2', 'complete:j3', 'progress:j4'];

    it('writes the same survivors after a reset when a paused connection overflows its dirty keys', async () => {
      const { hub, counts } = fakeHub({ limits: { maxDirtyKeys: 3 } });
      const { sink, connection } = connectSink(hub);
      connection.pause();
      await publishFive(hub);
      endOfTick();
      connection.resume();
      expect(written(sink.frames)).toEqual(expected);
      expect(counts.dropped).toBe(1);
      expect(counts.resets).toEqual(['overflow']);
    });

    it('writes the same survivors after a reset when a resume replays more than the bound', async () => {
      const { hub, counts } = fakeHub({ limits: { maxDirtyKeys: 3 } });
      const start = hub.cursor();
      await publishFive(hub);
      endOfTick();
      const { sink } = connectSink(hub, { lastEventId: start });
      endOfTick();
      expect(written(sink.frames)).toEqual(expected);
      expect(counts.dropped).toBe(1);
      expect(counts.resets).toEqual(['overflow']);
      expect(counts.replay).toEqual([[false, 3]]);
    });
  });
});
