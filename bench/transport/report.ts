/**
 * The transport section's figures over independent server runs, and its
 * markdown: each figure is the median (min–max) of the runs, and a verdict
 * ("met" / "not met") is given only from at least {@link MIN_RUNS_FOR_VERDICT}
 * runs per variant involved. Pure: the orchestration is in index.ts.
 */
import { fmt, formatTail, median, table, tailOfRuns, tailWithin, type RunsTail } from '../lib/report';
import { SERVER_V8_FLAGS } from '../../scripts/serverFlags.mjs';
import type { SchedTimes } from '../lib/schedstat';

/** Variants, in report order. */
export type VariantName = 'bare' | 'bare, batched per tick' | 'bare, batched, tRPC wire format' | 'better-sse' | 'stock tRPC (Next route)' | 'fast transport';

/** The plain bare server (one write per event per client) and the batched one (the limit, issue 19). */
export const BARE: VariantName = 'bare';
export const BATCHED: VariantName = 'bare, batched per tick';
/** {@link BATCHED} sending tRPC's wire format (the bytes ours must send): a reference, not a goal's baseline. */
export const BATCHED_WIRE: VariantName = 'bare, batched, tRPC wire format';
export const FAST: VariantName = 'fast transport';

/** Fewest independent server runs per variant a verdict is given from (issue 19). */
export const MIN_RUNS_FOR_VERDICT = 3;

export interface Plan {
  sizes: number[];
  /** Independent server runs per variant (a fresh server and client process each, own warm-up and rounds). */
  runs: number;
  /** One-event rounds per size in each run; a run's figure is their median (one round is noisy on a shared machine). */
  rounds: number;
  /** Streams and one-event rounds of the warm-up, before the heap baseline. */
  warmupStreams: number;
  warmupRounds: number;
  burstClients: number;
  burstEvents: number;
  /** Bursts per run: at least `minBursts`, then more until the run has enough health samples for a p99 or `maxBursts`. */
  minBursts: number;
  maxBursts: number;
  roundTimeoutMs: number;
  burstTimeoutMs: number;
  openTimeoutMs: number;
}

export interface SizeFigures {
  connections: number;
  heapPerConnectionKB: number;
  /** Medians over the run's rounds. */
  firstClientMs: number;
  lastClientMs: number;
  /** Clients that got the event, in the worst round. */
  delivered: number;
  /** Time until the last client had the event, each round (NaN: not every client got it). */
  lastClientRoundsMs: number[];
  /**
   * Each round's main threads (event loops) of the server and of the clients' process, from the scheduler
   * (bench/lib/schedstat.ts): CPU time and time spent waiting for a CPU, from before the round's first message
   * to its result (null off Linux), and the round's window (absolute ms: the publish, the last client's event).
   * Read by bench/transport/roundWaits.ts; absent in results of older runs.
   */
  roundsSched?: Array<{ server: SchedTimes | null; clients: SchedTimes | null; t0: number; lastAt: number }>;
}

export interface BurstFigures {
  expectedFrames: number;
  frames: number;
  clientsComplete: number;
  seconds: number;
  /**
   * From the publish until the burst's first frame reached any client, ms: how long the server
   * works before a burst's bytes start to flow (a diagnostic; absent in results before 2026-12-07).
   */
  firstFrameMs?: number;
  framesPerSecond: number;
  timedOut: boolean;
}

/** One independent server run of one variant. */
export interface RunFigures {
  name: VariantName;
  /** 1-based run number (runs of all variants interleave: run 1 of every variant, then run 2, …). */
  run: number;
  sizes: SizeFigures[];
  bursts: BurstFigures[];
  /** Health request times during this run's bursts (ms). */
  healthSamples: number[];
  /** Health requests still unanswered when a burst window ended (their time, a lower bound, is in the samples). */
  healthUnanswered: number;
  error?: string;
}

