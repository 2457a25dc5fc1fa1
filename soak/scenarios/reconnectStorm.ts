import { createClientPool } from '../lib/clientPool';
import type { StreamSpec } from '../lib/protocol';
import { int, ms, noGapsCheck, quietLog, reportedTimeCheck, until, type Check, type Log, type ScenarioResult } from '../lib/scenario';
import { startSoakServer } from '../lib/server';
import { sessionCookie } from '../lib/sessions';

/** Parameters of the reconnect-storm scenario. */
export interface ReconnectStormParams {
  readonly clients: number;
  readonly tenants: number;
  /** Signals per second (round robin over tenants), each its own key, before, during and after the storm. */
  readonly flowRate: number;
  /** Steady delivery before the reset, ms. */
  readonly beforeMs: number;
  /** Steady delivery after every client resumed, ms. */
  readonly afterMs: number;
  /** Time every client gets to resume. */
  readonly resumeTimeoutMs: number;
  readonly processes: number;
}

export const full: ReconnectStormParams = {
  clients: 2000,
  tenants: 4,
  flowRate: 100,
  beforeMs: 5000,
  afterMs: 5000,
  resumeTimeoutMs: 60_000,
  processes: 2,
};

export const ci: ReconnectStormParams = {
  clients: 300,
  tenants: 3,
  flowRate: 60,
  beforeMs: 1500,
  afterMs: 1500,
  resumeTimeoutMs: 30_000,
  processes: 1,
};

/**
 * Reconnect storm: every live socket is reset from the server side at once
 * while signals flow; every client reconnects at once with its cursor (as
 * `httpSubscriptionLink` does: `input.lastEventId`). All must resume (replay
 * or reset), and the oracle checks that no client missed a signal.
 */
