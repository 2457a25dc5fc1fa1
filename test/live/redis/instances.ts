import { createHub, type ConnectOptions, type Hub, type LiveMessage } from 'trpc-live/core';
import {
  createRedisBackend,
  type RedisBackend,
  type RedisBackendMode,
  type RedisBackendOptions,
  type RedisBackendState,
} from 'trpc-live/redis';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startRedis, type TestRedis } from '../../helpers/redis';
import { RecordingSink } from '../../helpers/sink';
import { waitFor } from '../../helpers/wait';

/** One simulated app instance: a hub on its own Redis backend. */
export interface Instance {
  readonly backend: RedisBackend;
  readonly hub: Hub;
  readonly states: RedisBackendState[];
  /** Resolves when the backend reports `mode` (at once if it is in it). */
  untilMode(mode: RedisBackendMode, timeoutMs?: number): Promise<void>;
  /** Connects a recording stream to this instance's hub. */
  listen(options?: Partial<ConnectOptions>): RecordingSink;
  close(): Promise<void>;
}

/** Fast retries so fault tests take milliseconds, not seconds. */
export const FAST_RETRIES: Partial<RedisBackendOptions> = { retryBaseMs: 20, retryMaxMs: 150, commandTimeoutMs: 500 };

/** Creates an instance on `url` with `prefix` (instances sharing history use the same one). */
export function createInstance(url: string, prefix: string, options: Partial<RedisBackendOptions> = {}): Instance {
  const states: RedisBackendState[] = [];
  let waiters: Array<() => void> = [];
  const backend = createRedisBackend({
    url,
    prefix,
    logger: null,
    ...FAST_RETRIES,
    ...options,
    onStateChange(state) {
      states.push(state);
      for (const waiter of waiters.splice(0)) waiter();
    },
  });
  const hub = createHub({ backend, flushIntervalMs: 20 });
  return {
    backend,
    hub,
    states,
    untilMode(mode, timeoutMs = 10_000) {
      return new Promise<void>((resolve, reject) => {
        const check = () => {
          if (backend.state().mode === mode) {
            clearTimeout(timer);
            resolve();
            return true;
          }
          return false;
        };
        const timer = setTimeout(
          () => reject(new Error(`backend did not reach ${mode} within ${timeoutMs} ms (state: ${JSON.stringify(backend.state())})`)),
          timeoutMs,
        );
        if (check()) return;
        const again = () => {
          if (!check()) waiters.push(again);
        };
        waiters.push(again);
      });
    },
    listen(connect = {}) {
      const sink = new RecordingSink();
      hub.connect({ scope: 'acme', ...connect, sink });
      return sink;
    },
    async close() {
      waiters = [];
      await hub.close();
    },
  };
}

/** Ids of invalidations and reasons of resets a sink received, in order (`reset:<reason>`). */
export function received(sink: RecordingSink): string[] {
  return sink.data.map((message: LiveMessage) => {
    if (message.kind === 'invalidate') return message.id ?? message.resource;
    if (message.kind === 'reset') return `reset:${message.reason}`;
    return message.kind;
  });
}

/** Resolves once the sink received every one of `ids` (see {@link received}). */
export async function until(sink: RecordingSink, ids: string[], timeoutMs = 5000): Promise<void> {
  // An empty list would be waited for at once (`every` of nothing is true): a caller's mistake, not a pass.
  if (ids.length === 0) throw new Error('until: no ids to wait for');
  try {
    await waitFor(() => ids.every((id) => received(sink).includes(id)), ids.join(', '), timeoutMs);
  } catch (error) {
    throw new Error(`${(error as Error).message}; the sink received: ${received(sink).join(', ') || 'nothing'}`);
  }
}

/** Lua script calls `admin`'s Redis has run so far (each replay read is one), from its own command stats. */
export async function luaCalls(admin: Pick<Redis, 'info'>): Promise<number> {
  const stats = await admin.info('commandstats');
  return [...stats.matchAll(/cmdstat_(?:evalsha|eval):calls=(\d+)/g)].reduce((sum, m) => sum + Number(m[1]), 0);
}

/**
 * A redis-server for the tests of one describe block, with an admin client on it (registers the block's hooks):
 * what a test puts in `open` is closed after it; the client and the server after the last test.
 */
export function useRedisServer() {
  const fixture = {
    redis: undefined as unknown as TestRedis,
    admin: undefined as unknown as Redis,
    open: [] as Array<{ close(): Promise<void> }>,
  };
  beforeAll(async () => {
    fixture.redis = await startRedis();
    fixture.admin = new Redis(fixture.redis.url, { lazyConnect: true });
    await fixture.admin.connect();
  });
  afterEach(async () => {
    await Promise.all(fixture.open.splice(0).map((i) => i.close()));
  });
  afterAll(async () => {
    fixture.admin.disconnect();
    await fixture.redis.stop();
  });
  return fixture;
}
