import { timingSafeEqual } from 'node:crypto';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { LANES, type Hub, type LiveMetrics, type ResetReason } from 'trpc-live/core';
import type { PushStats } from 'trpc-live/trpc';
import { envValue } from './env';
import { getLiveStats } from './liveStats';

/**
 * The exporter: its registry, the histograms the hub reports into, and a
 * scrape of a given hub. The hub is handed over per scrape
 * ({@link metricsResponse}) rather than imported: the app's hub module
 * imports this one for the histograms, and importing it back made a cycle.
 */
interface Exporter {
  readonly registry: Registry;
  readonly live: LiveMetrics;
  /** The exposition text, with the hub gauges and counters read from `hub`. */
  scrape(hub: Hub): Promise<string>;
}

const METRICS_KEY = Symbol.for('trpc-live.app.metrics');
type MetricsGlobal = { [METRICS_KEY]?: Exporter };

/** Sampling period of the event loop lag metrics (`nodejs_eventloop_lag_*`). */
const EVENT_LOOP_SAMPLE_MS = 100;

const RESET_REASONS: readonly ResetReason[] = ['unknown-cursor', 'evicted', 'epoch', 'overflow', 'gap'];

const PUSH_REFETCH_REASONS = ['error', 'too-large', 'paused', 'slow'] as const satisfies ReadonlyArray<keyof PushStats['refetches']>;

/** Where the live bindings' push counters are read from (see {@link providePushStats}; one set for every bundle). */
const PUSH_STATS_KEY = Symbol.for('trpc-live.app.pushStats');
type PushStatsGlobal = { [PUSH_STATS_KEY]?: Set<() => PushStats> };

/**
 * Adds `read` (an app binding's `live.pushStats`) to the sources of the
 * pushed-results series: computations after changes, result and delta
 * frames, refetch orders by reason. Called where the binding is created
 * (trpc/init.ts). Summed over every binding of the process (on
 * `globalThis`): the Node entry and Next's route bundle each create one,
 * and either may serve the watch calls (`TRPC_HTTP`). None: the series read 0.
 */
export function providePushStats(read: () => PushStats): void {
  const g = globalThis as PushStatsGlobal;
  (g[PUSH_STATS_KEY] ??= new Set()).add(read);
}

/** The push counters of every binding of the process, summed. */
function pushStats(): PushStats {
  const total: PushStats = { computations: 0, results: 0, deltas: 0, refetches: { error: 0, 'too-large': 0, paused: 0, slow: 0 }, owed: 0 };
  for (const read of (globalThis as PushStatsGlobal)[PUSH_STATS_KEY] ?? []) {
    const stats = read();
    total.computations += stats.computations;
    total.results += stats.results;
    total.deltas += stats.deltas;
    total.owed += stats.owed;
    for (const reason of PUSH_REFETCH_REASONS) total.refetches[reason] += stats.refetches[reason];
  }
  return total;
}

