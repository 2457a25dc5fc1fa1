import { cpus } from 'node:os';
import { fmt, formatTail, median, quantile, tailOfRuns } from '../lib/report';
import { cdfChart } from '../lib/svgChart';
import { PIN_ENV } from '../lib/cpuPinning';
import { breakEven, describeBreakEven } from './breakEven';
import { goalLines, pushedGoals } from './goals';
import { MISS_ENV } from './missedInvalidation';
import { requestCountCheck } from './requestCount';
import type { ArticlePlan, PhaseFigures, VariantRun } from './runVariant';
import { byPhase, freshnessStats, ms, pct, phaseOf, serverPushTail, show, stat, sumOf, switchStats } from './stats';
import { isLive, VARIANT_LABEL, VARIANTS, type Variant } from './variants';
import { DEFAULT_PAUSE_AFTER_MS } from 'trpc-live/react';
import { DEFAULT_KEEP_ALIVE_TIMEOUT_MS } from '../../src/server/httpTimeouts';
import { DEFAULT_BATCH_WINDOW_MS } from 'trpc-live/client';

/** Where the freshness chart is written (next to BENCHMARKS.md). */
export const CHART_FILE = 'bench/freshness.svg';

/** The article's own figures (quoted from the reference text, for the side-by-side column). */
const ARTICLE = {
  requests: '~12 → ~0.5 (−96%)',
  freshness: '0–30 s → < 200 ms',
  cpu: '35% → 8% idle (−77%)',
  streams: '400+ → ~100 goroutines (one per endpoint → one per user)',
};

/**
 * How much a variant's times are scaled to the real poll interval: a poll's
 * wait scales with the compressed interval, so (a) and (b)'s time to see a
 * change on screen, and (a)'s time to fresh data after a tab switch, are
 * multiplied by the factor; a live variant's times and (b)'s refetch on focus
 * are not poll-bound and are shown as measured.
 */
function scaleOf(variant: Variant, what: 'freshness' | 'switch', factor: number): number {
  if (variant === 'polling') return factor;
  if (variant === 'polling-visible' && what === 'freshness') return factor;
  return 1;
}

