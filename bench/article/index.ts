/**
 * The article's results table, reproduced on our app (`npm run bench -- article`).
 *
 * The production build (`node dist/main.js`), a fresh SQLite database per
 * run with 10 tenants × 10 users. 100 simulated browsers (child processes,
 * so their CPU is not the server's), each with the six live pages open in
 * six tabs, each tab issuing its page's queries as the app does
 * (bench/article/pages.ts). One tab per browser is on screen at a time; the
 * user brings another to the front every few simulated minutes (seeded, the
 * same schedule in both variants). Two variants, alternated, several runs each:
 *
 * - polling: no stream; every tab's queries refetch every 30 s, on screen or
 *   not (the article's "before", its `setInterval`);
 * - live: the app unchanged: one stream per browser shared by its tabs,
 *   refetch on signal through the real liveLink and LiveInvalidator, which
 *   defers a hidden tab's refetches until it is shown again.
 *
 * The same seeded mutation workload hits both, through the real tRPC API,
 * from one actor account per tenant, in phases of rising rate (idle, light,
 * busy, and the issue's example rate). Time is compressed by ONE factor for
 * both variants: the poll interval, the mutation rates, the tab switches and
 * the server's SSE ping interval.
 *
 * Measured per phase: requests per user per minute (counted at the users'
 * sockets, and by the server: serverRequestCounter.mjs), server CPU seconds
 * per minute (/proc/<pid>/stat of the server), bytes, live streams and TCP
 * connections per user, freshness on the tab on screen (commit to each
 * observer whose data it changed, decided from the database by
 * dataOracle.ts, holding data fetched after it; see freshness.ts) and what a
 * tab shows when brought to the front (see switches.ts); the rate at which
 * live stops beating polling.
 */
import { cpus } from 'node:os';
import { fmt, formatTail, median, quantile, table, tail, tailOfRuns, tailWithin, type BenchOptions, type BenchResult } from '../lib/report';
import { cdfChart } from '../lib/svgChart';
import { breakEven, describeBreakEven } from './breakEven';
import { MISS_ENV } from './missedInvalidation';
import { requestCountCheck } from './requestCount';
import { runVariant, type ArticlePlan, type PhaseFigures, type VariantRun } from './runVariant';
import type { Variant } from './users';
import { DEFAULT_PAUSE_AFTER_MS } from 'trpc-live/react';
import { DEFAULT_KEEP_ALIVE_TIMEOUT_MS } from '../../src/server/httpTimeouts';
import { DEFAULT_BATCH_WINDOW_MS } from 'trpc-live/client';

const CHART_FILE = 'bench/freshness.svg';

const FULL: ArticlePlan = {
  tenants: 10,
  usersPerTenant: 10,
  factor: 6,
  pollIntervalMs: 30_000,
  runs: 3,
  userProcesses: 2,
  switchMinutes: [2, 4],
  phases: [
    { name: 'idle', perTenantPerMinute: 0, minutes: 2 },
    { name: 'light', perTenantPerMinute: 0.5, minutes: 3 },
    { name: 'busy', perTenantPerMinute: 2, minutes: 2 },
    // The issue's example rate.
    { name: 'heavy', perTenantPerMinute: 30, minutes: 2 },
  ],
};

const QUICK: ArticlePlan = {
  ...FULL,
  tenants: 2,
  usersPerTenant: 5,
  runs: 1,
  userProcesses: 1,
  phases: [
    { name: 'idle', perTenantPerMinute: 0, minutes: 1 },
    { name: 'light', perTenantPerMinute: 0.5, minutes: 2 },
    { name: 'busy', perTenantPerMinute: 2, minutes: 1 },
    { name: 'heavy', perTenantPerMinute: 30, minutes: 1 },
  ],
};

/** The article's own figures (quoted from the reference text, for the side-by-side columns). */
const ARTICLE = {
  requests: '~12 → ~0.5 (−96%)',
  freshness: '0–30 s → < 200 ms',
  cpu: '35% → 8% idle (−77%)',
  streams: '400+ → ~100 goroutines (one per endpoint → one per user)',
};

interface Stat {
  median: number;
  min: number;
  max: number;
}

