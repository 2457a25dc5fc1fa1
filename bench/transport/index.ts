/**
 * Transport benchmark: the cost of carrying live streams, side by side in one
 * run with one client harness.
 *
 * Servers (each in its own child process, --expose-gc):
 * - bare `node:http`, one pre-encoded frame written to every response;
 * - bare `node:http` batched per tick: each connection's frames of a turn in
 *   one write on the next setImmediate (the limit our transport is held to);
 * - the same in tRPC's wire format (an `id:` line per event, as ours must
 *   send): what the format costs, apart from what our server costs;
 * - better-sse, a channel broadcast;
 * - stock tRPC 11.22 subscription in the production Next route (`LIVE_TRANSPORT=stock`);
 * - our fast transport in the production server (`dist/main.js`).
 * Clients: raw HTTP SSE clients in another child process (`clients.mjs`),
 * counting events by parsing them.
 *
 * Figures: heap per idle connection (heap delta after GC / connections) at
 * 1,000 and 4,000 connections; time from publish until the last client has
 * the event; 200-event bursts to 1,000 clients (all delivered? frames/s),
 * with the tail of `/health` requests sent during the bursts. Each variant
 * runs 3 times (fresh processes each, interleaved); figures and verdicts are
 * medians of the runs (report.ts). Loopback only; every step has a deadline;
 * `--quick` runs 2 runs of 200 clients and 50-event bursts (no verdicts).
 */
import { fork } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Child } from '../lib/child';
import { fmt, formatTail, median, tail, type BenchOptions, type BenchResult } from '../lib/report';
import { mainThreadSched, schedDelta } from '../lib/schedstat';
import { BARE, BATCHED, BATCHED_WIRE, FAST, report, type BurstFigures, type Plan, type RunFigures, type SizeFigures, type VariantName } from './report';
// @ts-expect-error -- plain ESM script without types
import { ensureBuild } from '../../scripts/ensure-build.mjs';
import { SERVER_V8_FLAGS } from '../../scripts/serverFlags.mjs';
import { freePort } from '../../test/helpers/prodServer';

const root = path.resolve(import.meta.dirname, '../..');
/** How long a health request in flight when the burst is done may still take before it counts as unanswered. */
const HEALTH_GRACE_MS = 2000;
/**
 * Pause between two health requests during a burst. 1 ms (was 10 ms): a
 * fast transport's 200-event burst lasts ~0.25 s, which gave 14 samples at
 * 10 ms apart, far from the 300 a p99 needs (issue 19).
 */
const HEALTH_GAP_MS = 1;
/** Longest the unmeasured warm-up burst may take: a server that cannot deliver bursts (stock tRPC) is not waited for long. */
const BURST_WARMUP_TIMEOUT_MS = 10_000;
const here = import.meta.dirname;

interface Variant {
  readonly name: VariantName;
  readonly script: string;
  readonly env: Record<string, string>;
  readonly ssePath: string;
  readonly healthPath: string;
  readonly readyMarker: string;
  /** Needs the production build and a signed-in cookie. */
  readonly app: boolean;
}

const VARIANTS: readonly Variant[] = [
  { name: BARE, script: 'servers/bare.mjs', env: {}, ssePath: '/sse', healthPath: '/health', readyMarker: 'ready', app: false },
  { name: BATCHED, script: 'servers/bareBatched.mjs', env: {}, ssePath: '/sse', healthPath: '/health', readyMarker: 'ready', app: false },
  { name: BATCHED_WIRE, script: 'servers/bareBatched.mjs', env: { BARE_WIRE: 'trpc' }, ssePath: '/sse', healthPath: '/health', readyMarker: 'ready', app: false },
  { name: 'better-sse', script: 'servers/betterSse.mjs', env: {}, ssePath: '/sse', healthPath: '/health', readyMarker: 'ready', app: false },
  {
    name: 'stock tRPC (Next route)',
    script: 'servers/app.mjs',
    env: { LIVE_TRANSPORT: 'stock', TRPC_HTTP: 'next' },
    ssePath: '/api/trpc/live.stream',
    healthPath: '/api/health',
    readyMarker: '"hello"',
    app: true,
  },
  {
    name: FAST,
    script: 'servers/app.mjs',
    env: { LIVE_TRANSPORT: 'fast' },
    ssePath: '/api/trpc/live.stream',
    healthPath: '/api/health',
    readyMarker: '"hello"',
    app: true,
  },
];

