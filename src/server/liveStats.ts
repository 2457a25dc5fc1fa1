import { formatCursor, LANES, type Hub, type Lane, type LiveMetrics, type LiveSignal, type PublishedEntry, type ResetReason } from 'trpc-live/core';

/** Per-second counts of the last {@link WINDOW_SECONDS} seconds. */
const WINDOW_SECONDS = 60;
/** Recent signals kept per scope (tenant) for the inspector. */
const RECENT_PER_SCOPE = 40;
/** Scopes tracked; past this the least recently active one is forgotten (bounded memory). */
const MAX_SCOPES = 5_000;
/** Latency samples kept for percentiles. */
const LATENCY_SAMPLES = 512;

type LaneCounts = Record<Lane, number>;
const zeroLanes = (): LaneCounts => ({ instant: 0, batched: 0, coalesced: 0 });

/** One signal as the inspector lists it: routing facts and a one-line summary, never the payload. */
export interface RecentSignal {
  cursor: string;
  lane: Lane;
  topic: string;
  kind: LiveSignal['kind'];
  summary: string;
  /** ms since the epoch, when this server saw it. */
  at: number;
}

/** Per-second counts by lane; index 0 is the oldest second. */
export type LaneSeries = Record<Lane, number[]>;

class SecondBuckets {
  private readonly slots: LaneCounts[] = Array.from({ length: WINDOW_SECONDS }, zeroLanes);
  private readonly stamps = new Array<number>(WINDOW_SECONDS).fill(-1);

  add(second: number, lane: Lane, n: number): void {
    const i = second % WINDOW_SECONDS;
    if (this.stamps[i] !== second) {
      this.stamps[i] = second;
      this.slots[i] = zeroLanes();
    }
    this.slots[i]![lane] += n;
  }

  /** The last WINDOW_SECONDS full seconds before `second`, oldest first. */
  series(second: number): LaneSeries {
    const out: LaneSeries = { instant: [], batched: [], coalesced: [] };
    for (let s = second - WINDOW_SECONDS; s < second; s++) {
      const i = ((s % WINDOW_SECONDS) + WINDOW_SECONDS) % WINDOW_SECONDS;
      const slot = this.stamps[i] === s ? this.slots[i]! : null;
      for (const lane of LANES) out[lane].push(slot ? slot[lane] : 0);
    }
    return out;
  }
}

interface ScopeStats {
  readonly published: SecondBuckets;
  readonly recent: RecentSignal[];
  total: number;
}

/** What the inspector shows for one tenant. */
export interface LiveStatsSnapshot {
  at: number;
  epoch: string;
  draining: boolean;
  /** This tenant's open streams. */
  connections: Array<{
    id: string;
    user: string | null;
    role: string | null;
    topics: readonly string[];
    paused: boolean;
    pendingFrames: number;
    dirtyKeys: number;
    flushIntervalMs: number;
  }>;
  /** Open streams on this server, every tenant. */
  serverConnections: number;
  /** Signals this tenant published per second and lane, last 60 s (oldest first). */
  publishedPerSecond: LaneSeries;
  /** Frames this server wrote per second and lane, every tenant, last 60 s. */
  deliveredPerSecond: LaneSeries;
  recent: RecentSignal[];
  totals: {
    publishedByTenant: number;
    deliveredByLane: LaneCounts;
    replayHits: number;
    replayMisses: number;
    replayedFrames: number;
    resets: Partial<Record<ResetReason, number>>;
    coalesced: number;
    collapsed: number;
    dropped: number;
    opened: number;
    closed: number;
  };
  /** Publish-to-write latency of the last writes, in ms. */
  latencyMs: { p50: number; p99: number; samples: number };
}

function summarize(signal: LiveSignal): string {
  switch (signal.kind) {
    case 'invalidate':
      return `${signal.resource}${signal.id !== undefined ? `/${signal.id}` : ''} ${signal.action}`;
    case 'progress':
      return `${signal.key} ${signal.current}/${signal.total}`;
    case 'complete':
      return `${signal.key} ${signal.ok ? 'ok' : 'failed'}`;
    case 'event': {
      const title = signal.data && typeof signal.data === 'object' && !Array.isArray(signal.data) ? signal.data.title : undefined;
      return typeof title === 'string' ? `${signal.topic}: ${title.slice(0, 80)}` : signal.topic;
    }
    case 'batch':
      return `${signal.events.length} events`;
  }
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]! : 0;

/**
 * The in-app picture of the live layer behind the inspector page: a
 * {@link LiveMetrics} for the hub plus a tap for per-tenant signal history.
 * Bounded: 60 one-second buckets, {@link RECENT_PER_SCOPE} signals per
 * tenant, {@link MAX_SCOPES} tenants, {@link LATENCY_SAMPLES} latencies.
 * Every hot-path method is O(1).
 */
