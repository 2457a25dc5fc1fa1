/**
 * Transport benchmark: the cost of carrying live streams, side by side in one
 * run with one client harness.
 *
 * Servers (each in its own child process, --expose-gc):
 * - bare `node:http`, one pre-encoded frame written to every response;
 * - better-sse, a channel broadcast;
 * - stock tRPC 11.22 subscription in the production Next route (`LIVE_TRANSPORT=stock`);
 * - our fast transport in the production server (`dist/main.js`).
 * Clients: raw HTTP SSE clients in another child process (`clients.mjs`),
 * counting events by parsing them.
 *
 * Figures: heap per idle connection (heap delta after GC / connections) at
 * 1,000 and 4,000 connections; time from publish until the last client has
 * the event; a 200-event burst to 1,000 clients (all delivered? frames/s),
 * with the p99 of `/health` requests sent during the burst. Loopback only;
 * every step has a deadline; `--quick` runs 200 clients and a 50-event burst.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, Agent } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fmt, median, quantile, table, type BenchOptions, type BenchResult } from '../lib/report';
// @ts-expect-error -- plain ESM script without types
import { ensureBuild } from '../../scripts/ensure-build.mjs';
import { freePort } from '../../test/helpers/prodServer';

const root = path.resolve(import.meta.dirname, '../..');
/** How long a health request in flight when the burst is done may still take before it counts as unanswered. */
const HEALTH_GRACE_MS = 2000;
const here = import.meta.dirname;

type VariantName = 'bare' | 'better-sse' | 'stock tRPC (Next route)' | 'fast transport';

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
  { name: 'bare', script: 'servers/bare.mjs', env: {}, ssePath: '/sse', healthPath: '/health', readyMarker: 'ready', app: false },
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
    name: 'fast transport',
    script: 'servers/app.mjs',
    env: { LIVE_TRANSPORT: 'fast' },
    ssePath: '/api/trpc/live.stream',
    healthPath: '/api/health',
    readyMarker: '"hello"',
    app: true,
  },
];

interface SizeFigures {
  connections: number;
  heapPerConnectionKB: number;
  /** Medians over the rounds. */
  firstClientMs: number;
  lastClientMs: number;
  /** Clients that got the event, in the worst round. */
  delivered: number;
  /** Time until the last client had the event, each round (NaN: not every client got it). */
  lastClientRoundsMs: number[];
}

interface BurstFigures {
  clients: number;
  events: number;
  expectedFrames: number;
  frames: number;
  clientsComplete: number;
  seconds: number;
  framesPerSecond: number;
  timedOut: boolean;
  healthSamples: number;
  healthP99Ms: number;
  healthMaxMs: number;
  /** Health requests still unanswered when the burst window ended (their time is a lower bound). */
  healthUnanswered: number;
}

interface VariantFigures {
  name: VariantName;
  sizes: SizeFigures[];
  burst: BurstFigures | null;
  error?: string;
}

/** A child process spoken to over IPC, with deadlines. */
class Child {
  private readonly inbox: any[] = [];
  private readonly waiters = new Set<() => void>();
  readonly exited: Promise<void>;

  constructor(
    readonly proc: ChildProcess,
    readonly label: string,
  ) {
    proc.on('message', (message) => {
      this.inbox.push(message);
      for (const check of [...this.waiters]) check();
    });
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
  }

  /** Sends `message` and resolves with the first reply of `type` (rejects after `timeoutMs`). */
  ask<T = any>(message: object, type: string, timeoutMs: number): Promise<T> {
    this.proc.send(message);
    return this.next<T>(type, timeoutMs);
  }

