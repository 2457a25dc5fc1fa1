/**
 * Issue 15, item 2: no request can hold the server. The production server
 * with 100,000 orders in acme; one signed-in staff user of acme sends
 * maximal batches of the most expensive queries as fast as one client can
 * (more requests at once than it may have in flight), while
 *   - `/api/health` keeps its p99 at or under 50 ms, and
 *   - a globex user's mutation reaches a globex subscriber within 100 ms;
 * and a batch over the limit gets a clear 400.
 * Before the limits and the aggregates, one batch of dashboard.stats at this
 * size held the loop for seconds (issue 15: 100 calls held it 7.4 s).
 * Loopback only, bounded in time and count.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LiveMessage } from 'trpc-live/core';
import { openDb } from '../../src/server/db/database';
import { MAX_BATCH_SIZE } from '../../src/trpc/batchLimit';
import { createNodeClient } from '../helpers/client';
import { signInOverHttp } from '../helpers/http';
import { insertManyOrders } from '../helpers/manyOrders';
import { startProductionServer, type ProductionServer } from '../helpers/prodServer';

const ORDERS = 100_000;
/** How long the load runs, in ms. */
const LOAD_MS = 6_000;
/** Requests the load client keeps open at once: more than the server lets one user have in flight (8). */
const LOAD_CONCURRENCY = 9;
/** Mutations of the other tenant during the load. */
const MUTATIONS = 10;

/** The heaviest queries at this size: a customer search that matches nothing (reads every order's index entry), and the dashboard. */
const HEAVY = [
  `orders.list?batch=1&input=${encodeURIComponent(
    JSON.stringify(Object.fromEntries(Array.from({ length: MAX_BATCH_SIZE }, (_, i) => [i, { json: { search: 'no such customer', limit: 200 } }]))),
  )}`,
  'dashboard.stats?batch=1',
];
const batchUrl = (base: string, query: string) => {
  const [procedure, search] = query.split('?') as [string, string];
  return `${base}/api/trpc/${Array.from({ length: MAX_BATCH_SIZE }, () => procedure).join(',')}?${search}`;
};

/** Outcomes of the heavy client's requests. */
interface LoadOutcomes {
  ok: number;
  tooMany: number;
  other: string[];
}

/** Runs in a worker thread: `concurrency` loops sending the batch URLs in turn until `ms` have passed. */
const LOAD_WORKER = `
const { parentPort, workerData: { urls, cookie, concurrency, ms } } = require('node:worker_threads');
const stop = Date.now() + ms;
const outcomes = { ok: 0, tooMany: 0, other: [] };
Promise.all(Array.from({ length: concurrency }, async (_, lane) => {
  for (let i = lane; Date.now() < stop; i++) {
    const res = await fetch(urls[i % urls.length], { headers: { cookie } });
    await res.arrayBuffer();
    if (res.status === 200) outcomes.ok++;
    else if (res.status === 429 && res.headers.get('retry-after')) outcomes.tooMany++;
    else outcomes.other.push(String(res.status));
  }
})).then(() => parentPort.postMessage(outcomes), (error) => parentPort.postMessage({ ...outcomes, other: [String(error)] }));
`;