function cpuProfileArgs(): string[] {
  const dir = process.env.BENCH_CPU_PROF;
  if (!dir) return [];
  const interval = process.env.BENCH_CPU_PROF_INTERVAL;
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`, ...(interval ? [`--cpu-prof-interval=${interval}`] : [])];
}

/** One GET; resolves once its response ended (rejects on error, `signal` or after `timeoutMs`). */
function get(url: string, agent: Agent, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, ...(signal ? { signal } : {}) }, (res) => {
      res.resume();
      res.on('end', () => resolve());
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function waitHealthy(url: string, child: Child, deadlineMs: number): Promise<void> {
  const agent = new Agent({ keepAlive: false });
  const deadline = Date.now() + deadlineMs;
  for (;;) {
    if (child.proc.exitCode !== null) throw new Error(`${child.label} exited early`);
    try {
      await get(url, agent, 2000);
      return;
    } catch {
      if (Date.now() > deadline) throw new Error(`${child.label} not healthy within ${deadlineMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}

/** Signs in through the app (auth.signIn) and returns the session cookie. */
async function signIn(url: string): Promise<string> {
  const res = await fetch(`${url}/api/trpc/auth.signIn`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ json: { email: 'bob@acme.test', password: 'demo1234' } }),
  });
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('live_session='));
  if (!res.ok || !cookie) throw new Error(`sign-in failed: ${res.status} ${await res.text()}`);
  return cookie.split(';')[0]!;
}