const stat = (values: readonly number[]): Stat => {
  const finite = values.filter(Number.isFinite);
  return finite.length ? { median: median(finite), min: Math.min(...finite), max: Math.max(...finite) } : { median: NaN, min: NaN, max: NaN };
};

/** "median (min–max)" when there are several runs. */
const show = (s: Stat, digits = 1, unit = '') =>
  !Number.isFinite(s.median) ? '—' : s.min === s.max ? `${fmt(s.median, digits)}${unit}` : `${fmt(s.median, digits)}${unit} (${fmt(s.min, digits)}–${fmt(s.max, digits)})`;

const change = (before: number, after: number) => (before > 0 && Number.isFinite(after) ? `${after <= before ? '−' : '+'}${fmt((Math.abs(after - before) / before) * 100, 0)}%` : '—');

const ms = (value: number) => (!Number.isFinite(value) ? '—' : value >= 10_000 ? `${fmt(value / 1000, 1)} s` : value >= 1000 ? `${fmt(value / 1000, 2)} s` : `${fmt(value, 0)} ms`);

function phaseOf(runs: readonly VariantRun[], variant: Variant, phase: string): PhaseFigures[] {
  return runs.filter((r) => r.variant === variant).flatMap((r) => r.phases.filter((p) => p.name === phase));
}

function freshnessStats(figures: readonly PhaseFigures[]) {
  const perRun = figures.filter((f) => f.freshness.samples.length);
  return {
    p50: stat(perRun.map((f) => quantile(f.freshness.samples, 0.5))),
    tail: tailOfRuns(perRun.map((f) => f.freshness.samples)),
    max: stat(perRun.map((f) => Math.max(...f.freshness.samples))),
    startP50: stat(perRun.map((f) => quantile(f.freshness.startSamples, 0.5))),
    startTail: tailOfRuns(perRun.map((f) => f.freshness.startSamples)),
    samples: sumOf(figures.map((f) => f.freshness.samples.length)),
    unresolved: sumOf(figures.map((f) => f.freshness.unresolved)),
    leftBefore: sumOf(figures.map((f) => f.freshness.leftBefore)),
    undeclared: sumOf(figures.map((f) => f.freshness.undeclared ?? 0)),
    declaredUnchanged: sumOf(figures.map((f) => f.freshness.declaredUnchanged ?? 0)),
  };
}

/** Tab switches of one phase over the runs: share landing on outdated data and time to fresh (per run, then median of runs). */
function switchStats(figures: readonly PhaseFigures[]) {
  const perRun = figures.filter((f) => f.switches.length);
  const outdated = (f: PhaseFigures) => f.switches.filter((s) => s.outdated);
  const fresh = (f: PhaseFigures) => outdated(f).flatMap((s) => (Number.isFinite(s.freshMs) ? [s.freshMs] : []));
  return {
    count: sumOf(figures.map((f) => f.switches.length)),
    unresolved: sumOf(figures.map((f) => f.switches.filter((s) => !Number.isFinite(s.freshMs)).length)),
    outdated: stat(perRun.map((f) => outdated(f).length / f.switches.length)),
    ageP50: stat(perRun.map((f) => quantile(outdated(f).map((s) => s.ageMs), 0.5))),
    freshP50: stat(perRun.map((f) => quantile(fresh(f), 0.5))),
    freshTail: tailOfRuns(perRun.map(fresh)),
    freshMax: stat(perRun.map((f) => (fresh(f).length ? Math.max(...fresh(f)) : NaN))),
  };
}

const pct = (share: number) => (Number.isFinite(share) ? `${fmt(share * 100, 0)}%` : '—');

const sumOf = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

