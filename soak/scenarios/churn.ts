import { createClientPool, sumVerify } from '../lib/clientPool';
import type { StreamSpec, VerifyResult } from '../lib/protocol';
import { bytes, int, ms, quietLog, recordCheck, until, type Check, type Log, type ScenarioResult } from '../lib/scenario';
import { startSoakServer } from '../lib/server';
import { sessionCookie } from '../lib/sessions';

/** Parameters of the churn scenario. */
export interface ChurnParams {
  readonly waves: number;
  readonly perWave: number;
  /** Streams opened and destroyed before the baseline heap is taken (lazy one-time setup). */
  readonly warmup: number;
  readonly tenants: number;
  /** Signals per second published while the waves run (round robin over tenants). */
  readonly flowRate: number;
  /** How long each wave stays connected, receiving, before it is destroyed. */
  readonly holdMs: number;
  readonly processes: number;
  /** Heap after GC may exceed the baseline by at most this share. */
  readonly maxHeapGrowth: number;
}

export const full: ChurnParams = { waves: 10, perWave: 1000, warmup: 1000, tenants: 5, flowRate: 200, holdMs: 1000, processes: 2, maxHeapGrowth: 0.1 };
export const ci: ChurnParams = { waves: 4, perWave: 250, warmup: 250, tenants: 3, flowRate: 100, holdMs: 300, processes: 1, maxHeapGrowth: 0.1 };

/**
 * Churn: waves of streams opened, kept while signals flow, then destroyed
 * abruptly (TCP reset from the client, no goodbye). Afterwards the
 * live-connection gauge must read 0 and the heap after a full GC must be
 * back within `maxHeapGrowth` of the baseline.
 */