/** One independent run of one variant: a fresh server and client process, its own warm-up, rounds and bursts. */
async function runVariant(variant: Variant, run: number, plan: Plan, log: (line: string) => void): Promise<RunFigures> {
  const figures: RunFigures = { name: variant.name, run, sizes: [], bursts: [], healthSamples: [], healthUnanswered: 0 };
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = variant.app ? mkdtempSync(path.join(tmpdir(), 'trpc-live-bench-')) : null;
  const server = new Child(
    fork(path.join(here, variant.script), [], {
      cwd: root,
      // BENCH_CPU_PROF=<dir> writes a CPU profile of each server (where the time goes);
      // BENCH_CPU_PROF_INTERVAL=<µs> samples more often than the default 1000 µs. Every server runs with the
      // production server's V8 flags (scripts/serverFlags.mjs), so the comparison is between transports alone.
      execArgv: ['--expose-gc', ...SERVER_V8_FLAGS, ...cpuProfileArgs()],
      env: {
        ...process.env,
        NODE_ENV: 'production',
        PORT: String(port),
        HOST: '127.0.0.1',
        ...(dataDir ? { DATA_DIR: dataDir } : {}),
        ...variant.env,
      },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    }),
    `${variant.name} server`,
  );
  const clients = new Child(fork(path.join(here, 'clients.mjs'), [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }), 'clients');
  const probeAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await waitHealthy(`${base}${variant.healthPath}`, server, 90_000);
    const headers = variant.app ? { cookie: await signIn(base) } : {};
    const sseUrl = `${base}${variant.ssePath}`;
    const open = async (count: number) => {
      const opened = await clients.ask({ type: 'open', url: sseUrl, headers, readyMarker: variant.readyMarker, count, concurrency: 100 }, 'opened', plan.openTimeoutMs);
      if (opened.failed) throw new Error(`${opened.failed} of ${count} streams failed to open`);
    };
    const stats = () => server.ask<{ heapUsed: number; connections: number; gc: boolean }>({ type: 'stats' }, 'stats', 60_000);
    let roundNo = 0;
    /** Publishes `events` and waits until every client has them (or the deadline). */
    const round = async (events: number, timeoutMs: number) => {
      const id = `r${++roundNo}x`;
      await clients.ask({ type: 'arm', id, marker: `"${id}-`, expect: events }, 'armed', 10_000);
      // Handled at once: a server that never answers must not end the whole benchmark with an unhandled rejection.
      const published = server.ask<{ t0: number }>({ type: 'publish', round: id, count: events }, 'published', timeoutMs).then(
        (p) => p.t0,
        () => NaN,
      );
      let result: any;
      try {
        result = await clients.next('round', timeoutMs);
      } catch {
        result = await clients.ask({ type: 'report', id }, 'round', 10_000);
      }
      // A server blocked by the burst may not even have answered the publish yet.
      const t0 = await published;
      return { ...result, t0 } as { done: number; of: number; frames: number; firstFrameAt: number; firstAt: number; lastAt: number; timedOut?: boolean; t0: number };
    };

    // Warm-up: lazily created resources (route bundles, caches) go into the baseline, and a
    // few fan-outs let the JIT compile each server's write path (a server runs warm; the
    // first fan-outs of a cold process measure the compiler, for every variant alike).
    await open(plan.warmupStreams);
    for (let i = 0; i < plan.warmupRounds; i++) await round(1, plan.roundTimeoutMs);
    await clients.ask({ type: 'close', count: plan.warmupStreams }, 'closed', 10_000);
    await get(`${base}${variant.healthPath}`, probeAgent, 10_000);
    await waitUntil(async () => (await stats()).connections === 0, 'warm-up streams to close', 30_000);
    const baseline = await stats();
    if (!baseline.gc) throw new Error('the server runs without --expose-gc');

    let connected = 0;
    for (const size of plan.sizes) {
      await open(size - connected);
      connected = size;
      const s = await stats();
      if (s.connections !== size) throw new Error(`server reports ${s.connections} connections, expected ${size}`);
      const firsts: number[] = [];
      const lasts: number[] = [];
      const roundsSched: NonNullable<SizeFigures['roundsSched']> = [];
      let delivered = size;
      // Unmeasured rounds at this size first, for every variant alike: a larger fan-out runs paths the
      // 200-stream warm-up did not (more connections per turn, slicing across turns, fuller socket buffers),
      // and its first rounds measure the JIT and the allocator growing, not the steady state.
      for (let i = 0; i < plan.warmupRounds; i++) await round(1, plan.roundTimeoutMs);
      for (let i = 0; i < plan.rounds; i++) {
        // Where a round's time went besides the two processes' own work (bench/transport/roundWaits.ts).
        const sched0 = [mainThreadSched(server.proc.pid), mainThreadSched(clients.proc.pid)] as const;
        const r = await round(1, plan.roundTimeoutMs);
        roundsSched.push({
          server: schedDelta(sched0[0], mainThreadSched(server.proc.pid)),
          clients: schedDelta(sched0[1], mainThreadSched(clients.proc.pid)),
          t0: r.t0,
          lastAt: r.lastAt,
        });
        firsts.push(r.done ? r.firstAt - r.t0 : NaN);
        lasts.push(r.done === size ? r.lastAt - r.t0 : NaN);
        delivered = Math.min(delivered, r.done);
        // Let the round's write callbacks and the clients settle before the next one.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const sizeFigures: SizeFigures = {
        connections: size,
        heapPerConnectionKB: (s.heapUsed - baseline.heapUsed) / size / 1024,
        firstClientMs: median(firsts),
        // A round where some client never got the event makes the figure NaN, not a better median.
        lastClientMs: lasts.some((ms) => Number.isNaN(ms)) ? NaN : median(lasts),
        delivered,
        lastClientRoundsMs: lasts,
        roundsSched,
      };
      figures.sizes.push(sizeFigures);
      log(
        `  ${size} connections: heap/conn ${fmt(sizeFigures.heapPerConnectionKB)} KB, first ${fmt(sizeFigures.firstClientMs)} ms, last ${fmt(sizeFigures.lastClientMs)} ms (median of ${plan.rounds} rounds: ${lasts.map((ms) => fmt(ms)).join(', ')}; ${delivered}/${size} got it in the worst)`,
      );
    }

    // Burst to `burstClients` clients (close the extra streams first).
    if (connected > plan.burstClients) {
      await clients.ask({ type: 'close', count: connected - plan.burstClients }, 'closed', 30_000);
      await waitUntil(async () => (await stats()).connections === plan.burstClients, 'extra streams to close', 60_000);
    } else if (connected < plan.burstClients) {
      await open(plan.burstClients - connected);
    }
    // One unmeasured burst first, for every variant alike: a server's first burst runs its burst paths cold
    // (a fast-transport run's first burst held the worst health samples of the run: 26-32 ms against 8-17 ms
    // for the same moment of later bursts, per-sample trace 2026-12-07), as a long-running server does not.
    await round(plan.burstEvents, Math.min(plan.burstTimeoutMs, BURST_WARMUP_TIMEOUT_MS));
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Bursts: at least minBursts, then more until the run has enough health samples for a p99 (or maxBursts).
    for (let i = 0; i < plan.maxBursts && (i < plan.minBursts || tail(figures.healthSamples).label !== 'p99'); i++) {
      const b = await measuredBurst(base, variant, plan, round, figures);
      figures.bursts.push(b);
      if (b.frames !== b.expectedFrames) break; // a server that cannot deliver a burst is not asked for more
      // Let the burst's write callbacks and the clients settle before the next one.
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const h = tail(figures.healthSamples);
    log(
      `  ${figures.bursts.length} bursts of ${plan.burstEvents} events to ${plan.burstClients}: ${figures.bursts.map((b) => `${b.frames === b.expectedFrames ? '' : `${b.frames}/${b.expectedFrames} frames${b.timedOut ? ' (deadline hit) ' : ' '}`}${fmt(b.seconds, 2)} s (first frame ${fmt(b.firstFrameMs ?? NaN)} ms)`).join(', ')}; health ${formatTail(h)}${figures.healthUnanswered ? ` (${figures.healthUnanswered} unanswered after ${HEALTH_GRACE_MS / 1000} s more)` : ''}`,
    );
  } catch (error) {
    figures.error = error instanceof Error ? error.message : String(error);
    log(`  failed: ${figures.error}`);
  } finally {
    probeAgent.destroy();
    await Promise.all([server.kill(), clients.kill()]);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }
  return figures;
}

