import superjson from 'superjson';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { defaultOutboxLimits, LiveError, receives, type Frame, type Hub, type LivePushMessage } from 'trpc-live/core';
import { Outbox } from '../../../packages/trpc-live/src/core/outbox';
import { connectSink, endOfTick, fakeHub } from './fixtures';

// Pushed results (issue 17): a result or refetch frame goes through each connection's outbox, is shared by
// every recipient, carries no cursor and never changes the ids the stream's other frames get.

const result = (watch: string, seq: number, data: unknown, epoch: string): LivePushMessage => ({ kind: 'result', watch, epoch, seq, data });
const kinds = (frames: readonly Frame[]) => frames.map((f) => `${f.message.kind}@${f.seq}`);
const pushed = (frames: readonly Frame[]) => frames.filter((f) => f.message.kind === 'result' || f.message.kind === 'refetch');

describe('push frames', () => {
  let hub: Hub;
  let counts: ReturnType<typeof fakeHub>['counts'];
  beforeEach(() => {
    vi.useFakeTimers();
    ({ hub, counts } = fakeHub({ serialize: (message) => JSON.stringify(superjson.serialize(message)) }));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('builds one frame with the hub serializer and writes that same object to every recipient, without an id', async () => {
    const a = connectSink(hub);
    const b = connectSink(hub);
    const receipt = await hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    const at = new Date('2026-01-02T03:04:05Z');
    const frame = hub.pushFrame(result('orders.byId:{"id":"o1"}', receipt.seq, { id: 'o1', at }, receipt.epoch));
    a.connection.push(frame);
    b.connection.push(frame);
    endOfTick();
    const [fromA] = pushed(a.sink.frames);
    const [fromB] = pushed(b.sink.frames);
    expect(fromA).toBe(frame);
    expect(fromB).toBe(frame);
    expect(frame).toMatchObject({ id: null, lane: 'instant', idempotent: false, seq: receipt.seq });
    // superjson: the Date survives the payload.
    const decoded = superjson.deserialize(JSON.parse(frame.payload)) as { data: { at: Date } };
    expect(decoded.data.at).toBeInstanceOf(Date);
    expect(decoded.data.at.getTime()).toBe(at.getTime());
    // Written after the change's invalidation, in the same write.
    expect(kinds(a.sink.writes.at(-1)!)).toEqual([`invalidate@${receipt.seq}`, `result@${receipt.seq}`]);
  });

  it('writes a push frame whose seq a resume replay already covered', async () => {
    const first = await hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    const second = await hub.invalidate('acme', { resource: 'orders', id: 'o2' });
    const resumed = connectSink(hub, { lastEventId: first.cursor });
    // The replay covered seq 2; a result for seq 2 is no replayed frame.
    resumed.connection.push(hub.pushFrame(result('w', second.seq, 1, second.epoch)));
    endOfTick();
    expect(kinds(pushed(resumed.sink.frames))).toEqual([`result@${second.seq}`]);
  });

  it('gives the other frames the same ids with push frames in between as without them', async () => {
    // The same script twice: a coalesced progress frame held back, instant frames overtaking it.
    const script = async (withPush: boolean) => {
      const { hub: other } = fakeHub({ coalesceWindowMs: 1000 });
      const { sink, connection } = connectSink(other);
      const p = await other.progress('acme', 'job', 1, 10);
      if (withPush) connection.push(other.pushFrame(result('w1', p.seq, 'x', p.epoch)));
      const i = await other.invalidate('acme', { resource: 'orders', id: 'a' });
      if (withPush) connection.push(other.pushFrame(result('w2', i.seq, 'y', i.epoch)));
      endOfTick();
      await other.invalidate('acme', { resource: 'orders', id: 'b' });
      endOfTick();
      vi.advanceTimersByTime(1000);
      const epoch = other.stats().epoch;
      return sink.frames.filter((f) => f.message.kind !== 'result').map((f) => `${f.message.kind}@${f.seq}#${f.id?.replace(epoch, 'E')}`);
    };
    const plain = await script(false);
    expect(plain.some((id) => id.includes('.'))).toBe(true); // the script does make ids list seqs beyond
    expect(await script(true)).toEqual(plain);
  });

  it('keeps only the newest pending frame of one watch', async () => {
    const { sink, connection } = connectSink(hub);
    sink.pending = 70_000; // over the high-water mark: nothing is written yet
    const epoch = hub.stats().epoch;
    connection.push(hub.pushFrame(result('w', 1, 'old', epoch)));
    connection.push(hub.pushFrame(result('w', 2, 'new', epoch)));
    connection.push(hub.pushFrame(result('v', 2, 'other', epoch)));
    endOfTick();
    expect(pushed(sink.frames)).toEqual([]);
    sink.drain();
    expect(pushed(sink.frames).map((f) => (f.message as { data: unknown }).data)).toEqual(['new', 'other']);
  });

  it('turns results into refetch orders while paused, pending ones included, and writes them on resume', () => {
    const { sink, connection } = connectSink(hub);
    const epoch = hub.stats().epoch;
    connection.push(hub.pushFrame(result('w1', 1, 'pending', epoch)));
    connection.pause();
    connection.push(hub.pushFrame(result('w2', 2, 'while paused', epoch)));
    endOfTick();
    expect(pushed(sink.frames)).toEqual([]);
    connection.resume();
    expect(pushed(sink.frames).map((f) => f.message)).toEqual([
      { kind: 'refetch', watch: 'w1', epoch, seq: 1, reason: 'paused' },
      { kind: 'refetch', watch: 'w2', epoch, seq: 2, reason: 'paused' },
    ]);
  });

  it('drops results of a stuck connection as the outbox collapses, and sends a reset instead', async () => {
    ({ hub, counts } = fakeHub({ limits: { maxPendingFrames: 2, sinkHighWaterBytes: 100 } }));
    const { sink, connection } = connectSink(hub);
    sink.pending = 1000;
    const epoch = hub.stats().epoch;
    for (let i = 1; i <= 3; i++) connection.push(hub.pushFrame(result(`w${i}`, 0, i, epoch)));
    expect(counts.dropped).toBe(3);
    expect(connection.resetPending).toBe(true);
    expect(connection.congested(10)).toBe(true);
    sink.drain();
    expect(pushed(sink.frames)).toEqual([]);
    expect(sink.frames.map((f) => f.message.kind)).toContain('reset');
  });

  it('reports a connection congested at half its bounds or when a result would pass its byte bound', () => {
    ({ hub } = fakeHub({ limits: { maxPendingBytes: 1000, sinkHighWaterBytes: 1000 } }));
    const { sink, connection } = connectSink(hub);
    expect(connection.congested(999)).toBe(false);
    expect(connection.congested(1001)).toBe(true);
    sink.pending = 499;
    expect(connection.congested(10)).toBe(false);
    sink.pending = 500;
    expect(connection.congested(10)).toBe(true);
  });

  it('refuses frames that are not pushed results', async () => {
    const { connection } = connectSink(hub);
    const r = await hub.invalidate('acme', { resource: 'orders' });
    const control = { ...hub.pushFrame(result('w', r.seq, 1, r.epoch)), id: 'e:1' };
    expect(() => connection.push(control)).toThrow(LiveError);
  });

  it('routes every entry before whenRouted runs, so a result follows its invalidation on every connection', async () => {
    const connections = Array.from({ length: 100 }, () => connectSink(hub));
    let last = { seq: 0, epoch: '' };
    // 100 publishes to 100 connections: more recipient visits than one turn routes.
    for (let i = 0; i < 100; i++) last = await hub.invalidate('acme', { resource: 'orders', id: `o${i}` });
    let ran = false;
    hub.whenRouted(() => {
      ran = true;
      const frame = hub.pushFrame(result('w', last.seq, 'r', last.epoch));
      for (const { connection } of connections) connection.push(frame);
    });
    expect(ran).toBe(false);
    await vi.runAllTimersAsync();
    expect(ran).toBe(true);
    for (const { sink } of connections) {
      const order = kinds(sink.frames.filter((f) => f.seq === last.seq && f.message.kind !== 'hello'));
      expect(order).toEqual([`invalidate@${last.seq}`, `result@${last.seq}`]);
    }
  });

  it('reports push-to-write latency from the change a result reflects, and from the older change when it replaces a pending result', async () => {
    const latencies = { publish: [] as number[], push: [] as number[] };
    ({ hub } = fakeHub({ metrics: { publishToWrite: (ms) => latencies.publish.push(ms), pushToWrite: (ms) => latencies.push.push(ms) } }));
    const { sink, connection } = connectSink(hub);
    const first = await hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    const firstAt = Date.now(); // fake clock: the delivery's time
    endOfTick();
    expect(latencies.publish).toEqual([0]);
    expect(latencies.push).toEqual([]);
    // Its result is computed 40 ms later (fake clock) and stamped with the change's time, not the build's.
    vi.advanceTimersByTime(40);
    const stamped = hub.pushFrame(result('w', first.seq, 'one', first.epoch), firstAt);
    expect(stamped.publishedAt).toBe(firstAt);
    expect(hub.pushFrame(result('w', first.seq, 'one', first.epoch)).publishedAt).toBe(firstAt + 40);
    connection.push(stamped);
    // A second change's result replaces it in the outbox before the write: the write carries both changes.
    vi.setSystemTime(firstAt + 50);
    connection.push(hub.pushFrame(result('w', first.seq + 1, 'two', first.epoch), firstAt + 50));
    endOfTick();
    expect(pushed(sink.frames).map((f) => (f.message as { data: unknown }).data)).toEqual(['two']);
    expect(latencies.push).toEqual([50]);
    // The shared frame was not changed for other recipients: the connection wrote its own copy.
    const other = connectSink(hub);
    const shared = hub.pushFrame(result('w', first.seq + 1, 'two', first.epoch), firstAt + 50);
    other.connection.push(shared);
    endOfTick();
    expect(shared.publishedAt).toBe(firstAt + 50);
    expect(latencies.push.at(-1)).toBe(0);
  });

  it('keeps the change time on a result turned into a refetch order by a pause', () => {
    const { sink, connection } = connectSink(hub);
    const epoch = hub.stats().epoch;
    connection.pause();
    connection.push(hub.pushFrame(result('w', 1, 'x', epoch), 1234));
    vi.advanceTimersByTime(10);
    connection.resume();
    expect(pushed(sink.frames).map((f) => [f.message.kind, f.publishedAt])).toEqual([['refetch', 1234]]);
  });

  it('calls onClose listeners with the connection that closed', () => {
    const closed: string[] = [];
    const off = hub.onClose((connection) => closed.push(connection.id));
    const a = connectSink(hub);
    const b = connectSink(hub);
    a.connection.dispose();
    b.connection.close('drain');
    off();
    connectSink(hub).connection.dispose();
    expect(closed).toEqual([a.connection.id, b.connection.id]);
  });

  it('finds a connection only for its owner', () => {
    const { connection } = connectSink(hub, { groups: { user: 'u1', role: 'staff' } });
    expect(hub.ownedConnection(connection.id, { scope: 'acme', groups: { user: 'u1' } })).toBe(connection);
    expect(() => hub.ownedConnection(connection.id, { scope: 'acme', groups: { user: 'u2' } })).toThrow(/No such live connection/);
    expect(() => hub.ownedConnection(connection.id, { scope: 'globex', groups: { user: 'u1' } })).toThrow(/No such live connection/);
  });

  it('tells whether a connection receives an entry: scope, topic patterns and group filter', () => {
    const { connection } = connectSink(hub, { topics: ['orders.>'], groups: { role: 'staff' } });
    expect(receives(connection, { scope: 'acme', topic: 'orders.o1' })).toBe(true);
    expect(receives(connection, { scope: 'acme', topic: 'products' })).toBe(false);
    expect(receives(connection, { scope: 'globex', topic: 'orders.o1' })).toBe(false);
    expect(receives(connection, { scope: 'acme', topic: 'orders.o1', groups: { role: 'admin' } })).toBe(false);
    expect(receives(connection, { scope: 'acme', topic: 'orders.o1', groups: { role: ['admin', 'staff'] } })).toBe(true);
  });
});

describe('Outbox: frames without a cursor (pushed results)', () => {
  const data = (seq: number, key: string, kind = 'invalidate'): Frame =>
    ({ seq, key, lane: 'instant', epoch: 'e', id: `e:${seq}`, bytes: 10, idempotent: true, message: { kind, seq } }) as unknown as Frame;
  const push = (seq: number, watch: string): Frame =>
    ({ seq, key: `push ${watch}`, lane: 'instant', epoch: 'e', id: null, bytes: 10, idempotent: false, message: { kind: 'result', watch, seq } }) as unknown as Frame;

  it('leaves them out of the oldest pending seq, alone or beside other frames', () => {
    const outbox = new Outbox(defaultOutboxLimits, {});
    outbox.push(push(3, 'w'));
    expect(outbox.oldestPendingSeq('e')).toBe(Infinity);
    outbox.push(data(5, 'a'));
    expect(outbox.oldestPendingSeq('e')).toBe(5);
  });

  it('keeps them when a replay or a starting cursor drops what it covers', () => {
    const outbox = new Outbox(defaultOutboxLimits, {});
    outbox.push(data(2, 'a'));
    outbox.push(push(2, 'w'));
    outbox.dropUpTo('e', 4);
    expect(outbox.take({ batched: true, coalesced: true }).map((f) => f.key)).toEqual(['push w']);
  });

  it('drops them on a collapse without letting the reset stand for their seq', () => {
    const outbox = new Outbox(defaultOutboxLimits, {});
    outbox.push(push(2, 'w'));
    outbox.push(data(7, 'a', 'progress'));
    outbox.collapse();
    expect(outbox.resetReason).toBe('overflow');
    expect(outbox.resetFloor).toBe(Infinity);
    expect(outbox.dirtyKeys).toBe(1);
  });
});