/** The article benchmark's section: the four variants side by side, the pushed variant's goals, the details. */
export function articleReport(plan: ArticlePlan, runs: readonly VariantRun[]): { markdown: string; chart: string } {
  const users = plan.tenants * plan.usersPerTenant;
  const F = plan.factor;
  const pollS = plan.pollIntervalMs / 1000;
  const by = (variant: Variant, phase: string, pick: (f: PhaseFigures) => number) => byPhase(runs, variant, phase, pick);
  const mutationPhases = plan.phases.filter((p) => p.perTenantPerMinute > 0);
  const idle = plan.phases.find((p) => p.perTenantPerMinute === 0)?.name;
  const trpcHttp = [...new Set(runs.map((r) => r.trpcHttp))].join(', ');
  const pinning = [...new Set(runs.map((r) => r.pinning))].join('; ');
  const parts: string[] = [];
  const missed = process.env[MISS_ENV];
  if (missed) {
    parts.push(`**Checking the benchmark, not the app: the simulated browsers' registry misses \`${missed}\` (${MISS_ENV}), as an app that forgot to declare it would.**`, '');
  }

  parts.push(
    `${users} simulated users (${plan.tenants} tenants × ${plan.usersPerTenant}), each with the 6 live pages open in 6 tabs (orders, order detail, products, dashboard, notifications, import: 10 queries), against the production build (tRPC HTTP served ${trpcHttp === 'direct' ? 'by the Node entry directly, `TRPC_HTTP=direct`, the default' : `with \`TRPC_HTTP=${trpcHttp}\``}). ` +
      `**One tab per browser is on screen at a time**: each user brings another tab to the front every ${plan.switchMinutes[0]}–${plan.switchMinutes[1]} simulated minutes (uniform, seeded: the same schedule in every variant). Four variants, the same seeded workload for all: ` +
      `**(a) polling**: every tab polls every ${pollS} s whether on screen or not, as the article’s \`setInterval\` does. ` +
      `**(b) TanStack’s polling**: \`refetchInterval\` ${pollS} s with \`refetchIntervalInBackground: false\` (a tab’s timer runs from its mount, and a tick fetches only while the tab is on screen, without cancelling a fetch in flight) and refetch on window focus with TanStack’s default \`staleTime: 0\` (a tab brought to the front refetches every query at once, through TanStack’s own QueryCache focus path); the app’s own defaults (\`staleTime: Infinity\`, no refetch on focus, src/trpc/queryClient.ts) are a live app’s and would never refetch on focus. One timer per page, as in (a), so a page’s queries go out in one batched request. ` +
      `**(c) live**: the app without pushed results (no \`watch\` call given to the invalidator, as \`<LiveProvider>\` without its \`watch\` prop: invalidate, then refetch): a hidden tab only marks changed queries stale and refetches them once when it is shown again (the invalidator follows the tab’s visibility); the shared stream watches the same visibility (it pauses the connection once every tab has been hidden for ${DEFAULT_PAUSE_AFTER_MS / 1000} s, ${(DEFAULT_PAUSE_AFTER_MS / 1000 / F).toFixed(1)} s compressed; any pause/resume call counts as a request). ` +
      `**(d) pushed results**: the same app, and the browser watches the pushable queries its tabs hold (\`live.watch\`) and applies the results the server pushes (\`result\` frames; a \`refetch\` frame falls back to (c)’s refetch). ` +
      `**Time compressed ×${F} for every variant**: polls every ${pollS / F} s instead of ${pollS} s, mutation rates and tab switches ×${F}, SSE ping every ${15 / F} s instead of 15 s, idle keep-alive connections closed after ${(DEFAULT_KEEP_ALIVE_TIMEOUT_MS / 1000 / F).toFixed(1)} s instead of ${DEFAULT_KEEP_ALIVE_TIMEOUT_MS / 1000} s; every "per minute" below is per simulated minute (${60 / F} s of real time). ` +
      `${plan.runs} run(s) per variant, the variants' order rotated each run; figures are the median (min–max) of the runs. Phases back to back in each run: ` +
      plan.phases.map((p) => `${p.name} (${p.perTenantPerMinute} mutations per tenant per minute, ${p.minutes} min)`).join(', ') +
      '. Before the phases, not measured, in every variant: one simulated minute of changes at the heavy rate (300 changes, so the change path runs warm, compiled code, as a server that has run for a while does and as the polling path does after its first polls; until 2026-12-07 it was the busy rate, 20 changes, which left the change path in baseline code: runVariant.ts), each user shows each of its tabs once (no tab starts stale), then one poll interval. ' +
      `CPUs: ${pinning}.`,
    '',
  );

  // The four variants side by side.
  const rows: string[][] = [];
  const cells = (f: (variant: Variant) => string) => VARIANTS.map(f);
  for (const phase of plan.phases) {
    rows.push([`API requests per user per minute, ${phase.name}`, phase === plan.phases[0] ? ARTICLE.requests : '', ...cells((v) => show(by(v, phase.name, (f) => f.requestsPerUserMinute), 2))]);
  }
  for (const phase of plan.phases) {
    rows.push([
      `Server CPU s per minute (% of one core), ${phase.name}`,
      phase === plan.phases[0] ? ARTICLE.cpu : '',
      ...cells((v) => {
        const s = by(v, phase.name, (f) => f.serverCpuPerMinute);
        return `${show(s, 2)} (${fmt((s.median / 60) * 100, 1)}%)`;
      }),
    ]);
  }
  for (const phase of plan.phases) {
    rows.push([`KiB received per user per minute, ${phase.name}`, '', ...cells((v) => show(by(v, phase.name, (f) => f.bytesInPerUserMinute / 1024), 1))]);
  }
  for (const phase of mutationPhases) {
    rows.push([
      `Time to see new data on the tab on screen, ${phase.name}: p50 / tail`,
      phase === mutationPhases[0] ? ARTICLE.freshness : '',
      ...cells((v) => {
        const fr = freshnessStats(phaseOf(runs, v, phase.name));
        const k = scaleOf(v, 'freshness', F);
        return `${ms(fr.p50.median * k)} / ${formatTail(fr.tail, (x) => ms(x * k))}${k !== 1 ? ` (×${k})` : ''}`;
      }),
    ]);
  }
  for (const phase of mutationPhases) {
    rows.push([
      `Tab brought to the front, ${phase.name}: showing outdated data / then fresh after p50`,
      '',
      ...cells((v) => {
        const s = switchStats(phaseOf(runs, v, phase.name));
        const k = scaleOf(v, 'switch', F);
        return `${pct(s.outdated.median)} / ${ms(s.freshP50.median * k)}${k !== 1 ? ` (×${k})` : ''}`;
      }),
    ]);
  }
  const last = plan.phases.at(-1)!.name;
  rows.push([
    'Live streams per user (server side) / TCP connections per user (client side)',
    ARTICLE.streams,
    ...cells((v) => `${show(by(v, last, (f) => f.streamsPerUser), 2)} / ${show(by(v, last, (f) => f.tcpPerUser), 2)}`),
  ]);
  parts.push(
    table(['metric', 'article (polling → SSE)', ...VARIANTS.map((v) => VARIANT_LABEL[v])], rows),
    '',
    `Times marked ×${F} are measured at the compressed ${pollS / F} s poll interval and multiplied by ${F} (a poll’s wait scales with the interval: the figure at the real ${pollS} s interval); the others are as measured, while the server carries ${F}× the real request rate, which can only make them worse.`,
    '',
  );

  // The pushed variant's goals (issue 17 item 9).
  parts.push(
    `Goals of (d), issue 17 item 9 (median of ${plan.runs} run(s), min–max; shares of (a) per run pair, same seed):`,
    '',
    ...goalLines(pushedGoals(plan, runs)),
    '',
  );

  // The data oracle and the stream, for the live variants.
  const checks: string[] = ['Checks of the live variants:', ''];
  for (const variant of VARIANTS.filter((v) => isLive(v) && runs.some((r) => r.variant === v))) {
    const fr = mutationPhases.map((phase) => freshnessStats(phaseOf(runs, variant, phase.name)));
    const never = sumOf(fr.map((f) => f.unresolved));
    const undeclared = sumOf(fr.map((f) => f.undeclared));
    checks.push(
      `- ${VARIANT_LABEL[variant]}: every change reaches the observers whose data it changed (decided from the database, not the registry), all phases and runs: ${never} observer(s) never fresh, ${undeclared} change(s) to an observer's data the registry does not declare, ${verdict(never === 0 && undeclared === 0)}`,
    );
    const streams = by(variant, last, (f) => f.streamsPerUser);
    checks.push(`- ${VARIANT_LABEL[variant]}: one connection per user (article: one per endpoint): ${show(streams, 2)} live streams per user, ${verdict(Math.abs(streams.median - 1) < 0.005)}`);
  }
  {
    const figures = runs.filter((r) => r.variant === 'pushed').flatMap((r) => r.phases);
    const pushed = sumOf(figures.map((f) => f.pushedUpdates));
    const matched = sumOf(figures.map((f) => f.pushedMatched));
    const unmatched = new Map<string, number>();
    for (const f of figures) for (const [path, n] of Object.entries(f.pushedUnmatched ?? {})) unmatched.set(path, (unmatched.get(path) ?? 0) + n);
    const where = [...unmatched].map(([path, n]) => `${n} of ${path}`).join(', ');
    if (runs.some((r) => r.variant === 'pushed')) {
      checks.push(
        `- (d): pushed data the freshness oracle can place (its contents equal a state the data oracle recorded: before the first mutation, or after one): ${matched} of ${pushed} pushed observer updates${pushed ? ` (${fmt((matched / pushed) * 100, 1)}%)` : ''}${where ? `; not placed: ${where}` : ''}, ${pushed ? verdict(matched === pushed) : '**no pushed data**'}`,
      );
    }
  }
  parts.push(checks.join('\n'), '');

  if (idle !== undefined && mutationPhases.length) parts.push(...costParagraphs(plan, runs, users, idle));

  // Details per phase.
  const detail: string[][] = [];
  for (const phase of plan.phases) {
    for (const variant of VARIANTS) {
      const figures = phaseOf(runs, variant, phase.name);
      const fr = freshnessStats(figures);
      const refetches = sumOf(figures.map((f) => f.refetches));
      const unchanged = sumOf(figures.map((f) => f.unchangedRefetches));
      const k = scaleOf(variant, 'freshness', F);
      detail.push([
        phase.name,
        variant,
        show(stat(figures.map((f) => f.mutations)), 0),
        show(stat(figures.map((f) => f.callsPerUserMinute))),
        `${show(stat(figures.map((f) => f.requestsPerUserMinute)), 2)} / ${show(stat(figures.map((f) => f.serverRequestsPerUserMinute)), 2)}`,
        show(stat(figures.map((f) => f.bytesInPerUserMinute / 1024))),
        refetches ? `${fmt((unchanged / refetches) * 100, 0)}% of ${refetches}` : '—',
        variant === 'pushed' ? pushCell(figures) : '—',
        show(stat(figures.map((f) => f.usersCpuPerMinute)), 2),
        `${ms(stat(figures.map((f) => f.usersLoopDelayP99Ms)).max)} / ${ms(stat(figures.map((f) => f.usersLoopDelayMaxMs)).max)}`,
        fr.samples || fr.unresolved || fr.leftBefore ? `${fr.samples} (${fr.unresolved} never fresh, ${fr.leftBefore} left; ${fr.undeclared} not declared)` : '—',
        Number.isFinite(fr.startP50.median) ? `${ms(fr.startP50.median * k)} / ${formatTail(fr.startTail, (x) => ms(x * k))}${k !== 1 ? ` (×${k})` : ''}` : '—',
        `${ms(stat(figures.map((f) => f.queryLatencyP50)).median)} / ${formatTail(tailOfRuns(figures.map((f) => f.queryLatencies)), ms)}`,
        show(stat(figures.map((f) => f.tcpPeakPerUser)), 0),
        show(stat(figures.map((f) => f.streamOpens)), 0),
        show(stat(figures.map((f) => f.invalidatorResets)), 0),
      ]);
    }
  }
  parts.push(
    'Per phase (median of runs, min–max):',
    '',
    table(
      [
        'phase',
        'variant',
        'mutations',
        'tRPC calls per user per min',
        'requests per user per min: at the users’ sockets / counted by the server',
        'KiB received per user per min',
        'refetches returning unchanged data',
        'pushed results applied (older, ignored) / invalidations held → released by a result / by a refetch frame / by the timeout (all runs)',
        'users’ CPU s per min',
        'users’ event-loop delay p99 / max',
        'freshness samples on the tab on screen',
        'commit → refetch start, p50 / tail',
        'query fetch → data held, p50 / tail',
        'most TCP connections of one user',
        'stream reconnects',
        'resets',
      ],
      detail,
    ),
    '',
  );

  const switchRows: string[][] = [];
  for (const phase of plan.phases) {
    for (const variant of VARIANTS) {
      const figures = phaseOf(runs, variant, phase.name);
      const s = switchStats(figures);
      const k = scaleOf(variant, 'switch', F);
      switchRows.push([
        phase.name,
        variant,
        String(s.count),
        s.count ? pct(s.outdated.median) : '—',
        ms(s.ageP50.median * F),
        `${ms(s.freshP50.median * k)} / ${formatTail(s.freshTail, (v) => ms(v * k))} / ${ms(s.freshMax.median * k)}${k !== 1 ? ` (×${k})` : ''}`,
        String(s.unresolved),
        isLive(variant) ? `${show(stat(figures.map((f) => f.shownRefetches)), 0)} / ${show(stat(figures.map((f) => f.deferredPasses)), 0)}` : '—',
        show(stat(figures.map((f) => f.browserMutationsPerUserMinute)), 2),
      ]);
    }
  }
  parts.push(
    `Tab switches per phase (all runs; percentages and times: median of runs). Times marked ×${F} are scaled to the real ${pollS} s interval; the others are as measured. The age of the oldest change not shown yet is in simulated time (×${F}) for every variant, as the changes and the switches are compressed alike.`,
    '',
    table(
      [
        'phase',
        'variant',
        'switches',
        'tab brought to the front showing outdated data',
        'oldest change not shown yet, p50 (simulated)',
        'switch → tab fresh, p50 / tail / max',
        'not fresh by the end of the run',
        'refetch passes on show / invalidations deferred while hidden',
        'browser mutations (pause/resume, watch) per user per min',
      ],
      switchRows,
    ),
    '',
  );
  parts.push(howMeasured(plan, runs, users));

  return { markdown: [...parts, '', `![Freshness distribution of the four variants](${CHART_FILE})`].join('\n'), chart: chart(plan, runs, users) };
}