type Round = (events: number, timeoutMs: number) => Promise<{ done: number; of: number; frames: number; firstFrameAt: number; firstAt: number; lastAt: number; timedOut?: boolean; t0: number }>;

/**
 * One burst of `plan.burstEvents` events, with health requests one at a time
 * for as long as it is being delivered; their times go into the run's samples.
 * A request still in flight when the burst is done gets a grace period to
 * answer; past that it is aborted and counted with the time it waited (a lower
 * bound: the server did not answer).
 */
async function measuredBurst(base: string, variant: Variant, plan: Plan, round: Round, figures: RunFigures): Promise<BurstFigures> {
  const healthAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  let bursting = true;
  const cutoff = new AbortController();
  const probe = (async () => {
    while (bursting) {
      const started = performance.now();
      try {
        // The cutoff, not this timeout, ends a request the server never answers.
        await get(`${base}${variant.healthPath}`, healthAgent, plan.burstTimeoutMs + HEALTH_GRACE_MS + 60_000, cutoff.signal);
        figures.healthSamples.push(performance.now() - started);
      } catch {
        if (cutoff.signal.aborted) {
          figures.healthUnanswered++;
          figures.healthSamples.push(performance.now() - started);
          break;
        }
        // A reset keep-alive socket is the probe's problem, not the server's: try again.
      }
      await new Promise((resolve) => setTimeout(resolve, HEALTH_GAP_MS));
    }
  })();
  const burst = await round(plan.burstEvents, plan.burstTimeoutMs);
  bursting = false;
  const grace = setTimeout(() => cutoff.abort(), HEALTH_GRACE_MS);
  await probe;
  clearTimeout(grace);
  healthAgent.destroy();
  const expectedFrames = plan.burstClients * plan.burstEvents;
  const seconds = (burst.done === plan.burstClients ? burst.lastAt - burst.t0 : NaN) / 1000;
  return {
    expectedFrames,
    frames: burst.frames,
    clientsComplete: burst.done,
    seconds,
    firstFrameMs: burst.frames > 0 ? burst.firstFrameAt - burst.t0 : NaN,
    framesPerSecond: burst.frames === expectedFrames ? expectedFrames / seconds : NaN,
    timedOut: Boolean(burst.timedOut),
  };
}