function report(plan: ArticlePlan, runs: readonly VariantRun[]): { markdown: string; chart: string } {
  const users = plan.tenants * plan.usersPerTenant;
  const F = plan.factor;
  const pollS = plan.pollIntervalMs / 1000;
  const by = (variant: Variant, phase: string, pick: (f: PhaseFigures) => number) => stat(phaseOf(runs, variant, phase).map(pick));
  const mutationPhases = plan.phases.filter((p) => p.perTenantPerMinute > 0);
  const idle = plan.phases.find((p) => p.perTenantPerMinute === 0)?.name;
  const trpcHttp = [...new Set(runs.map((r) => r.trpcHttp))].join(', ');
  const parts: string[] = [];
  const missed = process.env[MISS_ENV];
  if (missed) {
    parts.push(`**Checking the benchmark, not the app: the simulated browsers' registry misses \`${missed}\` (${MISS_ENV}), as an app that forgot to declare it would.**`, '');
  }

  parts.push(
    `${users} simulated users (${plan.tenants} tenants × ${plan.usersPerTenant}), each with the 6 live pages open in 6 tabs (orders, order detail, products, dashboard, notifications, import: 10 queries), against the production build (tRPC HTTP served ${trpcHttp === 'direct' ? 'by the Node entry directly, `TRPC_HTTP=direct`, the default' : `with \`TRPC_HTTP=${trpcHttp}\``}). ` +
      `**One tab per browser is on screen at a time**: each user brings another tab to the front every ${plan.switchMinutes[0]}–${plan.switchMinutes[1]} simulated minutes (uniform, seeded: the same schedule in both variants). ` +
      `Polling: every tab polls every ${pollS} s whether on screen or not, as the article’s \`setInterval\` does. Live: the app unchanged: a hidden tab only marks changed queries stale and refetches them once when it is shown again (the invalidator follows the tab’s visibility); the shared stream watches the same visibility (it pauses the connection once every tab has been hidden for ${DEFAULT_PAUSE_AFTER_MS / 1000} s, ${(DEFAULT_PAUSE_AFTER_MS / 1000 / plan.factor).toFixed(1)} s compressed; with one tab on screen every tab is hidden only for the moment of a switch, so no pause is sent; any pause/resume call would count as a request). ` +
      `**Time compressed ×${F} for both variants**: polls every ${pollS / F} s instead of ${pollS} s, mutation rates and tab switches ×${F}, SSE ping every ${15 / F} s instead of 15 s, idle keep-alive connections closed after ${(DEFAULT_KEEP_ALIVE_TIMEOUT_MS / 1000 / F).toFixed(1)} s instead of ${DEFAULT_KEEP_ALIVE_TIMEOUT_MS / 1000} s; every "per minute" below is per simulated minute (${60 / F} s of real time). ` +
      `${plan.runs} run(s) per variant, alternated; figures are the median (min–max) of the runs. Phases back to back in each run: ` +
      plan.phases.map((p) => `${p.name} (${p.perTenantPerMinute} mutations per tenant per minute, ${p.minutes} min)`).join(', ') +
      '. Before the phases, not measured, in both variants: one simulated minute of changes at the busy rate (so the change path runs warm, compiled code, as the polling path does after its first polls), each user shows each of its tabs once (no tab starts stale), then one poll interval.',
    '',
  );

  // The article's table, side by side.
  const rows: Array<Array<string>> = [];
  const reqP = (phase: string) => by('polling', phase, (f) => f.requestsPerUserMinute);
  const reqL = (phase: string) => by('live', phase, (f) => f.requestsPerUserMinute);
  const cpuP = (phase: string) => by('polling', phase, (f) => f.serverCpuPerMinute);
  const cpuL = (phase: string) => by('live', phase, (f) => f.serverCpuPerMinute);
  for (const phase of plan.phases) {
    rows.push([
      `API requests per user per minute, ${phase.name}`,
      phase === plan.phases[0] ? ARTICLE.requests : '',
      show(reqP(phase.name)),
      show(reqL(phase.name)),
      change(reqP(phase.name).median, reqL(phase.name).median),
    ]);
  }
  for (const phase of mutationPhases) {
    const fp = freshnessStats(phaseOf(runs, 'polling', phase.name));
    const fl = freshnessStats(phaseOf(runs, 'live', phase.name));
    rows.push([
      `Time to see new data on the tab on screen, ${phase.name}: p50 / tail / max`,
      phase === mutationPhases[0] ? ARTICLE.freshness : '',
      `${ms(fp.p50.median)} / ${formatTail(fp.tail, ms)} / ${ms(fp.max.median)} (at the real ${pollS} s interval: ${ms(fp.p50.median * F)} / ${formatTail(fp.tail, (v) => ms(v * F))} / ${ms(fp.max.median * F)})`,
      `${ms(fl.p50.median)} / ${formatTail(fl.tail, ms)} / ${ms(fl.max.median)}`,
      Number.isFinite(fl.p50.median) && fl.p50.median > 0 ? `${fmt((fp.p50.median * F) / fl.p50.median, 0)}× sooner (p50, real interval)` : '—',
    ]);
  }
  for (const phase of mutationPhases) {
    const sp = switchStats(phaseOf(runs, 'polling', phase.name));
    const sl = switchStats(phaseOf(runs, 'live', phase.name));
    rows.push([
      `Tab brought to the front, ${phase.name}: showing outdated data / then fresh after p50 / tail`,
      '',
      `${pct(sp.outdated.median)} / ${ms(sp.freshP50.median * F)} / ${formatTail(sp.freshTail, (v) => ms(v * F))} (at the real interval)`,
      `${pct(sl.outdated.median)} / ${ms(sl.freshP50.median)} / ${formatTail(sl.freshTail, ms)}`,
      Number.isFinite(sl.freshP50.median) && sl.freshP50.median > 0 ? `${fmt((sp.freshP50.median * F) / sl.freshP50.median, 0)}× sooner (p50)` : '—',
    ]);
  }
  for (const phase of plan.phases) {
    const cp = cpuP(phase.name);
    const cl = cpuL(phase.name);
    rows.push([
      `Server CPU s per minute (% of one core), ${phase.name}`,
      phase === plan.phases[0] ? ARTICLE.cpu : '',
      `${show(cp, 2)} (${fmt((cp.median / 60) * 100, 1)}%)`,
      `${show(cl, 2)} (${fmt((cl.median / 60) * 100, 1)}%)`,
      change(cp.median, cl.median),
    ]);
  }
  const last = plan.phases.at(-1)!.name;
  const sp = by('polling', last, (f) => f.streamsPerUser);
  const sl = by('live', last, (f) => f.streamsPerUser);
  const tp = by('polling', last, (f) => f.tcpPerUser);
  const tl = by('live', last, (f) => f.tcpPerUser);
  rows.push([
    'Live streams per user (server side) / TCP connections per user (client side)',
    ARTICLE.streams,
    `${show(sp, 2)} / ${show(tp, 2)}`,
    `${show(sl, 2)} / ${show(tl, 2)}`,
    '6 tabs share 1 stream',
  ]);
  parts.push(table(['metric', 'article (polling → SSE)', `ours: polling every ${pollS} s`, 'ours: live', 'change'], rows), '');

  // Goals.
  const goal = (ok: boolean) => (ok ? 'met' : '**not met**');
  const cut = (before: number, after: number) => (before > 0 ? (1 - after / before) * 100 : NaN);
  const signed = (value: number) => (Number.isFinite(value) ? `${value >= 0 ? '−' : '+'}${fmt(Math.abs(value), 1)}%` : '—');
  const goals: string[] = ['Goals (issue 9; ours vs the article):', ''];
  for (const phase of plan.phases) {
    const c = cut(reqP(phase.name).median, reqL(phase.name).median);
    goals.push(`- requests −98% (article −96%), ${phase.name}: ${signed(c)}, ${goal(c >= 98)}`);
  }
  for (const phase of plan.phases) {
    const c = cut(cpuP(phase.name).median, cpuL(phase.name).median);
    goals.push(`- server CPU −90% (article −77%), ${phase.name}: ${signed(c)}, ${goal(c >= 90)}`);
  }
  for (const phase of mutationPhases) {
    const freshTail = freshnessStats(phaseOf(runs, 'live', phase.name)).tail;
    const within = tailWithin(freshTail, 50);
    goals.push(`- freshness p99 ≤ 50 ms on the tab on screen (article < 200 ms), ${phase.name}: ${formatTail(freshTail, ms)}, ${within === null ? '**undetermined** (too few samples for a p99, and the max is above)' : goal(within)}`);
  }
  {
    // The data oracle's verdict: a change whose observers the app does not invalidate is a pair that never gets fresh.
    const live = mutationPhases.map((phase) => freshnessStats(phaseOf(runs, 'live', phase.name)));
    const never = sumOf(live.map((f) => f.unresolved));
    const undeclared = sumOf(live.map((f) => f.undeclared));
    goals.push(
      `- every change reaches the observers whose data it changed (decided from the database, not the registry), live, all phases and runs: ${never} observer(s) never fresh, ${undeclared} change(s) to an observer's data the registry does not declare, ${goal(never === 0 && undeclared === 0)}`,
    );
  }
  goals.push(`- one connection per user (article: one per endpoint): ${show(sl, 2)} live streams per user, ${goal(Math.abs(sl.median - 1) < 0.005)}`);
  parts.push(goals.join('\n'), '');

  // What a change costs in the live variant, and where polling breaks even.
  if (idle !== undefined && mutationPhases.length) {
    const perMutation = mutationPhases.map((phase) => ({
      phase,
      requests: (reqL(phase.name).median - reqL(idle).median) / phase.perTenantPerMinute,
      // CPU above the idle phase per mutation (all tenants' mutations of a simulated minute).
      cpuMs: ((cpuL(phase.name).median - cpuL(idle).median) / (phase.perTenantPerMinute * plan.tenants)) * 1000,
    }));
    const pollingRate = median(plan.phases.map((p) => reqP(p.name).median).filter(Number.isFinite));
    const first = perMutation[0]!;
    const requestsEven = breakEven(plan.phases.map((p) => ({ rate: p.perTenantPerMinute, diff: reqL(p.name).median - reqP(p.name).median })));
    const cpuEven = breakEven(plan.phases.map((p) => ({ rate: p.perTenantPerMinute, diff: cpuL(p.name).median - cpuP(p.name).median })));
    const unchangedFirst = (() => {
      const figures = phaseOf(runs, 'polling', first.phase.name);
      const all = sumOf(figures.map((f) => f.refetches));
      return all ? (sumOf(figures.map((f) => f.unchangedRefetches)) / all) * 100 : NaN;
    })();
    // Where the live variant's requests go: a show that refetched is one batched request (the invalidator counts only
    // those), pause/resume calls are counted at the socket, and the rest refetched changes on the tab on screen.
    const split = mutationPhases.map((phase) => {
      const figures = phaseOf(runs, 'live', phase.name);
      const shown = stat(figures.map((f) => f.shownRefetches / (users * f.simMinutes)));
      const pause = stat(figures.map((f) => f.browserMutationsPerUserMinute));
      const onScreen = stat(figures.map((f) => f.requestsPerUserMinute - f.shownRefetches / (users * f.simMinutes) - f.browserMutationsPerUserMinute));
      return `${phase.name}: ${show(onScreen, 2)} refetching changes on the tab on screen, ${show(shown, 2)} on showing a tab that had missed changes, ${show(pause, 2)} pausing or resuming the stream`;
    });
    parts.push(
      `**What a change costs.** In the live variant the tab on screen refetches the queries a change touches at once (one batched request); a hidden tab only marks them stale and refetches once when the user comes back to it, however many changes it missed. ` +
        `Measured, requests per user for each mutation in the user's tenant (above the idle phase): ${perMutation.map((m) => `${fmt(m.requests, 2)} at ${m.phase.perTenantPerMinute} per minute (${m.phase.name})`).join(', ')}: ` +
        `the cost per change falls as changes get more frequent, because a hidden tab pays once per visit, not once per change. ` +
        `Where the live requests go, per user per minute: ${split.join('; ')}. ` +
        `Polling costs ${fmt(pollingRate, 1)} requests per user per minute whatever happens. ` +
        `**Break-even on requests: ${describeBreakEven(requestsEven)}**; ` +
        `−98% needs under ${fmt((pollingRate * 0.02) / first.requests, 2)} changes per tenant per minute (at the ${first.phase.name} phase's cost per change), and the article's ~0.5 requests per user per minute corresponds to ${fmt(0.5 / first.requests, 2)} here. ` +
        `In the ${first.phase.name} phase ${fmt(unchangedFirst, 0)}% of the polls brought back data the observer already had (the article: "90%+").`,
      '',
    );
    // Server CPU per query request: polling's idle phase is nothing but polls; the live variant's extra CPU over its idle is its refetches and the mutations.
    const perPollMs = (cpuP(idle).median / (reqP(idle).median * users)) * 1000;
    // Polling's mutations cost little next to its polls: only the fastest phase lifts them above the run-to-run noise.
    const fastest = mutationPhases.reduce((a, b) => (b.perTenantPerMinute > a.perTenantPerMinute ? b : a));
    const perMutationCpuPolling = ((cpuP(fastest.name).median - cpuP(idle).median) / (fastest.perTenantPerMinute * plan.tenants)) * 1000;
    const cpuMsText = (value: number) => (value > 0 ? `${fmt(value, 1)} ms` : 'below the run-to-run noise');
    parts.push(
      `**What a request costs the server.** ${fmt(perPollMs, 2)} ms of CPU per poll (polling, idle phase: the tRPC HTTP handler, session check, SQLite, JSON). ` +
        `Server CPU per mutation above the idle phase, which includes the mutation itself: polling ${cpuMsText(perMutationCpuPolling)} (${fastest.name} phase); live ${perMutation.map((m) => `${cpuMsText(m.cpuMs)} at ${m.phase.perTenantPerMinute} per minute`).join(', ')} (the mutation, its signals and the refetches it causes). ` +
        `**Break-even on server CPU: ${describeBreakEven(cpuEven)}.**`,
      '',
    );
    const where = mutationPhases.map((phase) => {
      const figures = phaseOf(runs, 'live', phase.name);
      const fr = freshnessStats(figures);
      return `${phase.name}: ${ms(fr.startP50.median)} / ${formatTail(fr.startTail, ms)} to the refetch's start, then ${ms(stat(figures.map((f) => f.queryLatencyP50)).median)} / ${formatTail(tailOfRuns(figures.map((f) => f.queryLatencies)), ms)} for the fetch`;
    });
    parts.push(
      `**Where the live variant's time to fresh data goes** (p50 / tail): ${where.join('; ')}. ` +
        `The first part is the signal (hub, stream, the leader tab's relay to the tab on screen) plus the invalidator's ${DEFAULT_BATCH_WINDOW_MS} ms batch window; the second is the request, which waits behind the tenant's other users' refetches of the same change, all sent at the same moment.`,
      '',
    );
  }

  // Details per phase.
  const detail: Array<Array<string>> = [];
  for (const phase of plan.phases) {
    for (const variant of ['polling', 'live'] as const) {
      const figures = phaseOf(runs, variant, phase.name);
      const fr = freshnessStats(figures);
      const refetches = sumOf(figures.map((f) => f.refetches));
      const unchanged = sumOf(figures.map((f) => f.unchangedRefetches));
      detail.push([
        phase.name,
        variant,
        show(stat(figures.map((f) => f.mutations)), 0),
        show(stat(figures.map((f) => f.callsPerUserMinute))),
        `${show(stat(figures.map((f) => f.requestsPerUserMinute)), 2)} / ${show(stat(figures.map((f) => f.serverRequestsPerUserMinute)), 2)}`,
        show(stat(figures.map((f) => f.bytesInPerUserMinute / 1024))),
        refetches ? `${fmt((unchanged / refetches) * 100, 0)}% of ${refetches}` : '—',
        show(stat(figures.map((f) => f.usersCpuPerMinute)), 2),
        fr.samples || fr.unresolved || fr.leftBefore ? `${fr.samples} (${fr.unresolved} never fresh, ${fr.leftBefore} left; ${fr.undeclared} not declared)` : '—',
        Number.isFinite(fr.startP50.median) ? `${ms(fr.startP50.median)} / ${formatTail(fr.startTail, ms)}` : '—',
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
        'users\u2019 CPU s per min',
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

  const switchRows: Array<Array<string>> = [];
  for (const phase of plan.phases) {
    for (const variant of ['polling', 'live'] as const) {
      const figures = phaseOf(runs, variant, phase.name);
      const s = switchStats(figures);
      const scale = variant === 'polling' ? F : 1;
      switchRows.push([
        phase.name,
        variant,
        String(s.count),
        s.count ? pct(s.outdated.median) : '—',
        ms(s.ageP50.median * F),
        `${ms(s.freshP50.median * scale)} / ${formatTail(s.freshTail, (v) => ms(v * scale))} / ${ms(s.freshMax.median * scale)}`,
        String(s.unresolved),
        variant === 'live' ? `${show(stat(figures.map((f) => f.shownRefetches)), 0)} / ${show(stat(figures.map((f) => f.deferredPasses)), 0)}` : '—',
        show(stat(figures.map((f) => f.browserMutationsPerUserMinute)), 2),
      ]);
    }
  }
  parts.push(
    `Tab switches per phase (all runs; percentages and times: median of runs). Polling times are scaled to the real ${pollS} s interval (×${F}); live times are as measured. The age of the oldest change not shown yet is in simulated time (×${F}) for both, as the changes and the switches are compressed alike.`,
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
        'pause/resume calls per user per min',
      ],
      switchRows,
    ),
    '',
  );

  const failed = sumOf(runs.flatMap((r) => r.phases.map((p) => p.failedMutations)));
  const failedWhy = [...new Set(runs.flatMap((r) => r.phases.flatMap((p) => p.mutationErrors)))].slice(0, 3);
  const resent = sumOf(runs.flatMap((r) => r.phases.map((p) => p.resent)));
  const errors = runs.filter((r) => r.error).map((r) => `${r.variant} run ${r.run}: ${r.error}`);
  parts.push(
    'How it is measured. Requests: HTTP requests the simulated browsers sent (a tab’s queries due at once go in one batched request, as in the app, plus the live variant’s pause/resume calls), counted at their own sockets; not the actors’ mutations (the same in both variants) nor the stream itself. ' +
      `The server counts them too, as it receives them (bench/lib/serverRequestCounter.mjs, preloaded into the server; the actors’ requests are marked and counted apart): ${requestCountCheck(runs, users)}. ` +
      'Server CPU: utime + stime of the server process (and any children) from /proc/<pid>/stat between the phase’s snapshots, per simulated minute; % of one core = that / 60 s. ' +
      'Bytes: read from the browsers’ sockets (headers and framing included; compressed only when the server compresses). ' +
      'Streams per user: the hub’s connection count (/api/health) at the end of the last phase / users. TCP: sockets each browser holds open at the end of the phase (pool of 6 per browser, keep-alive). ' +
      `Freshness on the tab on screen: for every committed mutation and every observer of the tab its user had on screen at the commit whose data the mutation changed, the time from the commit (the timestamp the server wrote with the change, returned to the actor) until that observer held data from a fetch started after the commit; pairs whose user switched tabs before the data landed are counted apart ("left") and covered by the switch figures; a drain of one poll interval after the last phase lets the last changes land; a pair still not fresh by then is "never fresh". ` +
      'Which observers a change affects is decided from the data, not by the app: after each mutation’s response the actor of the tenant (its only writer) re-reads every query an observer of the tenant holds straight from the server’s SQLite file (a read-only handle, through the app’s data functions that its procedures return; bench/article/dataOracle.ts) and the queries whose result changed are the affected ones, in both variants. An invalidation the app forgets to declare is then an observer that never gets fresh in the live variant, and is counted as "not declared" (the registry and matcher, given the mutation’s declared keys, do not reach that query). ' +
      `Tab switch: the tab brought to the front shows outdated data when one of its queries holds data fetched before a change to its data (the data oracle again) committed before the switch; it is fresh once every such query holds data fetched after its newest such change. ` +
      `Tails: a p99 only from ≥ 300 samples in every run (then the median of the runs' p99s), else the maximum, labelled max; n is each run's sample count. ` +
      `Polling times are measured at the compressed ${pollS / F} s interval; the figures "at the real ${pollS} s interval" multiply them by ${F} (a poll’s wait scales with the interval). Live times are not scaled: they are measured while the server carries ${F}× the real request rate, which can only make them worse. ` +
      `Users’ processes: ${plan.userProcesses}. Failed mutations: ${failed}${failedWhy.length ? ` (${failedWhy.join('; ')})` : ''}. ` +
      `1-minute load average when each run started (on ${cpus().length} cores): ${runs.map((r) => `${r.variant} ${fmt(r.loadAtStart, 1)}`).join(', ')}. ` +
      `Requests resent on a new connection because the server had closed the idle keep-alive socket under them (as browsers do): ${resent}.` +
      (errors.length ? ` Runs that failed: ${errors.join('; ')}.` : ''),
  );

  // Chart: pooled freshness (tab on screen) of the mutation phases, and the live variant's switch → fresh.
  const pool = (variant: Variant) => runs.filter((r) => r.variant === variant).flatMap((r) => r.phases.filter((p) => p.perTenantPerMinute > 0).flatMap((p) => p.freshness.samples));
  const switchPool = (variant: Variant) =>
    runs
      .filter((r) => r.variant === variant)
      .flatMap((r) => r.phases.flatMap((p) => p.switches.filter((s) => s.outdated && Number.isFinite(s.freshMs)).map((s) => s.freshMs)));
  const live = pool('live');
  const polling = pool('polling');
  const chart = cdfChart({
    title: 'Time to see new data: polling vs live',
    subtitle: `${users} users × 6 tabs (one on screen), ${mutationPhases.map((p) => p.name).join(' + ')} phases, ${plan.runs} run(s) pooled; time ×${F} (polls every ${pollS / F} s)`,
    xLabel: 'from the mutation\u2019s commit (or the tab switch) until the tab on screen holds the new data (log scale)',
    xMin: 1,
    xMax: 100_000,
    markers: [
      { at: 50, label: 'goal 50 ms' },
      { at: 200, label: 'article 200 ms' },
    ],
    series: [
      { label: 'live: commit → tab on screen fresh', color: '#1f77b4', values: live },
      { label: 'live: tab switch → fresh (outdated arrivals)', color: '#17becf', values: switchPool('live') },
      { label: `polling every ${pollS / F} s (measured)`, color: '#ff7f0e', values: polling },
      { label: `polling every ${pollS} s (×${F})`, color: '#d62728', values: polling.map((v) => v * F) },
      { label: `polling every ${pollS} s: tab switch → fresh (×${F})`, color: '#9467bd', values: switchPool('polling').map((v) => v * F) },
    ],
  });
  parts.push('', `![Freshness distribution, polling vs live](${CHART_FILE})`);
  return { markdown: parts.join('\n'), chart };
}

/** Runs the article benchmark. */
export async function run({ quick }: BenchOptions): Promise<BenchResult> {
  const plan = quick ? QUICK : FULL;
  const runs: VariantRun[] = [];
  for (let r = 1; r <= plan.runs; r++) {
    // Alternate which variant goes first, so drift of a shared machine does not favour one.
    const order: Variant[] = r % 2 ? ['polling', 'live'] : ['live', 'polling'];
    for (const variant of order) {
      console.log(`[article] run ${r}/${plan.runs}: ${variant}`);
      runs.push(await runVariant(plan, variant, r, (line) => console.log(line)));
    }
  }
  const { markdown, chart } = report(plan, runs);
  const slim = runs.map((r) => ({
    ...r,
    phases: r.phases.map(({ freshness, switches, queryLatencies, ...rest }) => ({
      ...rest,
      queryLatencyTail: tail(queryLatencies),
      switches: (() => {
        const outdated = switches.filter((s) => s.outdated);
        const fresh = outdated.flatMap((s) => (Number.isFinite(s.freshMs) ? [s.freshMs] : []));
        return {
          count: switches.length,
          outdated: outdated.length,
          unresolved: switches.filter((s) => !Number.isFinite(s.freshMs)).length,
          ageP50: quantile(outdated.map((s) => s.ageMs), 0.5),
          freshP50: quantile(fresh, 0.5),
          freshTail: tail(fresh),
          freshMax: fresh.length ? Math.max(...fresh) : NaN,
        };
      })(),
      freshness: {
        count: freshness.samples.length,
        unresolved: freshness.unresolved,
        p50: quantile(freshness.samples, 0.5),
        p90: quantile(freshness.samples, 0.9),
        tail: tail(freshness.samples),
        max: freshness.samples.length ? Math.max(...freshness.samples) : NaN,
        startP50: quantile(freshness.startSamples, 0.5),
        startTail: tail(freshness.startSamples),
        leftBefore: freshness.leftBefore,
        undeclared: freshness.undeclared,
        declaredUnchanged: freshness.declaredUnchanged,
      },
    })),
  }));
  return {
    name: 'article',
    title: 'The article\u2019s results table, reproduced: polling vs live on our app',
    markdown,
    data: { plan, runs: slim },
    files: { [CHART_FILE]: chart },
  };
}
