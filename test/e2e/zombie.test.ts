import { request, type ClientRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setupApp, sessionCookieFor, type TestApp } from '../helpers/app';
import { serveTrpc } from '../helpers/http';
import { waitFor } from '../helpers/wait';

const CLIENTS = 50;

/** Counts of the active handles/requests Node reports, by type. */
function activeResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

/** Opens a raw SSE request and resolves once the hub's hello frame arrived. */
function openStream(url: string, cookie: string): Promise<ClientRequest> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/trpc/live.stream`, { headers: { cookie, accept: 'text/event-stream' } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text.includes('"hello"')) resolve(req);
      });
      res.on('error', () => undefined);
    });
    req.on('error', (error) => {
      if (!req.destroyed) reject(error);
    });
    req.end();
  });
}

// Both transports: tRPC's stock route (next dev) and the fast transport (production).
describe.each(['stock', 'fast'] as const)('zombies over the %s transport: abruptly destroyed stream sockets', (transport) => {
  let app: TestApp;
  let server: Awaited<ReturnType<typeof serveTrpc>>;
  let closed = 0;
  let onClosed: () => void = () => undefined;
  beforeAll(async () => {
    app = await setupApp({
      metrics: {
        connectionClosed: () => {
          closed++;
          onClosed();
        },
      },
    });
    server = await serveTrpc({ transport });
  });
  afterAll(async () => {
    await server.close();
    await app.close();
  });

  it('frees every connection, and the timers and listeners it held, after 50 sockets are destroyed', async () => {
    const cookie = await sessionCookieFor('bob@acme.test');
    // Warm up the handler once, so lazily created resources are in the baseline.
    (await openStream(server.url, cookie)).destroy();
    await waitFor(() => app.hub.connectionCount === 0, 'warm-up stream to close');
    const baseline = activeResources();

    const streams = await Promise.all(Array.from({ length: CLIENTS }, () => openStream(server.url, cookie)));
    expect(app.hub.connectionCount).toBe(CLIENTS);
    const during = activeResources();
    if (transport === 'stock') {
      expect(during.Timeout ?? 0).toBeGreaterThan(baseline.Timeout ?? 0); // tRPC's per-stream ping timers
    } else {
      // One shared ping timer (visited streams counted instead; a transient baseline timer can hide one timer).
      expect(during.Timeout ?? 0).toBeGreaterThanOrEqual(1);
      expect(server.live!.streams).toBe(CLIENTS);
    }

    closed = 0;
    const allClosed = new Promise<void>((resolve) => {
      onClosed = () => closed === CLIENTS && resolve();
    });
    const started = performance.now();
    for (const stream of streams) stream.destroy();
    // The deadline timer is cleared at once, so it does not count as a leftover timer below.
    let deadline: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      allClosed,
      new Promise((_, reject) => {
        deadline = setTimeout(() => reject(new Error(`only ${closed}/${CLIENTS} closed`)), 5000);
      }),
    ]).finally(() => clearTimeout(deadline));
    console.log(`[zombie] ${CLIENTS} destroyed sockets left the hub in ${(performance.now() - started).toFixed(1)} ms`);
    expect(app.hub.connectionCount).toBe(0);
    expect(server.live?.streams ?? 0).toBe(0);
    const t0 = performance.now();
    await waitFor(() => (activeResources().Timeout ?? 0) <= (baseline.Timeout ?? 0), 'ping timers to be cleared');
    console.log(`[zombie] timers back to baseline after ${(performance.now() - t0).toFixed(1)} ms`, activeResources(), baseline);
    const sockets = await new Promise<number>((resolve, reject) =>
      server.server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
    );
    expect(sockets).toBe(0);
  });
});
