import { afterAll, beforeAll } from 'vitest';
import { createRedisBackend } from 'trpc-live/redis';
import { redisServerBinary, startRedis, type TestRedis } from '../../helpers/redis';
import { describeWithService } from '../../helpers/services';
import { runBackendContract } from '../backendContract';

describeWithService('redis-server', redisServerBinary, 'redis backend', () => {
  let redis: TestRedis;
  let n = 0;
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    await redis.stop();
  });

  runBackendContract({
    name: 'redis',
    async createBackend({ historyLimit }) {
      // A fresh prefix per backend: its own epoch, sequence and streams on the shared test server.
      const backend = createRedisBackend({
        url: redis.url,
        prefix: `contract${++n}`,
        logger: null,
        ...(historyLimit ? { maxLenPerScope: historyLimit, exactTrim: true } : {}),
      });
      if (!(await backend.ready())) throw new Error(`Redis backend did not join: ${backend.health?.().detail}`);
      return backend;
    },
  });
});
