// Public API of the Redis backend: the only module that imports a Redis client.
export { createRedisBackend } from './redisBackend.ts';
export type { RedisBackend, RedisBackendMode, RedisBackendOptions, RedisBackendState } from './redisBackend.ts';