function readCounter(registry: Registry, name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

/** A counter with one label whose values are read at each scrape: `read()` maps each label value to its total. */
function readLabelledCounter(registry: Registry, name: string, help: string, label: string, read: () => Record<string, number>): void {
  new Counter({
    name,
    help,
    labelNames: [label],
    registers: [registry],
    collect() {
      this.reset();
      for (const [value, total] of Object.entries(read())) this.inc({ [label]: value }, total);
    },
  });
}

function build(): Exporter {
  const registry = new Registry();
  // The hub of the scrape in progress: collect() below runs inside `registry.metrics()`.
  let scraped: Hub | null = null;
  const getHub = (): Hub => {
    if (!scraped) throw new Error('metrics are read through metricsResponse(hub)');
    return scraped;
  };
  // The event-loop-lag histogram samples with a timer; prom-client's default (every 10 ms) wakes an idle
  // server 100 times a second: 6–7 ms of CPU per second measured, most of what an idle instance with
  // its live streams spends. Sampling every 100 ms costs about 2 ms per second and still records any
  // block of the loop (the next sample is late by as much).
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  const stats = () => getLiveStats().totals();

  new Gauge({
    name: 'trpc_live_connections',
    help: 'Open live connections (SSE streams attached to the hub).',
    registers: [registry],
    collect() {
      this.set(getHub().connectionCount);
    },
  });
  readLabelledCounter(registry, 'trpc_live_signals_published_total', 'Signals published into the hub (once per publish, whatever the fan-out), by lane.', 'lane', () => {
    const published = getHub().stats().published;
    return Object.fromEntries(LANES.map((lane) => [lane, published[lane] ?? 0]));
  });
  readLabelledCounter(registry, 'trpc_live_frames_delivered_total', 'Frames written to live connections, by lane ("replay": frames sent to resuming clients).', 'lane', () => {
    const totals = stats();
    return { ...Object.fromEntries(LANES.map((lane) => [lane, totals.deliveredByLane[lane]])), replay: totals.replayedFrames };
  });
  readCounter(registry, 'trpc_live_frames_coalesced_total', 'Pending frames replaced by a newer one for the same key.', () => stats().coalesced);
  readCounter(registry, 'trpc_live_frames_collapsed_total', 'Pending frames collapsed into dirty keys under backpressure or pause.', () => stats().collapsed);
  readCounter(registry, 'trpc_live_frames_dropped_total', 'Frames dropped under backpressure (each followed by a reset).', () => stats().dropped);
  readCounter(registry, 'trpc_live_connections_opened_total', 'Live connections opened.', () => stats().opened);
  readCounter(registry, 'trpc_live_connections_closed_total', 'Live connections closed.', () => stats().closed);
  readLabelledCounter(registry, 'trpc_live_resets_total', 'Reset signals sent (the client refetches every active query), by reason.', 'reason', () => {
    const resets = stats().resets;
    return Object.fromEntries(RESET_REASONS.map((reason) => [reason, resets[reason] ?? 0]));
  });
  readLabelledCounter(registry, 'trpc_live_replay_requests_total', 'Reconnects with a cursor: served from history (hit) or answered with a reset (miss).', 'result', () => {
    const totals = stats();
    return { hit: totals.replayHits, miss: totals.replayMisses };
  });
  readCounter(
    registry,
    'trpc_live_push_computations_total',
    'Watched queries computed after a change to push their results (each distinct query once per tenant, or once per connection).',
    () => pushStats().computations,
  );
  readCounter(
    registry,
    'trpc_live_push_owed_total',
    'Watched queries a change found on a paused stream: computed once when the stream resumes, not at each change.',
    () => pushStats().owed,
  );
  readLabelledCounter(registry, 'trpc_live_push_frames_total', 'Pushed results handed to connections: whole (result) or as a delta over the previous one.', 'kind', () => {
    const totals = pushStats();
    return { result: totals.results, delta: totals.deltas };
  });
  readLabelledCounter(registry, 'trpc_live_push_refetches_total', 'Refetch orders sent instead of a pushed result, by reason (error, too-large, paused, slow).', 'reason', () => {
    const refetches = pushStats().refetches;
    return Object.fromEntries(PUSH_REFETCH_REASONS.map((reason) => [reason, refetches[reason]]));
  });
  const latency = new Histogram({
    name: 'trpc_live_publish_to_write_seconds',
    help: 'Time from publish to the write of the oldest frame of a batch to a connection.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const pushLatency = new Histogram({
    name: 'trpc_live_push_to_write_seconds',
    help: 'Time from the publish of the oldest change a pushed result reflects to its write to a connection (its computation included).',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const batch = new Histogram({
    name: 'trpc_live_flush_batch_frames',
    help: 'Frames in one write to one connection.',
    buckets: [1, 2, 5, 10, 20, 50, 100, 200, 500],
    registers: [registry],
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
  const live: LiveMetrics = {
    publishToWrite: (ms) => latency.observe(ms / 1000),
    pushToWrite: (ms) => pushLatency.observe(ms / 1000),
    flushBatch: (frames) => batch.observe(frames),
  };
  const scrape = (hub: Hub): Promise<string> => {
    scraped = hub;
    return registry.metrics();
  };
  return { registry, live, scrape };
}

/**
 * The Prometheus registry behind `GET /api/metrics`: live connections,
 * signals published and frames delivered by lane, coalesced, collapsed and
 * dropped frames, resets by reason, replay hits and misses, publish-to-write
 * latency (of every frame, and of pushed results), flush batch sizes, draining and backend state, pushed
 * results (computations, result and delta frames, refetch orders), plus Node's
 * default process metrics. Label values are bounded (lanes, reasons, backend
 * name). Counters are read from the hub and the stats collector at scrape
 * time; only the three histograms observe on the hot path. One per process
 * (on `globalThis`).
 */
function metrics(): Exporter {
  const g = globalThis as MetricsGlobal;
  g[METRICS_KEY] ??= build();
  return g[METRICS_KEY];
}

/** The hub-side half of the exporter: the histograms the hub reports into. */
export function prometheusLiveMetrics(): LiveMetrics {
  return metrics().live;
}

/**
 * Whether a scrape on the public port may read the metrics: `allowed` only
 * with `METRICS_TOKEN` set and `Authorization: Bearer <token>`; `closed`
 * when no token is configured (the default: process and tenant-wide figures
 * are not for anonymous callers; `METRICS_PORT` serves them on localhost
 * instead, see `metricsListener.ts`); `unauthorized` for a missing or wrong token.
 */
export function metricsAccess(authorization: string | null, token = envValue('METRICS_TOKEN')): 'allowed' | 'closed' | 'unauthorized' {
  if (!token) return 'closed';
  const expected = Buffer.from(`Bearer ${token}`);
  const given = Buffer.from(authorization ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected) ? 'allowed' : 'unauthorized';
}

/**
 * The Prometheus text exposition as a fetch `Response` (no access check:
 * callers do it), with the hub series read from `hub` (the app's `getHub()`).
 */
export async function metricsResponse(hub: Hub): Promise<Response> {
  const { registry, scrape } = metrics();
  return new Response(await scrape(hub), {
    headers: { 'content-type': registry.contentType, 'cache-control': 'no-store' },
  });
}
