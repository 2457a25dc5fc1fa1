import { randomBytes } from 'node:crypto';
import { get } from 'node:http';
import { loadavg } from 'node:os';
import path from 'node:path';
import { Child } from '../lib/child';
import { quantile } from '../lib/report';
import { startAppServer, tempDataDir } from '../lib/appServer';
import { pinProcess, type CpuPinning } from '../lib/cpuPinning';
import { establishedConnections, processCpuSeconds } from '../lib/proc';
import { COUNTER_PATH } from '../lib/requestCounting.mjs';
import { histogramDelta, scrapeHistogram, type Histogram } from '../lib/serverMetrics';
import type { MutationRecord } from './actors';
import { canonicalKey } from './dataOracle';
import { measureFreshness, unchangedShare, type Freshness } from './freshness';
import { createReflectOracle, pushedMatches, PUSHED } from './reflects';
import { measurePushPath, type FrameRecord, type PushPath } from './pushPath';
import { browserRegistry } from './missedInvalidation';
import { PAGES } from './pages';
import { createRandom } from './random';
import { BENCH_PASSWORD, seedBenchData } from './seed';
import { createVisibilityTimeline, measureSwitches, planTabs, type SwitchRecord, type SwitchSample } from './switches';
import type { ObserverLog, UserSpec, Variant } from './users';
import { DEFAULT_PAUSE_AFTER_MS } from 'trpc-live/react';
import { DEFAULT_KEEP_ALIVE_TIMEOUT_MS } from '../../src/server/httpTimeouts';

const here = import.meta.dirname;
/**
 * Mutations per tenant per simulated minute during the unmeasured warm-up (the heavy phase's rate: 300 changes
 * over the 10 tenants). A server that has run for a while has compiled its change path; 20 changes (the busy
 * rate, used until 2026-12-07) left it in baseline code: a CPU profile of (d)'s busy phase after them showed 172
 * TurboFan compilations and 33 deopts in 40 s, TurboFan at 17% of the server's CPU, and the CPU per change
 * falling from ~11 ms to 6-7 ms over two minutes; after a warm-up at this rate busy cost 7.5 and 9.1 ms per
 * change against 9.2-11.2 ms (PUSHCPU runs, beside other work). The polling path warms itself: it serves
 * 1,200 polls per simulated minute.
 */
const WARMUP_PER_TENANT_PER_MINUTE = 30;

/** One phase of a run: a mutation rate held for a while. Rates and durations are in simulated (uncompressed) time. */
export interface PhaseSpec {
  readonly name: string;
  /** Mutations per tenant per simulated minute. */
  readonly perTenantPerMinute: number;
  readonly minutes: number;
}

/** The shape of a run. */
export interface ArticlePlan {
  readonly tenants: number;
  readonly usersPerTenant: number;
  /** Time compression: every interval and rate of the simulation is scaled by this one factor, in both variants. */
  readonly factor: number;
  /** The article's poll interval (uncompressed). */
  readonly pollIntervalMs: number;
  readonly phases: readonly PhaseSpec[];
  readonly runs: number;
  /** Child processes the simulated users are spread over. */
  readonly userProcesses: number;
  /** A user brings another tab to the front after a gap drawn uniformly from this range (simulated minutes). */
  readonly switchMinutes: readonly [number, number];
}

