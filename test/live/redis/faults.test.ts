import { afterAll, afterEach, beforeAll, beforeEach, expect, it } from 'vitest';
import { redisServerBinary, startRedis, startTcpProxy, type TcpProxy, type TestRedis } from '../../helpers/redis';
import { describeWithService } from '../../helpers/services';
import { waitFor } from '../../helpers/wait';
import { createInstance, received, until, type Instance } from './instances';

describeWithService('redis-server', redisServerBinary, 'redis backend: faults', () => {
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  const cleanups: Array<() => Promise<void>> = [];
  let n = 0;
  let prefix = '';
  const instance = (url: string, options?: Parameters<typeof createInstance>[2]) => {
    const created = createInstance(url, prefix, options);
    cleanups.push(() => created.close());
    return created;
  };
  const redisForTest = async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    return redis;
  };
  const proxyTo = async (redis: TestRedis): Promise<TcpProxy> => {
    const proxy = await startTcpProxy(redis.port);
    cleanups.push(() => proxy.close());
    return proxy;
  };
  const joined = (...instances: Instance[]) => Promise.all(instances.map((i) => i.untilMode('shared')));

  beforeAll(() => {
    process.on('unhandledRejection', onRejection);
  });
  beforeEach(() => {
    prefix = `faults${++n}`;
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  afterAll(() => {
    process.off('unhandledRejection', onRejection);
  });

  it('keeps delivering locally while Redis is down, then resumes cross-instance delivery and resets every client', async () => {
    const redis = await redisForTest();
    const a = instance(redis.url);
    const b = instance(redis.url);
    await joined(a, b);
    const onA = a.listen();
    const onB = b.listen();
    const before = await a.hub.invalidate('acme', { resource: 'orders', id: 'before' });
    await until(onB, ['before']);

    await redis.kill();
    await Promise.all([a.untilMode('local'), b.untilMode('local')]);
    expect(a.backend.health!()).toMatchObject({ ok: false, detail: expect.stringMatching(/unreachable since .*local clients only/) });
    const during: string[] = [];
    const cursors: string[] = [];
    for (let i = 0; i < 5; i++) {
      const receipt = await a.hub.invalidate('acme', { resource: 'orders', id: `during-${i}` });
      expect(receipt.epoch).toBe(a.backend.epoch());
      expect(receipt.epoch).not.toBe(before.epoch);
      during.push(`during-${i}`);
      cursors.push(receipt.cursor);
    }
    await until(onA, during);
    // A client of A that reconnects during the outage is served from the local history.
    const rejoinedA = a.listen({ lastEventId: cursors[1]! });
    await until(rejoinedA, ['during-2', 'during-3', 'during-4']);
    expect(received(rejoinedA)).toEqual(['during-2', 'during-3', 'during-4']);
    // A client of B holding a shared cursor cannot be served now: reset.
    const rejoinedB = b.listen({ lastEventId: before.cursor });
    await until(rejoinedB, ['reset:gap']);
    expect(received(onB)).toEqual(['before']);

    await redis.restart();
    await joined(a, b);
    await until(onA, ['reset:gap']);
    // B's clients get a reset too, whose reason depends on the order of two events. A forwards its local
    // publishes into the restarted Redis's new epoch as it rejoins. When they reach B's fresh subscription
    // before B's own join has named that epoch, B's feed adopts it (reset 'epoch'); B's rejoin then adds its
    // 'gap', which joins a reset still pending (the first reason stays) or follows it. Otherwise 'gap' alone.
    // Either reset makes B's clients refetch everything. Seen once in CI: "the sink received: before, reset:epoch".
    await waitFor(() => received(onB).some((id) => id === 'reset:gap' || id === 'reset:epoch'), "a reset of B's client after the rejoin");
    const after = await a.hub.invalidate('acme', { resource: 'orders', id: 'after' });
    await until(onB, ['after']);
    // The restarted Redis is empty: a new shared epoch, and old cursors get `epoch`.
    expect(after.epoch).not.toBe(before.epoch);
    expect(b.backend.epoch()).toBe(after.epoch);
    const stale = b.listen({ lastEventId: before.cursor });
    await until(stale, ['reset:epoch']);
    expect(a.backend.state()).toMatchObject({ mode: 'shared', outages: 1, localPublishes: 5, error: null });
    expect(a.backend.health!()).toEqual({ ok: true, detail: `redis: shared epoch ${after.epoch}` });
    const transitions = a.states.map((s) => s.mode).filter((mode, i, all) => mode !== all[i - 1]);
    expect(transitions).toEqual(['shared', 'local', 'shared']);
  });

  it('forwards what a partitioned instance published locally to the others once healed, and resets only its own clients', async () => {
    const redis = await redisForTest();
    const proxy = await proxyTo(redis);
    const a = instance(proxy.url);
    const b = instance(redis.url);
    await joined(a, b);
    const onA = a.listen();
    const onB = b.listen();

    proxy.cut();
    await a.untilMode('local');
    expect(b.backend.state().mode).toBe('shared');
    await a.hub.invalidate('acme', { resource: 'orders', id: 'x1' });
    await a.hub.invalidate('acme', { resource: 'orders', id: 'x2' });
    await a.hub.invalidate('acme', { resource: 'orders', id: 'x1', action: 'deleted' });
    await a.hub.signal('acme', 'notifications', { text: 'hello' });
    await b.hub.invalidate('acme', { resource: 'orders', id: 'from-b' });
    await until(onA, ['x1', 'x2', 'event']);
    await until(onB, ['from-b']);
    expect(received(onA)).not.toContain('from-b');
    expect(a.backend.state().forwardPending).toBe(3);

    proxy.heal();
    await a.untilMode('shared');
    // A's clients missed 'from-b': reset. B's clients get what A published, latest per key.
    await until(onA, ['reset:gap']);
    await until(onB, ['x2', 'x1', 'event']);
    expect(received(onB)).toEqual(['from-b', 'x2', 'x1', 'event']);
    expect(onB.data.find((m) => m.kind === 'invalidate' && m.id === 'x1')).toMatchObject({ action: 'deleted' });
    expect(onB.data.find((m) => m.kind === 'event')).toMatchObject({ topic: 'notifications', data: { text: 'hello' } });
    expect(a.backend.state().forwardPending).toBe(0);
  });

  it('resets every client of every instance when more was published locally than can be forwarded', async () => {
    const redis = await redisForTest();
    const proxy = await proxyTo(redis);
    const a = instance(proxy.url, { maxForward: 2 });
    const b = instance(redis.url);
    await joined(a, b);
    const onB = b.listen();
    proxy.cut();
    await a.untilMode('local');
    for (const id of ['k1', 'k2', 'k3']) await a.hub.invalidate('acme', { resource: 'orders', id });
    proxy.heal();
    await a.untilMode('shared');
    // k1 was dropped from the forward buffer: B's clients learn it only through a reset (which
    // also covers k2 and k3 if they are still pending when it arrives).
    await until(onB, ['reset:gap']);
    expect(received(onB)).not.toContain('k1');
    expect(a.backend.state().forwardPending).toBe(0);
  });

  it('falls back to local delivery when Redis stops answering, and rejoins when it answers again', async () => {
    const redis = await redisForTest();
    const proxy = await proxyTo(redis);
    const a = instance(proxy.url, { commandTimeoutMs: 200 });
    const b = instance(redis.url);
    await joined(a, b);
    const onA = a.listen();
    const onB = b.listen();
    proxy.stall();
    // The publish does not hang: it returns within its deadline (80 ms) with the position its local
    // copy gets, and is delivered locally once Redis counts as unreachable.
    const started = performance.now();
    const receipt = await a.hub.invalidate('acme', { resource: 'orders', id: 'stalled' });
    expect(performance.now() - started).toBeLessThan(400);
    await a.untilMode('local');
    expect(receipt.epoch).toBe(a.backend.epoch());
    await until(onA, ['stalled']);
    proxy.heal();
    await a.untilMode('shared');
    await until(onA, ['reset:gap']);
    await a.hub.invalidate('acme', { resource: 'orders', id: 'healed' });
    await until(onB, ['healed']);
  });

  it('serves locally when Redis is unreachable at startup, and joins once it is reachable', async () => {
    const redis = await redisForTest();
    const proxy = await proxyTo(redis);
    proxy.cut();
    const a = instance(proxy.url);
    expect(await a.backend.ready(300)).toBe(false);
    expect(a.backend.state().mode).toBe('local');
    const onA = a.listen();
    await a.hub.invalidate('acme', { resource: 'orders', id: 'early' });
    await until(onA, ['early']);
    proxy.heal();
    expect(await a.backend.ready(10_000)).toBe(true);
    const b = instance(redis.url);
    await joined(b);
    const onB = b.listen();
    await a.hub.invalidate('acme', { resource: 'orders', id: 'joined' });
    await until(onB, ['joined']);
    await until(onA, ['reset:gap', 'joined']);
  });

  it('closes cleanly while Redis is down and stops retrying', async () => {
    const redis = await redisForTest();
    const a = instance(redis.url);
    await joined(a);
    await redis.kill();
    await a.untilMode('local');
    await a.close();
    expect(a.backend.state().mode).toBe('closed');
    await expect(a.hub.invalidate('acme', { resource: 'orders' })).rejects.toMatchObject({ code: 'CLOSED' });
  });

  it('stays shared through a burst of publishes that wait behind each other in Redis (slow is not silent)', async () => {
    const redis = await redisForTest();
    const a = instance(redis.url);
    await joined(a);
    // Bursts until one keeps its last publish waiting well past the 400 ms after which a silent Redis
    // counts as unreachable, while answers to the ones before it keep arriving.
    let elapsed = 0;
    for (let size = 5000; elapsed < 700 && size <= 80_000; size *= 2) {
      const started = performance.now();
      await Promise.all(Array.from({ length: size }, (_, i) => a.hub.invalidate('acme', { resource: 'orders', id: `k${i % 100}` })));
      await waitFor(() => a.backend.state().inFlight === 0, 'every publish answered', 20_000);
      elapsed = performance.now() - started;
    }
    expect(elapsed).toBeGreaterThanOrEqual(700);
    expect(a.backend.state(), JSON.stringify(a.backend.state())).toMatchObject({ mode: 'shared', outages: 0, localPublishes: 0 });
  }, 60_000);

  it('stays shared while a reconnect storm reads its replays from Redis (reads are not all sent at once)', async () => {
    const redis = await redisForTest();
    const a = instance(redis.url);
    await joined(a);
    // Distinct keys, so each read carries every entry after its cursor (the script compacts per key).
    const receipts: Array<{ cursor: string }> = [];
    for (let i = 0; i < 600; i++) receipts.push(await a.hub.invalidate('acme', { resource: 'orders', id: `k${i}` }));
    // Storms of streams resuming from distinct cursors (no read shared) until one keeps Redis busy well past the
    // 400 ms after which a silent Redis counts as unreachable, with a publish made behind the reads each time.
    // Sent all at once, 200 reads of 100-600 entries kept Redis from answering anything for more than 400 ms (Redis runs the
    // pipelined commands it has read before it writes their answers): the backend fell back and reset every client.
    let took = 0;
    for (let count = 200; took < 700 && count <= 1600; count *= 2) {
      const started = performance.now();
      const sinks = Array.from({ length: count }, (_, i) => a.listen({ lastEventId: receipts[i % 500]!.cursor }));
      await new Promise((resolve) => setImmediate(resolve));
      await a.hub.invalidate('acme', { resource: 'orders', id: `behind-${count}` });
      await waitFor(() => sinks.every((sink) => sink.data.length > 0), 'every stream to get its replay', 30_000);
      took = performance.now() - started;
    }
    expect(a.backend.state(), JSON.stringify(a.backend.state())).toMatchObject({ mode: 'shared', outages: 0, localPublishes: 0 });
    expect(took).toBeGreaterThanOrEqual(700);
  }, 90_000);

  it('closes within 100 ms while Redis is frozen, so a drain does not wait on Redis', async () => {
    const redis = await redisForTest();
    const a = instance(redis.url);
    await joined(a);
    redis.freeze();
    try {
      await a.untilMode('local');
      const started = performance.now();
      await a.close();
      // Measured 52 ms (QUIT gets 50 ms); before, close waited for QUIT until the command timeout (2 s by default).
      expect(performance.now() - started).toBeLessThan(100);
    } finally {
      redis.thaw();
    }
  });

  it('logs one line when Redis goes away and one when it is back, not one per retry', async () => {
    const redis = await redisForTest();
    const proxy = await proxyTo(redis);
    const lines: string[] = [];
    const logger = { info: (line: string) => lines.push(`info ${line}`), warn: (line: string) => lines.push(`warn ${line}`), error: (line: string) => lines.push(`error ${line}`) };
    const a = instance(proxy.url, { logger });
    await joined(a);
    proxy.cut();
    await a.untilMode('local');
    const changes = a.states.length;
    await waitFor(() => proxy.refused >= 5, 'five reconnect attempts');
    expect(a.states.length).toBe(changes);
    proxy.heal();
    await a.untilMode('shared');
    expect(lines).toEqual([
      expect.stringMatching(/^info \[live:redis\] connected: shared epoch \S+$/),
      expect.stringMatching(/^warn \[live:redis\] Redis unreachable \(.+\): delivering to this instance's clients only, under local epoch \S+; retrying$/),
      expect.stringMatching(/^warn \[live:redis\] Redis is back: shared epoch \S+; resetting clients$/),
    ]);
  });

  it('raised no unhandled rejection during any of the faults above', () => {
    expect(rejections).toEqual([]);
  });
});