export class LiveStats implements LiveMetrics {
  private readonly scopes = new Map<string, ScopeStats>();
  private readonly deliveredBuckets = new SecondBuckets();
  private readonly deliveredTotal = zeroLanes();
  private readonly latencies: number[] = [];
  private latencyNext = 0;
  private readonly counters = {
    replayHits: 0,
    replayMisses: 0,
    replayedFrames: 0,
    coalesced: 0,
    collapsed: 0,
    dropped: 0,
    opened: 0,
    closed: 0,
  };
  private readonly resets: Partial<Record<ResetReason, number>> = {};
  private attached: Hub | null = null;
  private untap: (() => void) | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  private second(): number {
    return Math.floor(this.now() / 1000);
  }

  connectionOpened(): void {
    this.counters.opened++;
  }
  connectionClosed(): void {
    this.counters.closed++;
  }
  delivered(lane: Lane | 'replay', frames: number): void {
    // Replayed frames are counted by replay(); the series shows live traffic by lane.
    if (lane === 'replay') return;
    this.deliveredBuckets.add(this.second(), lane, frames);
    this.deliveredTotal[lane] += frames;
  }
  coalesced(): void {
    this.counters.coalesced++;
  }
  collapsed(frames: number): void {
    this.counters.collapsed += frames;
  }
  dropped(frames: number): void {
    this.counters.dropped += frames;
  }
  resetSent(reason: ResetReason): void {
    this.resets[reason] = (this.resets[reason] ?? 0) + 1;
  }
  replay(hit: boolean, frames: number): void {
    if (hit) {
      this.counters.replayHits++;
      this.counters.replayedFrames += frames;
    } else {
      this.counters.replayMisses++;
    }
  }
  publishToWrite(ms: number): void {
    if (this.latencies.length < LATENCY_SAMPLES) this.latencies.push(ms);
    else this.latencies[this.latencyNext] = ms;
    this.latencyNext = (this.latencyNext + 1) % LATENCY_SAMPLES;
  }

  /** Server-wide totals since start (for `/api/metrics`). */
  totals() {
    return { deliveredByLane: { ...this.deliveredTotal }, resets: { ...this.resets }, ...this.counters };
  }

  /** Starts recording the per-tenant history of `hub` (idempotent; a new hub replaces the old one). */
  attach(hub: Hub): void {
    if (this.attached === hub) return;
    this.untap?.();
    this.attached = hub;
    this.untap = hub.tap((entry) => this.record(entry));
  }

  private record(entry: PublishedEntry): void {
    let scope = this.scopes.get(entry.scope);
    if (scope) {
      // Re-insert: Map order doubles as least-recently-active order.
      this.scopes.delete(entry.scope);
    } else {
      scope = { published: new SecondBuckets(), recent: [], total: 0 };
      if (this.scopes.size >= MAX_SCOPES) this.scopes.delete(this.scopes.keys().next().value!);
    }
    this.scopes.set(entry.scope, scope);
    const at = this.now();
    scope.published.add(Math.floor(at / 1000), entry.lane, 1);
    scope.total++;
    scope.recent.unshift({
      cursor: formatCursor(entry.epoch, entry.seq),
      lane: entry.lane,
      topic: entry.topic,
      kind: entry.signal.kind,
      summary: summarize(entry.signal),
      at,
    });
    if (scope.recent.length > RECENT_PER_SCOPE) scope.recent.pop();
  }

  /** What one tenant's inspector shows, from `hub` (other tenants appear only as a server-wide count). */
  snapshot(hub: Hub, tenantId: string): LiveStatsSnapshot {
    const stats = hub.stats();
    const second = this.second();
    const scope = this.scopes.get(tenantId);
    const connections: LiveStatsSnapshot['connections'] = [];
    for (const connection of hub.connections()) {
      if (connection.scope !== tenantId) continue;
      connections.push({
        id: connection.id,
        user: connection.groups.user ?? null,
        role: connection.groups.role ?? null,
        topics: connection.patterns,
        paused: connection.paused,
        pendingFrames: connection.pendingFrames,
        dirtyKeys: connection.dirtyKeys,
        flushIntervalMs: Math.round(connection.flushIntervalMs()),
      });
    }
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      at: this.now(),
      epoch: stats.epoch,
      draining: stats.draining,
      connections,
      serverConnections: stats.connections,
      publishedPerSecond: scope ? scope.published.series(second) : new SecondBuckets().series(second),
      deliveredPerSecond: this.deliveredBuckets.series(second),
      recent: scope ? scope.recent.slice() : [],
      totals: {
        publishedByTenant: scope?.total ?? 0,
        deliveredByLane: { ...this.deliveredTotal },
        replayHits: this.counters.replayHits,
        replayMisses: this.counters.replayMisses,
        replayedFrames: this.counters.replayedFrames,
        resets: { ...this.resets },
        coalesced: this.counters.coalesced,
        collapsed: this.counters.collapsed,
        dropped: this.counters.dropped,
        opened: this.counters.opened,
        closed: this.counters.closed,
      },
      latencyMs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), samples: sorted.length },
    };
  }
}

const STATS_KEY = Symbol.for('trpc-live.app.liveStats');
type StatsGlobal = { [STATS_KEY]?: LiveStats };

/** The process-wide collector (on `globalThis`: the hub may be created by the Node entry or a Next bundle). */
export function getLiveStats(): LiveStats {
  const g = globalThis as StatsGlobal;
  g[STATS_KEY] ??= new LiveStats();
  return g[STATS_KEY];
}
