import { describe, expect, it } from 'vitest';
import { createHub, type Frame, type LiveSink } from 'trpc-live/core';
import { RecordingSink } from '../../helpers/sink';
import { steppedClock } from './fixtures';

/** A sink whose every write costs `ms` on the stepped clock. */
class CostlySink implements LiveSink {
  readonly writes: Frame[][] = [];
  constructor(
    private readonly clock: { t: number },
    private readonly ms: number,
  ) {}
  write(frames: readonly Frame[]): void {
    this.writes.push([...frames]);
    this.clock.t += this.ms;
  }
  pendingBytes(): number {
    return 0;
  }
  onDrain(fn: () => void): void {
    fn();
  }
  close(): void {}
}

const dataWrites = (sink: CostlySink | RecordingSink) => sink.writes.filter((w) => w.some((f) => f.message.kind === 'invalidate'));

describe('hub: a fan-out is written in slices bounded by time as well as by count', () => {
  /** Streams written in the first slice of one invalidation's fan-out, `sinceConnect` ms after the last stream connected. */
  const firstSliceOf = (writeMs: number, sinceConnect: number) => {
    const { clock, timers, turn, drain } = steppedClock();
    const hub = createHub({ timers });
    const sinks = Array.from({ length: 100 }, () => new CostlySink(clock, writeMs));
    for (const sink of sinks) hub.connect({ scope: 'acme', sink });
    clock.t += sinceConnect;
    void hub.invalidate('acme', { resource: 'orders', id: '1' });
    turn();
    const first = sinks.filter((s) => dataWrites(s).length > 0).length;
    drain();
    for (const sink of sinks) expect(dataWrites(sink)).toHaveLength(1);
    return first;
  };

  it('stops a flush slice once 4 ms of the hub clock passed and writes the rest in later turns, each connection once', async () => {
    // Well under flushSliceSize (512): the clock (0.1 ms per write, read every 16 writes: 1.6, 3.2, 4.8 ms) ended the slice.
    expect(firstSliceOf(0.1, 1_000)).toBe(48);
    // 1 ms per write: past 4 ms at the first read of the clock.
    expect(firstSliceOf(1, 1_000)).toBe(16);
  });

  it('keeps slices to 1 ms while streams are connecting (Node accepts one connection per turn), and to 4 ms 100 ms after the last', async () => {
    expect(firstSliceOf(0.1, 0)).toBe(16);
    expect(firstSliceOf(0.1, 99)).toBe(16);
    expect(firstSliceOf(0.1, 100)).toBe(48);
  });

  it('keeps deferred routing slices to 1 ms while streams are connecting', () => {
    /** Entries routed in the first deferred slice of a 20-entry queue, each encode costing 0.3 ms, `sinceConnect` ms after the last connect. */
    const routedInSlice = (sinceConnect: number) => {
      const { clock, timers, turn } = steppedClock();
      const serialize = (message: unknown) => {
        clock.t += 0.3;
        return JSON.stringify(message);
      };
      const hub = createHub({ timers, serialize });
      // 1,000 streams: the publishing turn's budget (8,192 visits) routes nine entries; the rest wait for deferred slices.
      const connections = Array.from({ length: 1_000 }, () => hub.connect({ scope: 'acme', sink: new RecordingSink() }));
      for (const connection of connections) connection.pause();
      clock.t += sinceConnect;
      for (let i = 0; i < 20; i++) void hub.invalidate('acme', { resource: 'orders', id: String(i) });
      const before = connections[0]!.dirtyKeys;
      turn();
      return connections[0]!.dirtyKeys - before;
    };
    // Routed entry by entry (paused streams take no runs), the clock read after each: 0.3 ms per entry.
    // Connecting: the clock passes 1 ms at the fourth entry (1.2 ms). The publishing turn's nine encodes took 2.7 ms, so 90 ms is still inside the window.
    expect(routedInSlice(0)).toBe(4);
    expect(routedInSlice(90)).toBe(4);
    // Otherwise the visit budget ends the slice first (4 ms would allow 14 entries).
    expect(routedInSlice(1_000)).toBe(7);
  });

  it('writes a whole small fan-out in one turn when writes are cheap', async () => {
    const { clock, timers, turn } = steppedClock();
    const hub = createHub({ timers });
    const sinks = Array.from({ length: 100 }, () => new CostlySink(clock, 0));
    for (const sink of sinks) hub.connect({ scope: 'acme', sink });
    void hub.invalidate('acme', { resource: 'orders', id: '1' });
    turn();
    for (const sink of sinks) expect(dataWrites(sink)).toHaveLength(1);
  });

  it('stops a deferred routing slice once 4 ms passed, and still delivers every entry in order', async () => {
    const { clock, timers, turn, drain } = steppedClock();
    // Encoding an entry (once, when it is routed) costs 5 ms here: one entry per deferred slice.
    const serialize = (message: unknown) => {
      clock.t += 5;
      return JSON.stringify(message);
    };
    const hub = createHub({ timers, serialize });
    const sinks = Array.from({ length: 3_000 }, () => new RecordingSink());
    const connections = sinks.map((sink) => hub.connect({ scope: 'acme', sink }));
    // Paused: routed invalidations wait as dirty keys, so routing progress is visible and nothing is flushed.
    for (const connection of connections) connection.pause();
    for (let i = 0; i < 6; i++) void hub.invalidate('acme', { resource: 'orders', id: String(i) });

    // The publishing turn routes by its visit budget (8,192): three entries of 3,001 visits.
    const routed = () => connections[0]!.dirtyKeys;
    expect(routed()).toBe(3);
    turn();
    expect(routed()).toBe(4);
    turn();
    expect(routed()).toBe(5);
    drain();
    expect(routed()).toBe(6);

    connections[0]!.resume();
    expect(sinks[0]!.data.map((m) => (m.kind === 'invalidate' ? m.id : m.kind))).toEqual(['0', '1', '2', '3', '4', '5']);
  });

  it('holds instant flushes while a burst is still being routed, so each connection gets the burst in one write', () => {
    const { timers, drain } = steppedClock();
    const hub = createHub({ timers });
    const sinks = Array.from({ length: 100 }, () => new RecordingSink());
    for (const sink of sinks) hub.connect({ scope: 'acme', sink });
    // 200 entries x 101 visits: the routing of this burst takes several turns.
    for (let i = 0; i < 200; i++) void hub.invalidate('acme', { resource: 'orders', id: String(i) });
    drain();
    for (const sink of sinks) {
      expect(dataWrites(sink)).toHaveLength(1);
      expect(dataWrites(sink)[0]).toHaveLength(200);
    }
  });

  it('stops holding flushes 50 ms into a burst that is still being routed', () => {
    const { clock, timers, turn } = steppedClock();
    // Encoding an entry costs 5 ms here: one entry per routing slice, so routing 40 entries takes 200 ms.
    const serialize = (message: unknown) => {
      clock.t += 5;
      return JSON.stringify(message);
    };
    const hub = createHub({ timers, serialize });
    const sinks = Array.from({ length: 3_000 }, () => new RecordingSink());
    for (const sink of sinks) hub.connect({ scope: 'acme', sink });
    const start = clock.t;
    for (let i = 0; i < 40; i++) void hub.invalidate('acme', { resource: 'orders', id: String(i) });
    let turns = 0;
    while (dataWrites(sinks[0]!).length === 0 && turns < 100) {
      turn();
      turns++;
    }
    const written = dataWrites(sinks[0]!).flat().length;
    // Written before the routing finished, once the hold ran out (about ten 5 ms slices in).
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(40);
    expect(clock.t - start).toBeGreaterThanOrEqual(50);
    expect(clock.t - start).toBeLessThan(100);
  });

  it('routes a 200-event burst to 1,000 streams in a few turns: its first write is not held behind one turn per few entries', () => {
    const { timers, turn, drain } = steppedClock();
    const hub = createHub({ timers });
    const sinks = Array.from({ length: 1_000 }, () => new RecordingSink());
    for (const sink of sinks) hub.connect({ scope: 'acme', sink });
    for (let i = 0; i < 200; i++) void hub.invalidate('acme', { resource: 'orders', id: String(i) });
    let turns = 0;
    while (dataWrites(sinks[0]!).length === 0 && turns < 100) {
      turn();
      turns++;
    }
    // Priced per recipient visit and entry (8,192 visits / 1,001), the run took 25 turns before its first write.
    expect(turns).toBeLessThanOrEqual(4);
    drain();
    for (const sink of sinks) {
      expect(dataWrites(sink)).toHaveLength(1);
      expect(dataWrites(sink)[0]!.map((f) => (f.message.kind === 'invalidate' ? f.message.id : f.message.kind))).toEqual(
        Array.from({ length: 200 }, (_, i) => String(i)),
      );
    }
  });

  type Hub = ReturnType<typeof createHub>;
  it.each([
    ['paused', (_hub: Hub, connections: ReturnType<Hub['connect']>[]) => connections.forEach((c) => c.pause())],
    ['holding a batched frame', (hub: Hub) => void hub.invalidate('acme', { resource: 'products', id: 'held' }, { lane: 'batched' })],
  ])('routes few entries per turn to 3,000 streams that take a run frame by frame (%s)', (_, prepare) => {
    const { timers, turn, drain } = steppedClock();
    const hub = createHub({ timers });
    const sinks = Array.from({ length: 3_000 }, () => new RecordingSink());
    const connections = sinks.map((sink) => hub.connect({ scope: 'acme', sink }));
    prepare(hub, connections);
    turn();
    const before = connections[0]!.dirtyKeys + connections[0]!.pendingFrames;
    expect(before).toBe(connections[0]!.paused ? 0 : 1);
    for (let i = 0; i < 12; i++) void hub.invalidate('acme', { resource: 'orders', id: String(i) });
    // Each turn's budget is 8,192 visits; an entry queued frame by frame costs a visit per stream.
    const routed = () => connections[0]!.dirtyKeys + connections[0]!.pendingFrames - before;
    let last = routed();
    expect(last).toBeLessThanOrEqual(3);
    for (let t = 0; t < 5; t++) {
      turn();
      expect(routed() - last).toBeGreaterThan(0);
      expect(routed() - last).toBeLessThanOrEqual(2);
      last = routed();
    }
    for (const connection of connections) if (connection.paused) connection.resume();
    drain();
    const ids = sinks[0]!.data.flatMap((m) => (m.kind === 'invalidate' && m.resource === 'orders' ? [m.id] : []));
    expect(ids).toEqual(Array.from({ length: 12 }, (_, i) => String(i)));
  });

  it('skips a connection that closed while it waited for its flush', async () => {
    const { timers, drain } = steppedClock();
    const hub = createHub({ timers });
    const sink = new RecordingSink();
    const connection = hub.connect({ scope: 'acme', sink });
    const other = new RecordingSink();
    hub.connect({ scope: 'acme', sink: other });
    void hub.invalidate('acme', { resource: 'orders', id: '1' });
    connection.dispose();
    expect(() => drain()).not.toThrow();
    expect(sink.data).toEqual([]);
    expect(other.data).toHaveLength(1);
    expect(hub.connectionCount).toBe(1);
  });
});

