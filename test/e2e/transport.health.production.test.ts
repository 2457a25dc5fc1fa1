/**
 * `/api/health` on the production entry is answered by the Node server
 * itself, with the health route's own handler, not through Next's route
 * runtime: a load balancer's probe must not wait out several event-loop
 * turns of a large fan-out.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProductionServer, type ProductionServer } from '../helpers/prodServer';

describe('production server: health checks', () => {
  let server: ProductionServer;
  beforeAll(async () => {
    server = await startProductionServer();
  }, 600_000);
  afterAll(async () => {
    await server?.stop();
  });

  it('answers GET /api/health from the Node entry with the route handler, not through Next', async () => {
    const res = await fetch(`${server.url}/api/health`);
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await res.json()).toEqual({ status: 'ok', connections: 0, backend: { name: 'memory', ok: true } });
    // Next's route runtime adds its router Vary header to every route response (a Next route shows it).
    expect(res.headers.get('vary')).toBeNull();
    const viaNext = await fetch(`${server.url}/api/metrics`);
    expect(viaNext.headers.get('vary')).toContain('rsc');
  });

  it('answers HEAD and a health check with a query string the same way', async () => {
    const head = await fetch(`${server.url}/api/health`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('vary')).toBeNull();
    expect(await head.text()).toBe('');
    const probe = await fetch(`${server.url}/api/health?from=lb`);
    expect(probe.status).toBe(200);
    expect(probe.headers.get('vary')).toBeNull();
    expect(((await probe.json()) as { status: string }).status).toBe('ok');
  });

  it('leaves other paths that start like the health path to Next', async () => {
    const res = await fetch(`${server.url}/api/healthz`);
    expect(res.status).toBe(404);
  });
  // 503 while draining: drain.production.test.ts (its health check goes through this path too).

  it('listens with an accept queue of 4,096 connects, or the kernel cap when that is lower', () => {
    // A reconnect storm of thousands of streams overflowed Node's default queue of 511 (src/main.ts). For a
    // listening socket, `ss` shows the queue's size as Send-Q.
    const ss = spawnSync('ss', ['-Hltn', `sport = :${new URL(server.url).port}`], { encoding: 'utf8' });
    if (ss.error) {
      if (process.env.CI === 'true') throw ss.error;
      console.warn('SKIPPED: `ss` (iproute2) is not installed');
      return;
    }
    const somaxconn = Number(readFileSync('/proc/sys/net/core/somaxconn', 'utf8'));
    const queues = ss.stdout.trim().split('\n').map((line) => Number(line.trim().split(/\s+/)[2]));
    expect(queues.length).toBeGreaterThan(0);
    for (const queue of queues) expect(queue).toBe(Math.min(4_096, somaxconn));
  });
});
