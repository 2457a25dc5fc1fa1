import { afterEach, expect, it } from 'vitest';
import { redisServerBinary, startRedis } from '../../helpers/redis';
import { describeWithService } from '../../helpers/services';
import { createInstance, until } from './instances';

/**
 * Soak row 3c with a forced fallback (SIGSTOP for 700 ms during the storm) counted 40-95 lost (client, publish)
 * pairs; the clients' traces (SOAK_TRACE) show every one covered in time by a reset the client got after it, but
 * that reset named `<shared epoch>:0`: the hub's last delivered entry was a local copy, so its head in the shared
 * epoch read 0. A reset's position is where the client then stands: it must not be behind the shared positions
 * it already got, nor behind the shared copies of what it got locally (the forwards Redis wrote before the rejoin).
 */
describeWithService('redis-server', redisServerBinary, 'redis backend: the reset after a rejoin', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('names a position at or after every shared position, and every shared copy, its stream got', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const a = createInstance(redis.url, 'rejoin1');
    cleanups.push(() => a.close());
    await a.untilMode('shared');
    const stream = a.listen();
    let last = await a.hub.invalidate('acme', { resource: 'orders', id: 's0' });
    for (let i = 1; i < 3; i++) last = await a.hub.invalidate('acme', { resource: 'orders', id: `s${i}` });
    await until(stream, ['s0', 's1', 's2']);
    redis.freeze();
    try {
      // In flight when Redis goes silent (delivered locally at the fallback), then one made while local.
      void a.hub.invalidate('acme', { resource: 'orders', id: 'q1' });
      await a.untilMode('local');
      await a.hub.invalidate('acme', { resource: 'orders', id: 'q2' });
      await until(stream, ['q1', 'q2']);
    } finally {
      redis.thaw();
    }
    await a.untilMode('shared');
    await until(stream, ['reset:gap']);
    const reset = stream.frames.find((frame) => frame.message.kind === 'reset')!;
    expect(reset.epoch).toBe(last.epoch);
    // Redis holds s0-s2 at 1-3 and the copies of q1 and q2 at 4-5 (q1 ran when Redis thawed, q2 was forwarded).
    expect(reset.seq).toBeGreaterThanOrEqual(last.seq + 2);
  });
});
