import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import type { Lane } from '../live/core';
import { getHub } from './hub';

const REGISTRY_KEY = Symbol.for('trpc-live.app.metrics');
type MetricsGlobal = { [REGISTRY_KEY]?: Registry };

/**
 * A minimal Prometheus registry for `GET /api/metrics`: open live
 * connections, signals published by lane, draining state, and Node's
 * default process metrics. Values are read from the hub at scrape time, so
 * the hot path pays nothing. On `globalThis`: one registry per process,
 * whichever bundle asks first.
 */
export function getMetricsRegistry(): Registry {
  const g = globalThis as MetricsGlobal;
  if (g[REGISTRY_KEY]) return g[REGISTRY_KEY];
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'trpc_live_connections',
    help: 'Open live connections (SSE streams attached to the hub).',
    registers: [registry],
    collect() {
      this.set(getHub().connectionCount);
    },
  });
  new Gauge({
    name: 'trpc_live_published_signals',
    help: 'Signals published into the hub since start, by lane (a counter read at scrape time).',
    labelNames: ['lane'] as const,
    registers: [registry],
    collect() {
      const published = getHub().stats().published as Record<Lane, number>;
      for (const lane of ['instant', 'batched', 'coalesced'] as const) this.set({ lane }, published[lane] ?? 0);
    },
  });
  new Gauge({
    name: 'trpc_live_draining',
    help: '1 while the server drains (SIGTERM), else 0.',
    registers: [registry],
    collect() {
      this.set(getHub().draining ? 1 : 0);
    },
  });
  new Gauge({
    name: 'trpc_live_backend_up',
    help: '1 while the live backend is healthy; 0 while a shared backend (Redis) is unreachable and delivery is local only.',
    labelNames: ['backend'] as const,
    registers: [registry],
    collect() {
      const backend = getHub().backend;
      this.set({ backend: backend.name }, backend.health?.().ok === false ? 0 : 1);
    },
  });
  g[REGISTRY_KEY] = registry;
  return registry;
}
