import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { parseCursor } from 'trpc-live/core';
import { redisServerBinary, startRedis, type TestRedis } from '../../helpers/redis';
import { describeWithService } from '../../helpers/services';
import { createInstance, received, until, type Instance } from './instances';

/**
 * A server render on one instance reads `hub.cursor()`; the browser's stream
 * may land on another instance. The cursor must be a position of the shared
 * history, so the other instance replays exactly what came after it.
 */
describeWithService('redis-server', redisServerBinary, 'redis backend: a render\'s cursor (hub.cursor) on several instances', () => {
  let redis: TestRedis;
  let n = 0;
  const open: Instance[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((i) => i.close()));
  });
  afterAll(async () => {
    await redis?.stop();
  });

  it('gives a cursor in the shared history from which another instance replays only the later change', async () => {
    const prefix = `cursor${++n}`;
    const a = createInstance(redis.url, prefix);
    const b = createInstance(redis.url, prefix);
    open.push(a, b);
    await Promise.all([a.untilMode('shared'), b.untilMode('shared')]);
    const watcher = b.listen();
    const seen = await a.hub.invalidate('acme', { resource: 'orders', id: 'seen-by-render' });
    await until(watcher, ['seen-by-render']);
    // The render runs on B: its cursor is where the shared history stood, in the shared epoch.
    const cursor = b.hub.cursor();
    expect(cursor).toBe(seen.cursor);
    expect(parseCursor(cursor)!.epoch).toBe(b.backend.state().epoch);
    await a.hub.invalidate('acme', { resource: 'orders', id: 'in-the-gap' });
    // The browser's stream lands on A.
    const stream = a.listen({ lastEventId: cursor });
    await until(stream, ['in-the-gap']);
    expect(received(stream)).toEqual(['in-the-gap']);
  });
});