function runLoad(workerData: { urls: string[]; cookie: string; concurrency: number; ms: number }): Promise<LoadOutcomes> {
  const worker = new Worker(LOAD_WORKER, { eval: true, workerData });
  return new Promise<LoadOutcomes>((resolve, reject) => {
    worker.once('message', (outcomes: LoadOutcomes) => {
      resolve(outcomes);
      void worker.terminate();
    });
    worker.once('error', reject);
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

describe('production server under one heavy user (100,000 orders)', () => {
  let server: ProductionServer;
  let dataDir: string;
  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'trpc-live-load-'));
    // Straight into SQLite before the server starts: seconds, not an import's minutes.
    const db = openDb(path.join(dataDir, 'app.db'));
    insertManyOrders(db, 'acme', ORDERS);
    db.close();
    server = await startProductionServer({ DATA_DIR: dataDir });
  }, 600_000);
  afterAll(async () => {
    await server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses a batch over the limit with a clear 400, not a 5xx', async () => {
    const cookie = await signInOverHttp(server.url, 'bob@acme.test');
    for (const size of [MAX_BATCH_SIZE + 1, 100, 1_000]) {
      const res = await fetch(`${server.url}/api/trpc/${Array.from({ length: size }, () => 'dashboard.stats').join(',')}?batch=1`, {
        headers: { cookie },
      });
      const text = await res.text();
      // 1,000 calls make a URL past Node's 16 KB header limit: 431 from the HTTP parser.
      if (size === 1_000 && res.status === 431) continue;
      expect(res.status, `${size} calls: ${text.slice(0, 200)}`).toBe(400);
      expect(text).toContain(`at most ${MAX_BATCH_SIZE} calls`);
    }
  });

  it("keeps health p99 <= 50 ms and delivers another tenant's mutation within 100 ms while one user sends maximal batches", async () => {
    const bob = await signInOverHttp(server.url, 'bob@acme.test');
    const carol = await signInOverHttp(server.url, 'carol@globex.test');
    const dave = await signInOverHttp(server.url, 'dave@globex.test');

    // A globex subscriber, and a globex writer (bearer: a non-browser client).
    const received: Array<{ message: LiveMessage; at: number }> = [];
    let hello!: () => void;
    const ready = new Promise<void>((resolve) => (hello = resolve));
    const subscription = createNodeClient(server.url, carol).live.stream.subscribe(undefined, {
      onData(value) {
        const tracked = value as unknown as { id?: string; data?: LiveMessage };
        const message = (tracked.id ? tracked.data : value) as LiveMessage;
        if (message.kind === 'hello') hello();
        received.push({ message, at: performance.now() });
      },
    });
    const writer = createNodeClient(server.url, null, { authorization: `Bearer ${decodeURIComponent(dave.split('=')[1]!)}` });

    try {
      await ready;
      // The first call of a path compiles its code and statements: not what is measured.
      await writer.products.adjustStock.mutate({ id: 'prd_globex_1', delta: 1 });
      for (const query of HEAVY) await (await fetch(batchUrl(server.url, query), { headers: { cookie: bob } })).arrayBuffer();
      // For the report: the same probe on the idle server (a loaded CI machine shows here).
      const idle: number[] = [];
      for (let i = 0; i < 100; i++) {
        const started = performance.now();
        await (await fetch(`${server.url}/api/health`)).arrayBuffer();
        idle.push(performance.now() - started);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      idle.sort((a, b) => a - b);
      const stop = performance.now() + LOAD_MS;
      // The heavy client runs on its own thread, so its own work never delays this thread's probes.
      const load = runLoad({
        urls: HEAVY.map((query) => batchUrl(server.url, query)),
        cookie: bob,
        concurrency: LOAD_CONCURRENCY,
        ms: LOAD_MS,
      });

      const health: number[] = [];
      const probe = (async () => {
        while (performance.now() < stop) {
          const started = performance.now();
          const res = await fetch(`${server.url}/api/health`);
          await res.arrayBuffer();
          health.push(performance.now() - started);
          await new Promise((resolve) => setTimeout(resolve, 5));
        }
      })();

      const delivery: number[] = [];
      const mutations = (async () => {
        await new Promise((resolve) => setTimeout(resolve, 500));
        for (let i = 0; i < MUTATIONS && performance.now() < stop - 300; i++) {
          const before = received.length;
          const started = performance.now();
          await writer.products.adjustStock.mutate({ id: 'prd_globex_1', delta: i % 2 ? -1 : 1 });
          const deadline = performance.now() + 2_000;
          let hit: { at: number } | undefined;
          while (!(hit = received.slice(before).find((r) => r.message.kind === 'invalidate' && r.message.resource === 'products'))) {
            if (performance.now() > deadline) break;
            await new Promise((resolve) => setTimeout(resolve, 1));
          }
          delivery.push(hit ? hit.at - started : Infinity);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      })();

      const [outcomes] = await Promise.all([load, probe, mutations]);
      health.sort((a, b) => a - b);
      const p99 = percentile(health, 99);
      console.log(
        `[load] ${outcomes.ok} batches of ${MAX_BATCH_SIZE} served, ${outcomes.tooMany} refused (429) in ${LOAD_MS} ms; ` +
          `idle health p50 ${percentile(idle, 50).toFixed(1)} / p99 ${percentile(idle, 99).toFixed(1)} ms; ` +
          `health p50 ${percentile(health, 50).toFixed(1)} / p99 ${p99.toFixed(1)} / max ${health.at(-1)!.toFixed(1)} ms over ${health.length} samples; ` +
          `other tenant's mutation -> subscriber: ${delivery.map((d) => d.toFixed(0)).join(', ')} ms`,
      );
      expect(outcomes.other).toEqual([]);
      // The load was real: the heavy user was served throughout (80+ heavy calls), and sent more than it may have in flight.
      expect(outcomes.ok).toBeGreaterThanOrEqual(8);
      expect(outcomes.tooMany).toBeGreaterThan(0);
      // Enough samples that p99 is not the maximum of a handful.
      expect(health.length).toBeGreaterThanOrEqual(200);
      expect(p99, `health p99 over ${health.length} samples`).toBeLessThanOrEqual(50);
      expect(delivery.length).toBeGreaterThanOrEqual(5);
      expect(Math.max(...delivery), `delivery times ${delivery.join(', ')}`).toBeLessThanOrEqual(100);
    } finally {
      subscription.unsubscribe();
    }
  }, 60_000);
});
