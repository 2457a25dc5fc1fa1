import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LiveError, type Hub } from 'trpc-live/core';
import { connectSink, endOfTick, fakeHub, view } from './fixtures';

describe('pause and resume', () => {
  let hub: Hub;
  let counts: ReturnType<typeof fakeHub>['counts'];
  beforeEach(() => {
    vi.useFakeTimers();
    ({ hub, counts } = fakeHub({ limits: { maxPendingFrames: 4, maxDirtyKeys: 8 } }));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes nothing while paused, however long', async () => {
    const { connection, dataWrites } = connectSink(hub);
    connection.pause();
    await hub.invalidate('acme', { resource: 'orders', id: 'a' });
    await hub.progress('acme', 'job', 1, 2);
    await hub.signal('acme', 'notifications');
    endOfTick();
    vi.advanceTimersByTime(600_000);
    expect(dataWrites()).toEqual([]);
    expect(connection.paused).toBe(true);
  });

  it('collapses invalidations and progress into dirty keys while paused and delivers the latest of each on resume', async () => {
    const { connection, dataWrites } = connectSink(hub);
    connection.pause();
    for (let i = 1; i <= 30; i++) {
      await hub.invalidate('acme', { resource: 'orders', id: `o${i % 3}` }, { lane: i % 2 ? 'batched' : 'instant' });
      await hub.progress('acme', 'job', i, 30);
    }
    expect(connection.dirtyKeys).toBe(4);
    expect(connection.pendingFrames).toBe(0);
    connection.resume();
    expect(dataWrites().map((w) => w.map(view))).toEqual([
      ['invalidate:orders:o1@55', 'invalidate:orders:o2@57', 'invalidate:orders:o0@59', 'progress:job=30@60'],
    ]);
    expect(counts.resets).toEqual([]);
  });

  it('moves what was already pending into dirty keys when the pause starts', async () => {
    const { connection, dataWrites } = connectSink(hub);
    await hub.invalidate('acme', { resource: 'orders', id: 'a' }, { lane: 'batched' });
    await hub.progress('acme', 'job', 1, 2);
    connection.pause();
    expect(connection.pendingFrames).toBe(0);
    expect(connection.dirtyKeys).toBe(2);
    vi.advanceTimersByTime(10_000);
    expect(dataWrites()).toEqual([]);
    connection.resume();
    expect(dataWrites().map((w) => w.map(view))).toEqual([['invalidate:orders:a@1', 'progress:job=1@2']]);
  });

  it('keeps instant events while paused, within the outbox bound, and delivers them in order on resume', async () => {
    const { connection, dataWrites } = connectSink(hub);
    connection.pause();
    await hub.signal('acme', 'notifications', { n: 1 });
    await hub.invalidate('acme', { resource: 'orders', id: 'a' });
    await hub.signal('acme', 'notifications', { n: 2 });
    expect(connection.pendingFrames).toBe(2);
    connection.resume();
    expect(dataWrites().map((w) => w.map(view))).toEqual([['event:notifications@1', 'invalidate:orders:a@2', 'event:notifications@3']]);
  });

  it('sends one reset on resume when events overflowed the bound while paused, and counts what was dropped', async () => {
    const { connection, dataWrites } = connectSink(hub);
    connection.pause();
    for (let i = 0; i < 6; i++) await hub.signal('acme', 'notifications', { n: i });
    await hub.progress('acme', 'job', 5, 5);
    expect(connection.pendingFrames).toBeLessThanOrEqual(4);
    expect(counts.dropped).toBe(5);
    connection.resume();
    const written = dataWrites().flat();
    const kinds = written.map((f) => f.message.kind);
    expect(kinds.filter((k) => k === 'reset')).toHaveLength(1);
    expect(kinds).toContain('progress'); // the final progress value survives the reset
    // The reset is written in the place of the oldest frame it stands for (the first dropped event),
    // so no id before it claims a frame the client only gets through it; newer frames follow it.
    const reset = kinds.indexOf('reset');
    const keptBefore = written.slice(0, reset).map((f) => f.seq);
    expect(Math.max(...keptBefore, 0)).toBeLessThan(Math.min(...written.slice(reset + 1).map((f) => f.seq)));
    expect(reset).toBeLessThan(kinds.indexOf('progress'));
    expect(counts.resets).toEqual(['overflow']);
  });

  it('keeps a reset requested while paused until resume', async () => {
    const { connection, dataWrites } = connectSink(hub);
    connection.pause();
    hub.resetAll('gap');
    endOfTick();
    expect(dataWrites()).toEqual([]);
    connection.resume();
    expect(dataWrites().flat().map((f) => f.message)).toEqual([{ kind: 'reset', reason: 'gap', seq: 0 }]);
  });

  it('goes back to timed lanes after resume', async () => {
    const { connection, dataWrites } = connectSink(hub);
    connection.pause();
    connection.resume();
    await hub.invalidate('acme', { resource: 'orders', id: 'a' }, { lane: 'batched' });
    vi.advanceTimersByTime(1999); // one frame of a 4-frame outbox is 25%: the base window

    expect(dataWrites()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(dataWrites()).toHaveLength(1);
  });

  describe('setPaused on behalf of a user', () => {
    it("pauses and resumes the caller's own connection", () => {
      const { connection } = connectSink(hub, { groups: { user: 'usr_bob', role: 'staff' } });
      hub.setPaused(connection.id, true, { scope: 'acme', groups: { user: 'usr_bob' } });
      expect(connection.paused).toBe(true);
      expect(hub.stats().paused).toBe(1);
      hub.setPaused(connection.id, false, { scope: 'acme', groups: { user: 'usr_bob' } });
      expect(connection.paused).toBe(false);
    });

    it.each([
      ['another tenant', { scope: 'globex', groups: { user: 'usr_bob' } }],
      ['another user of the same tenant', { scope: 'acme', groups: { user: 'usr_alice' } }],
    ])("refuses a connection of %s as not found, and leaves it running", (_who, owner) => {
      const { connection } = connectSink(hub, { groups: { user: 'usr_bob' } });
      const error = (() => {
        try {
          hub.setPaused(connection.id, true, owner);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(LiveError);
      expect((error as LiveError).code).toBe('NOT_FOUND');
      expect(connection.paused).toBe(false);
    });

    it('answers an unknown or closed connection id as not found', () => {
      const { connection } = connectSink(hub, { groups: { user: 'usr_bob' } });
      connection.dispose();
      expect(() => hub.setPaused(connection.id, true, { scope: 'acme' })).toThrowError(/No such live connection/);
      expect(() => hub.setPaused('nope', true, { scope: 'acme' })).toThrowError(/No such live connection/);
    });
  });
});
