import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Hub } from 'trpc-live/core';
import { connectSink, endOfTick, fakeHub, view } from './fixtures';
import { isDataFrame } from '../../helpers/sink';

describe('lanes: instant, batched, coalesced', () => {
  let hub: Hub;
  let counts: ReturnType<typeof fakeHub>['counts'];
  beforeEach(() => {
    vi.useFakeTimers();
    ({ hub, counts } = fakeHub());
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes an instant frame at the end of the tick it was published in, not before', async () => {
    const { sink } = connectSink(hub);
    await hub.invalidate('acme', { resource: 'orders', id: '1' });
    expect(sink.data).toEqual([]);
    endOfTick();
    expect(sink.data).toHaveLength(1);
  });

  it('deduplicates invalidations of the same key published in the same tick, keeping the latest', async () => {
    const { sink } = connectSink(hub);
    await hub.invalidate('acme', { resource: 'orders', id: '1', hint: { status: 'paid' } });
    await hub.invalidate('acme', { resource: 'orders', id: '2' });
    const last = await hub.invalidate('acme', { resource: 'orders', id: '1', hint: { status: 'shipped' } });
    endOfTick();
    expect(sink.data).toEqual([
      { kind: 'invalidate', resource: 'orders', id: '2', action: 'changed', seq: 2 },
      { kind: 'invalidate', resource: 'orders', id: '1', action: 'changed', hint: { status: 'shipped' }, seq: last.seq },
    ]);
    expect(counts.coalesced).toBe(1);
  });

  it('does not deduplicate the same key across ticks', async () => {
    const { sink } = connectSink(hub);
    await hub.invalidate('acme', { resource: 'orders', id: '1' });
    endOfTick();
    await hub.invalidate('acme', { resource: 'orders', id: '1' });
    endOfTick();
    expect(sink.frames.filter(isDataFrame).map((f) => f.seq)).toEqual([1, 2]);
  });

  it('holds batched frames until the window closes, then writes them in one write in publish order', async () => {
    const { sink, dataWrites } = connectSink(hub);
    await hub.invalidate('acme', { resource: 'orders', id: 'a' }, { lane: 'batched' });
    vi.advanceTimersByTime(100);
    await hub.signal('acme', 'audit', { n: 1 }, { lane: 'batched' });
    await hub.invalidate('acme', { resource: 'orders', id: 'b' }, { lane: 'batched' });
    vi.advanceTimersByTime(399); // 499 ms after the window opened (fast connection: base / 4 = 500 ms)
    expect(sink.data).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(dataWrites().map((w) => w.map(view))).toEqual([['invalidate:orders:a@1', 'event:audit@2', 'invalidate:orders:b@3']]);
    expect(counts.delivered.batched).toBe(3);
  });

  it('keeps only the latest value per key on the coalesced lane and writes it when the window closes', async () => {
    const { dataWrites } = connectSink(hub);
    for (let i = 1; i <= 5; i++) {
      await hub.progress('acme', 'import-1', i, 5);
      vi.advanceTimersByTime(300);
    }
    // Window opened at 0; the coalesced lane's window is the base interval (2 s) even for a fast connection.
    vi.advanceTimersByTime(2000 - 1500 - 1);
    expect(dataWrites()).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(dataWrites().map((w) => w.map(view))).toEqual([['progress:import-1=5@5']]);
    expect(counts.coalesced).toBe(4);
  });

  it('coalesces per key: two jobs each keep their own latest value', async () => {
    const { dataWrites } = connectSink(hub);
    await hub.progress('acme', 'job-a', 1, 10);
    await hub.progress('acme', 'job-b', 1, 10);
    await hub.progress('acme', 'job-a', 2, 10);
    await hub.progress('acme', 'job-b', 7, 10);
    vi.advanceTimersByTime(2000);
    expect(dataWrites().map((w) => w.map(view))).toEqual([['progress:job-a=2@3', 'progress:job-b=7@4']]);
  });

  it('lets an instant frame overtake pending batched frames with an id that lists it beyond the watermark', async () => {
    const { sink, dataWrites } = connectSink(hub);
    await hub.invalidate('acme', { resource: 'orders', id: 'a' }, { lane: 'batched' }); // seq 1
    const instant = await hub.signal('acme', 'notifications', { text: 'hi' }); // seq 2
    endOfTick();
    expect(dataWrites().map((w) => w.map(view))).toEqual([['event:notifications@2']]);
    const overtaking = sink.frames.at(-1)!;
    expect(overtaking.message.kind === 'event' && overtaking.message.seq).toBe(instant.seq); // the message keeps its true seq
    // The client has nothing up to 0 missing, and seq 2 beyond it: a resume from here replays seq 1 only.
    expect(overtaking.id).toBe(`${instant.epoch}:0.2`);
    vi.advanceTimersByTime(500);
    // Seq 1 closes the gap: the watermark moves past seq 2, which it already had.
    expect(sink.frames.at(-1)!.id).toBe(`${instant.epoch}:2`);
  });

  it('writes frames with their own cursor when nothing older is pending', async () => {
    const { sink } = connectSink(hub);
    const first = await hub.signal('acme', 'notifications');
    endOfTick();
    await hub.invalidate('acme', { resource: 'orders', id: 'a' }, { lane: 'batched' });
    vi.advanceTimersByTime(500);
    expect(sink.frames.filter(isDataFrame).map((f) => f.id)).toEqual([first.cursor, `${first.epoch}:2`]);
  });

  it('flushes the batched lane while a coalescing window is still open, with the watermark cursor', async () => {
    const { sink, dataWrites } = connectSink(hub);
    const progress = await hub.progress('acme', 'import-1', 1, 10); // seq 1, coalesced: 2 s
    await hub.invalidate('acme', { resource: 'orders', id: 'a' }, { lane: 'batched' }); // seq 2, batched: 500 ms
    vi.advanceTimersByTime(500);
    expect(dataWrites().map((w) => w.map(view))).toEqual([['invalidate:orders:a@2']]);
    expect(sink.frames.at(-1)!.id).toBe(`${progress.epoch}:0.2`);
    vi.advanceTimersByTime(1500);
    expect(dataWrites().map((w) => w.map(view))).toEqual([['invalidate:orders:a@2'], ['progress:import-1=1@1']]);
    expect(sink.frames.at(-1)!.id).toBe(`${progress.epoch}:2`);
  });

  it('moves a pending key to the instant lane when the same key is published instant, and writes it once', async () => {
    const { dataWrites } = connectSink(hub);
    await hub.invalidate('acme', { resource: 'orders', id: 'a' }, { lane: 'batched' });
    await hub.invalidate('acme', { resource: 'orders', id: 'a' });
    endOfTick();
    vi.advanceTimersByTime(5000);
    expect(dataWrites().map((w) => w.map(view))).toEqual([['invalidate:orders:a@2']]);
  });

  it('keeps an instant key instant when a lazier duplicate replaces it in the same tick', async () => {
    const { dataWrites } = connectSink(hub);
    await hub.invalidate('acme', { resource: 'orders', id: 'a' });
    await hub.invalidate('acme', { resource: 'orders', id: 'a' }, { lane: 'batched' });
    endOfTick();
    expect(dataWrites().map((w) => w.map(view))).toEqual([['invalidate:orders:a@2']]);
  });

  it('never writes an older value of a key after a newer one, whatever the lanes', async () => {
    const { sink } = connectSink(hub);
    await hub.progress('acme', 'job', 1, 3); // coalesced
    await hub.progress('acme', 'job', 2, 3, undefined, { lane: 'instant' });
    endOfTick();
    vi.advanceTimersByTime(10_000);
    expect(sink.data).toEqual([{ kind: 'progress', key: 'job', current: 2, total: 3, seq: 2 }]);
  });

  it('opens a new window for frames published after a flush', async () => {
    const { dataWrites } = connectSink(hub);
    await hub.invalidate('acme', { resource: 'orders', id: 'a' }, { lane: 'batched' });
    vi.advanceTimersByTime(500);
    vi.advanceTimersByTime(1000);
    await hub.invalidate('acme', { resource: 'orders', id: 'b' }, { lane: 'batched' });
    vi.advanceTimersByTime(499);
    expect(dataWrites()).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(dataWrites().map((w) => w.map(view))).toEqual([['invalidate:orders:a@1'], ['invalidate:orders:b@2']]);
  });

  it('writes the instant lane and due lanes of one connection in a single write', async () => {
    const { sink } = connectSink(hub);
    await hub.invalidate('acme', { resource: 'orders', id: 'a' }, { lane: 'batched' });
    vi.advanceTimersByTime(499);
    await hub.invalidate('acme', { resource: 'orders', id: 'b' });
    await hub.invalidate('acme', { resource: 'orders', id: 'c' });
    endOfTick();
    expect(sink.writes).toHaveLength(2); // hello + the two instant frames
    vi.advanceTimersByTime(1);
    expect(sink.writes).toHaveLength(3);
  });
});
