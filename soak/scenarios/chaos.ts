import { rmSync } from 'node:fs';
import { createClientPool } from '../lib/clientPool';
import type { StreamSpec } from '../lib/protocol';
import { int, ms, quietLog, recordCheck, until, type Check, type Log, type ScenarioResult } from '../lib/scenario';
import { startSoakServer } from '../lib/server';
import { sessionCookie } from '../lib/sessions';
import { createThreeTenantDataDir, THIRD_TENANT } from '../lib/thirdTenant';
import { mulberry32 } from '../lib/random';

/** Parameters of the convergence-under-chaos scenario. */
export interface ChaosParams {
  readonly mutations: number;
  /** Mutations in flight at once. */
  readonly concurrency: number;
  readonly clientsPerTenant: number;
  /** Per stream and second: chance of a cut, a socket stall, a `live.pause`. */
  readonly disconnectPerSec: number;
  readonly stallPerSec: number;
  readonly pausePerSec: number;
  readonly maxDownMs: number;
  readonly maxStallMs: number;
  readonly maxPauseMs: number;
  readonly processes: number;
  readonly seed: number;
}

export const full: ChaosParams = {
  mutations: 5000,
  concurrency: 8,
  clientsPerTenant: 100,
  disconnectPerSec: 0.05,
  stallPerSec: 0.05,
  pausePerSec: 0.05,
  maxDownMs: 3000,
  maxStallMs: 3000,
  maxPauseMs: 3000,
  processes: 2,
  seed: 10,
};

export const ci: ChaosParams = {
  ...full,
  mutations: 600,
  clientsPerTenant: 20,
  disconnectPerSec: 0.3,
  stallPerSec: 0.3,
  pausePerSec: 0.3,
  maxDownMs: 1000,
  maxStallMs: 1000,
  maxPauseMs: 1000,
  processes: 1,
};

const TENANTS = [
  { id: 'acme', admin: { userId: 'usr_alice', role: 'admin' }, users: ['usr_alice', 'usr_bob'], products: 4 },
  { id: 'globex', admin: { userId: 'usr_carol', role: 'admin' }, users: ['usr_carol', 'usr_dave'], products: 3 },
  { id: THIRD_TENANT.id, admin: { userId: THIRD_TENANT.admin, role: 'admin' }, users: [THIRD_TENANT.admin, THIRD_TENANT.staff], products: 4 },
] as const;
const STATUSES = ['pending', 'paid', 'shipped', 'cancelled'] as const;

/**
 * Convergence under chaos: real mutations through the app's tRPC endpoint
 * (orders, stock, thresholds) across three tenants while clients are cut and
 * come back with their cursor, stop reading their socket, and are paused
 * through `live.pause`. At the end, every client must have, for every key it
 * may receive, the last signal or a reset after it (the oracle, against the
 * hub's record of what it delivered).
 */
