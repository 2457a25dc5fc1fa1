import { fmt, formatTail, tailOfRuns, tailWithin } from '../lib/report';
import { breakEven, describeBreakEven } from './breakEven';
import type { ArticlePlan, PhaseFigures, VariantRun } from './runVariant';
import { DEFAULT_HOLD_MS } from 'trpc-live/client';
import { byPhase, freshnessStats, ms, pairedRatio, pct, phaseOf, serverPushTail, show, stat, switchStats, type Stat } from './stats';

/** Issue 17 item 9: the goals of the pushed variant (d), against (a) polling every tab and (b) TanStack's polling. */
export const PUSHED_GOALS = {
  /** Requests per user per simulated minute, every phase. */
  requestsPerUserMinute: 0.05,
  /** Server CPU as a share of (a)'s, by phase (phases not named: reported, no goal). */
  cpuShareOfPolling: { idle: 0.1, light: 0.1, busy: 0.1, heavy: 0.75 } as Readonly<Record<string, number>>,
  /** Bytes received per user as a share of (a)'s, by phase (phases not named: reported, no goal). */
  bytesShareOfPolling: { idle: 1, light: 1, busy: 1 } as Readonly<Record<string, number>>,
  /** Freshness on the tab on screen, p99 (ms), every phase with changes. */
  freshnessP99Ms: 30,
} as const;

/** How a goal came out. `reported`: a figure the issue asks for without a bound. */
export type Verdict = 'met' | 'not met' | 'undetermined' | 'reported';

/** One goal of one phase, computed from the runs. */
export interface GoalRow {
  readonly goal: string;
  readonly phase: string;
  /** The measured figure, median (min–max) of the runs. */
  readonly value: string;
  readonly verdict: Verdict;
  /** When not met: by how much. */
  readonly by?: string;
}

const verdictOf = (ok: boolean): Verdict => (ok ? 'met' : 'not met');

/** A share of (a) as `12% of (a) (9–15%)`. */
const showShare = (s: Stat) => (Number.isFinite(s.median) ? `${pct(s.median)} of (a)${s.min === s.max ? '' : ` (${pct(s.min)}–${pct(s.max)})`}` : '—');

/**
 * The goals of issue 17 item 9 for the pushed variant, each computed from the
 * runs (medians of runs, min–max; ratios against (a) per run pair, same
 * seed): requests per user per minute, server CPU and bytes against (a),
 * freshness p99 on the tab on screen (p99 only from enough samples, else the
 * max: report.ts), tabs brought to the front showing outdated data; and the
 * break-even against (b) on server CPU and on requests (reported).
 */
export function pushedGoals(plan: ArticlePlan, runs: readonly VariantRun[]): GoalRow[] {
  const rows: GoalRow[] = [];
  const limitReq = PUSHED_GOALS.requestsPerUserMinute;
  for (const phase of plan.phases) {
    const req = byPhase(runs, 'pushed', phase.name, (f) => f.requestsPerUserMinute);
    const ok = req.median <= limitReq;
    rows.push({
      goal: `requests per user per minute ≤ ${limitReq}`,
      phase: phase.name,
      value: `${show(req, 3)} (${pctChange(byPhase(runs, 'polling', phase.name, (f) => f.requestsPerUserMinute).median, req.median)} vs (a), ${pctChange(byPhase(runs, 'polling-visible', phase.name, (f) => f.requestsPerUserMinute).median, req.median)} vs (b))`,
      verdict: Number.isFinite(req.median) ? verdictOf(ok) : 'undetermined',
      ...(Number.isFinite(req.median) && !ok ? { by: `${fmt(req.median - limitReq, 3)} over (${fmt(req.median / limitReq, 1)}× the bound)` } : {}),
    });
  }
  for (const phase of plan.phases) {
    const share = pairedRatio(runs, 'pushed', 'polling', phase.name, (f) => f.serverCpuPerMinute);
    const limit = PUSHED_GOALS.cpuShareOfPolling[phase.name];
    const row = shareRow(`server CPU ${limit === undefined ? 'against (a)' : `≤ ${pct(limit)} of (a)`}`, phase.name, share, limit);
    rows.push(row.verdict === 'not met' ? { ...row, by: `${row.by}; ${cpuWhy(plan, runs, phase.name)}` } : row);
  }
  for (const phase of plan.phases) {
    const share = pairedRatio(runs, 'pushed', 'polling', phase.name, (f) => f.bytesInPerUserMinute);
    const limit = PUSHED_GOALS.bytesShareOfPolling[phase.name];
    const kib = byPhase(runs, 'pushed', phase.name, (f) => f.bytesInPerUserMinute / 1024);
    const row = shareRow(`bytes received per user per minute ${limit === undefined ? 'against (a)' : `≤ (a)`}`, phase.name, share, limit);
    rows.push({ ...row, value: `${show(kib, 1)} KiB, ${row.value}` });
  }
  const limitMs = PUSHED_GOALS.freshnessP99Ms;
  for (const phase of plan.phases.filter((p) => p.perTenantPerMinute > 0)) {
    const fr = freshnessStats(phaseOf(runs, 'pushed', phase.name));
    const within = fr.samples ? tailWithin(fr.tail, limitMs) : null;
    rows.push({
      goal: `freshness on the tab on screen, p99 ≤ ${limitMs} ms`,
      phase: phase.name,
      value: `${formatTail(fr.tail, ms)}; ${fr.unresolved} never fresh`,
      verdict: within === null ? 'undetermined' : verdictOf(within && fr.unresolved === 0),
      ...(within === false ? { by: `${ms(fr.tail.median - limitMs)} over; ${freshnessWhy(phaseOf(runs, 'pushed', phase.name), limitMs)}` } : {}),
      ...(within === true && fr.unresolved ? { by: `${fr.unresolved} observer(s) never held the new data` } : {}),
      ...(within === null ? { by: fr.samples ? 'too few samples for a p99, and the max is above' : 'no samples' } : {}),
    });
  }
  for (const phase of plan.phases) {
    const s = switchStats(phaseOf(runs, 'pushed', phase.name));
    rows.push({
      goal: 'tabs brought to the front showing outdated data: 0%',
      phase: phase.name,
      value: `${pct(s.outdated.median)} (${s.outdatedCount} of ${s.count} switches, all runs)`,
      verdict: s.count ? verdictOf(s.outdatedCount === 0) : 'undetermined',
      ...(s.outdatedCount
        ? {
            by:
              `${s.outdatedCount} switch(es) showed outdated data` +
              (s.inFlightCount ? `, ${s.inFlightCount} of them only by changes committed less than ${DEFAULT_HOLD_MS} ms before the switch (in flight)` : ''),
          }
        : {}),
    });
  }
  for (const [what, pick] of [
    ['server CPU', (f: { serverCpuPerMinute: number }) => f.serverCpuPerMinute],
    ['requests', (f: { requestsPerUserMinute: number }) => f.requestsPerUserMinute],
  ] as const) {
    const even = breakEven(
      plan.phases.map((p) => ({
        rate: p.perTenantPerMinute,
        diff: byPhase(runs, 'pushed', p.name, pick as never).median - byPhase(runs, 'polling-visible', p.name, pick as never).median,
      })),
    );
    rows.push({ goal: `break-even against (b) on ${what}`, phase: 'all', value: describeBreakEven(even, '(d)'), verdict: 'reported' });
  }
  return rows;
}

