import { inspect } from 'node:util';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveConnection } from 'trpc-live/core';
import { connectSink, endOfTick, fakeHub } from './fixtures';

describe('connection calls: replay and reset are separate', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  it('answers a resume it can replay with sendReplay(frames) and never with a reset', async () => {
    const replay = vi.spyOn(LiveConnection.prototype, 'sendReplay');
    const reset = vi.spyOn(LiveConnection.prototype, 'sendReset');
    const { hub } = fakeHub();
    const start = hub.cursor();
    await hub.invalidate('acme', { resource: 'orders', id: '1' });
    endOfTick();
    const { sink } = connectSink(hub, { lastEventId: start });
    expect(reset).not.toHaveBeenCalled();
    expect(replay).toHaveBeenCalledTimes(1);
    expect(replay.mock.calls[0]![0].frames.map((f) => f.message.kind)).toEqual(['invalidate']);
    expect(sink.data.map((m) => m.kind)).toEqual(['invalidate']);
  });

  it('answers a resume from a cursor it cannot read with sendReset(reason), writing the reset at once', () => {
    const replay = vi.spyOn(LiveConnection.prototype, 'sendReplay');
    const reset = vi.spyOn(LiveConnection.prototype, 'sendReset');
    const { hub } = fakeHub();
    const { sink } = connectSink(hub, { lastEventId: 'not a cursor' });
    expect(replay).not.toHaveBeenCalled();
    expect(reset.mock.calls).toEqual([['unknown-cursor']]);
    expect(sink.data).toEqual([{ kind: 'reset', reason: 'unknown-cursor', seq: 0 }]);
  });

  it('starts a held connection over at the head with one reset when sendReset is called, frames up to the head covered by it', async () => {
    const { hub } = fakeHub();
    await hub.invalidate('acme', { resource: 'orders', id: '1' });
    endOfTick();
    const { sink, connection } = connectSink(hub);
    connection.hold();
    await hub.invalidate('acme', { resource: 'orders', id: '2' });
    endOfTick();
    expect(sink.data).toEqual([]);
    connection.sendReset('gap');
    expect(sink.data.map((m) => (m.kind === 'invalidate' ? m.id : m.kind))).toEqual(['reset']);
  });
});

describe('connection calls: one path for a lone frame', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes one instant frame larger than maxPendingBytes at the end of the tick, like any instant frame, not as a burst', async () => {
    const { hub, counts } = fakeHub({ limits: { maxPendingBytes: 10 } });
    const { sink } = connectSink(hub);
    await hub.invalidate('acme', { resource: 'orders', id: 'a-long-enough-id' });
    expect(sink.data).toEqual([]);
    endOfTick();
    expect(sink.data.map((m) => m.kind)).toEqual(['invalidate']);
    expect(counts.collapsed).toBe(0);
  });

  it('keeps one oversized instant frame for a lagging sink until it drains, instead of collapsing it', async () => {
    const { hub, counts } = fakeHub({ limits: { maxPendingBytes: 10, sinkHighWaterBytes: 100 } });
    const { sink } = connectSink(hub);
    sink.pending = 1_000;
    await hub.signal('acme', 'notifications', { text: 'a payload over ten bytes' });
    endOfTick();
    expect(sink.data).toEqual([]);
    sink.drain();
    expect(sink.data.map((m) => m.kind)).toEqual(['event']);
    expect([counts.dropped, counts.resets]).toEqual([0, []]);
  });
});

describe('connection calls: reads do not change state', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  /** Everything the connection holds, outbox and watermark included. */
  const state = (connection: LiveConnection) => inspect(connection, { depth: 8, showHidden: true });

  it.each([
    ['a lone instant frame', async (hub: ReturnType<typeof fakeHub>['hub']) => void (await hub.invalidate('acme', { resource: 'orders', id: '1' }))],
    [
      'frames on every lane',
      async (hub: ReturnType<typeof fakeHub>['hub']) => {
        await hub.invalidate('acme', { resource: 'orders', id: '1' });
        await hub.invalidate('acme', { resource: 'orders', id: '2' }, { lane: 'batched' });
        await hub.progress('acme', 'job', 1, 2);
      },
    ],
  ])('leaves the connection unchanged when saturation, flushIntervalMs and the pending counts are read with %s pending', async (_, publish) => {
    const { hub } = fakeHub();
    const { connection } = connectSink(hub);
    await publish(hub);
    const before = state(connection);
    const reads = [connection.saturation(), connection.flushIntervalMs(), connection.flushIntervalMs('coalesced')];
    const counts = [connection.pendingFrames, connection.pendingBytes, connection.dirtyKeys, connection.dirtyBytes, connection.resetPending];
    expect(state(connection)).toBe(before);
    expect(reads[0]).toBeGreaterThan(0);
    expect(counts[0]).toBeGreaterThan(0);
    endOfTick();
  });
});
