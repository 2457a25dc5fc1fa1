import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultOutboxLimits, type Frame, type Lane } from 'trpc-live/core';
import { Outbox } from '../../../packages/trpc-live/src/core/outbox';

const frame = (seq: number, key: string, lane: Lane = 'instant', kind: 'invalidate' | 'progress' = 'invalidate'): Frame =>
  ({ seq, key, lane, epoch: 'e', id: `e:${seq}`, bytes: 10, idempotent: true, message: { kind, seq } }) as unknown as Frame;

describe('Outbox: the lone frame is an ordinary instant frame', () => {
  it('counts a lone instant frame everywhere a frame in the instant lane counts', () => {
    const outbox = new Outbox(defaultOutboxLimits, {});
    outbox.push(frame(7, 'a'));
    expect([outbox.frames, outbox.bytes, outbox.laneSize('instant'), outbox.empty]).toEqual([1, 10, 1, false]);
    expect(outbox.oldestPendingSeq('e')).toBe(7);
    expect(outbox.oldestPendingSeq('other')).toBe(Infinity);
    expect(outbox.saturation(0)).toBe(1 / defaultOutboxLimits.maxPendingFrames);
    expect(outbox.take({ batched: false, coalesced: false }).map((f) => f.seq)).toEqual([7]);
    expect([outbox.frames, outbox.bytes, outbox.empty]).toEqual([0, 0, true]);
  });

  it('replaces a lone frame by a newer value of its key and keeps the key instant', () => {
    let coalesced = 0;
    const outbox = new Outbox(defaultOutboxLimits, { coalesced: () => coalesced++ });
    outbox.push(frame(1, 'a'));
    expect(outbox.push(frame(2, 'a', 'coalesced', 'progress'))).toBe('instant');
    expect([outbox.frames, outbox.laneSize('instant'), outbox.laneSize('coalesced'), coalesced]).toEqual([1, 1, 0, 1]);
    expect(outbox.take({ batched: false, coalesced: false }).map((f) => f.seq)).toEqual([2]);
  });

  it('lets a reset cover a lone invalidation, standing for its seq', () => {
    const outbox = new Outbox(defaultOutboxLimits, {});
    outbox.push(frame(4, 'a'));
    outbox.requestReset('overflow');
    expect([outbox.frames, outbox.resetReason, outbox.resetFloor, outbox.resetCeil]).toEqual([0, 'overflow', 4, 4]);
  });

  it('drops a lone frame covered by a replay, and collapses it into a dirty key on pause', () => {
    const covered = new Outbox(defaultOutboxLimits, {});
    covered.push(frame(3, 'a'));
    covered.dropUpTo('e', 3);
    expect(covered.empty).toBe(true);
    const paused = new Outbox(defaultOutboxLimits, {});
    paused.push(frame(3, 'a'));
    paused.collapseIdempotent(['instant']);
    expect([paused.frames, paused.dirtyKeys]).toEqual([0, 1]);
  });

  it('takes frames in seq order when a replaced key moved one behind a newer frame', () => {
    const outbox = new Outbox(defaultOutboxLimits, {});
    outbox.push(frame(1, 'a'));
    outbox.push(frame(2, 'b'));
    outbox.push(frame(3, 'a'));
    outbox.push(frame(4, 'c', 'batched'));
    expect(outbox.take({ batched: true, coalesced: false }).map((f) => f.seq)).toEqual([2, 3, 4]);
  });
});

describe('Outbox.has', () => {
  it('tells whether a key is pending, as the lone frame, in a lane or dirty, and not once taken', () => {
    const outbox = new Outbox(defaultOutboxLimits, {});
    outbox.push(frame(1, 'push w'));
    expect([outbox.has('push w'), outbox.has('push x')]).toEqual([true, false]);
    outbox.push(frame(2, 'b', 'batched'));
    outbox.pushDirty(frame(3, 'd', 'batched'));
    expect([outbox.has('push w'), outbox.has('b'), outbox.has('d'), outbox.has('x')]).toEqual([true, true, true, false]);
    outbox.take({ batched: true, coalesced: true });
    expect([outbox.has('push w'), outbox.has('b')]).toEqual([false, false]);
  });
});