async function waitUntil(condition: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * `BENCH_TRANSPORT_VARIANTS=bare,fast` runs only the variants whose names
 * contain one of the comma-separated words (for side-by-side checks while
 * working on one server); unset: all of them.
 */
function selectedVariants(): readonly Variant[] {
  const words = (process.env.BENCH_TRANSPORT_VARIANTS ?? '').split(',').map((w) => w.trim().toLowerCase()).filter(Boolean);
  if (!words.length) return VARIANTS;
  const picked = VARIANTS.filter((v) => words.some((w) => v.name.toLowerCase().includes(w)));
  if (!picked.length) throw new Error(`BENCH_TRANSPORT_VARIANTS=${process.env.BENCH_TRANSPORT_VARIANTS} matches no variant`);
  return picked;
}

/** Runs the transport benchmark. */
export async function run({ quick }: BenchOptions): Promise<BenchResult> {
  const plan: Plan = quick
    ? { sizes: [200], runs: 2, rounds: 3, warmupStreams: 50, warmupRounds: 3, burstClients: 200, burstEvents: 50, minBursts: 2, maxBursts: 4, roundTimeoutMs: 10_000, burstTimeoutMs: 10_000, openTimeoutMs: 60_000 }
    : { sizes: [1000, 4000], runs: 3, rounds: 7, warmupStreams: 200, warmupRounds: 5, burstClients: 1000, burstEvents: 200, minBursts: 3, maxBursts: 12, roundTimeoutMs: 30_000, burstTimeoutMs: 30_000, openTimeoutMs: 180_000 };
  const variants = selectedVariants();
  // Only the app variants need the production build (bare ones run without it).
  if (variants.some((v) => v.app)) ensureBuild();
  const runs: RunFigures[] = [];
  for (let r = 1; r <= plan.runs; r++) {
    // Interleaved and rotated: drift of a shared machine over the section does not favour one variant.
    const order = variants.map((_, i) => variants[(i + r - 1) % variants.length]!);
    for (const variant of order) {
      console.log(`[transport] run ${r}/${plan.runs}: ${variant.name}`);
      runs.push(await runVariant(variant, r, plan, (line) => console.log(line)));
    }
  }
  const { markdown, summary } = report(runs, plan, variants.map((v) => v.name), HEALTH_GRACE_MS, HEALTH_GAP_MS);
  return {
    name: 'transport',
    title: 'Live transport: bare node:http (plain and batched), better-sse, stock tRPC and the fast transport',
    markdown,
    summary,
    // Health samples are summarized per run (the section prints their tail; the raw list would be thousands of lines).
    data: { plan, runs: runs.map(({ healthSamples, ...rest }) => ({ ...rest, health: tail(healthSamples) })) },
  };
}