describe('connection: a frame waiting alone (the fan-out fast path)', () => {
  /** A hub on a stepped clock, one acme connection, and one invalidation (orders 1) waiting for its flush. */
  const loneWaitingFrame = () => {
    const { timers, drain } = steppedClock();
    const hub = createHub({ timers });
    const sink = new RecordingSink();
    const connection = hub.connect({ scope: 'acme', sink });
    void hub.invalidate('acme', { resource: 'orders', id: '1' });
    return { hub, sink, connection, drain };
  };

  it('counts a lone waiting frame as pending until it is written', async () => {
    const { hub, connection, drain } = loneWaitingFrame();
    expect(connection.pendingFrames).toBe(1);
    expect(connection.pendingBytes).toBeGreaterThan(0);
    expect(hub.stats().pending.frames).toBe(1);
    drain();
    expect(connection.pendingFrames).toBe(0);
    expect(connection.pendingBytes).toBe(0);
  });

  it('replaces a lone waiting frame by a newer one for the same key published in the same tick', async () => {
    const { timers, drain } = steppedClock();
    const coalesced: string[] = [];
    const hub = createHub({ timers, metrics: { coalesced: (lane) => coalesced.push(lane) } });
    const sink = new RecordingSink();
    hub.connect({ scope: 'acme', sink });
    void hub.invalidate('acme', { resource: 'orders', id: '1', action: 'updated' });
    void hub.invalidate('acme', { resource: 'orders', id: '1', action: 'deleted' });
    drain();
    expect(sink.writes.slice(1)).toHaveLength(1);
    expect(sink.data).toEqual([expect.objectContaining({ resource: 'orders', id: '1', action: 'deleted', seq: 2 })]);
    expect(coalesced).toEqual(['instant']);
  });

  it('keeps a lone waiting frame through a pause and writes it on resume', async () => {
    const { sink, connection, drain } = loneWaitingFrame();
    connection.pause();
    drain();
    expect(sink.data).toEqual([]);
    expect(connection.dirtyKeys).toBe(1);
    connection.resume();
    expect(sink.data).toEqual([expect.objectContaining({ resource: 'orders', id: '1' })]);
  });

  it('lets a reset replace a lone waiting invalidation', async () => {
    const { sink, connection, drain } = loneWaitingFrame();
    connection.reset('gap');
    drain();
    expect(sink.data.map((m) => m.kind)).toEqual(['reset']);
  });

  it('holds a lone waiting frame behind a full socket buffer and writes it once the sink drains', async () => {
    const { timers, drain } = steppedClock();
    const hub = createHub({ timers, limits: { sinkHighWaterBytes: 100 } });
    const sink = new RecordingSink();
    hub.connect({ scope: 'acme', sink });
    sink.pending = 1_000;
    void hub.invalidate('acme', { resource: 'orders', id: '1' });
    drain();
    expect(sink.data).toEqual([]);
    sink.drain();
    drain();
    expect(sink.data).toEqual([expect.objectContaining({ resource: 'orders', id: '1' })]);
  });
});