describe('Outbox: a routed burst is a run, appended without key lookups', () => {
  /** A frame as the fan-out stamps it: `before` is the newest earlier seq of its key it routed in `stint`. */
  const routed = (seq: number, key: string, before: number, stint = 1): Frame => ({ ...frame(seq, key), sameKeyBefore: before, routeStint: stint }) as Frame;
  afterEach(() => vi.restoreAllMocks());

  it('appends routed frames of distinct keys to the run with no map write, and takes them in seq order', () => {
    const outbox = new Outbox(defaultOutboxLimits, {});
    const sets = vi.spyOn(Map.prototype, 'set');
    for (let seq = 1; seq <= 200; seq++) outbox.push(routed(seq, `k${seq}`, 0));
    expect(sets).not.toHaveBeenCalled();
    expect([outbox.frames, outbox.bytes, outbox.laneSize('instant'), outbox.oldestPendingSeq('e')]).toEqual([200, 2000, 200, 1]);
    expect(outbox.has('k150')).toBe(true);
    const out = outbox.take({ batched: false, coalesced: false });
    expect(out.map((f) => f.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(outbox.empty).toBe(true);
  });

  it('keeps one frame per key when a routed frame says its key may be in the run', () => {
    const outbox = new Outbox(defaultOutboxLimits, {});
    outbox.push(routed(1, 'a', 0));
    outbox.push(routed(2, 'b', 0));
    outbox.push(routed(3, 'a', 1));
    expect(outbox.frames).toBe(2);
    expect(outbox.take({ batched: false, coalesced: false }).map((f) => f.seq)).toEqual([2, 3]);
  });

  it('looks the key up for a frame stamped in another stint, or after a run an unstamped frame started', () => {
    const stints = new Outbox(defaultOutboxLimits, {});
    stints.push(routed(5, 'a', 0, 1));
    stints.push(routed(6, 'a', 0, 2));
    expect(stints.take({ batched: false, coalesced: false }).map((f) => f.seq)).toEqual([6]);
    const unstamped = new Outbox(defaultOutboxLimits, {});
    unstamped.push(frame(5, 'a'));
    unstamped.push(routed(6, 'a', 0));
    expect(unstamped.take({ batched: false, coalesced: false }).map((f) => f.seq)).toEqual([6]);
  });

  it('moves the run into the lanes before a frame of another lane joins, keeping seq order', () => {
    const outbox = new Outbox(defaultOutboxLimits, {});
    outbox.push(routed(1, 'a', 0));
    outbox.push(routed(2, 'b', 0));
    outbox.push(frame(3, 'a', 'batched'));
    expect([outbox.laneSize('instant'), outbox.laneSize('batched'), outbox.frames]).toEqual([2, 0, 2]);
    expect(outbox.take({ batched: true, coalesced: false }).map((f) => f.seq)).toEqual([2, 3]);
  });
});

describe('Outbox memory', () => {
  /** A full GC, from a test (vitest runs without --expose-gc). */
  function collect(): void {
    setFlagsFromString('--expose-gc');
    (runInNewContext('gc') as () => void)();
  }

  it('keeps an idle outbox small: no map is allocated until a frame goes past the run', () => {
    const COUNT = 20_000;
    collect();
    const before = process.memoryUsage().heapUsed;
    const kept: Outbox[] = [];
    for (let i = 0; i < COUNT; i++) kept.push(new Outbox(defaultOutboxLimits, {}));
    collect();
    const perOutbox = (process.memoryUsage().heapUsed - before) / COUNT;
    // Four empty maps alone were ~0.8 KB; the object and its empty run are ~150 bytes.
    expect(perOutbox).toBeLessThan(400);
    expect(kept).toHaveLength(COUNT);
  });

  it('writes nothing into the empty maps idle outboxes share', () => {
    const busy = new Outbox(defaultOutboxLimits, {});
    busy.push(frame(1, 'a', 'batched'));
    busy.pushDirty(frame(2, 'b'));
    const idle = new Outbox(defaultOutboxLimits, {});
    expect([idle.laneSize('batched'), idle.dirtyKeys, idle.has('a'), idle.has('b'), idle.empty]).toEqual([0, 0, false, false, true]);
    expect(busy.take({ batched: true, coalesced: true }).map((f) => f.seq)).toEqual([1, 2]);
    busy.push(frame(3, 'c', 'coalesced'));
    expect([idle.laneSize('coalesced'), busy.laneSize('coalesced')]).toEqual([0, 1]);
  });
});
