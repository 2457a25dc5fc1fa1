import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { formatCursor, MAX_CURSOR_LENGTH, parseCursor, type Hub } from 'trpc-live/core';
import { MAX_CURSOR_BEYOND } from '../../../packages/trpc-live/src/shared/cursor';
import { isDataFrame } from '../../helpers/sink';
import { connectSink, endOfTick, fakeHub } from './fixtures';

describe('cursor format: epoch:watermark[.delta…]', () => {
  it('writes a frame in order as the plain epoch:seq, and seqs beyond the watermark as distances', () => {
    expect(formatCursor('e1', 41)).toBe('e1:41');
    expect(formatCursor('e1', 41, [43, 44, 50])).toBe('e1:41.2.1.6');
    expect(parseCursor('e1:41.2.1.6')).toEqual({ epoch: 'e1', seq: 41, beyond: [43, 44, 50] });
    expect(parseCursor('e1:0')).toEqual({ epoch: 'e1', seq: 0, beyond: [] });
  });

  it('keeps to characters that need no escaping in an id line, a header, a URL or JSON', () => {
    const id = formatCursor('lz3k9a_B-x', 9_007_199_254_740_000, Array.from({ length: MAX_CURSOR_BEYOND }, (_, i) => 9_007_199_254_740_001 + i));
    expect(id).toMatch(/^[A-Za-z0-9_\-:.]+$/);
    expect(encodeURIComponent(id).replace(/%3A/g, ':')).toBe(id);
    expect(JSON.stringify(id)).toBe(`"${id}"`);
    expect(id.length).toBeLessThanOrEqual(MAX_CURSOR_LENGTH);
  });

  it('returns null for anything it did not write', () => {
    for (const bad of [
      'garbage',
      '',
      'e1:',
      ':5',
      'e1:05',
      'e1:5.',
      'e1:5.0',
      'e1:5..1',
      'e1:-5',
      'e1:5.1.x',
      'e:1:2',
      'e1:5 ',
      'e1:5\n',
      `e1:5${'.1'.repeat(MAX_CURSOR_BEYOND + 1)}`,
      'e1:9007199254740993',
      'e1:9007199254740990.9',
      `${'e'.repeat(41)}:1`,
    ]) {
      expect(parseCursor(bad), JSON.stringify(bad)).toBeNull();
    }
    expect(parseCursor(`e1:5${'.1'.repeat(MAX_CURSOR_BEYOND)}`)?.beyond).toHaveLength(MAX_CURSOR_BEYOND);
  });
});

describe('the SSE id says exactly what the client has', () => {
  let hub: Hub;
  beforeEach(() => {
    vi.useFakeTimers();
    ({ hub } = fakeHub());
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('lists frames that overtook a pending progress frame, and a resume from it sends only the pending one', async () => {
    const { sink, connection } = connectSink(hub);
    const progress = await hub.progress('acme', 'import-1', 1, 10); // seq 1, coalesced: waits 2 s
    await hub.signal('acme', 'notifications', { n: 1 }); // seq 2
    endOfTick();
    await hub.invalidate('acme', { resource: 'orders', id: 'a' }); // seq 3
    endOfTick();
    const ids = sink.frames.filter(isDataFrame).map((f) => f.id);
    expect(ids).toEqual([`${progress.epoch}:0.2`, `${progress.epoch}:0.2.1`]);
    connection.dispose();

    const resumed = connectSink(hub, { lastEventId: ids.at(-1)! });
    expect(resumed.sink.data.map((m) => m.kind === 'progress' && m.seq)).toEqual([1]);
    // Reading it closes the gap: the client now has everything up to 3.
    expect(resumed.sink.frames.filter(isDataFrame).map((f) => f.id)).toEqual([`${progress.epoch}:3`]);
  });

  it('keeps the shared, encoded-once frame when a frame is written in order', async () => {
    const a = connectSink(hub);
    const b = connectSink(hub);
    await hub.invalidate('acme', { resource: 'orders', id: 'a' });
    endOfTick();
    const [fa] = a.sink.frames.filter(isDataFrame);
    const [fb] = b.sink.frames.filter(isDataFrame);
    expect(fa).toBe(fb);
    expect(fa!.id).toBe(`${hub.stats().epoch}:1`);
  });

  it(`writes the pending progress early rather than list more than ${MAX_CURSOR_BEYOND} seqs`, async () => {
    const { sink, connection } = connectSink(hub);
    await hub.progress('acme', 'import-1', 1, 10); // seq 1: its window stays open for 2 s
    for (let i = 0; i < MAX_CURSOR_BEYOND + 4; i++) {
      await hub.signal('acme', 'notifications', { n: i }); // seqs 2…21, one write each
      endOfTick();
    }
    const frames = sink.frames.filter(isDataFrame);
    const lengths = frames.map((f) => parseCursor(f.id!)!.beyond.length);
    expect(Math.max(...lengths)).toBe(MAX_CURSOR_BEYOND);
    // The 17th overtaking event is written together with the progress frame, 2 s early.
    const progressAt = frames.findIndex((f) => f.message.kind === 'progress');
    expect(progressAt).toBe(MAX_CURSOR_BEYOND);
    expect(frames.slice(progressAt).map((f) => f.id)).toEqual(frames.slice(progressAt).map((f) => `${f.epoch}:${f.seq > 1 ? f.seq : MAX_CURSOR_BEYOND + 1}`));
    // A cut anywhere, then a resume from the id last read: nothing twice, nothing missing.
    for (let cut = 0; cut < frames.length; cut++) {
      const resumed = connectSink(hub, { lastEventId: frames[cut]!.id! });
      const again = resumed.sink.frames.filter(isDataFrame).map((f) => f.seq);
      const before = frames.slice(0, cut + 1).map((f) => f.seq);
      expect([...before, ...again].sort((x, y) => x - y)).toEqual(Array.from({ length: MAX_CURSOR_BEYOND + 5 }, (_, i) => i + 1));
      resumed.connection.dispose();
    }
    connection.dispose();
  });

  it('answers a malformed cursor with one reset and keeps the stream open', async () => {
    const { sink, connection } = connectSink(hub, { lastEventId: 'garbage' });
    endOfTick();
    expect(sink.data).toEqual([{ kind: 'reset', reason: 'unknown-cursor', seq: 0 }]);
    await hub.invalidate('acme', { resource: 'orders', id: 'a' });
    endOfTick();
    expect(connection.closed).toBe(false);
    expect(sink.data.map((m) => m.kind)).toEqual(['reset', 'invalidate']);
  });
});