  /** The next message of `type` (already received or still to come). */
  next<T = any>(type: string, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const check = () => {
        const i = this.inbox.findIndex((m) => m.type === type);
        if (i === -1) return;
        const [m] = this.inbox.splice(i, 1);
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(m);
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`${this.label}: no "${type}" within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.add(check);
      check();
    });
  }

  /** Asks the child to exit (it does when the IPC channel closes), and kills it if it does not within 3 s. */
  async kill(): Promise<void> {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      if (this.proc.connected) this.proc.disconnect();
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 3000);
      await this.exited;
      clearTimeout(timer);
    }
  }
}


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

interface Plan {
  sizes: number[];
  /** One-event rounds per size; the figures are their medians (one round is noisy on a shared machine). */
  rounds: number;
  /** Streams and one-event rounds of the warm-up, before the heap baseline. */
  warmupStreams: number;
  warmupRounds: number;
  burstClients: number;
  burstEvents: number;
  roundTimeoutMs: number;
  burstTimeoutMs: number;
  openTimeoutMs: number;
}

async function runVariant(variant: Variant, plan: Plan, log: (line: string) => void): Promise<VariantFigures> {
  const figures: VariantFigures = { name: variant.name, sizes: [], burst: null };
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const dataDir = variant.app ? mkdtempSync(path.join(tmpdir(), 'trpc-live-bench-')) : null;
  const server = new Child(
    fork(path.join(here, variant.script), [], {
      cwd: root,
      // BENCH_CPU_PROF=<dir> writes a CPU profile of each server (where the time goes);
      // BENCH_CPU_PROF_INTERVAL=<µs> samples more often than the default 1000 µs.
      execArgv: ['--expose-gc', ...cpuProfileArgs()],
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
      const published = server.ask<{ t0: number }>({ type: 'publish', round: id, count: events }, 'published', timeoutMs);
      let result: any;
      try {
        result = await clients.next('round', timeoutMs);
      } catch {
        result = await clients.ask({ type: 'report', id }, 'round', 10_000);
      }
      // A server blocked by the burst may not even have answered the publish yet.
      const t0 = await published.then((p) => p.t0).catch(() => NaN);
      return { ...result, t0 } as { done: number; of: number; frames: number; firstAt: number; lastAt: number; timedOut?: boolean; t0: number };
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
      let delivered = size;
      // Unmeasured rounds at this size first, for every variant alike: a larger fan-out runs paths the
      // 200-stream warm-up did not (more connections per turn, slicing across turns, fuller socket buffers),
      // and its first rounds measure the JIT and the allocator growing, not the steady state.
      for (let i = 0; i < plan.warmupRounds; i++) await round(1, plan.roundTimeoutMs);
      for (let i = 0; i < plan.rounds; i++) {
        const r = await round(1, plan.roundTimeoutMs);
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
    // Health requests, one at a time, for as long as the burst is being delivered. A request
    // still in flight when the burst is done gets a grace period to answer; past that it is
    // aborted and counted with the time it waited (a lower bound: the server did not answer).
    const healthAgent = new Agent({ keepAlive: true, maxSockets: 1 });
    const samples: number[] = [];
    let unanswered = 0;
    let bursting = true;
    const cutoff = new AbortController();
    const probe = (async () => {
      while (bursting) {
        const started = performance.now();
        try {
          // The cutoff, not this timeout, ends a request the server never answers.
          await get(`${base}${variant.healthPath}`, healthAgent, plan.burstTimeoutMs + HEALTH_GRACE_MS + 60_000, cutoff.signal);
          samples.push(performance.now() - started);
        } catch {
          if (cutoff.signal.aborted) {
            unanswered++;
            samples.push(performance.now() - started);
            break;
          }
          // A reset keep-alive socket is the probe's problem, not the server's: try again.
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
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
    figures.burst = {
      clients: plan.burstClients,
      events: plan.burstEvents,
      expectedFrames,
      frames: burst.frames,
      clientsComplete: burst.done,
      seconds,
      framesPerSecond: burst.frames === expectedFrames ? expectedFrames / seconds : NaN,
      timedOut: Boolean(burst.timedOut),
      healthSamples: samples.length,
      healthP99Ms: quantile(samples, 0.99),
      healthMaxMs: samples.length ? Math.max(...samples) : NaN,
      healthUnanswered: unanswered,
    };
    log(
      `  burst ${plan.burstEvents} events to ${plan.burstClients}: ${burst.frames}/${expectedFrames} frames${burst.timedOut ? ` (deadline ${plan.burstTimeoutMs / 1000} s hit)` : ''} in ${fmt(seconds, 2)} s, health p99 ${fmt(figures.burst.healthP99Ms)} ms over ${samples.length} requests${unanswered ? ` (one unanswered after ${HEALTH_GRACE_MS / 1000} s more)` : ''}`,
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

async function waitUntil(condition: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const ratio = (value: number, base: number) => (Number.isFinite(value) && Number.isFinite(base) && base > 0 ? value / base : NaN);
const x = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : '—');

function report(results: VariantFigures[], plan: Plan): string {
  const [small, large] = [plan.sizes[0]!, plan.sizes.at(-1)!];
  const bySize = (f: VariantFigures, size: number) => f.sizes.find((s) => s.connections === size);
  const bare = results.find((r) => r.name === 'bare');
  const cell = (v: number | undefined, digits = 1) => (v === undefined ? '—' : fmt(v, digits));
  const rows = results.map((r) => {
    const b = r.burst;
    return [
      r.name + (r.error ? ` (failed: ${r.error})` : ''),
      `${cell(bySize(r, small)?.heapPerConnectionKB)} / ${cell(bySize(r, large)?.heapPerConnectionKB)}`,
      `${cell(bySize(r, small)?.lastClientMs)} / ${cell(bySize(r, large)?.lastClientMs)}`,
      b ? `${b.frames === b.expectedFrames ? 'all' : `${b.frames} of ${b.expectedFrames}`}${b.timedOut ? ` (stopped at ${plan.burstTimeoutMs / 1000} s)` : ''}` : '—',
      b ? fmt(b.seconds, 2) : '—',
      b ? fmt(b.framesPerSecond, 0) : '—',
      b ? `${fmt(b.healthP99Ms)}${b.healthUnanswered ? ' (≥, unanswered)' : ''}` : '—',
    ];
  });
  const header = [
    'server',
    `heap per idle connection, KB (${small} / ${large})`,
    `last client has the event, ms (${small} / ${large})`,
    `${plan.burstEvents}-event burst to ${plan.burstClients}: delivered`,
    'burst time, s',
    'frames/s',
    'health p99 during burst, ms',
  ];
  const parts = [table(header, rows), ''];
  if (bare) {
    const ratioRows = results
      .filter((r) => r !== bare)
      .map((r) => [
        r.name,
        `${x(ratio(bySize(r, small)?.heapPerConnectionKB ?? NaN, bySize(bare, small)?.heapPerConnectionKB ?? NaN))} / ${x(ratio(bySize(r, large)?.heapPerConnectionKB ?? NaN, bySize(bare, large)?.heapPerConnectionKB ?? NaN))}`,
        `${x(ratio(bySize(r, small)?.lastClientMs ?? NaN, bySize(bare, small)?.lastClientMs ?? NaN))} / ${x(ratio(bySize(r, large)?.lastClientMs ?? NaN, bySize(bare, large)?.lastClientMs ?? NaN))}`,
        x(ratio(r.burst?.framesPerSecond ?? NaN, bare.burst?.framesPerSecond ?? NaN)),
      ]);
    parts.push('Ratios to bare `node:http` (lower is better for heap and time, higher for frames/s):', '');
    parts.push(table(['server', `heap (${small} / ${large})`, `last client (${small} / ${large})`, 'burst frames/s'], ratioRows), '');
    const fast = results.find((r) => r.name === 'fast transport');
    if (fast) {
      const heap = ratio(bySize(fast, large)?.heapPerConnectionKB ?? NaN, bySize(bare, large)?.heapPerConnectionKB ?? NaN);
      const last = Math.max(
        ratio(bySize(fast, small)?.lastClientMs ?? NaN, bySize(bare, small)?.lastClientMs ?? NaN),
        ratio(bySize(fast, large)?.lastClientMs ?? NaN, bySize(bare, large)?.lastClientMs ?? NaN),
      );
      const fps = ratio(fast.burst?.framesPerSecond ?? NaN, bare.burst?.framesPerSecond ?? NaN);
      const p99 = fast.burst?.healthP99Ms ?? NaN;
      const check = (ok: boolean) => (ok ? 'met' : '**not met**');
      parts.push(
        'Goals for the fast transport (issue 3):',
        '',
        `- heap per idle connection ≤ 2x bare (at ${large}): ${x(heap)}, ${check(heap <= 2)}`,
        `- time until the last client has the event ≤ 1.5x bare (worst of ${small} / ${large}): ${x(last)}, ${check(last <= 1.5)}`,
        `- burst: all delivered and frames/s ≥ 0.5x bare: ${fast.burst?.frames === fast.burst?.expectedFrames ? 'all delivered' : 'NOT all delivered'}, ${x(fps)}, ${check(fast.burst?.frames === fast.burst?.expectedFrames && fps >= 0.5)}`,
        `- health p99 during the burst ≤ 50 ms: ${fmt(p99)} ms, ${check(p99 <= 50)}`,
        '',
      );
    }
  }
  parts.push(
    'Heap: `heapUsed` after three forced GCs, minus the same after a warm-up with no streams, divided by the streams open. ' +
      `Time: from just before the server publishes until the last client parsed the event (client and server clocks are the same machine), median of ${plan.rounds} one-event rounds per size (each round's figure is in bench/results/transport.json), after a warm-up of ${plan.warmupRounds} rounds to ${plan.warmupStreams} streams and ${plan.warmupRounds} unmeasured rounds at each size. ` +
      `Burst: ${plan.burstEvents} distinct events published in one go; health requests are sent one at a time (10 ms apart) on a keep-alive socket until the burst is delivered or ${plan.burstTimeoutMs / 1000} s passed; one still unanswered ${HEALTH_GRACE_MS / 1000} s after that counts with the time it waited (marked ≥). ` +
      'Each server runs alone in its own process with --expose-gc; the clients run in another process. Loopback, one run: figures are noisy on a shared machine.',
  );
  return parts.join('\n');
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
    ? { sizes: [200], rounds: 3, warmupStreams: 50, warmupRounds: 3, burstClients: 200, burstEvents: 50, roundTimeoutMs: 10_000, burstTimeoutMs: 10_000, openTimeoutMs: 60_000 }
    : { sizes: [1000, 4000], rounds: 9, warmupStreams: 200, warmupRounds: 5, burstClients: 1000, burstEvents: 200, roundTimeoutMs: 30_000, burstTimeoutMs: 30_000, openTimeoutMs: 180_000 };
  ensureBuild();
  const results: VariantFigures[] = [];
  for (const variant of selectedVariants()) {
    console.log(`[transport] ${variant.name}`);
    results.push(await runVariant(variant, plan, (line) => console.log(line)));
  }
  return {
    name: 'transport',
    title: 'Live transport: bare node:http, better-sse, stock tRPC and the fast transport',
    markdown: report(results, plan),
    data: { plan, results },
  };
}
