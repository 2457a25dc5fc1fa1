import { createClientPool } from '../lib/clientPool';
import { Histogram } from '../lib/histogram';
import type { StreamSpec } from '../lib/protocol';
import { bytes, int, ms, quietLog, recordCheck, until, type Check, type Log, type ScenarioResult } from '../lib/scenario';
import { startSoakServer, type ConnectionInfo } from '../lib/server';
import { sessionCookie } from '../lib/sessions';

/** Parameters of the stuck-client scenario. */
export interface StuckClientParams {
  /** Normal clients (they receive the latency flow). */
  readonly normal: number;
  /** Normal clients that also read the bulk topic (so the bulk flow is consumed in both runs). */
  readonly bulkReaders: number;
  /** Length of the stuck run and of the baseline (half before it, half after), ms. */
  readonly runMs: number;
  /** Latency flow: signals per second to every client. */
  readonly latRate: number;
  /** Bulk flow (the stuck client's busy topic): signals per second, padding bytes, distinct keys. */
  readonly bulkRate: number;
  readonly bulkPad: number;
  readonly bulkKeys: number;
  /** Keep the stuck run going until the server holds a backlog for the stuck client (at most this long). */
  readonly engageTimeoutMs: number;
  /** Time the stuck client gets to converge once it reads again. */
  readonly catchUpMs: number;
  readonly processes: number;
  /** Budget of server memory held for the stuck client. */
  readonly maxStuckBytes: number;
  /** p99 latency of normal clients may grow by at most this factor. */
  readonly maxP99Ratio: number;
}

export const full: StuckClientParams = {
  normal: 1000,
  bulkReaders: 9,
  runMs: 60_000,
  latRate: 20,
  bulkRate: 100,
  bulkPad: 1500,
  bulkKeys: 5000,
  engageTimeoutMs: 120_000,
  catchUpMs: 60_000,
  processes: 2,
  maxStuckBytes: 1024 * 1024,
  maxP99Ratio: 1.2,
};

export const ci: StuckClientParams = {
  normal: 100,
  bulkReaders: 4,
  runMs: 4_000,
  latRate: 20,
  bulkRate: 400,
  bulkPad: 1500,
  bulkKeys: 5000,
  engageTimeoutMs: 40_000,
  catchUpMs: 40_000,
  processes: 1,
  maxStuckBytes: 1024 * 1024,
  maxP99Ratio: 1.2,
};

const TENANT = 'stuck-t';
/** A p99 compared here must come from at least this many deliveries (issue 19: ≥ 300 samples per p99). */
const MIN_TAIL_SAMPLES = 300;
/** Per frame referenced by an outbox: the frame and message objects and a map entry, estimated high. */
const FRAME_OVERHEAD = 400;

/** What the server holds for one stream, in bytes: text in the outbox and the socket buffer, plus per-frame objects. */
const attributable = (c: ConnectionInfo) => c.heldBytes + c.sinkPendingBytes + c.heldFrames * FRAME_OVERHEAD;

/**
 * Stuck client: one client stops reading its socket beside `normal` clients
 * receiving a steady flow, for `runMs`; the same flows without the stuck
 * client, half before and half after, are the baseline. The server's memory for the stuck client must
 * stay under `maxStuckBytes`, normal clients' p99 within `maxP99Ratio` of
 * the baseline, and once it reads again the stuck client must converge
 * (last value per key, or a reset after it; checked by the oracle).
 */