/** What one phase of one run measured. */
export interface PhaseFigures {
  readonly name: string;
  readonly perTenantPerMinute: number;
  /** Simulated minutes the phase lasted (real seconds × factor / 60). */
  readonly simMinutes: number;
  readonly realSeconds: number;
  readonly mutations: number;
  readonly failedMutations: number;
  /** Per user per simulated minute, counted at the users' own sockets (client side): query requests plus the browsers' own mutations (stream pause/resume). */
  readonly requestsPerUserMinute: number;
  /**
   * The same, counted by the server as it received them (serverRequestCounter.mjs; the actors' requests
   * apart): a count the browsers' own bookkeeping cannot fake. Requests in flight at a phase boundary fall on
   * either side, so the two may differ by a few.
   */
  readonly serverRequestsPerUserMinute: number;
  /** Of those, the browsers' own mutations (pause/resume of the shared stream around tab switches). */
  readonly browserMutationsPerUserMinute: number;
  readonly callsPerUserMinute: number;
  readonly bytesInPerUserMinute: number;
  readonly bytesOutPerUserMinute: number;
  /** Stream (re)connections opened during the phase, all users. */
  readonly streamOpens: number;
  /** Server process (and descendants) CPU seconds per simulated minute, from /proc/<pid>/stat. */
  readonly serverCpuPerMinute: number;
  /** The users' processes, for scale (their CPU is not the server's). */
  readonly usersCpuPerMinute: number;
  /** Live streams registered on the server per user (hub connection count at the end of the phase / users). */
  readonly streamsPerUser: number;
  /** TCP connections each user's browser held open at the end of the phase (mean) and the most any user had at once. */
  readonly tcpPerUser: number;
  readonly tcpPeakPerUser: number;
  /** Established server-side TCP connections, sampled each second: mean and max (users and actors). */
  readonly serverTcpMean: number;
  readonly serverTcpMax: number;
  /** Observer refetches in the phase whose data was identical to what the observer held. */
  readonly refetches: number;
  readonly unchangedRefetches: number;
  /** Commit → the observer of the tab on screen holds the new data. */
  readonly freshness: Freshness;
  /** Tab switches in the phase: what the tab brought to the front showed. */
  readonly switches: SwitchSample[];
  readonly invalidatorResets: number;
  /** Live: invalidation passes applied while the tab was hidden (stale only), and refetches when a tab was shown again. */
  readonly deferredPasses: number;
  readonly shownRefetches: number;
  /** Query fetches of the phase (not the initial loads): fetch start → observer holds the data, p50 and every sample (ms; the tail is taken by the report). */
  readonly queryLatencyP50: number;
  readonly queryLatencies: readonly number[];
  /** Requests the browsers resent because the server closed the idle keep-alive socket under them. */
  readonly resent: number;
  /** Distinct errors of failed mutations (at most 3). */
  readonly mutationErrors: string[];
  /**
   * Observer updates of the phase that a pushed result brought (pushed variant), and how many of them
   * hold a state the data oracle recorded (reflects.ts): the check that the freshness oracle can place
   * pushed data at all.
   */
  readonly pushedUpdates: number;
  readonly pushedMatched: number;
  /** Pushed updates the oracle could not place, by query path. */
  readonly pushedUnmatched: Readonly<Record<string, number>>;
  /** The pushed variant's client counters over the phase, all tabs (the invalidators' pushedStats and watchStats). */
  readonly push: PushCounters;
  /** Pushed variant: where its time to fresh data went (pushPath.ts); empty otherwise. */
  readonly pushPath: PushPath;
  /**
   * The users' processes' event-loop delay over the phase (ms; the worst process): how long a frame or
   * response waited for the simulated browsers themselves (many tabs share a process and a core).
   */
  readonly usersLoopDelayP99Ms: number;
  readonly usersLoopDelayMaxMs: number;
  /**
   * The observers' data writes of the phase whose JSON and digest (the freshness oracle's) the users'
   * processes computed off the timing path (idle slices, or at the phase's end) and on it (the queue was
   * full: one at each new write, as every write was before 2026-12-07); tabQueries.ts.
   */
  readonly usersDigests: { readonly deferred: number; readonly onPath: number };
  /**
   * The server's own part of a pushed result's freshness over the phase, from its metrics
   * (`trpc_live_push_to_write_seconds`: the hub's delivery of the oldest change a pushed frame reflects
   * to the frame's write on the socket, the computation included), read between the phase's snapshots.
   */
  readonly serverPushToWrite: Histogram;
}