export async function run(params: ChurnParams = full, log: Log = quietLog): Promise<ScenarioResult> {
  const started = Date.now();
  const server = await startSoakServer();
  const pool = await createClientPool({ url: server.url, processes: params.processes });
  try {
    const identities: Array<{ identity: { tenantId: string; userId: string; role: 'admin' | 'staff' }; cookie: string }> = [];
    for (let t = 0; t < params.tenants; t++) {
      for (let u = 0; u < 10; u++) {
        const identity = { tenantId: `churn-${t}`, userId: `u${u}`, role: u % 3 ? 'staff' : 'admin' } as const;
        identities.push({ identity, cookie: await sessionCookie(identity) });
      }
    }
    let nextKey = 0;
    const specs = (n: number): StreamSpec[] =>
      Array.from({ length: n }, () => {
        const key = nextKey++;
        const { identity, cookie } = identities[key % identities.length]!;
        return { key, cookie, view: { scope: identity.tenantId, groups: { user: identity.userId, role: identity.role } } };
      });

    const cold = await server.memory();
    log(`churn: cold heap ${bytes(cold.heapUsed)}`);
    await server.flowStart({
      name: 'churn',
      scopes: Array.from({ length: params.tenants }, (_, t) => `churn-${t}`),
      ratePerSec: params.flowRate,
      tickMs: 50,
      keys: 500,
    });

    // Warm-up: the first streams pay for lazy one-time setup (route code, JIT, key import).
    const warm = await pool.open(specs(params.warmup));
    await pool.close('rst');
    await until(async () => (await server.gauge()) === 0, 'the warm-up streams to be freed', 30_000);
    const baseline = await server.memory();
    log(`churn: warm-up ${warm.opened}/${params.warmup} opened; baseline heap ${bytes(baseline.heapUsed)}`);

    const waves: Array<{ opened: number; failed: number; openMs: number; gaugeOpen: number; lost: number; expected: number }> = [];
    const verdicts: VerifyResult[] = [];
    for (let w = 0; w < params.waves; w++) {
      const wave = specs(params.perWave);
      const keys = wave.map((s) => s.key);
      const opened = await pool.open(wave, 250);
      const gaugeOpen = await server.gauge();
      await new Promise((resolve) => setTimeout(resolve, params.holdMs));
      // Each stream's window: from the head its hello named to the last publish recorded now. It must have all of
      // its tenant's publishes in between before it is destroyed (bounded wait for the last frames in flight).
      const { entries } = await server.published();
      const last = entries[entries.length - 1];
      const windowEnd = last ? { epoch: last.epoch, seq: last.seq } : undefined;
      await until(async () => (await pool.verify(entries, { keys, until: windowEnd })).lost === 0, 'the wave to have its publishes', 10_000, 50).catch(
        () => undefined,
      );
      const verdict = await pool.verify(entries, { keys, until: windowEnd });
      verdicts.push(verdict);
      await pool.close('rst', keys);
      waves.push({ opened: opened.opened, failed: opened.failed, openMs: opened.ms, gaugeOpen, lost: verdict.lost, expected: verdict.expected });
      log(
        `churn: wave ${w + 1}/${params.waves}: ${opened.opened} opened in ${ms(opened.ms)}, gauge ${gaugeOpen}, ` +
          `${verdict.lost} of ${verdict.expected} publishes lost, destroyed`,
      );
    }
    const flow = await server.flowStop('churn');
    const gaugeWaitStarted = Date.now();
    let gauge = await server.gauge();
    try {
      await until(async () => (gauge = await server.gauge()) === 0, 'the live-connection gauge to reach 0', 30_000);
    } catch {
      // Reported below as a failed check with the value it stuck at.
    }
    const gaugeZeroMs = Date.now() - gaugeWaitStarted;
    const health = await server.health();
    const end = await server.memory();
    const stats = await pool.stats();
    const verify = sumVerify(verdicts);
    const opened = waves.reduce((n, w) => n + w.opened, 0);
    const failed = waves.reduce((n, w) => n + w.failed, 0);
    const growth = (end.heapUsed - baseline.heapUsed) / baseline.heapUsed;
    const growthCold = (end.heapUsed - cold.heapUsed) / cold.heapUsed;
    log(`churn: ${opened} opened, gauge ${gauge}, heap ${bytes(baseline.heapUsed)} → ${bytes(end.heapUsed)} (${(growth * 100).toFixed(1)} %)`);

    const total = params.waves * params.perWave;
    const checks: Check[] = [
      { name: 'every stream opened', pass: opened === total && failed === 0, value: `${int(opened)}/${int(total)}`, target: `${int(total)}` },
      recordCheck('every stream received every publish of its tenant while it was open (record oracle)', verify, total),
      { name: 'live-connection gauge after the last wave', pass: gauge === 0 && health.body.connections === 0, value: String(gauge), target: '0' },
      {
        name: 'heap after GC vs baseline',
        pass: growth <= params.maxHeapGrowth,
        value: `${bytes(baseline.heapUsed)} → ${bytes(end.heapUsed)} (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)} %)`,
        target: `≤ +${params.maxHeapGrowth * 100} %`,
      },
    ];
    return {
      name: 'churn',
      title: 'Churn',
      params: { ...params },
      summary:
        `${int(total)} streams in ${params.waves} waves of ${int(params.perWave)}, destroyed by TCP reset while ${params.flowRate} signals/s flowed ` +
        `(${int(stats.data)} frames received; against the harness's record ${verify.lost} lost, ${verify.duplicates} duplicates over ` +
        `${int(verify.expected)} (stream, publish) pairs); gauge ${gauge} ${gaugeZeroMs < 1000 ? 'at once' : `after ${ms(gaugeZeroMs)}`}; ` +
        `heap after GC ${bytes(baseline.heapUsed)} → ${bytes(end.heapUsed)} (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)} %)`,
      checks,
      figures: {
        waves,
        opened,
        failed,
        framesReceived: stats.data,
        published: flow.published,
        verify,
        gauge,
        gaugeZeroMs,
        healthConnections: health.body.connections,
        heap: { cold: cold.heapUsed, baseline: baseline.heapUsed, end: end.heapUsed, growth, growthFromCold: growthCold },
        rss: { cold: cold.rss, baseline: baseline.rss, end: end.rss },
        external: { baseline: baseline.external, end: end.external },
      },
      method: [
        `Each wave opens ${int(params.perWave)} raw SSE streams (cookie sessions across ${params.tenants} tenants, ` +
          `${params.processes} client process(es), at most 250 connecting at once per process), keeps them ${ms(params.holdMs)} ` +
          `while the server publishes ${params.flowRate} invalidations/s, then resets every socket at once (\`socket.resetAndDestroy()\`: ` +
          'a TCP RST, the server gets no request end). Before the reset, the record oracle checks each stream against the publishes ' +
          "the server host recorded at the hub's API (with receipts) for its tenant, from the head its hello named to the last publish " +
          'recorded at that moment: every one received (or covered by a reset or a later publish of its key), none twice, none outside the record.',
        `The gauge is \`trpc_live_connections\` read from \`GET /api/metrics\`. Heap is \`heapUsed\` after four forced full GCs in the ` +
          `server process (\`--expose-gc\`), taken after a warm-up of ${int(params.warmup)} streams (opened and reset the same way) ` +
          `and again after the last wave; from the cold start (before any stream) it went ${bytes(cold.heapUsed)} → ${bytes(end.heapUsed)} ` +
          `(${growthCold >= 0 ? '+' : ''}${(growthCold * 100).toFixed(1)} %).`,
      ],
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await pool.shutdown();
    await server.stop();
  }
}