export async function run(params: StuckClientParams = full, log: Log = quietLog): Promise<ScenarioResult> {
  const started = Date.now();
  const server = await startSoakServer();
  const pool = await createClientPool({ url: server.url, processes: params.processes, latencyFlow: 'lat' });
  try {
    const specs: StreamSpec[] = [];
    const total = params.normal + params.bulkReaders + 1;
    for (let key = 0; key < total; key++) {
      const stuck = key === total - 1;
      const bulk = key >= params.normal;
      const identity = { tenantId: TENANT, userId: stuck ? 'stuck' : `u${key % 50}`, role: 'staff' } as const;
      specs.push({
        key,
        cookie: await sessionCookie(identity),
        view: { scope: TENANT, groups: { user: identity.userId, role: identity.role }, topics: bulk ? ['lat', 'bulk'] : ['lat'] },
        recordLatency: !bulk,
      });
    }
    const stuckKey = total - 1;
    const opened = await pool.open(specs);
    if (opened.failed) throw new Error(`${opened.failed} streams failed to open: ${(await pool.stats()).errorSamples.join('; ')}`);
    log(`stuck: ${opened.opened} streams open`);

    const startFlows = async () => {
      await server.flowStart({ name: 'lat', scopes: [TENANT], topic: 'lat', ratePerSec: params.latRate, tickMs: 1000 / params.latRate });
      await server.flowStart({
        name: 'bulk',
        scopes: [TENANT],
        topic: 'bulk',
        ratePerSec: params.bulkRate,
        tickMs: 20,
        padBytes: params.bulkPad,
        keys: params.bulkKeys,
      });
    };
    const stopFlows = async () => {
      await server.flowStop('lat');
      await server.flowStop('bulk');
    };

    /**
     * A run without the stuck client (it reads normally): half before the
     * stuck run and half after it, so drift over time (machine load, a replay
     * log filling up, JIT) weighs on both sides alike. Nothing else runs
     * meanwhile (no GC is forced while signals flow: it would stall delivery).
     */
    const baselineRun = async (durationMs: number) => {
      await pool.resetLatency();
      await startFlows();
      await new Promise((resolve) => setTimeout(resolve, durationMs));
      await stopFlows();
      // Everything recorded so far (the record is cumulative: each verdict covers the runs before too).
      const { entries } = await server.published();
      // Let in-flight frames land before the oracle looks (bounded; the oracle decides).
      await until(async () => (await pool.verify(entries)).lost === 0, 'baseline clients to have every signal', 30_000, 250).catch(() => 0);
      const verify = await pool.verify(entries);
      const stats = await pool.stats();
      return { latency: stats.latency, verify, entries: entries.length };
    };
    const before = await baselineRun(params.runMs / 2);
    log(`stuck: baseline (first half) p99 ${ms(before.latency.quantile(0.99))}; lost ${before.verify.lost}`);
    const quietHeap = await server.memory();

    // Stuck run.
    await pool.resetLatency();
    await pool.stall([stuckKey], true);
    await startFlows();
    const runStarted = Date.now();
    let maxHeld: ConnectionInfo | null = null;
    let engagedAt: number | null = null;
    let collapsedAt: number | null = null;
    let collapsed = false;
    let maxSink = 0;
    const sampleStuck = async () => {
      const [info] = await server.connections({ groups: { user: 'stuck' } });
      if (!info) return;
      if (!maxHeld || attributable(info) > attributable(maxHeld)) maxHeld = info;
      maxSink = Math.max(maxSink, info.sinkPendingBytes);
      if (!collapsed && (info.dirtyKeys > 0 || info.resetPending)) {
        collapsed = true;
        collapsedAt = Date.now() - runStarted;
      }
      if (engagedAt === null && (info.sinkPendingBytes > 0 || info.pendingFrames > 0 || info.dirtyKeys > 0 || info.resetPending)) {
        engagedAt = Date.now() - runStarted;
      }
    };
    while (Date.now() - runStarted < params.runMs || (!collapsed && Date.now() - runStarted < params.engageTimeoutMs)) {
      await sampleStuck();
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    await sampleStuck();
    const stuckRunMs = Date.now() - runStarted;
    const [atEnd] = await server.connections({ groups: { user: 'stuck' } });
    await stopFlows();
    const heldHeap = await server.memory();

    // The stuck client reads again: it must converge (collapsed keys or a reset, never a gap).
    const { entries: recorded } = await server.published();
    const resumeAt = Date.now();
    await pool.stall([stuckKey], false);
    let catchUpMs = NaN;
    try {
      catchUpMs = await until(async () => (await pool.verify(recorded, { keys: [stuckKey] })).lost === 0, 'the stuck client to converge', params.catchUpMs, 250);
    } catch {
      // reported by the oracle check below
    }
    const stuckVerify = await pool.verify(recorded, { keys: [stuckKey] });
    const othersVerify = await pool.verify(recorded, { keys: specs.map((s) => s.key).filter((k) => k !== stuckKey) });
    const counts = await pool.counts();
    const stuckCounts = counts.get(stuckKey)!;
    const stuckStats = await pool.stats();
    const afterHeap = await server.memory();
    const [drained] = await server.connections({ groups: { user: 'stuck' } });
    log(
      `stuck: after ${ms(stuckRunMs)} the server held ${atEnd ? bytes(attributable(atEnd)) : '?'} for the stuck client ` +
        `(max ${maxHeld ? bytes(attributable(maxHeld)) : '?'}); normal p99 ${ms(stuckStats.latency.quantile(0.99))}; ` +
        `it converged ${ms(catchUpMs)} after reading again`,
    );

    const after = await baselineRun(params.runMs / 2);
    const baseLatency = new Histogram();
    baseLatency.merge(before.latency.toJSON());
    baseLatency.merge(after.latency.toJSON());
    const baseline = {
      p50: baseLatency.quantile(0.5),
      p99: baseLatency.quantile(0.99),
      max: baseLatency.max,
      samples: baseLatency.n,
      p99Before: before.latency.quantile(0.99),
      p99After: after.latency.quantile(0.99),
      entries: after.entries,
      verifyBefore: before.verify,
      // Cumulative: every publish of the whole run, for every client (the stuck one included, long after it drained).
      verify: after.verify,
    };
    log(`stuck: baseline p99 ${ms(baseline.p99Before)} before, ${ms(baseline.p99After)} after the stuck run`);

    const heldByHeap = heldHeap.heapUsed + heldHeap.external - (afterHeap.heapUsed + afterHeap.external);
    const stuckP99 = stuckStats.latency.quantile(0.99);
    const ratio = stuckP99 / baseline.p99;
    const held = maxHeld as ConnectionInfo | null;
    const maxAttributable = held ? attributable(held) : NaN;
    const checks: Check[] = [
      {
        name: 'server-side backlog engaged for the stuck client',
        pass: collapsed,
        value: collapsed
          ? `socket buffer in use after ${ms(engagedAt ?? NaN)} (kernel buffers full), outbox collapsed after ${ms(collapsedAt ?? NaN)}`
          : `never collapsed in ${ms(stuckRunMs)} (socket buffer max ${bytes(maxSink)})`,
        target: 'dirty keys or a pending reset',
      },
      {
        name: 'server memory held for the stuck client (max of samples)',
        pass: maxAttributable < params.maxStuckBytes,
        value: held
          ? `${bytes(maxAttributable)} (${int(held.heldFrames)} frames, ${bytes(held.heldBytes)} text, socket buffer ${bytes(held.sinkPendingBytes)})`
          : 'not sampled',
        target: `< ${bytes(params.maxStuckBytes)}`,
      },
      {
        name: 'heap held for the stuck client (GC, stuck vs after it drained)',
        pass: heldByHeap < params.maxStuckBytes,
        value: bytes(heldByHeap),
        target: `< ${bytes(params.maxStuckBytes)}`,
      },
      {
        ...recordCheck('stuck client converged after reading again (record oracle)', stuckVerify, 1),
        ...(stuckVerify.lost === 0
          ? {}
          : { value: `${stuckVerify.lost} publishes lost, e.g. ${JSON.stringify(stuckVerify.samples[0])}` }),
      },
      recordCheck('normal clients missed nothing during the stuck run (record oracle)', othersVerify, total - 1),
      recordCheck('every client has every publish of the whole run, baselines included (record oracle)', baseline.verify, total),
      {
        name: 'normal clients p99 latency, stuck run / baseline',
        pass: ratio <= params.maxP99Ratio && stuckStats.latency.n >= MIN_TAIL_SAMPLES && baseline.samples >= MIN_TAIL_SAMPLES,
        value: `${ms(stuckP99)} / ${ms(baseline.p99)} = ${ratio.toFixed(2)}x (n=${int(stuckStats.latency.n)} / ${int(baseline.samples)})`,
        target: `≤ ${params.maxP99Ratio}x, each p99 over ≥ ${MIN_TAIL_SAMPLES} samples`,
        strict: false,
      },
    ];
    return {
      name: 'stuck-client',
      title: 'Stuck client',
      params: { ...params },
      summary:
        `1 client stops reading for ${ms(stuckRunMs)} beside ${int(params.normal + params.bulkReaders)} normal ones; server holds at most ` +
        `${bytes(maxAttributable)} for it (heap Δ ${bytes(heldByHeap)}); normal p99 ${ms(stuckP99)} vs ${ms(baseline.p99)} without it ` +
        `(${ratio.toFixed(2)}x, n=${int(stuckStats.latency.n)} / ${int(baseline.samples)}); on reading again it converged in ${ms(catchUpMs)} ` +
        `with ${stuckCounts.resets} reset(s): ${stuckVerify.lost} of ${int(stuckVerify.expected)} recorded publishes lost ` +
        `(${int(stuckVerify.received)} received, ${int(stuckVerify.byReset)} covered by a reset, ${int(stuckVerify.replaced)} replaced by a later publish of their key)`,
      checks,
      figures: {
        baseline,
        stuck: {
          runMs: stuckRunMs,
          p50: stuckStats.latency.quantile(0.5),
          p99: stuckP99,
          max: stuckStats.latency.max,
          samples: stuckStats.latency.n,
          engagedAfterMs: engagedAt,
          collapsedAfterMs: collapsedAt,
          maxHeld: held,
          atEnd,
          drained,
          heapHeld: heldHeap.heapUsed,
          heapAfterDrain: afterHeap.heapUsed,
          heapQuiet: quietHeap.heapUsed,
          heldByHeap,
          catchUpMs,
          resumeToConvergedMs: Date.now() - resumeAt,
          stuckCounts,
          verify: stuckVerify,
          othersVerify,
          entries: recorded.length,
        },
      },
      method: [
        `One tenant; ${int(params.normal)} clients read topic \`lat\` (${params.latRate} signals/s, each stamped with its publish time ` +
          `in the server), ${params.bulkReaders} more and the stuck client also read \`bulk\` (${params.bulkRate} signals/s with ` +
          `${params.bulkPad}-byte hints over ${int(params.bulkKeys)} keys), so the stuck client's socket fills. Baseline: ` +
          `${ms(params.runMs)} with every client reading, half before and half after the stuck run (so drift over time weighs on ` +
          `both sides alike); stuck run: the same flows with the stuck client's response paused (its socket stops being read), ` +
          `${ms(params.runMs)} or until the outbox collapsed. Latency percentiles are over every \`lat\` delivery to the normal ` +
          `clients (publish in the server → parsed in the client process; 0.05 ms buckets); nothing else (no forced GC) runs ` +
          `while signals flow.`,
        `Memory held for the stuck client is sampled from the hub every 250 ms (the frames its outbox references: payload and ` +
          `encoded text plus ${FRAME_OVERHEAD} B per frame for the objects, and the unflushed socket buffer); the heap figure is ` +
          `\`heapUsed + external\` after full GCs with the client still stuck (flows stopped) minus the same once it drained. ` +
          `Kernel socket buffers (several MiB on loopback before Node buffers anything) are not process memory and are not counted.`,
        `The record oracle: for every publish the server host recorded at the hub's API (with its receipt) that the client may ` +
          `receive, it got it, or a \`reset\` at or after it, or a later publish of the same key (the collapsed outbox keeps the ` +
          `latest per key); nothing twice, nothing outside the record.`,
      ],
      seconds: (Date.now() - started) / 1000,
    };
  } finally {
    await pool.shutdown();
    await server.stop();
  }
}