/** What the browsers' invalidators did with pushed results (trpc-live/client's pushedStats), plus their watch calls. */
export interface PushCounters {
  results: number;
  staleResults: number;
  held: number;
  releasedByResult: number;
  releasedByRefetch: number;
  timeouts: number;
  watchRequests: number;
  watchFailures: number;
}

const NO_PUSH: PushCounters = { results: 0, staleResults: 0, held: 0, releasedByResult: 0, releasedByRefetch: 0, timeouts: 0, watchRequests: 0, watchFailures: 0 };

/** One variant's run. */
export interface VariantRun {
  readonly variant: Variant;
  readonly run: number;
  readonly phases: PhaseFigures[];
  /** 1-minute load average of the machine when the run started (other work on a shared machine shows here). */
  readonly loadAtStart: number;
  /** How the server said it serves tRPC's HTTP API (`direct` or `next`, from its start-up line). */
  readonly trpcHttp: string;
  /** Which cores the server and the clients ran on (bench/lib/cpuPinning.ts). */
  readonly pinning: string;
  readonly error?: string;
}

interface UsersSnapshot {
  at: number;
  traffic: { queries: number; mutations: number; streams: number; queryCalls: number; bytesIn: number; bytesOut: number; openSockets: number; resent: number };
  socketsPerUser: number[];
  peakPerUser: number[];
  invalidations: { applied: number; duplicates: number; flushes: number; resets: number; deferred: number; shown: number };
  pushed: PushCounters;
  /** Event-loop delay of the process since the phase began: p99 and max (ms). */
  loop: { p99Ms: number | null; maxMs: number | null };
  /** The process's DigestQueue counters so far (tabQueries.ts). */
  digests: { idle: number; forced: number; drained: number };
  cpuSeconds: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The server's histogram of a pushed frame's publish-to-write time (src/server/prometheus.ts). */
const PUSH_TO_WRITE = 'trpc_live_push_to_write_seconds';

/** Preloaded into the server: counts the requests it receives (see the file). */
const REQUEST_COUNTER = path.resolve(import.meta.dirname, '../lib/serverRequestCounter.mjs');

interface ServerRequestCounts {
  queries: number;
  mutations: number;
  streams: number;
  actors: number;
}

/** The server's own request counts, read from the preloaded counter. */
async function serverRequestCounts(url: string, token: string): Promise<ServerRequestCounts> {
  const res = await fetch(`${url}${COUNTER_PATH}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`server request counter: ${res.status} ${await res.text()}`);
  return (await res.json()) as ServerRequestCounts;
}

/** GET /api/health on a fresh connection (closed after), so it adds no kept-alive socket: the hub's connection count. */
function hubConnections(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = get(`${url}/api/health`, { agent: false, headers: { connection: 'close' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          resolve(Number((JSON.parse(body) as { connections: number }).connections));
        } catch (error) {
          reject(error);
        }
      });
    });
    req.setTimeout(10_000, () => req.destroy(new Error('health timed out')));
    req.on('error', reject);
  });
}

/**
 * One variant, one run: a fresh database and server, the simulated users
 * (child processes), the actors (another child), then the phases back to
 * back, measured between snapshots; a drain of one poll interval lets the
 * last phase's changes reach every observer; then everything stops.
 */
export async function runVariant(plan: ArticlePlan, variant: Variant, run: number, pinning: CpuPinning, log: (line: string) => void): Promise<VariantRun> {
  const loadAtStart = loadavg()[0]!;
  const factor = plan.factor;
  const pollMs = plan.pollIntervalMs / factor;
  const dataDir = tempDataDir();
  const tenants = seedBenchData(dataDir, { tenants: plan.tenants, usersPerTenant: plan.usersPerTenant, productsPerTenant: 8, ordersPerTenant: 60 });
  // Time-driven server costs compress with the run: the SSE ping (15 s), the client's inactivity timeout (40 s)
  // and how long an idle keep-alive connection stays open (65 s), so a refetch after a quiet spell pays a new
  // connection as often as it would at the real pace.
  const counterToken = randomBytes(16).toString('base64url');
  const server = await startAppServer({
    dataDir,
    ownDataDir: true,
    nodeArgs: ['--import', REQUEST_COUNTER],
    ...(pinning.server === undefined ? {} : { cpus: pinning.server }),
    env: {
      BENCH_REQUEST_COUNTER_TOKEN: counterToken,
      LIVE_PING_INTERVAL_MS: String(Math.round(15_000 / factor)),
      LIVE_CLIENT_TIMEOUT_MS: String(Math.round(40_000 / factor)),
      HTTP_KEEP_ALIVE_TIMEOUT_MS: String(Math.round(DEFAULT_KEEP_ALIVE_TIMEOUT_MS / factor)),
    },
  });
  // Seeded by the run alone: both variants of a run get the same tabs, schedule and workload.
  const random = createRandom(run * 7919);
  const phasesMs = plan.phases.reduce((total, phase) => total + (phase.minutes * 60_000) / factor, 0);
  const users: UserSpec[] = [];
  for (const tenant of tenants) {
    tenant.users.forEach((email, u) => {
      const tabDelaysMs = PAGES.map(() => Math.floor(random.next() * pollMs));
      const tabs = planTabs(random, {
        tabs: PAGES.length,
        durationMs: phasesMs,
        minGapMs: (plan.switchMinutes[0] * 60_000) / factor,
        maxGapMs: (plan.switchMinutes[1] * 60_000) / factor,
      });
      users.push({ tenant: tenant.id, email, orderId: tenant.orders[u % 10]!, tabDelaysMs, ...tabs });
    });
  }
  const trpcHttp = () => /tRPC HTTP: (\w+)/.exec(server.output())?.[1] ?? 'unknown';
  const userChildren = Array.from({ length: plan.userProcesses }, (_, i) => Child.forkTs(path.join(here, 'users.ts'), `users ${i + 1}`));
  const actors = Child.forkTs(path.join(here, 'actors.ts'), 'actors');
  const phases: PhaseFigures[] = [];
  try {
    for (const child of [...userChildren, actors]) pinProcess(child.proc.pid!, pinning.clients);
    const started = await actors.ask<{ read: string[]; initial: Record<string, Record<string, string>> }>(
      {
        type: 'start',
        baseUrl: server.url,
        password: BENCH_PASSWORD,
        dataDir,
        tenants: tenants.map((t) => ({ id: t.id, actor: t.actor, products: t.products, observedOrders: [...new Set(users.filter((u) => u.tenant === t.id).map((u) => u.orderId))] })),
      },
      'started',
      60_000,
    );
    const share = Math.ceil(users.length / userChildren.length);
    await Promise.all(
      userChildren.map((child, i) =>
        child.ask(
          { type: 'start', baseUrl: server.url, variant, pollMs, pauseAfterMs: Math.round(DEFAULT_PAUSE_AFTER_MS / factor), password: BENCH_PASSWORD, users: users.slice(i * share, (i + 1) * share), offset: i * share },
          'started',
          120_000,
        ),
      ),
    );
    const deadline = Date.now() + 60_000;
    for (;;) {
      const states = await Promise.all(userChildren.map((child) => child.ask<{ ready: boolean; loaded: number; expected: number; connected: number }>({ type: 'ready' }, 'ready', 10_000)));
      if (states.every((s) => s.ready)) break;
      if (Date.now() > deadline) throw new Error(`users not ready within 60 s: ${JSON.stringify(states)}`);
      await sleep(200);
    }
    // Warm-up, not measured, the same in every variant: changes at the heavy rate for one simulated minute, so the
    // change path (mutation, signal, invalidation, refetch) runs compiled code by the first phase as the polling path
    // does, then every user shows each of its tabs once (no tab starts stale), then one poll interval, so every tab
    // has settled into its rhythm.
    const warmUp = await actors.ask<{ records: MutationRecord[] }>(
      { type: 'run', phase: 'warm-up', perMinute: WARMUP_PER_TENANT_PER_MINUTE * factor, durationMs: 60_000 / factor, seed: run * 100 + 99 },
      'ran',
      120_000,
    );
    await Promise.all(userChildren.map((child) => child.ask({ type: 'tour' }, 'toured', 60_000)));
    await sleep(pollMs);
    // The users start switching tabs as the first phase starts.
    await Promise.all(userChildren.map((child) => child.ask({ type: 'switch' }, 'switching', 10_000)));

    const snapshotUsers = async () => {
      const snaps = await Promise.all(userChildren.map((child) => child.ask<UsersSnapshot>({ type: 'snapshot' }, 'snapshot', 10_000)));
      return {
        at: Date.now(),
        queries: sum(snaps.map((s) => s.traffic.queries)),
        mutations: sum(snaps.map((s) => s.traffic.mutations)),
        deferred: sum(snaps.map((s) => s.invalidations.deferred)),
        shown: sum(snaps.map((s) => s.invalidations.shown)),
        calls: sum(snaps.map((s) => s.traffic.queryCalls)),
        streams: sum(snaps.map((s) => s.traffic.streams)),
        bytesIn: sum(snaps.map((s) => s.traffic.bytesIn)),
        bytesOut: sum(snaps.map((s) => s.traffic.bytesOut)),
        socketsPerUser: snaps.flatMap((s) => s.socketsPerUser),
        peakPerUser: snaps.flatMap((s) => s.peakPerUser),
        resets: sum(snaps.map((s) => s.invalidations.resets)),
        resent: sum(snaps.map((s) => s.traffic.resent)),
        cpu: sum(snaps.map((s) => s.cpuSeconds)),
        loopP99: Math.max(...snaps.map((s) => s.loop.p99Ms ?? NaN)),
        loopMax: Math.max(...snaps.map((s) => s.loop.maxMs ?? NaN)),
        digestsDeferred: sum(snaps.map((s) => s.digests.idle + s.digests.drained)),
        digestsOnPath: sum(snaps.map((s) => s.digests.forced)),
        push: Object.fromEntries((Object.keys(NO_PUSH) as Array<keyof PushCounters>).map((key) => [key, sum(snaps.map((s) => s.pushed[key]))])) as unknown as PushCounters,
      };
    };

    const mutationsByPhase = new Map<string, MutationRecord[]>();
    const windows = new Map<string, [number, number]>();
    for (const [p, phase] of plan.phases.entries()) {
      await Promise.all(userChildren.map((child) => child.ask({ type: 'resetPeak' }, 'peakReset', 10_000)));
      const before = await snapshotUsers();
      const serverBefore = await serverRequestCounts(server.url, counterToken);
      // GET /api/metrics between phases (outside their CPU windows): the server's push latency histogram.
      const pushLatencyBefore = await scrapeHistogram(server.url, PUSH_TO_WRITE);
      const cpuBefore = processCpuSeconds(server.pid);
      const durationMs = (phase.minutes * 60_000) / factor;
      const tcp: number[] = [];
      const sampler = setInterval(() => tcp.push(establishedConnections(server.port)), 1000);
      let ran: { records: MutationRecord[] };
      try {
        ran = await actors.ask<{ records: MutationRecord[] }>(
          { type: 'run', phase: phase.name, perMinute: phase.perTenantPerMinute * factor, durationMs, seed: run * 100 + p },
          'ran',
          durationMs + 60_000,
        );
      } finally {
        // Also when the phase fails: a live interval would keep the benchmark's process running after its report.
        clearInterval(sampler);
      }
      const cpuAfter = processCpuSeconds(server.pid);
      const after = await snapshotUsers();
      const serverAfter = await serverRequestCounts(server.url, counterToken);
      const pushLatencyAfter = await scrapeHistogram(server.url, PUSH_TO_WRITE);
      const hub = await hubConnections(server.url);
      windows.set(phase.name, [before.at, after.at]);
      mutationsByPhase.set(phase.name, ran.records);
      const realSeconds = (after.at - before.at) / 1000;
      const simMinutes = (realSeconds * factor) / 60;
      const perUserMinute = (value: number) => value / users.length / simMinutes;
      phases.push({
        name: phase.name,
        perTenantPerMinute: phase.perTenantPerMinute,
        simMinutes,
        realSeconds,
        mutations: ran.records.length,
        failedMutations: ran.records.filter((r) => r.error).length,
        requestsPerUserMinute: perUserMinute(after.queries - before.queries + after.mutations - before.mutations),
        serverRequestsPerUserMinute: perUserMinute(serverAfter.queries - serverBefore.queries + serverAfter.mutations - serverBefore.mutations),
        browserMutationsPerUserMinute: perUserMinute(after.mutations - before.mutations),
        callsPerUserMinute: perUserMinute(after.calls - before.calls),
        bytesInPerUserMinute: perUserMinute(after.bytesIn - before.bytesIn),
        bytesOutPerUserMinute: perUserMinute(after.bytesOut - before.bytesOut),
        streamOpens: after.streams - before.streams,
        serverCpuPerMinute: (cpuAfter - cpuBefore) / simMinutes,
        usersCpuPerMinute: (after.cpu - before.cpu) / simMinutes,
        streamsPerUser: hub / users.length,
        tcpPerUser: sum(after.socketsPerUser) / users.length,
        tcpPeakPerUser: Math.max(...after.peakPerUser),
        serverTcpMean: tcp.length ? sum(tcp) / tcp.length : NaN,
        serverTcpMax: tcp.length ? Math.max(...tcp) : NaN,
        refetches: 0,
        unchangedRefetches: 0,
        freshness: { samples: [], startSamples: [], unresolved: 0, leftBefore: 0, failed: 0, undeclared: 0, declaredUnchanged: 0 },
        switches: [],
        invalidatorResets: after.resets - before.resets,
        deferredPasses: after.deferred - before.deferred,
        shownRefetches: after.shown - before.shown,
        queryLatencyP50: NaN,
        queryLatencies: [],
        resent: after.resent - before.resent,
        mutationErrors: [...new Set(ran.records.flatMap((r) => (r.error ? [r.error] : [])))].slice(0, 3),
        pushedUpdates: 0,
        pushedMatched: 0,
        pushedUnmatched: {},
        pushPath: { toFrame: [], toHeld: [], unmatched: 0 },
        usersLoopDelayP99Ms: after.loopP99,
        usersLoopDelayMaxMs: after.loopMax,
        usersDigests: { deferred: after.digestsDeferred - before.digestsDeferred, onPath: after.digestsOnPath - before.digestsOnPath },
        serverPushToWrite: histogramDelta(pushLatencyBefore, pushLatencyAfter),
        push: Object.fromEntries((Object.keys(NO_PUSH) as Array<keyof PushCounters>).map((key) => [key, after.push[key] - before.push[key]])) as unknown as PushCounters,
      });
      const last = phases.at(-1)!;
      log(
        `  ${variant} run ${run} ${phase.name}: ${last.mutations} mutations${last.failedMutations ? ` (${last.failedMutations} failed: ${last.mutationErrors.join('; ')})` : ''}, ` +
          `${fmt1(last.requestsPerUserMinute)} req/user/min (server counted ${fmt1(last.serverRequestsPerUserMinute)}; pause/resume ${fmt1(last.browserMutationsPerUserMinute)}), server CPU ${fmt1(last.serverCpuPerMinute)} s/min, users CPU ${fmt1(last.usersCpuPerMinute)} s/min, ` +
          `streams/user ${fmt1(last.streamsPerUser)}, tcp/user ${fmt1(last.tcpPerUser)}, resent ${last.resent}, ` +
          `users' loop delay p99 ${fmt1(last.usersLoopDelayP99Ms)} ms, data writes digested off / on the timing path ${last.usersDigests.deferred} / ${last.usersDigests.onPath}` +
          (variant === 'pushed'
            ? `, pushed results ${last.push.results} (stale ${last.push.staleResults}), held ${last.push.held} → result ${last.push.releasedByResult} / refetch ${last.push.releasedByRefetch} / timeout ${last.push.timeouts}, watch calls ${last.push.watchRequests}`
            : ''),
      );
    }
    // Drain: no mutations for one poll interval (+1 s), so a poll after the last change can land.
    await sleep(pollMs + 1000);
    const observations = await Promise.all(
      userChildren.map((child) => child.ask<{ logs: ObserverLog[]; switches: SwitchRecord[]; frames: FrameRecord[] }>({ type: 'observations' }, 'observations', 60_000)),
    );
    const logs = observations.flatMap((o) => o.logs);
    const frames = observations.flatMap((o) => o.frames);
    // The data oracle must have read every query an observer held, or a change to it would go unseen.
    const read = new Set(started.read);
    const unread = [...new Set(logs.map((l) => canonicalKey(l.queryKey)))].filter((key) => !read.has(key));
    if (unread.length) throw new Error(`the data oracle did not read ${unread.join(', ')}`);
    const switchRecords = observations.flatMap((o) => o.switches);
    const timeline = createVisibilityTimeline(switchRecords);
    const allMutations = [...mutationsByPhase.values()].flat();
    // Pushed data is placed by its contents among the states every mutation of the run left (warm-up included).
    const reflect = createReflectOracle([...warmUp.records, ...allMutations]);
    const switchSamples = measureSwitches(switchRecords, allMutations, logs, reflect);
    for (const [i, figures] of phases.entries()) {
      const [from, to] = windows.get(figures.name)!;
      const share = unchangedShare(logs, from, to);
      const latencies = logs.flatMap((l) =>
        l.updates.slice(1).filter(([startedAt, heldAt]) => startedAt !== PUSHED && heldAt >= from && heldAt < to).map(([startedAt, heldAt]) => heldAt - startedAt),
      );
      const pushed = pushedMatches(logs, [...warmUp.records, ...allMutations], from, to, started.initial);
      phases[i] = {
        ...figures,
        refetches: share.updates,
        unchangedRefetches: share.unchanged,
        freshness: measureFreshness(mutationsByPhase.get(figures.name)!, logs, timeline, browserRegistry(), reflect),
        pushedUpdates: pushed.pushed,
        pushedMatched: pushed.matched,
        pushedUnmatched: pushed.unmatched,
        pushPath: measurePushPath(mutationsByPhase.get(figures.name)!, logs, frames, timeline, reflect),
        switches: switchSamples.filter((sample) => sample.at >= from && sample.at < to),
        queryLatencyP50: quantile(latencies, 0.5),
        queryLatencies: latencies,
      };
    }
    await Promise.all(userChildren.map((child) => child.ask({ type: 'stop' }, 'stopped', 10_000).catch(() => undefined)));
    await actors.ask({ type: 'stop' }, 'stopped', 10_000).catch(() => undefined);
    return { variant, run, phases, loadAtStart, trpcHttp: trpcHttp(), pinning: pinning.note };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    log(`  ${variant} run ${run} failed: ${message}`);
    return { variant, run, phases, loadAtStart, trpcHttp: trpcHttp(), pinning: pinning.note, error: message };
  } finally {
    await Promise.all([...userChildren, actors].map((child) => child.kill()));
    await server.stop();
  }
}

const sum = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);
const fmt1 = (value: number) => (Number.isFinite(value) ? value.toFixed(2) : '—');
