import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GET } from '../../src/app/api/metrics/route';
import { setupApp, type TestApp } from '../helpers/app';
import type { Server } from 'node:http';
import { startMetricsListener } from '../../src/server/metricsListener';
import { RecordingSink } from '../helpers/sink';

/** Parses Prometheus text into `name{labels}` → value. */
function parse(text: string): Map<string, number> {
  const values = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    values.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return values;
}

/** The scrape token of these tests (random per run). */
const TOKEN = randomBytes(16).toString('base64url');

async function scrape(headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` }) {
  const res = await GET(new Request('http://localhost/api/metrics', { headers }));
  return { res, values: parse(await res.text()) };
}

describe('GET /api/metrics', () => {
  let app: TestApp;
  beforeEach(async () => {
    vi.stubEnv('METRICS_TOKEN', TOKEN);
    app = await setupApp();
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await app.close();
  });

  it('counts exactly what a scripted workload did', async () => {
    const before = (await scrape()).values;
    const delta = (key: string) => (after.get(key) ?? 0) - (before.get(key) ?? 0);

    // Two live connections of acme, one of globex.
    const a1 = new RecordingSink();
    const a2 = new RecordingSink();
    app.hub.connect({ scope: 'acme', sink: a1 });
    app.hub.connect({ scope: 'acme', sink: a2 });
    const g = app.hub.connect({ scope: 'globex', sink: new RecordingSink() });
    // 3 invalidations and 1 progress for acme; 1 invalidation for globex.
    const first = await app.hub.invalidate('acme', { resource: 'orders', id: '1' });
    await app.hub.invalidate('acme', { resource: 'orders', id: '2' });
    await app.hub.invalidate('acme', { resource: 'orders', id: '3' });
    await app.hub.progress('acme', 'imports.x', 1, 2);
    await app.hub.invalidate('globex', { resource: 'orders', id: '9' });
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    // A reconnect served from history (2 frames), and one with a cursor of another epoch (a reset).
    const resumed = new RecordingSink();
    app.hub.connect({ scope: 'acme', sink: resumed, topics: ['orders'], lastEventId: first.cursor });
    app.hub.connect({ scope: 'acme', sink: new RecordingSink(), lastEventId: 'otherepoch:5' });
    g.dispose();

    const { res, values: after } = await scrape();
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    // Process metrics stay, event loop lag included (sampled every 100 ms instead of 10 to keep idle CPU low).
    expect(after.get('nodejs_eventloop_lag_p99_seconds')).toBeGreaterThanOrEqual(0);
    expect(after.get('trpc_live_connections')).toBe(4);
    expect(delta('trpc_live_connections_opened_total')).toBe(5);
    expect(delta('trpc_live_connections_closed_total')).toBe(1);
    expect(delta('trpc_live_signals_published_total{lane="instant"}')).toBe(4);
    expect(delta('trpc_live_signals_published_total{lane="coalesced"}')).toBe(1);
    // Instant frames: 3 to each acme connection, 1 to globex (progress waits for its window),
    // and the reset written to the reconnect from another epoch.
    expect(delta('trpc_live_frames_delivered_total{lane="instant"}')).toBe(8);
    expect(delta('trpc_live_frames_delivered_total{lane="replay"}')).toBe(2);
    expect(delta('trpc_live_replay_requests_total{result="hit"}')).toBe(1);
    expect(delta('trpc_live_replay_requests_total{result="miss"}')).toBe(1);
    expect(delta('trpc_live_resets_total{reason="epoch"}')).toBe(1);
    expect(after.get('trpc_live_draining')).toBe(0);
    expect(after.get('trpc_live_backend_up{backend="memory"}')).toBe(1);
    expect(delta('trpc_live_flush_batch_frames_count')).toBeGreaterThanOrEqual(3);
    expect(after.has('process_cpu_user_seconds_total')).toBe(true);
    expect(resumed.data.map((m) => (m.kind === 'invalidate' ? m.id : m.kind))).toEqual(['2', '3']);
  });

  it('reports draining once the hub drains', async () => {
    app.hub.drain({ jitterMs: 0 });
    expect((await scrape()).values.get('trpc_live_draining')).toBe(1);
  });

  it('requires the bearer token when METRICS_TOKEN is set', async () => {
    vi.stubEnv('METRICS_TOKEN', 'scrape-secret');
    expect((await scrape({})).res.status).toBe(401);
    expect((await scrape({ authorization: 'Bearer wrong-secret' })).res.status).toBe(401);
    expect((await scrape({ authorization: 'Bearer scrape-secre' })).res.status).toBe(401);
    const ok = await scrape({ authorization: 'Bearer scrape-secret' });
    expect(ok.res.status).toBe(200);
    expect(ok.values.has('trpc_live_connections')).toBe(true);
  });

  it('is closed to every caller when METRICS_TOKEN is unset (the default)', async () => {
    vi.stubEnv('METRICS_TOKEN', undefined);
    for (const headers of [{}, { authorization: 'Bearer ' }, { authorization: `Bearer ${TOKEN}` }] as Record<string, string>[]) {
      const { res, values } = await scrape(headers);
      expect(res.status).toBe(403);
      expect(values.has('trpc_live_connections')).toBe(false);
    }
    const res = await GET(new Request('http://localhost/api/metrics'));
    expect(await res.text()).toMatch(/set METRICS_TOKEN/);
  });
});

describe('METRICS_PORT listener', () => {
  let app: TestApp;
  let server: Server | null = null;
  beforeEach(async () => {
    app = await setupApp();
  });
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await app.close();
  });

  it('serves the metrics without a token on localhost only, and nothing else', async () => {
    const { freePort } = await import('../helpers/prodServer');
    const port = await freePort();
    server = startMetricsListener({ METRICS_PORT: String(port) });
    await new Promise<void>((resolve) => (server!.listening ? resolve() : server!.once('listening', () => resolve())));
    expect((server!.address() as AddressInfo).address).toBe('127.0.0.1');
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/^trpc_live_connections \d+$/m);
    expect((await fetch(`http://127.0.0.1:${port}/api/trpc/orders.list`)).status).toBe(404);
  });

  it('is off without METRICS_PORT and refuses a port that is not a number', () => {
    expect(startMetricsListener({})).toBeNull();
    expect(() => startMetricsListener({ METRICS_PORT: 'abc' })).toThrow(/METRICS_PORT must be a port number/);
  });
});
