// Public API of the Redis backend: the only module that imports a Redis client.
export { createRedisBackend } from './redisBackend';
export type { RedisBackend, RedisBackendMode, RedisBackendOptions, RedisBackendState } from './redisBackend';