/** Median and spread of one figure over a variant's runs (runs without the figure left out; `n` counts those with it). */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function spread(values: readonly number[]): Spread {
  const finite = values.filter(Number.isFinite);
  return finite.length
    ? { median: median(finite), min: Math.min(...finite), max: Math.max(...finite), n: finite.length }
    : { median: NaN, min: NaN, max: NaN, n: 0 };
}

/** "12.3 (11.0–14.2)"; the range only when the runs differ. */
export function showSpread(s: Spread, digits = 1): string {
  if (!Number.isFinite(s.median)) return '—';
  return s.min === s.max ? fmt(s.median, digits) : `${fmt(s.median, digits)} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;
}

/** A run's burst frames/s: the median of its bursts, NaN when one of them did not deliver every frame. */
export function runFramesPerSecond(run: RunFigures): number {
  if (!run.bursts.length || run.bursts.some((b) => b.frames !== b.expectedFrames)) return NaN;
  return median(run.bursts.map((b) => b.framesPerSecond));
}

const ratio = (value: number, base: number) => (Number.isFinite(value) && Number.isFinite(base) && base > 0 ? value / base : NaN);
const x = (value: number) => (Number.isFinite(value) ? `${value.toFixed(2)}x` : '—');

/** Per-variant view of the runs. */
export function variantFigures(runs: readonly RunFigures[], name: VariantName) {
  const mine = runs.filter((r) => r.name === name);
  const ok = mine.filter((r) => !r.error);
  const atSize = (size: number, pick: (s: SizeFigures) => number) => ok.map((r) => r.sizes.find((s) => s.connections === size)).map((s) => (s ? pick(s) : NaN));
  return {
    name,
    runs: mine,
    ok,
    errors: mine.filter((r) => r.error).map((r) => `run ${r.run}: ${r.error}`),
    heap: (size: number) => spread(atSize(size, (s) => s.heapPerConnectionKB)),
    last: (size: number) => spread(atSize(size, (s) => s.lastClientMs)),
    /** Per run, by run number: the figure (NaN when missing), for pairing with another variant's run of the same number. */
    perRun: (pick: (r: RunFigures) => number) => new Map(ok.map((r) => [r.run, pick(r)])),
    heapAt: (size: number) => (r: RunFigures) => r.sizes.find((s) => s.connections === size)?.heapPerConnectionKB ?? NaN,
    lastAt: (size: number) => (r: RunFigures) => r.sizes.find((s) => s.connections === size)?.lastClientMs ?? NaN,
    fps: spread(ok.map(runFramesPerSecond)),
    allDelivered: ok.length > 0 && ok.every((r) => r.bursts.length > 0 && r.bursts.every((b) => b.frames === b.expectedFrames)),
    burstSeconds: spread(ok.map((r) => median(r.bursts.map((b) => b.seconds)))),
    firstFrameMs: spread(
      ok.map((r) => {
        const times = r.bursts.map((b) => b.firstFrameMs ?? NaN).filter(Number.isFinite);
        return times.length ? median(times) : NaN;
      }),
    ),
    health: tailOfRuns(ok.map((r) => r.healthSamples)),
    unanswered: ok.reduce((sum, r) => sum + r.healthUnanswered, 0),
    bursts: ok.map((r) => r.bursts.length),
  };
}

type Figures = ReturnType<typeof variantFigures>;

/** A ratio of two variants: of their medians, and the range of the per-run ratios (run i against run i, run back to back). */
export function compare(a: Figures, b: Figures, pick: (r: RunFigures) => number): { ratio: number; min: number; max: number; runs: number } {
  const mine = a.perRun(pick);
  const theirs = b.perRun(pick);
  const paired = [...mine].map(([run, value]) => ratio(value, theirs.get(run) ?? NaN)).filter(Number.isFinite);
  return {
    ratio: ratio(median([...mine.values()].filter(Number.isFinite)), median([...theirs.values()].filter(Number.isFinite))),
    min: paired.length ? Math.min(...paired) : NaN,
    max: paired.length ? Math.max(...paired) : NaN,
    runs: Math.min(a.ok.length, b.ok.length),
  };
}

const showRatio = (c: ReturnType<typeof compare>) =>
  !Number.isFinite(c.ratio) ? '—' : `${x(c.ratio)}${c.runs > 1 && Number.isFinite(c.min) ? ` (runs ${x(c.min)}–${x(c.max)})` : ''}`;

/**
 * "met" / "**not met**" when every variant involved has at least
 * {@link MIN_RUNS_FOR_VERDICT} runs, else no verdict, with why.
 */
export function verdict(ok: boolean, runs: number): string {
  if (runs < MIN_RUNS_FOR_VERDICT) return `no verdict (${runs} run${runs === 1 ? '' : 's'} per variant; a verdict needs ≥ ${MIN_RUNS_FOR_VERDICT})`;
  return ok ? 'met' : '**not met**';
}

/** Verdict on a tail goal "p99 ≤ limit" (see tailWithin): undetermined, not failed or passed, when runs lack a p99 and the max is above. */
export function tailVerdict(t: RunsTail, limit: number, runs: number): string {
  const within = tailWithin(t, limit);
  if (within === null && runs >= MIN_RUNS_FOR_VERDICT) return '**undetermined** (too few samples for a p99, and the max is above)';
  return verdict(within === true, runs);
}

/** The section's markdown and its one-line summary of the verdicts. */
export function report(runs: readonly RunFigures[], plan: Plan, variants: readonly VariantName[], healthGraceMs: number, healthGapMs: number): { markdown: string; summary: string } {
  const [small, large] = [plan.sizes[0]!, plan.sizes.at(-1)!];
  const all = variants.map((name) => variantFigures(runs, name));
  const byName = (name: VariantName) => all.find((f) => f.name === name);
  const rows = all.map((f) => [
    f.name + (f.errors.length ? ` (failed: ${f.errors.join('; ')})` : ''),
    `${f.ok.length} of ${f.runs.length}`,
    `${showSpread(f.heap(small))} / ${showSpread(f.heap(large))}`,
    `${showSpread(f.last(small))} / ${showSpread(f.last(large))}`,
    f.ok.length ? (f.allDelivered ? 'all' : '**not all**') : '—',
    showSpread(f.burstSeconds, 2),
    showSpread(f.firstFrameMs),
    showSpread(f.fps, 0),
    `${formatTail(f.health)}${f.unanswered ? ` (${f.unanswered} unanswered: ≥)` : ''}`,
  ]);
  const parts = [
    table(
      [
        'server',
        'runs',
        `heap per idle connection, KB (${small} / ${large})`,
        `last client has the event, ms (${small} / ${large})`,
        `${plan.burstEvents}-event bursts to ${plan.burstClients}: delivered`,
        'burst time, s',
        'first frame at a client, ms',
        'frames/s',
        'health during the bursts',
      ],
      rows,
    ),
    '',
  ];

  const bare = byName(BARE);
  const batched = byName(BATCHED);
  const summary: string[] = [];
  const bases = [bare, batched].filter((b): b is Figures => b !== undefined);
  if (bases.length) {
    const ratioRows = all
      .filter((f) => !bases.includes(f))
      .map((f) => [
        f.name,
        ...bases.flatMap((b) => [
          `${x(compare(f, b, f.heapAt(small)).ratio)} / ${x(compare(f, b, f.heapAt(large)).ratio)}`,
          `${x(compare(f, b, f.lastAt(small)).ratio)} / ${x(compare(f, b, f.lastAt(large)).ratio)}`,
          x(compare(f, b, runFramesPerSecond).ratio),
        ]),
      ]);
    if (bare && batched) ratioRows.unshift([`${BATCHED} (vs bare)`, `${x(compare(batched, bare, batched.heapAt(small)).ratio)} / ${x(compare(batched, bare, batched.heapAt(large)).ratio)}`, `${x(compare(batched, bare, batched.lastAt(small)).ratio)} / ${x(compare(batched, bare, batched.lastAt(large)).ratio)}`, x(compare(batched, bare, runFramesPerSecond).ratio), '', '', '']);
    parts.push(
      `Ratios of medians to ${bases.map((b) => `\`${b.name}\``).join(' and to ')} (lower is better for heap and time, higher for frames/s):`,
      '',
      table(['server', ...bases.flatMap((b) => [`heap vs ${b.name} (${small} / ${large})`, `last client vs ${b.name} (${small} / ${large})`, `frames/s vs ${b.name}`])], ratioRows),
      '',
    );
  }

  const fast = byName(FAST);
  if (fast && bare) {
    const runsOf = (...f: Figures[]) => Math.min(...f.map((v) => v.ok.length));
    const heap = compare(fast, bare, fast.heapAt(large));
    const lasts = [small, large].map((size) => compare(fast, bare, fast.lastAt(size)));
    const worst = lasts.reduce((a, b) => (b.ratio > a.ratio || Number.isNaN(b.ratio) ? b : a));
    const fps = compare(fast, bare, runFramesPerSecond);
    const n = runsOf(fast, bare);
    parts.push(
      `Goals for the fast transport (issue 3, against \`${BARE}\`; each from the median of the runs, the runs' own ratios in brackets):`,
      '',
      `- heap per idle connection ≤ 2x bare (at ${large}): ${showRatio(heap)}, ${verdict(heap.ratio <= 2, n)}`,
      `- time until the last client has the event ≤ 1.5x bare (worst of ${small} / ${large}): ${showRatio(worst)}, ${verdict(worst.ratio <= 1.5, n)}`,
      `- bursts: all delivered and frames/s ≥ 0.5x bare: ${fast.allDelivered ? 'all delivered' : 'NOT all delivered'}, ${showRatio(fps)}, ${verdict(fast.allDelivered && fps.ratio >= 0.5, n)}`,
      `- health p99 during the bursts ≤ 50 ms: ${formatTail(fast.health)}, ${tailVerdict(fast.health, 50, fast.ok.length)}`,
      '',
    );
    if (batched) {
      const lastsB = [small, large].map((size) => compare(fast, batched, fast.lastAt(size)));
      const fpsB = compare(fast, batched, runFramesPerSecond);
      const nB = runsOf(fast, batched, bare);
      const lastOk = lastsB.every((c) => c.ratio <= 1.25);
      const heapOk = heap.ratio <= 1.5;
      const fpsOk = fast.allDelivered && fpsB.ratio >= 0.8;
      parts.push(
        `Goals at the limit (issue 19 item 7, against \`${BATCHED}\`; heap against \`${BARE}\`):`,
        '',
        `- time until the last client has the event ≤ 1.25x batched bare, at ${small} and at ${large}: ${lastsB.map(showRatio).join(' / ')}, ${verdict(lastOk, nB)}`,
        `- heap per idle connection ≤ 1.5x bare (at ${large}): ${showRatio(heap)}, ${verdict(heapOk, n)}`,
        `- bursts: frames/s ≥ 0.8x batched bare: ${showRatio(fpsB)}, ${verdict(fpsOk, nB)}`,
        `- health p99 during the bursts ≤ 20 ms from ≥ 300 samples: ${formatTail(fast.health)}, ${tailVerdict(fast.health, 20, fast.ok.length)}`,
        '',
      );
      const wire = byName(BATCHED_WIRE);
      if (wire) {
        // Not a goal (the goals stay against batched bare): splits our gap into the format's share and our server's.
        const formatFps = compare(wire, batched, runFramesPerSecond);
        const formatLast = [small, large].map((size) => compare(wire, batched, wire.lastAt(size)));
        parts.push(
          `Where the gap to batched bare comes from (not a goal): \`${BATCHED_WIRE}\` sends the same events in the bytes tRPC's SSE format needs, as ours does (an \`id:\` line with the cursor and a spare newline per event). ` +
            `In that format batched bare reaches ${showRatio(formatFps)} of its own burst frames/s, and ${formatLast.map(showRatio).join(' / ')} of its own time to the last client (at ${small} / ${large}); ` +
            `against it, the fast transport has ${showRatio(compare(fast, wire, runFramesPerSecond))} of its frames/s and ${[small, large].map((size) => showRatio(compare(fast, wire, fast.lastAt(size)))).join(' / ')} of its time to the last client: that part is our server's own.`,
          '',
        );
      }
      summary.push(
        `last client ${lastsB.map((c) => x(c.ratio)).join(' / ')} batched bare`,
        `heap ${x(heap.ratio)} bare`,
        `frames/s ${x(fpsB.ratio)} batched bare`,
        `health ${formatTail(fast.health)}`,
        `(${nB} run(s) per variant)`,
      );
    } else {
      summary.push(`last client ${lasts.map((c) => x(c.ratio)).join(' / ')} bare`, `heap ${x(heap.ratio)} bare`, `frames/s ${x(fps.ratio)} bare`, `health ${formatTail(fast.health)}`);
    }
  }
  if (!summary.length) {
    // Without the fast transport and bare there is no verdict: the medians of every variant instead.
    for (const f of all) summary.push(`${f.name}: last client ${fmt(f.last(large).median)} ms at ${large}, ${fmt(f.fps.median, 0)} frames/s`);
    summary.push(`(${Math.min(...all.map((f) => f.ok.length))} run(s) per variant)`);
  }
  parts.push(
    `**Runs**: ${plan.runs} independent run(s) per variant, each a fresh server process and client process with its own warm-up and rounds; the runs of all variants interleave (run 1 of every variant, then run 2, …, the order rotated each run). ` +
      'Each figure is the median of the runs (min–max of the runs in brackets); a ratio is of two medians, with the range of the per-run ratios (run i of one variant against run i of the other). ' +
      `A verdict needs ≥ ${MIN_RUNS_FOR_VERDICT} runs per variant involved. ` +
      'Heap: `heapUsed` after three forced GCs, minus the same after a warm-up with no streams, divided by the streams open. ' +
      `Time: from just before the server publishes until the last client parsed the event (client and server clocks are the same machine); a run's figure is the median of its ${plan.rounds} one-event rounds per size (every round is in bench/results/transport.json), after a warm-up of ${plan.warmupRounds} rounds to ${plan.warmupStreams} streams and ${plan.warmupRounds} unmeasured rounds at each size. ` +
      `Bursts: ${plan.burstEvents} distinct events published in one go, ${plan.minBursts}–${plan.maxBursts} per run (more until the run has 300 health samples) after one unmeasured burst (every variant alike: a server's first burst runs cold); a run's frames/s is the median of its bursts; first frame at a client: from just before the publish until the burst's first frame reached any client (the work the server does before a burst's bytes start to flow), the median of the run's bursts. ` +
      `Health: requests sent one at a time (${healthGapMs} ms apart) on a keep-alive socket while a burst is being delivered (until delivered or ${plan.burstTimeoutMs / 1000} s); one still unanswered ${healthGraceMs / 1000} s after that counts with the time it waited (≥). ` +
      `A tail is a p99 only from ≥ 300 samples in every run, else the maximum (labelled max); n is each run's sample count. ` +
      '`bare` writes each event to every response as it is published; `bare, batched per tick` queues each connection’s frames and writes them once per connection on the next setImmediate (corked), as our transport hands a connection’s pending frames to the socket in one write; `bare, batched, tRPC wire format` does the same with each event in tRPC’s SSE format (`data:`, `id: <epoch>:<seq>`, a blank line and a spare newline: ~128 bytes a frame instead of ~103). ' +
      `Each server runs alone in its own process with --expose-gc and the production server's V8 flags (${SERVER_V8_FLAGS.join(' ')}, scripts/serverFlags.mjs), every variant alike; the clients run in another process. Loopback, on a shared machine.`,
  );
  return { markdown: parts.join('\n'), summary: summary.join(', ') };
}
