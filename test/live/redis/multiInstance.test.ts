import { expect, it } from 'vitest';
import { createHub } from 'trpc-live/core';
import { createRedisBackend } from 'trpc-live/redis';
import { redisServerBinary } from '../../helpers/redis';
import { describeWithService } from '../../helpers/services';
import { RecordingSink } from '../../helpers/sink';
import { waitFor } from '../../helpers/wait';
import { createInstance, luaCalls, received, until, useRedisServer } from './instances';

describeWithService('redis-server', redisServerBinary, 'redis backend: several hubs on one Redis', () => {
  const server = useRedisServer();
  let prefix: string;
  let n = 0;
  const instance = (options?: Parameters<typeof createInstance>[2]) => {
    const created = createInstance(server.redis.url, prefix, options);
    server.open.push(created);
    return created;
  };
  /** Two instances sharing one history, both joined. */
  const pair = async () => {
    prefix = `multi${++n}`;
    const a = instance();
    const b = instance();
    await Promise.all([a.untilMode('shared'), b.untilMode('shared')]);
    return [a, b] as const;
  };

  /** Lua script calls Redis has run so far (each replay read is one). */
  const evalCalls = () => luaCalls(server.admin);

  it('serves a reconnect storm of one tenant (same cursor) with one Redis read, and every client gets the missed keys', async () => {
    const [a, b] = await pair();
    const watcher = new RecordingSink();
    b.hub.connect({ scope: 'acme', sink: watcher });
    const first = await a.hub.invalidate('acme', { resource: 'orders', id: 'before' });
    for (let i = 0; i < 30; i++) await a.hub.invalidate('acme', { resource: 'orders', id: `k${i % 10}` });
    await until(watcher, ['before', 'k9']);
    const before = await evalCalls();
    const sinks = Array.from({ length: 200 }, () => new RecordingSink());
    for (const sink of sinks) b.hub.connect({ scope: 'acme', sink, lastEventId: first.cursor });
    await waitFor(() => sinks.every((sink) => sink.data.length === 10), 'every client to get the 10 missed keys');
    expect(await evalCalls()).toBe(before + 1);
    for (const sink of sinks) {
      expect(sink.data.map((m) => (m.kind === 'invalidate' ? m.id : m.kind)).sort()).toEqual(
        Array.from({ length: 10 }, (_, i) => `k${i}`).sort(),
      );
    }
  });

  it('gives a reconnect made after the storm read was sent a read of its own (a shared snapshot could predate it and lose a signal)', async () => {
    const [a, b] = await pair();
    const watcher = new RecordingSink();
    b.hub.connect({ scope: 'acme', sink: watcher });
    const first = await a.hub.invalidate('acme', { resource: 'orders', id: 'before' });
    await a.hub.invalidate('acme', { resource: 'orders', id: 'missed' });
    await until(watcher, ['before', 'missed']);
    const before = await evalCalls();
    const early = Array.from({ length: 20 }, () => new RecordingSink());
    for (const sink of early) b.hub.connect({ scope: 'acme', sink, lastEventId: first.cursor });
    // The storm's read is sent at the end of this turn; its reply cannot arrive before the next poll.
    await new Promise((resolve) => setImmediate(resolve));
    const late = new RecordingSink();
    b.hub.connect({ scope: 'acme', sink: late, lastEventId: first.cursor });
    await waitFor(() => [...early, late].every((sink) => sink.data.length === 1), 'every client to get the missed key');
    expect(await evalCalls()).toBe(before + 2);
    for (const sink of [...early, late]) expect(sink.data).toMatchObject([{ kind: 'invalidate', id: 'missed' }]);
  });

  it('delivers a signal published on hub A to a matching connection on hub B, under the same cursor', async () => {
    const [a, b] = await pair();
    const onA = a.listen();
    const onB = b.listen();
    const receipt = await a.hub.invalidate('acme', { resource: 'orders', id: 'ord_1', action: 'created' });
    await until(onB, ['ord_1']);
    await until(onA, ['ord_1']);
    expect(onB.data).toEqual([{ kind: 'invalidate', resource: 'orders', id: 'ord_1', action: 'created', seq: receipt.seq }]);
    expect(onB.frames.at(-1)!.id).toBe(receipt.cursor);
    expect(onA.frames.at(-1)!.id).toBe(receipt.cursor);
    expect(a.backend.epoch()).toBe(b.backend.epoch());
  });

  it('keeps tenants and topics apart across instances', async () => {
    const [a, b] = await pair();
    const globex = b.listen({ scope: 'globex' });
    const productsOnly = b.listen({ topics: ['products'] });
    const everything = b.listen();
    await a.hub.invalidate('acme', { resource: 'orders', id: 'o1' });
    await a.hub.invalidate('acme', { resource: 'products', id: 'p1' });
    await a.hub.invalidate('globex', { resource: 'orders', id: 'g1' });
    await until(everything, ['o1', 'p1']);
    await until(globex, ['g1']);
    await until(productsOnly, ['p1']);
    expect(received(everything)).toEqual(['o1', 'p1']);
    expect(received(globex)).toEqual(['g1']);
    expect(received(productsOnly)).toEqual(['p1']);
  });

  it('replays to a connection that moved from A to B exactly the keys published while it was away', async () => {
    const [a, b] = await pair();
    const first = new RecordingSink();
    const connection = a.hub.connect({ scope: 'acme', sink: first });
    await a.hub.invalidate('acme', { resource: 'orders', id: 'seen' });
    await until(first, ['seen']);
    const cursor = first.frames.at(-1)!.id!;
    connection.dispose();
    const missed: string[] = [];
    for (let i = 0; i < 20; i++) {
      // Published on both instances; one key twice (replay keeps the latest).
      const id = `missed-${i}`;
      missed.push(id);
      await (i % 2 ? a : b).hub.invalidate('acme', { resource: 'orders', id });
    }
    await a.hub.invalidate('acme', { resource: 'orders', id: 'missed-3', action: 'deleted' });
    await a.hub.invalidate('globex', { resource: 'orders', id: 'other-tenant' });
    const moved = b.listen({ lastEventId: cursor });
    await waitFor(() => moved.data.length === 20, '20 replayed keys');
    const expected = missed.filter((id) => id !== 'missed-3').concat('missed-3');
    expect(received(moved)).toEqual(expected);
    expect(moved.data.at(-1)).toMatchObject({ id: 'missed-3', action: 'deleted' });
  });

  it('delivers what a publish-only worker publishes to every subscribing instance, and to the worker hub itself', async () => {
    const [a, b] = await pair();
    const onA = a.listen();
    const onB = b.listen();
    const worker = createHub({ backend: createRedisBackend({ url: server.redis.url, prefix, subscribe: false, logger: null }) });
    try {
      expect(await (worker.backend as ReturnType<typeof createRedisBackend>).ready()).toBe(true);
      const seen: string[] = [];
      worker.tap((entry) => seen.push(entry.key));
      const receipt = await worker.progress('acme', 'imports.1', 5, 10, undefined, { lane: 'instant' });
      await worker.invalidate('acme', { resource: 'orders', action: 'created' });
      await until(onA, ['progress', 'orders']);
      await until(onB, ['progress', 'orders']);
      expect(onB.data[0]).toMatchObject({ kind: 'progress', key: 'imports.1', current: 5, total: 10, seq: receipt.seq });
      expect(seen).toHaveLength(2);
      expect(receipt.epoch).toBe(a.backend.epoch());
    } finally {
      await worker.close();
    }
  });

  it('resets every connection on every instance when a hole appears in the sequence', async () => {
    const [a, b] = await pair();
    const onA = a.listen();
    const onB = b.listen();
    await a.hub.invalidate('acme', { resource: 'orders', id: 'one' });
    await until(onB, ['one']);
    const gapsBefore = [a.backend.state().gaps, b.backend.state().gaps];
    // A seq taken without a message: as if a signal was lost on the way.
    await server.admin.incr(`${prefix}:seq`);
    await a.hub.invalidate('acme', { resource: 'orders', id: 'two' });
    // The reset covers 'two' (the client refetches everything); later signals flow as before.
    await until(onA, ['reset:gap']);
    await until(onB, ['reset:gap']);
    await a.hub.invalidate('acme', { resource: 'orders', id: 'three' });
    await until(onB, ['three']);
    expect(received(onB)).toEqual(['one', 'reset:gap', 'three']);
    expect([a.backend.state().gaps, b.backend.state().gaps]).toEqual(gapsBefore.map((n) => n + 1));
  });

  it('resets with reason epoch and issues cursors in a new epoch when Redis lost its history', async () => {
    const [a, b] = await pair();
    const onB = b.listen();
    const before = await a.hub.invalidate('acme', { resource: 'orders', id: 'before' });
    await until(onB, ['before']);
    for (const key of await server.admin.keys(`${prefix}:*`)) await server.admin.del(key);
    const after = await a.hub.invalidate('acme', { resource: 'orders', id: 'after' });
    expect(after.epoch).not.toBe(before.epoch);
    await until(onB, ['reset:epoch']);
    expect(b.backend.epoch()).toBe(after.epoch);
    const next = await a.hub.invalidate('acme', { resource: 'orders', id: 'next' });
    await until(onB, ['next']);
    expect(onB.frames.at(-1)!.id).toBe(next.cursor);
    const late = b.listen({ lastEventId: before.cursor });
    await until(late, ['reset:epoch']);
  });

  it('resets every connection when a message on the channel cannot be read', async () => {
    const [a] = await pair();
    const onA = a.listen();
    await server.admin.publish(`${prefix}:signals`, 'not-a-signal');
    await until(onA, ['reset:gap']);
  });
});
