import { describe, expect, it } from 'vitest';
import { createHub, type Frame, type LiveConnection, type LiveTimers, type PublishedEntry } from 'trpc-live/core';
import { Fanout } from '../../../packages/trpc-live/src/core/fanout';
import { TopicIndex } from '../../../packages/trpc-live/src/core/topicIndex';
import type { FrameFactory } from '../../../packages/trpc-live/src/core/frames';
import { RecordingSink } from '../../helpers/sink';

/** Timers whose deferred callbacks run when the test says (one turn each). */
function turns() {
  const deferred: Array<() => void> = [];
  const timers: LiveTimers = { now: () => 0, setTimeout: () => ({}), clearTimeout: () => undefined, defer: (fn) => void deferred.push(fn) };
  return { timers, turn: () => deferred.splice(0).forEach((fn) => fn()), pending: () => deferred.length };
}

/** The part of a connection the fan-out touches, recording what it is given. */
function recipient(patterns: string[]) {
  const got: number[] = [];
  let flushes = 0;
  const connection = {
    patterns,
    groups: {},
    enqueue: (frame: Frame) => void got.push(frame.seq),
    flush: () => {
      flushes++;
      return 1;
    },
  };
  return { connection: connection as unknown as LiveConnection, got, flushes: () => flushes };
}

const frames = { data: (entry: PublishedEntry) => ({ seq: entry.seq }) as Frame } as unknown as FrameFactory;
const entry = (seq: number, topic: string): PublishedEntry =>
  ({ scope: 'acme', topic, lane: 'instant', key: `k${seq}`, seq, epoch: 'e', signal: { kind: 'event', topic } }) as PublishedEntry;

describe('fan-out stamps (core/fanout.ts)', () => {
  it('stamps each routed frame with the newest earlier routed seq of its key, in a new stint per epoch, and skips one out of order', () => {
    const { timers } = turns();
    const index = new TopicIndex<LiveConnection>();
    const got: Frame[] = [];
    const connection = { patterns: ['>'], groups: {}, enqueue: (frame: Frame) => void got.push(frame), flush: () => 0 } as unknown as LiveConnection;
    const built = { data: (e: PublishedEntry) => ({ seq: e.seq, key: e.key, epoch: e.epoch }) as Frame } as unknown as FrameFactory;
    const fanout = new Fanout(timers, built, new Map([['acme', index]]), 512);
    fanout.track(connection);
    index.add('>', connection);
    const keyed = (seq: number, key: string, epoch = 'e') => ({ ...entry(seq, 'orders.1'), key, epoch });
    for (const e of [keyed(1, 'a'), keyed(2, 'b'), keyed(4, 'a'), keyed(3, 'a'), keyed(1, 'a', 'f')]) fanout.deliver(e);
    expect(got.map((f) => [f.seq, f.sameKeyBefore, f.routeStint])).toEqual([
      [1, 0, 1],
      [2, 0, 1],
      [4, 1, 1],
      [3, undefined, undefined],
      [1, 0, 2],
    ]);
  });
});

describe('fan-out scheduling (core/fanout.ts)', () => {
  it('hands an entry once to a connection whose several patterns match it', () => {
    const { timers } = turns();
    const index = new TopicIndex<LiveConnection>();
    const both = recipient(['orders.>', 'orders.*']);
    const one = recipient(['orders.*']);
    const fanout = new Fanout(timers, frames, new Map([['acme', index]]), 512);
    for (const r of [both, one]) {
      fanout.track(r.connection);
      for (const p of r.connection.patterns) index.add(p, r.connection);
    }
    fanout.deliver(entry(1, 'orders.1'));
    fanout.deliver(entry(2, 'stock.1'));
    expect(both.got).toEqual([1]);
    expect(one.got).toEqual([1]);
  });

  it('flushes a connection once per turn however often it asks, and again when it asks after its flush', () => {
    const { timers, turn, pending } = turns();
    const fanout = new Fanout(timers, frames, new Map(), 512);
    const a = recipient(['>']);
    const b = recipient(['>']);
    fanout.track(a.connection);
    fanout.track(b.connection);
    fanout.requestInstantFlush(a.connection);
    fanout.requestInstantFlush(b.connection);
    fanout.requestInstantFlush(a.connection);
    expect(pending()).toBe(1);
    turn();
    expect([a.flushes(), b.flushes()]).toEqual([1, 1]);
    fanout.requestInstantFlush(a.connection);
    turn();
    expect([a.flushes(), b.flushes()]).toEqual([2, 1]);
  });

  it('writes at most flushSliceSize connections per turn and the rest in later turns', () => {
    const { timers, turn } = turns();
    const fanout = new Fanout(timers, frames, new Map(), 2);
    const rs = [recipient(['>']), recipient(['>']), recipient(['>'])];
    for (const r of rs) {
      fanout.track(r.connection);
      fanout.requestInstantFlush(r.connection);
    }
    turn();
    expect(rs.map((r) => r.flushes())).toEqual([1, 1, 0]);
    turn();
    expect(rs.map((r) => r.flushes())).toEqual([1, 1, 1]);
  });

  it('exposes no fan-out bookkeeping on a connection, in its type or its fields', () => {
    const connection = createHub().connect({ scope: 'acme', sink: new RecordingSink() });
    expect(Object.keys(connection)).not.toContain('stamp');
    expect(Object.keys(connection)).not.toContain('flushQueued');
    // @ts-expect-error the per-publish visit stamp belongs to the fan-out, not to the connection's type
    void connection.stamp;
    // @ts-expect-error whether a connection waits for an instant flush belongs to the fan-out
    void connection.flushQueued;
  });
});