const verdict = (ok: boolean) => (ok ? 'met' : '**not met**');

/** The pushed variant's client counters over every run of a phase. */
function pushCell(figures: readonly PhaseFigures[]): string {
  const total = (pick: (f: PhaseFigures) => number) => sumOf(figures.map(pick));
  return (
    `${total((f) => f.push.results)} (${total((f) => f.push.staleResults)}) / ${total((f) => f.push.held)} → ` +
    `${total((f) => f.push.releasedByResult)} / ${total((f) => f.push.releasedByRefetch)} / ${total((f) => f.push.timeouts)}`
  );
}

function table(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string>>): string {
  const line = (cells: ReadonlyArray<string>) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** What a change costs (c) and (d), the break-evens against (a) and (b), and where (c)'s time to fresh data goes. */
function costParagraphs(plan: ArticlePlan, runs: readonly VariantRun[], users: number, idle: string): string[] {
  const mutationPhases = plan.phases.filter((p) => p.perTenantPerMinute > 0);
  const med = (variant: Variant, phase: string, pick: (f: PhaseFigures) => number) => byPhase(runs, variant, phase, pick).median;
  const req = (f: PhaseFigures) => f.requestsPerUserMinute;
  const cpu = (f: PhaseFigures) => f.serverCpuPerMinute;
  const even = (variant: Variant, base: Variant, pick: (f: PhaseFigures) => number) =>
    breakEven(plan.phases.map((p) => ({ rate: p.perTenantPerMinute, diff: med(variant, p.name, pick) - med(base, p.name, pick) })));
  const perMutation = (variant: Variant) =>
    mutationPhases.map((phase) => ({
      phase,
      requests: (med(variant, phase.name, req) - med(variant, idle, req)) / phase.perTenantPerMinute,
      // CPU above the idle phase per mutation (all tenants' mutations of a simulated minute).
      cpuMs: ((med(variant, phase.name, cpu) - med(variant, idle, cpu)) / (phase.perTenantPerMinute * plan.tenants)) * 1000,
    }));
  const cpuMsText = (value: number) => (value > 0 ? `${fmt(value, 1)} ms` : 'below the run-to-run noise');
  const live = perMutation('live');
  const pushed = perMutation('pushed');
  const pollingRate = median(plan.phases.map((p) => med('polling', p.name, req)).filter(Number.isFinite));
  const first = live[0]!;
  const unchangedFirst = (() => {
    const figures = phaseOf(runs, 'polling', first.phase.name);
    const all = sumOf(figures.map((f) => f.refetches));
    return all ? (sumOf(figures.map((f) => f.unchangedRefetches)) / all) * 100 : NaN;
  })();
  // Where (c)'s requests go: a show that refetched is one batched request (the invalidator counts only those),
  // pause/resume calls are counted at the socket, and the rest refetched changes on the tab on screen.
  const split = mutationPhases.map((phase) => {
    const figures = phaseOf(runs, 'live', phase.name);
    const shown = stat(figures.map((f) => f.shownRefetches / (users * f.simMinutes)));
    const pause = stat(figures.map((f) => f.browserMutationsPerUserMinute));
    const onScreen = stat(figures.map((f) => f.requestsPerUserMinute - f.shownRefetches / (users * f.simMinutes) - f.browserMutationsPerUserMinute));
    return `${phase.name}: ${show(onScreen, 2)} refetching changes on the tab on screen, ${show(shown, 2)} on showing a tab that had missed changes, ${show(pause, 2)} pausing or resuming the stream`;
  });
  const perPollMs = (med('polling', idle, cpu) / (med('polling', idle, req) * users)) * 1000;
  const fastest = mutationPhases.reduce((a, b) => (b.perTenantPerMinute > a.perTenantPerMinute ? b : a));
  const perMutationCpuPolling = ((med('polling', fastest.name, cpu) - med('polling', idle, cpu)) / (fastest.perTenantPerMinute * plan.tenants)) * 1000;
  const where = mutationPhases.map((phase) => {
    const figures = phaseOf(runs, 'live', phase.name);
    const fr = freshnessStats(figures);
    return `${phase.name}: ${ms(fr.startP50.median)} / ${formatTail(fr.startTail, ms)} to the refetch's start, then ${ms(stat(figures.map((f) => f.queryLatencyP50)).median)} / ${formatTail(tailOfRuns(figures.map((f) => f.queryLatencies)), ms)} for the fetch`;
  });
  return [
    `**What a change costs.** In (c) the tab on screen refetches the queries a change touches at once (one batched request); a hidden tab only marks them stale and refetches once when the user comes back to it, however many changes it missed. ` +
      `Measured, requests per user for each mutation in the user's tenant (above the idle phase): (c) ${live.map((m) => `${fmt(m.requests, 2)} at ${m.phase.perTenantPerMinute} per minute (${m.phase.name})`).join(', ')}; (d) ${pushed.map((m) => `${fmt(m.requests, 3)} (${m.phase.name})`).join(', ')}. ` +
      `Where (c)'s requests go, per user per minute: ${split.join('; ')}. ` +
      `(a) costs ${fmt(pollingRate, 1)} requests per user per minute whatever happens; (b) ${show(byPhase(runs, 'polling-visible', idle, req), 2)} in the idle phase (the tab on screen only, plus a refetch on each switch). ` +
      `**Break-even on requests**: (c) against (a) ${describeBreakEven(even('live', 'polling', req), '(c)')}; (c) against (b) ${describeBreakEven(even('live', 'polling-visible', req), '(c)')}; (d) against (b) ${describeBreakEven(even('pushed', 'polling-visible', req), '(d)')}. ` +
      `In the ${first.phase.name} phase ${fmt(unchangedFirst, 0)}% of (a)'s polls brought back data the observer already had (the article: "90%+").`,
    '',
    `**What a request and a change cost the server.** ${fmt(perPollMs, 2)} ms of CPU per poll ((a), idle phase: the tRPC HTTP handler, session check, SQLite, JSON). ` +
      `Server CPU per mutation above the idle phase, which includes the mutation itself: (a) ${cpuMsText(perMutationCpuPolling)} (${fastest.name} phase); (c) ${live.map((m) => `${cpuMsText(m.cpuMs)} at ${m.phase.perTenantPerMinute} per minute`).join(', ')} (the mutation, its signals and the refetches it causes); (d) ${pushed.map((m) => `${cpuMsText(m.cpuMs)} at ${m.phase.perTenantPerMinute} per minute`).join(', ')} (the mutation, its signals, the results computed and written). ` +
      `**Break-even on server CPU**: (c) against (a) ${describeBreakEven(even('live', 'polling', cpu), '(c)')}; (c) against (b) ${describeBreakEven(even('live', 'polling-visible', cpu), '(c)')}; (d) against (a) ${describeBreakEven(even('pushed', 'polling', cpu), '(d)')}; (d) against (b) ${describeBreakEven(even('pushed', 'polling-visible', cpu), '(d)')}.`,
    '',
    `**Where (c)'s time to fresh data goes** (p50 / tail): ${where.join('; ')}. ` +
      `The first part is the signal (hub, stream, the leader tab's relay to the tab on screen) plus the invalidator's ${DEFAULT_BATCH_WINDOW_MS} ms batch window; the second is the request, which waits behind the tenant's other users' refetches of the same change, all sent at the same moment.`,
    '',
    `**Where (d)'s time to fresh data goes** (p50 / tail, pairs of the tab on screen made fresh by a push): ${mutationPhases
      .map((phase) => {
        const figures = phaseOf(runs, 'pushed', phase.name).filter((f) => f.pushPath);
        const frame = tailOfRuns(figures.map((f) => f.pushPath.toFrame));
        const held = tailOfRuns(figures.map((f) => f.pushPath.toHeld));
        const unmatched = sumOf(figures.map((f) => f.pushPath.unmatched));
        return `${phase.name}: ${ms(stat(figures.map((f) => quantile(f.pushPath.toFrame, 0.5))).median)} / ${formatTail(frame, ms)} from the commit to the result (or delta) frame at the browser (${serverPart(figures)}), then ${ms(stat(figures.map((f) => quantile(f.pushPath.toHeld, 0.5))).median)} / ${formatTail(held, ms)} to the data held on the tab on screen${unmatched ? ` (${unmatched} pair(s) without a frame stamped at or past the change: made fresh by a result stamped with an earlier change that was computed after this commit, or no frame found)` : ''}`;
      })
      .join('; ')}. ` +
      'The first part is the server (the mutation’s publish, the result’s computation once per tenant, its frame written to every watching connection), the wire, and the wait of the simulated browser’s process to read the frame; the second is the browser (the stream tab’s parse, its relay to the other tabs, the write into the cache). The frame is matched by its watch and a seq at or past the first cursor of the mutation response’s fence (a diagnostic; the freshness oracle itself reads only contents). ' +
      'The server’s own part is its metric `trpc_live_push_to_write_seconds` (src/server/prometheus.ts), read from `GET /api/metrics` before and after each phase: for every write of a pushed frame to a connection (every tab, on screen or not), from the hub’s delivery of the oldest change the frame reflects (right after the mutation’s commit) to the frame’s write on the socket, the computation included; a histogram, so a quantile is known only as the bound of its bucket (≤), pooled over the runs, with each run’s own p99 bound in brackets.',
    '',
  ];
}

/** The server's own part of (d)'s time to fresh data in one phase, from its push latency histogram (see the method text). */
function serverPart(figures: readonly PhaseFigures[]): string {
  const part = serverPushTail(figures);
  if (!part) return 'the server’s own part: not measured';
  const bound = (millis: number) => (millis === Infinity ? 'over the last bucket' : `≤ ${ms(millis)}`);
  return `of which the server, from the publish to its socket write: p50 ${bound(part.p50Ms)}, ${part.isP99 ? 'p99' : 'max'} ${bound(part.tailMs)} [${part.perRunMs.map(bound).join(', ')}], n=${part.counts.join('/')} writes`;
}

function howMeasured(plan: ArticlePlan, runs: readonly VariantRun[], users: number): string {
  const F = plan.factor;
  const pollS = plan.pollIntervalMs / 1000;
  const failed = sumOf(runs.flatMap((r) => r.phases.map((p) => p.failedMutations)));
  const failedWhy = [...new Set(runs.flatMap((r) => r.phases.flatMap((p) => p.mutationErrors)))].slice(0, 3);
  const resent = sumOf(runs.flatMap((r) => r.phases.map((p) => p.resent)));
  const errors = runs.filter((r) => r.error).map((r) => `${r.variant} run ${r.run}: ${r.error}`);
  const saturated = saturation(plan, runs);
  const writes = runs.flatMap((r) => r.phases.map((p) => p.usersDigests ?? { deferred: 0, onPath: 0 }));
  const deferredWrites = sumOf(writes.map((w) => w.deferred));
  const onPathWrites = sumOf(writes.map((w) => w.onPath));
  return (
    'How it is measured. Requests: HTTP requests the simulated browsers sent (a tab’s queries due at once go in one batched request, as in the app, plus the live variants’ own mutations: pause/resume, and (d)’s watch calls), counted at their own sockets; not the actors’ mutations (the same in every variant) nor the stream itself. ' +
    `The server counts them too, as it receives them (bench/lib/serverRequestCounter.mjs, preloaded into the server; the actors’ requests are marked and counted apart): ${requestCountCheck(runs, users)}. ` +
    'Server CPU: utime + stime of the server process (and any children) from /proc/<pid>/stat between the phase’s snapshots, per simulated minute; % of one core = that / 60 s. ' +
    'Bytes: read from the browsers’ sockets, the stream included (headers and framing included; compressed only when the server compresses). ' +
    'Streams per user: the hub’s connection count (/api/health) at the end of the last phase / users. TCP: sockets each browser holds open at the end of the phase (pool of 6 per browser, keep-alive). ' +
    `Freshness on the tab on screen: for every committed mutation and every observer of the tab its user had on screen at the commit whose data the mutation changed, the time from the commit (the timestamp the server wrote with the change, returned to the actor) until that observer held data reflecting it: data from a fetch started after the commit, or (d) pushed data (a query write by setQueryData, which TanStack marks manual) whose contents equal what the database held for that query after this mutation or a later one (the data oracle records a digest of each changed query's result after each mutation; bench/article/reflects.ts), so a result computed before the commit does not count, whatever cursor it carries; pairs whose user switched tabs before the data landed are counted apart ("left") and covered by the switch figures; a drain of one poll interval after the last phase lets the last changes land; a pair still not fresh by then is "never fresh". ` +
    `Each data write is logged with the time TanStack dispatched it (the time every figure reads); its JSON (did the data change?) and, for pushed data, its digest are computed from that same data object off the browsers' timing path since 2026-12-07 (bench/article/tabQueries.ts: in slices of ≤ 2 ms while the users' process is idle, and at the end of each phase, so each phase's users' CPU holds them; when 20,000 writes wait, the oldest is settled at each new write, as every write was before): ${onPathWrites} of ${onPathWrites + deferredWrites} writes of the measured phases were settled on the timing path. Until then every write was JSON-serialized, and every pushed one digested, inside TanStack's dispatch: 19% of a users' process's CPU in (d)'s heavy phase (CPU profile, beside other work). ` +
    'Which observers a change affects is decided from the data, not by the app: after each mutation’s response, and before the tenant’s next mutation is sent, the actor of the tenant (its only writer) re-reads every query an observer of the tenant holds straight from the server’s SQLite file (a read-only handle, in one read transaction, through the app’s data functions that its procedures return; bench/article/dataOracle.ts) and the queries whose result changed (their JSON text differs; a result is serialized only when a walk cannot prove it equal to the previous read) are the affected ones, in every variant. Since 2026-12-07 that read happens 25 ms before the tenant’s next mutation is due (at once when it is due sooner, and after a phase’s last one), no longer right after the response, when the tenant’s browsers are applying that same change (bench/article/schedule.ts); the state read is the same. An invalidation the app forgets to declare is then an observer that never gets fresh in a live variant, and is counted as "not declared" (the registry and matcher, given the mutation’s declared keys, do not reach that query). ' +
    'Tab switch: the tab brought to the front shows outdated data when one of its queries holds data that does not reflect a change to its data (the data oracle again) committed before the switch; it is fresh once every such query holds data reflecting its newest such change. ' +
    `Tails: a p99 only from ≥ 300 samples in every run (then the median of the runs' p99s), else the maximum, labelled max; n is each run's sample count. ` +
    `Users’ processes: ${plan.userProcesses}. ${saturated} Failed mutations: ${failed}${failedWhy.length ? ` (${failedWhy.join('; ')})` : ''}. ` +
    `1-minute load average when each run started (on ${cpus().length} cores): ${runs.map((r) => `${r.variant} ${fmt(r.loadAtStart, 1)}`).join(', ')}. ` +
    `Requests resent on a new connection because the server had closed the idle keep-alive socket under them (as browsers do): ${resent}. ` +
    `Polls every ${pollS / F} s compressed (×${F}).` +
    (errors.length ? ` Runs that failed: ${errors.join('; ')}.` : '')
  );
}

/**
 * A simulated browsers' process whose event loop was delayed this long at
 * p99 (ms) over a phase adds about that much to the phase's tail times:
 * flagged, as two thirds of issue 17's 30 ms freshness goal.
 */
const LOOP_DELAY_FLAG_MS = 20;

/**
 * Phases in which the server or the simulated browsers used ≥ 90% of the
 * cores they ran on (per real second), or the browsers' event loop was
 * delayed ≥ 20 ms at p99 (bursts queue on a core that is busy on average
 * less): their figures measure the machine's limit as much as the variant.
 */
export function saturation(plan: ArticlePlan, runs: readonly VariantRun[]): string {
  const pinned = runs.some((r) => r.pinning.startsWith('server pinned'));
  const clientCores = pinned ? Math.max(1, cpus().length - 1) : cpus().length;
  const serverCores = pinned ? 1 : cpus().length;
  const hits: string[] = [];
  for (const variant of VARIANTS) {
    for (const phase of plan.phases) {
      const figures = phaseOf(runs, variant, phase.name);
      // CPU s per simulated minute → share of a core: per simulated minute there are 60 / factor real seconds.
      const server = stat(figures.map((f) => f.serverCpuPerMinute / (60 / plan.factor) / serverCores)).max;
      const users = stat(figures.map((f) => f.usersCpuPerMinute / (60 / plan.factor) / clientCores)).max;
      if (server >= 0.9) hits.push(`${variant} ${phase.name}: server at ${pct(server)} of its core${serverCores > 1 ? 's' : ''}`);
      if (users >= 0.9) hits.push(`${variant} ${phase.name}: simulated browsers at ${pct(users)} of their core${clientCores > 1 ? 's' : ''}`);
      const lag = stat(figures.map((f) => f.usersLoopDelayP99Ms)).max;
      if (lag >= LOOP_DELAY_FLAG_MS) hits.push(`${variant} ${phase.name}: simulated browsers' event loop delayed p99 ${ms(lag)}`);
    }
  }
  if (!hits.length) return 'No phase saturated the server’s or the browsers’ cores (< 90% in every run).';
  const browsers = hits.some((h) => h.includes('simulated browsers'));
  return (
    `**Saturated** (≥ 90% of the cores given, or the browsers' event loop delayed ≥ ${LOOP_DELAY_FLAG_MS} ms at p99, in some run): ${hits.join('; ')}. ` +
    (browsers
      ? `Times measured there include the simulated browsers' own queueing (${plan.tenants * plan.usersPerTenant} browsers × 6 tabs share ${clientCores} core${clientCores > 1 ? 's' : ''}; a real browser has its own)${pinned ? `; ${PIN_ENV}=0 lets them use every core, the server's too` : ''}.`
      : 'Times measured there include the server’s queueing.')
  );
}

function chart(plan: ArticlePlan, runs: readonly VariantRun[], users: number): string {
  const F = plan.factor;
  const pollS = plan.pollIntervalMs / 1000;
  const mutationPhases = plan.phases.filter((p) => p.perTenantPerMinute > 0);
  const pool = (variant: Variant) => runs.filter((r) => r.variant === variant).flatMap((r) => r.phases.filter((p) => p.perTenantPerMinute > 0).flatMap((p) => p.freshness.samples));
  const switchPool = (variant: Variant) =>
    runs.filter((r) => r.variant === variant).flatMap((r) => r.phases.flatMap((p) => p.switches.filter((s) => s.outdated && Number.isFinite(s.freshMs)).map((s) => s.freshMs)));
  return cdfChart({
    title: 'Time to see new data: polling, TanStack polling, live, pushed results',
    subtitle: `${users} users × 6 tabs (one on screen), ${mutationPhases.map((p) => p.name).join(' + ')} phases, ${plan.runs} run(s) pooled; polls at the real ${pollS} s interval (measured ×${F})`,
    xLabel: 'from the mutation\u2019s commit (or the tab switch) until the tab on screen holds the new data (log scale)',
    xMin: 1,
    xMax: 100_000,
    markers: [
      { at: 30, label: 'goal (d) 30 ms' },
      { at: 200, label: 'article 200 ms' },
    ],
    series: [
      { label: '(d) pushed: commit → tab on screen fresh', color: '#2ca02c', values: pool('pushed') },
      { label: '(c) live: commit → tab on screen fresh', color: '#1f77b4', values: pool('live') },
      { label: '(c) live: tab switch → fresh (outdated arrivals)', color: '#17becf', values: switchPool('live') },
      { label: '(b) TanStack polling: tab switch → fresh (focus refetch)', color: '#8c564b', values: switchPool('polling-visible') },
      { label: `(b) TanStack polling every ${pollS} s: commit → fresh (×${F})`, color: '#9467bd', values: pool('polling-visible').map((v) => v * F) },
      { label: `(a) polling every ${pollS} s: commit → fresh (×${F})`, color: '#d62728', values: pool('polling').map((v) => v * F) },
    ],
  });
}

