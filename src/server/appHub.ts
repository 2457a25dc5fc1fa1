import superjson from 'superjson';
import { combineMetrics, createHub, type Hub, type HubOptions, type LiveBackend, type LiveMessage } from 'trpc-live/core';
import { processHub, resetProcessHub } from 'trpc-live/next';
import { createRedisBackend, type RedisBackend } from 'trpc-live/redis';
import { envValue, readEnv, type EnvSource } from './env';
import { getLiveStats } from './liveStats';
import { prometheusLiveMetrics } from './prometheus';

/**
 * Serializes a message exactly as tRPC's SSE producer does with the
 * superjson transformer, so the fast transport writes identical bytes.
 */
export const serializeMessage = (message: LiveMessage): string => JSON.stringify(superjson.serialize(message));

/** Hub options the app uses. */
export function hubOptions(): HubOptions {
  return {
    serialize: serializeMessage,
    // The inspector's collector (src/server/liveStats.ts) sees every hub metric;
    // the Prometheus exporter reads its totals at scrape time and keeps two histograms.
    metrics: combineMetrics(getLiveStats(), prometheusLiveMetrics()),
    // Progress bars move twice a second: a 10,000-row import (~2-3 s) shows a
    // handful of steps instead of one jump, still far from one frame per chunk.
    coalesceWindowMs: 500,
    // Streams rotate (reconnect hint, resume from the cursor) after LIVE_MAX_DURATION_MS
    // (default 1 h; 0 turns rotation off), which spreads clients over instances after a deploy.
    ...(maxDurationMs() ? { maxDurationMs: maxDurationMs() } : {}),
  };
}

/** LIVE_MAX_DURATION_MS (0: never rotate). */
const maxDurationMs = (): number => envValue('LIVE_MAX_DURATION_MS');

/**
 * The backend the environment asks for: Redis when `LIVE_REDIS_URL` is set
 * (every instance with the same URL and `LIVE_REDIS_PREFIX` shares one
 * history), else `undefined` (the hub's in-memory default).
 * `LIVE_REDIS_MAXLEN` bounds each tenant's replay stream (default 10,000).
 * `subscribe: false` is for workers and scripts that only publish.
 */
export function liveBackendFromEnv(
  options: { subscribe?: boolean } = {},
  source?: EnvSource,
): LiveBackend | undefined {
  const env = readEnv(source);
  const url = env.LIVE_REDIS_URL;
  if (!url) return undefined;
  const maxLen = env.LIVE_REDIS_MAXLEN;
  return createRedisBackend({
    url,
    prefix: env.LIVE_REDIS_PREFIX,
    subscribe: options.subscribe ?? true,
    ...(maxLen ? { maxLenPerScope: maxLen } : {}),
  });
}

/** A hub configured like the app's, on the backend the environment asks for. */
export function createAppHub(options: { subscribe?: boolean } = {}): Hub {
  const backend = liveBackendFromEnv(options);
  return createHub({ ...hubOptions(), ...(backend ? { backend } : {}) });
}

/**
 * The process-wide hub, held by the package (`processHub`, on `globalThis`)
 * so the Next.js route bundles and the Node entry (fast transport) publish
 * into and read from one instance.
 */
export function getHub(): Hub {
  return processHub(() => {
    const hub = createAppHub();
    getLiveStats().attach(hub);
    return hub;
  });
}

/**
 * Resolves once the process-wide hub's backend has joined its shared
 * history (`true`), or after `timeoutMs` (`false`: it keeps retrying and
 * delivers to this instance's clients meanwhile). Immediate for memory.
 */
export function hubReady(timeoutMs = 5000): Promise<boolean> {
  const backend = getHub().backend as LiveBackend & Partial<Pick<RedisBackend, 'ready'>>;
  return backend.ready ? backend.ready(timeoutMs) : Promise.resolve(true);
}

/** Replaces the process-wide hub (tests). */
export function setHub(hub: Hub | undefined): void {
  resetProcessHub();
  if (hub) {
    processHub(() => hub);
    getLiveStats().attach(hub);
  }
}
