import { expect, it } from 'vitest';
import { createHub, type Hub, type LiveMessage } from 'trpc-live/core';
import { createRedisBackend } from 'trpc-live/redis';
import { redisServerBinary } from '../../helpers/redis';
import { describeWithService } from '../../helpers/services';
import { RecordingSink } from '../../helpers/sink';
import { waitFor } from '../../helpers/wait';
import { createInstance, luaCalls, until, type Instance, useRedisServer } from './instances';

/**
 * A reconnect storm after a deploy (soak row 3c): Node 20 accepts one connection per event-loop turn, so the
 * clients of one tenant arrive a turn apart with the same cursor and each gets a Redis read of its own (a read is
 * shared only within a turn). Each read used to be decoded into new entry objects, and the hub encodes a frame once
 * per entry object: every resuming client paid for serializing the whole missed range again.
 */
describeWithService('redis-server', redisServerBinary, 'redis backend: frames of a replay storm', () => {
  const server = useRedisServer();
  let n = 0;

  /** A hub on its own backend whose serializer counts the data messages it encodes (the oracle: not the hub's own count). */
  const countingHub = (prefix: string) => {
    const encoded: string[] = [];
    const serialize = (message: LiveMessage) => {
      if (message.kind === 'invalidate') encoded.push(String(message.id));
      return JSON.stringify(message);
    };
    const backend = createRedisBackend({ url: server.redis.url, prefix, logger: null, commandTimeoutMs: 5000 });
    const hub: Hub = createHub({ backend, serialize, flushIntervalMs: 20 });
    server.open.push({ close: () => hub.close() });
    return { hub, backend, encoded };
  };
  const instance = (prefix: string): Instance => {
    const created = createInstance(server.redis.url, prefix);
    server.open.push(created);
    return created;
  };
  /** Lua script calls Redis has run so far (each replay read is one). */
  const evalCalls = () => luaCalls(server.admin);
  const keys = (sink: RecordingSink) => sink.data.map((m) => (m.kind === 'invalidate' ? String(m.id) : m.kind)).sort();
  const tenKeys = Array.from({ length: 10 }, (_, i) => `k${i}`).sort();

  /** Connects `count` clients resuming from `cursor`, one at a time: each after the previous one got its replay. */
  async function resumeOneByOne(hub: Hub, cursor: string, count: number): Promise<RecordingSink[]> {
    const sinks: RecordingSink[] = [];
    for (let i = 0; i < count; i++) {
      const sink = new RecordingSink();
      hub.connect({ scope: 'acme', sink, lastEventId: cursor });
      await waitFor(() => sink.data.length === 10, `client ${i} to get the 10 missed keys`);
      sinks.push(sink);
    }
    return sinks;
  }

  it('encodes each replayed entry once across clients resuming one turn apart (entries it never delivered live)', async () => {
    const prefix = `frames${++n}`;
    const publisher = instance(prefix);
    await publisher.untilMode('shared');
    const first = await publisher.hub.invalidate('acme', { resource: 'orders', id: 'before' });
    for (let i = 0; i < 10; i++) await publisher.hub.invalidate('acme', { resource: 'orders', id: `k${i}` });
    // The new process starts after those publishes: it has none of them.
    const { hub, backend, encoded } = countingHub(prefix);
    await backend.ready(5000);
    const reads = await evalCalls();
    const sinks = await resumeOneByOne(hub, first.cursor, 20);
    // One read per client: the storm this test is about (reads were not shared).
    expect(await evalCalls()).toBe(reads + 20);
    for (const sink of sinks) expect(keys(sink)).toEqual(tenKeys);
    // Each entry encoded once (was 200: once per client and entry).
    expect(encoded.sort()).toEqual(tenKeys);
  });

  it('replays the entry objects it delivered live, so their frames are not encoded again', async () => {
    const prefix = `frames${++n}`;
    const publisher = instance(prefix);
    await publisher.untilMode('shared');
    const { hub, backend, encoded } = countingHub(prefix);
    await backend.ready(5000);
    const watcher = new RecordingSink();
    hub.connect({ scope: 'acme', sink: watcher });
    const first = await publisher.hub.invalidate('acme', { resource: 'orders', id: 'before' });
    for (let i = 0; i < 10; i++) await publisher.hub.invalidate('acme', { resource: 'orders', id: `k${i}` });
    await until(watcher, ['before', ...Array.from({ length: 10 }, (_, i) => `k${i}`)]);
    expect(encoded.length).toBe(11);
    const sinks = await resumeOneByOne(hub, first.cursor, 20);
    for (const sink of sinks) expect(keys(sink)).toEqual(tenKeys);
    expect(encoded.length).toBe(11);
  });
});