export async function run(params: ChaosParams = full, log: Log = quietLog): Promise<ScenarioResult> {
  const started = Date.now();
  const dataDir = createThreeTenantDataDir();
  const server = await startSoakServer({ dataDir });
  const pool = await createClientPool({ url: server.url, processes: params.processes });
  try {
    const random = mulberry32(params.seed);
    const specs: StreamSpec[] = [];
    const writers = new Map<string, string>();
    for (const tenant of TENANTS) {
      writers.set(tenant.id, await sessionCookie({ tenantId: tenant.id, userId: tenant.admin.userId, role: tenant.admin.role }));
      for (let i = 0; i < params.clientsPerTenant; i++) {
        const userId = tenant.users[i % tenant.users.length]!;
        const role = userId === tenant.admin.userId ? 'admin' : 'staff';
        specs.push({
          key: specs.length,
          cookie: await sessionCookie({ tenantId: tenant.id, userId, role }),
          view: { scope: tenant.id, groups: { user: userId, role } },
        });
      }
    }
    const opened = await pool.open(specs, 100);
    if (opened.failed) throw new Error(`${opened.failed} streams failed to open: ${(await pool.stats()).errorSamples.join('; ')}`);
    // Should the server end a stream itself, come back as EventSource would (its retry hint first).
    await pool.policy({ delayMs: 250, jitterMs: 500, honorRetry: true });
    await pool.chaosStart({
      tickMs: 100,
      disconnectPerSec: params.disconnectPerSec,
      stallPerSec: params.stallPerSec,
      pausePerSec: params.pausePerSec,
      maxDownMs: params.maxDownMs,
      maxStallMs: params.maxStallMs,
      maxPauseMs: params.maxPauseMs,
      seed: params.seed,
    });
    log(`chaos: ${opened.opened} streams open, chaos on; ${params.mutations} mutations…`);

    const orders = new Map<string, string[]>(TENANTS.map((t) => [t.id, [1, 2, 3].map((n) => `ord_${t.id}_${n}`)]));
    const outcome = { ok: 0, clientError: 0, serverError: 0, byPath: {} as Record<string, number>, samples: [] as string[] };
    let next = 0;
    const mutate = async () => {
      while (next < params.mutations) {
        next++;
        const tenant = TENANTS[Math.floor(random() * TENANTS.length)]!;
        const product = `prd_${tenant.id}_${1 + Math.floor(random() * tenant.products)}`;
        const tenantOrders = orders.get(tenant.id)!;
        const r = random();
        let path: string;
        let input: unknown;
        if (r < 0.4) {
          path = 'products.adjustStock';
          input = { id: product, delta: random() < 0.7 ? 1 + Math.floor(random() * 3) : -1 };
        } else if (r < 0.55) {
          path = 'products.setLowStockThreshold';
          input = { id: product, threshold: Math.floor(random() * 20) };
        } else if (r < 0.85) {
          path = 'orders.updateStatus';
          input = { id: tenantOrders[Math.floor(random() * tenantOrders.length)]!, status: STATUSES[Math.floor(random() * STATUSES.length)]! };
        } else {
          path = 'orders.create';
          input = { customer: `Chaos ${next}`, items: [{ productId: product, quantity: 1 }] };
        }
        const res = await fetch(`${server.url}/api/trpc/${path}`, {
          method: 'POST',
          headers: { cookie: writers.get(tenant.id)!, origin: server.url, 'content-type': 'application/json' },
          body: JSON.stringify({ json: input }),
        });
        const body = await res.text();
        outcome.byPath[path] = (outcome.byPath[path] ?? 0) + 1;
        if (res.ok) {
          outcome.ok++;
          if (path === 'orders.create') {
            const id = (JSON.parse(body) as { result?: { data?: { json?: { id?: string } } } }).result?.data?.json?.id;
            if (id) tenantOrders.push(id);
          }
        } else if (res.status >= 500) {
          outcome.serverError++;
          if (outcome.samples.length < 5) outcome.samples.push(`${path} ${res.status}: ${body.slice(0, 200)}`);
        } else {
          outcome.clientError++;
          if (outcome.samples.length < 5) outcome.samples.push(`${path} ${res.status}: ${body.slice(0, 200)}`);
        }
      }
    };
    const mutationsStarted = Date.now();
    await Promise.all(Array.from({ length: params.concurrency }, mutate));
    const mutationMs = Date.now() - mutationsStarted;
    log(`chaos: ${outcome.ok} mutations ok, ${outcome.clientError} refused, ${outcome.serverError} server errors in ${ms(mutationMs)}`);

    const settled = await pool.chaosStop(30_000);
    // Every publish the app's mutations made, recorded at the hub's API with its receipt.
    const record = await server.published();
    const entries = record.entries;
    let convergeMs = NaN;
    try {
      convergeMs = await until(async () => (await pool.verify(entries)).lost === 0, 'every client to converge', 45_000, 500);
    } catch {
      // reported below
    }
    const verify = await pool.verify(entries);
    const stats = await pool.stats();
    if (verify.lost && process.env.SOAK_TRACE) {
      const key = verify.samples[0]!.stream;
      log(`chaos: trace of stream ${key}:\n${((await pool.trace(key)) ?? []).join('\n')}`);
      log(`chaos: entries ${JSON.stringify(entries.filter((e) => e.scope === specs[key]!.view.scope).slice(0, 80))}`);
    }
    const hub = await server.call<{ connections: number }>('hub');
    log(`chaos: ${entries.length} publishes recorded; lost ${verify.lost}, duplicates ${verify.duplicates} after ${ms(convergeMs)}`);
    const perTenant = Object.fromEntries(TENANTS.map((t) => [t.id, entries.filter((e) => e.scope === t.id).length]));

    const checks: Check[] = [
      {
        name: 'mutations ran through the app',
        pass: outcome.ok + outcome.clientError === params.mutations && outcome.serverError === 0 && outcome.ok > params.mutations * 0.9,
        value: `${int(outcome.ok)} committed, ${int(outcome.clientError)} refused (4xx), ${outcome.serverError} 5xx`,
        target: `${int(params.mutations)}, no 5xx`,
      },
      {
        name: 'chaos happened',
        pass: stats.chaos.disconnects > 0 && stats.chaos.stalls > 0 && stats.chaos.pauses > 0,
        value: `${int(stats.chaos.disconnects)} cuts, ${int(stats.chaos.stalls)} stalls, ${int(stats.chaos.pauses)} live.pause (${stats.chaos.pauseErrors} refused)`,
        target: 'each > 0',
      },
      {
        name: 'every client back and connected',
        pass: settled.connected === specs.length && hub.connections === specs.length,
        value: `${settled.connected}/${specs.length} (server: ${hub.connections})`,
        target: String(specs.length),
      },
      {
        ...recordCheck('every client converged: every publish received or covered (record oracle)', verify, specs.length),
        ...(verify.lost === 0 ? {} : { value: `${verify.lost} lost on ${verify.lostStreams} clients, e.g. ${JSON.stringify(verify.samples[0])}` }),
      },
      {
        name: 'the app published, and no publish was rejected',
        pass: entries.length > 0 && record.failures === 0,
        value: `${int(entries.length)} publishes recorded, ${record.failures} rejected`,
        target: '> 0, none rejected',
      },
    ];
    return {
      name: 'chaos',
      title: 'Convergence under chaos',
      params: { ...params },
      summary:
        `${int(params.mutations)} mutations (${int(outcome.ok)} committed) across 3 tenants → ${int(entries.length)} signals to ` +
        `${specs.length} clients while ${int(stats.chaos.disconnects)} cuts, ${int(stats.chaos.stalls)} socket stalls and ` +
        `${int(stats.chaos.pauses)} live.pause happened; ${int(stats.resets)} resets sent; against the harness's record: ${verify.lost} lost, ` +
        `${verify.duplicates} duplicates over ${int(verify.expected)} (client, publish) pairs (${int(verify.received)} received, ` +
        `${int(verify.byReset)} covered by a reset, ${int(verify.replaced)} replaced by a later publish of their key)`,
      checks,
      figures: {
        outcome,
        mutationMs,
        mutationsPerSec: (params.mutations / mutationMs) * 1000,
        signals: entries.length,
        perTenant,
        chaos: stats.chaos,
        resets: stats.resets,
        resetReasons: stats.resetReasons,
        reconnects: stats.reconnects,
        unexpectedEnds: stats.unexpectedEnds,
        resumedBy: stats.resumedBy,
        serializedErrors: stats.serializedErrors,
        settled,
        convergeMs,
        verify,
      },
      method: [
        `A data folder seeded by the app (acme, globex) plus a third tenant (${THIRD_TENANT.id}) with the same shapes; ` +
          `${params.clientsPerTenant} raw SSE clients per tenant (users of that tenant). ${int(params.mutations)} mutations are sent to ` +
          '`POST /api/trpc/<path>` with an admin session of a random tenant, ' +
          `${params.concurrency} at a time: 40 % \`products.adjustStock\`, 15 % \`products.setLowStockThreshold\`, 30 % ` +
          '`orders.updateStatus`, 15 % `orders.create` (which also publishes notification events and stock changes). ' +
          'A refused mutation (e.g. out of stock) is fine: it publishes nothing.',
        `Meanwhile each idle client, per second, is cut (TCP reset, back after 0-${ms(params.maxDownMs)} with its cursor) with chance ` +
          `${params.disconnectPerSec}, stops reading its socket for 0-${ms(params.maxStallMs)} with chance ${params.stallPerSec}, or is ` +
          `paused through the app's \`live.pause\` mutation for 0-${ms(params.maxPauseMs)} (then \`live.resume\`) with chance ` +
          `${params.pausePerSec}. Then chaos stops, everyone resumes, and the record oracle checks every (client, publish) against ` +
          "what the server host recorded at the hub's API (every call the app's mutations made, with its receipt): received, or a " +
          'reset at or after it, or a later publish of the same key received (events stand alone); none twice, none outside the record.',
      ],
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await pool.shutdown();
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