export async function run(params: ReconnectStormParams = full, log: Log = quietLog): Promise<ScenarioResult> {
  const started = Date.now();
  const server = await startSoakServer();
  const pool = await createClientPool({ url: server.url, processes: params.processes });
  try {
    const cookies = new Map<string, string>();
    const specs: StreamSpec[] = [];
    for (let key = 0; key < params.clients; key++) {
      const tenantId = `storm-${key % params.tenants}`;
      const userId = `u${key % 40}`;
      const id = `${tenantId}/${userId}`;
      if (!cookies.has(id)) cookies.set(id, await sessionCookie({ tenantId, userId, role: 'staff' }));
      specs.push({ key, cookie: cookies.get(id)!, view: { scope: tenantId, groups: { user: userId, role: 'staff' } } });
    }
    const opened = await pool.open(specs, 200);
    if (opened.failed) throw new Error(`${opened.failed} streams failed to open: ${(await pool.stats()).errorSamples.join('; ')}`);
    log(`storm: ${opened.opened} streams open in ${ms(opened.ms)}`);
    // As httpSubscriptionLink's EventSource would: come back at once, with the last cursor.
    await pool.policy({ delayMs: 0 });

    await server.tapStart();
    await server.flowStart({
      name: 'storm',
      scopes: Array.from({ length: params.tenants }, (_, t) => `storm-${t}`),
      ratePerSec: params.flowRate,
      tickMs: 20,
    });
    await new Promise((resolve) => setTimeout(resolve, params.beforeMs));
    const before = await pool.stats();

    const cpuBefore = await server.cpuMs();
    const resetAt = Date.now();
    const reset = await server.resetSockets();
    log(`storm: reset ${reset} sockets`);
    let allResumedMs = NaN;
    try {
      allResumedMs = await until(
        async () => (await pool.stats()).resumeFirst.n - before.resumeFirst.n >= params.clients,
        'every client to resume',
        params.resumeTimeoutMs,
        50,
      );
    } catch {
      // reported below
    }
    const stormCpuMs = (await server.cpuMs()) - cpuBefore;
    const gaugeAfter = await server.gauge();
    await new Promise((resolve) => setTimeout(resolve, params.afterMs));
    const flow = await server.flowStop('storm');
    const entries = await server.tapTake(true);
    let convergeMs = NaN;
    try {
      convergeMs = await until(async () => (await pool.verify(entries)).gaps === 0, 'every client to have every signal', 30_000, 250);
    } catch {
      // reported below
    }
    const verify = await pool.verify(entries);
    const stats = await pool.stats();
    const resumed = stats.resumeFirst.n - before.resumeFirst.n;
    log(`storm: ${resumed}/${params.clients} resumed, p99 ${ms(stats.resumeFirst.quantile(0.99))}; oracle gaps ${verify.gaps}`);

    const checks: Check[] = [
      { name: 'sockets reset at once', pass: reset === params.clients, value: int(reset), target: int(params.clients) },
      {
        name: 'clients resumed (replay or reset)',
        pass: resumed === params.clients && stats.openErrors === 0,
        value: `${int(resumed)} (${int(stats.resumedBy.data)} by replay/live frame, ${int(stats.resumedBy.reset)} by reset)`,
        target: int(params.clients),
      },
      noGapsCheck('no client missed a signal (oracle)', verify, params.clients),
      reportedTimeCheck('p99 time to resumed delivery', stats.resumeFirst.quantile(0.99)),
    ];
    return {
      name: 'reconnect-storm',
      title: 'Reconnect storm',
      params: { ...params },
      summary:
        `${int(params.clients)} sockets reset by the server at once under ${params.flowRate} signals/s; all ${int(resumed)} reconnected with their cursor ` +
        `and resumed (${int(stats.resumedBy.data)} by replay, ${int(stats.resumedBy.reset)} by reset): time to resumed delivery p50 ` +
        `${ms(stats.resumeFirst.quantile(0.5))}, p99 ${ms(stats.resumeFirst.quantile(0.99))}, max ${ms(stats.resumeFirst.max)} ` +
        `(server CPU ${(stormCpuMs / params.clients).toFixed(2)} ms per reconnect); ` +
        `${verify.gaps} missed signals over ${int(verify.keysChecked)} (client, key) pairs`,
      checks,
      figures: {
        reset,
        resumed,
        allResumedMs,
        resetToAllResumedMs: Number.isFinite(allResumedMs) ? allResumedMs : null,
        gaugeAfter,
        stormCpuMs,
        serverCpuPerReconnectMs: stormCpuMs / params.clients,
        resumeHello: { p50: stats.resumeHello.quantile(0.5), p99: stats.resumeHello.quantile(0.99), max: stats.resumeHello.max, n: stats.resumeHello.n },
        resumeFirst: { p50: stats.resumeFirst.quantile(0.5), p99: stats.resumeFirst.quantile(0.99), max: stats.resumeFirst.max, n: stats.resumeFirst.n },
        resumedBy: stats.resumedBy,
        resets: stats.resetReasons,
        reconnects: stats.reconnects,
        openErrors: stats.openErrors,
        errorSamples: stats.errorSamples,
        published: flow.published,
        entries: entries.length,
        verify,
        convergeMs,
        sinceResetMs: Date.now() - resetAt,
      },
      method: [
        `${int(params.clients)} raw SSE clients over ${params.tenants} tenants (${params.processes} client process(es)) receive ` +
          `${params.flowRate} invalidations/s, each on its own key. The server host then resets every live socket at once ` +
          `(\`resetAndDestroy()\` on the server side: a TCP RST, as a dropped load balancer or network would). Each client ` +
          `reconnects immediately with \`input.lastEventId\` = its last cursor, as \`httpSubscriptionLink\` does, so all ` +
          `${int(params.clients)} connect at once while signals keep flowing.`,
        'Time to resumed delivery: from the client seeing its socket end to the first data frame or reset after its new hello ' +
          '(replayed frames arrive in the same write as the hello). Server CPU per reconnect is the server process\'s CPU time ' +
          'from the reset until every client resumed (signals included), divided by the clients. The oracle then checks, for every client and every signal ' +
          'published to its tenant during the run, that it received that signal or a reset at or after it.',
      ],
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await pool.shutdown();
    await server.stop();
  }
}