/**
 * Why (d)'s freshness tail missed its bound, from what the phase measured:
 * the server's own part (its push-to-write histogram: publish to the socket
 * write, the computation included), the rest of the path split at the
 * frame's arrival at the browser, and how late the simulated browsers'
 * event loop ran (the process that reads the frame and writes the cache).
 */
export function freshnessWhy(figures: readonly PhaseFigures[], limitMs: number): string {
  const server = serverPushTail(figures);
  const serverText = !server
    ? 'the server’s own part was not measured'
    : `the server’s own part (publish to socket write) ${server.isP99 ? 'p99' : 'max'} ${server.tailMs === Infinity ? 'over its last bucket' : `≤ ${ms(server.tailMs)}`}${server.tailMs <= limitMs ? ', within the bound' : ', itself over the bound'}`;
  const withPath = figures.filter((f) => f.pushPath);
  const frame = tailOfRuns(withPath.map((f) => f.pushPath.toFrame));
  const held = tailOfRuns(withPath.map((f) => f.pushPath.toHeld));
  const loop = stat(figures.map((f) => f.usersLoopDelayP99Ms));
  return (
    `${serverText}; commit to the frame read by the browser ${formatTail(frame, ms)}, then ${formatTail(held, ms)} to the data held (the browser’s part); ` +
    `the simulated browsers’ event loop (the process that reads the frame and writes the cache; median of runs, min–max) was delayed p99 ${show(loop, 0, ' ms')}`
  );
}

/**
 * What (d)'s server CPU in a phase is made of, against (a)'s: its floor
 * (the idle phase: streams, pings, watches) and the cost of each mutation
 * above it (the mutation, its signals, the results computed and written),
 * medians of runs.
 */
export function cpuWhy(plan: ArticlePlan, runs: readonly VariantRun[], phaseName: string): string {
  const cpu = (variant: 'pushed' | 'polling', name: string) => byPhase(runs, variant, name, (f) => f.serverCpuPerMinute).median;
  const idle = plan.phases.find((p) => p.perTenantPerMinute === 0);
  const phase = plan.phases.find((p) => p.name === phaseName)!;
  const total = `(d) ${fmt(cpu('pushed', phaseName), 2)} s of CPU per minute against (a)’s ${fmt(cpu('polling', phaseName), 2)} s`;
  if (!idle || phase.perTenantPerMinute === 0) return total;
  const perMutationMs = ((cpu('pushed', phaseName) - cpu('pushed', idle.name)) / (phase.perTenantPerMinute * plan.tenants)) * 1000;
  return `${total}: ${fmt(cpu('pushed', idle.name), 2)} s with no change (the ${idle.name} phase), then ${fmt(perMutationMs, 1)} ms per mutation (${phase.perTenantPerMinute * plan.tenants} per minute)`;
}

function shareRow(goal: string, phase: string, share: Stat, limit: number | undefined): GoalRow {
  if (!Number.isFinite(share.median)) return { goal, phase, value: '—', verdict: limit === undefined ? 'reported' : 'undetermined' };
  if (limit === undefined) return { goal, phase, value: showShare(share), verdict: 'reported' };
  const ok = share.median <= limit;
  return { goal, phase, value: showShare(share), verdict: verdictOf(ok), ...(ok ? {} : { by: `${fmt((share.median - limit) * 100, 1)} points over` }) };
}

const pctChange = (before: number, after: number) =>
  before > 0 && Number.isFinite(after) ? `${after <= before ? '−' : '+'}${fmt((Math.abs(after - before) / before) * 100, 1)}%` : '—';

/** The goal rows as markdown lines. */
export function goalLines(rows: readonly GoalRow[]): string[] {
  return rows.map((r) => {
    const verdict = r.verdict === 'met' ? 'met' : r.verdict === 'reported' ? 'reported' : `**${r.verdict}**`;
    return `- ${r.goal}, ${r.phase}: ${r.value}, ${verdict}${r.by ? ` (${r.by})` : ''}`;
  });
}
