/**
 * The article's results table, reproduced on our app (`npm run bench -- article`).
 *
 * The production build (`node dist/main.js`), a fresh SQLite database per
 * run with 10 tenants × 10 users. 100 simulated browsers (child processes,
 * so their CPU is not the server's), each with the six live pages open in
 * six tabs, each tab issuing its page's queries as the app does
 * (bench/article/pages.ts). Two variants, alternated, several runs each:
 *
 * - polling: no stream; every query refetches every 30 s (the article's "before");
 * - live: the app unchanged: one stream per browser shared by its tabs,
 *   refetch on signal through the real liveLink and LiveInvalidator.
 *
 * The same seeded mutation workload hits both, through the real tRPC API,
 * from one actor account per tenant, in phases of rising rate (idle, light,
 * busy). Time is compressed by ONE factor for both variants: the poll
 * interval, the mutation rates and the server's SSE ping interval.
 *
 * Measured per phase: requests per user per minute (counted at the users'
 * sockets), server CPU seconds per minute (/proc/<pid>/stat of the server),
 * bytes, live streams and TCP connections per user, and freshness (commit
 * to each affected observer holding data fetched after it; see freshness.ts).
 */
import { cpus } from 'node:os';
import { fmt, median, quantile, table, type BenchOptions, type BenchResult } from '../lib/report';
import { cdfChart } from '../lib/svgChart';
import { runVariant, type ArticlePlan, type PhaseFigures, type VariantRun } from './runVariant';
import type { Variant } from './users';

const CHART_FILE = 'bench/freshness.svg';

const FULL: ArticlePlan = {
  tenants: 10,
  usersPerTenant: 10,
  factor: 6,
  pollIntervalMs: 30_000,
  runs: 3,
  userProcesses: 2,
  phases: [
    { name: 'idle', perTenantPerMinute: 0, minutes: 2 },
    { name: 'light', perTenantPerMinute: 0.5, minutes: 3 },
    { name: 'busy', perTenantPerMinute: 2, minutes: 2 },
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
    p99: stat(perRun.map((f) => quantile(f.freshness.samples, 0.99))),
    max: stat(perRun.map((f) => Math.max(...f.freshness.samples))),
    startP50: stat(perRun.map((f) => quantile(f.freshness.startSamples, 0.5))),
    samples: sumOf(figures.map((f) => f.freshness.samples.length)),
    unresolved: sumOf(figures.map((f) => f.freshness.unresolved)),
  };
}

const sumOf = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

function report(plan: ArticlePlan, runs: readonly VariantRun[]): { markdown: string; chart: string } {
  const users = plan.tenants * plan.usersPerTenant;
  const F = plan.factor;
  const pollS = plan.pollIntervalMs / 1000;
  const by = (variant: Variant, phase: string, pick: (f: PhaseFigures) => number) => stat(phaseOf(runs, variant, phase).map(pick));
  const mutationPhases = plan.phases.filter((p) => p.perTenantPerMinute > 0);
  const parts: string[] = [];

  parts.push(
    `${users} simulated users (${plan.tenants} tenants × ${plan.usersPerTenant}), each with the 6 live pages open (orders, order detail, products, dashboard, notifications, import: 10 queries), against the production build. ` +
      `**Time compressed ×${F} for both variants**: polls every ${pollS / F} s instead of ${pollS} s, mutation rates ×${F}, SSE ping every ${15 / F} s instead of 15 s; every "per minute" below is per simulated minute (${60 / F} s of real time). ` +
      `${plan.runs} run(s) per variant, alternated; figures are the median (min–max) of the runs. Phases back to back in each run: ` +
      plan.phases.map((p) => `${p.name} (${p.perTenantPerMinute} mutations per tenant per minute, ${p.minutes} min)`).join(', ') +
      '.',
    '',
  );

  // The article's table, side by side.
  const rows: Array<Array<string>> = [];
  const reqP = (phase: string) => by('polling', phase, (f) => f.requestsPerUserMinute);
  const reqL = (phase: string) => by('live', phase, (f) => f.requestsPerUserMinute);
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
      `Time to see new data, ${phase.name}: p50 / p99 / max`,
      phase === mutationPhases[0] ? ARTICLE.freshness : '',
      `${ms(fp.p50.median)} / ${ms(fp.p99.median)} / ${ms(fp.max.median)} (at the real ${pollS} s interval: ${ms(fp.p50.median * F)} / ${ms(fp.p99.median * F)} / ${ms(fp.max.median * F)})`,
      `${ms(fl.p50.median)} / ${ms(fl.p99.median)} / ${ms(fl.max.median)}`,
      Number.isFinite(fl.p50.median) && fl.p50.median > 0 ? `${fmt((fp.p50.median * F) / fl.p50.median, 0)}× sooner (p50, real interval)` : '—',
    ]);
  }
  for (const phase of plan.phases) {
    const cp = by('polling', phase.name, (f) => f.serverCpuPerMinute);
    const cl = by('live', phase.name, (f) => f.serverCpuPerMinute);
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
  const goals: string[] = ['Goals (issue 9; ours vs the article):', ''];
  for (const phase of plan.phases) {
    const p = reqP(phase.name).median;
    const l = reqL(phase.name).median;
    const cut = p > 0 ? (1 - l / p) * 100 : NaN;
    goals.push(`- requests −98% (article −96%), ${phase.name}: ${Number.isFinite(cut) ? `−${fmt(cut, 1)}%` : '—'}, ${goal(cut >= 98)}`);
  }
  for (const phase of plan.phases) {
    const p = by('polling', phase.name, (f) => f.serverCpuPerMinute).median;
    const l = by('live', phase.name, (f) => f.serverCpuPerMinute).median;
    const cut = p > 0 ? (1 - l / p) * 100 : NaN;
    goals.push(`- server CPU −90% (article −77%), ${phase.name}: ${Number.isFinite(cut) ? `${cut >= 0 ? '−' : '+'}${fmt(Math.abs(cut), 1)}%` : '—'}, ${goal(cut >= 90)}`);
  }
  for (const phase of mutationPhases) {
    const p99 = freshnessStats(phaseOf(runs, 'live', phase.name)).p99.median;
    goals.push(`- freshness p99 ≤ 50 ms (article < 200 ms), ${phase.name}: ${ms(p99)}, ${goal(p99 <= 50)}`);
  }
  goals.push(`- one connection per user (article: one per endpoint): ${show(sl, 2)} live streams per user, ${goal(Math.abs(sl.median - 1) < 0.005)}`);
  parts.push(goals.join('\n'), '');

  const lightest = mutationPhases[0];
  // What a change costs in the live variant, and where polling breaks even.
  const idle = plan.phases[0]!.name;
  const slope = mutationPhases.map((phase) => (reqL(phase.name).median - reqL(idle).median) / phase.perTenantPerMinute);
  const k = median(slope.filter(Number.isFinite));
  const pollingRate = reqP(idle).median;
  // Server CPU per query request: polling's idle phase is nothing but polls; the live variant's extra CPU over its idle is its refetches.
  const perPollMs = (by('polling', idle, (f) => f.serverCpuPerMinute).median / (pollingRate * users)) * 1000;
  const perRefetchMs = median(
    mutationPhases.map(
      (phase) =>
        ((by('live', phase.name, (f) => f.serverCpuPerMinute).median - by('live', idle, (f) => f.serverCpuPerMinute).median) /
          (reqL(phase.name).median * users)) *
        1000,
    ),
  );
  const unchangedLight = (() => {
    const figures = lightest ? phaseOf(runs, 'polling', lightest.name) : [];
    const all = sumOf(figures.map((f) => f.refetches));
    return all ? (sumOf(figures.map((f) => f.unchangedRefetches)) / all) * 100 : NaN;
  })();
  parts.push(
    `**What a change costs.** In the live variant every tab whose open queries read a changed key refetches them (one batched request per tab). ` +
      `Measured: ${fmt(k, 2)} requests per user for each mutation in the user's tenant (median over the mutation phases, above the idle phase). ` +
      `Polling costs ${fmt(pollingRate, 1)} requests per user per minute whatever happens, so the live variant makes fewer requests while a tenant's data changes less than ` +
      `**${fmt(pollingRate / k, 1)} times per minute**; −98% needs under ${fmt((pollingRate * 0.02) / k, 2)} changes per tenant per minute, and the article's ~0.5 requests per user per minute corresponds to ${fmt(0.5 / k, 2)} here. ` +
      `(Extrapolated, not run: at 30 mutations per tenant per minute the live variant would send about ${fmt(30 * k, 0)} requests per user per minute, ${fmt((30 * k) / pollingRate, 1)}× polling.) ` +
      `In the ${lightest?.name ?? '—'} phase ${fmt(unchangedLight, 0)}% of the polls brought back data the observer already had (the article: "90%+").`,
    '',
    `**What a request costs the server.** ${fmt(perPollMs, 1)} ms of CPU per poll (polling, idle phase) and ${fmt(perRefetchMs, 1)} ms per refetch (live, CPU above its idle phase per refetch request): ` +
      `a query request goes through Next's route handler, the tRPC fetch adapter, session check, SQLite and compression. One mutation makes the server answer about ${fmt(k * plan.usersPerTenant, 0)} refetches ` +
      `(${fmt(k, 1)} per user × ${plan.usersPerTenant} users of the tenant), about ${fmt(k * plan.usersPerTenant * perRefetchMs, 0)} ms of CPU one after the other: that, not the signal (commit → refetch start below), is most of the live variant's time to fresh data.`,
    '',
  );

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
        show(stat(figures.map((f) => f.bytesInPerUserMinute / 1024))),
        refetches ? `${fmt((unchanged / refetches) * 100, 0)}% of ${refetches}` : '—',
        show(stat(figures.map((f) => f.usersCpuPerMinute)), 2),
        fr.samples ? `${fr.samples} (${fr.unresolved} unresolved)` : '—',
        Number.isFinite(fr.startP50.median) ? ms(fr.startP50.median) : '—',
        `${ms(stat(figures.map((f) => f.queryLatencyP50)).median)} / ${ms(stat(figures.map((f) => f.queryLatencyP99)).median)}`,
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
        'KiB received per user per min',
        'refetches returning unchanged data',
        'users\u2019 CPU s per min',
        'freshness samples',
        'commit → refetch start, p50',
        'query fetch → data held, p50 / p99',
        'most TCP connections of one user',
        'stream reconnects',
        'resets',
      ],
      detail,
    ),
    '',
  );
  const failed = sumOf(runs.flatMap((r) => r.phases.map((p) => p.failedMutations)));
  const failedWhy = [...new Set(runs.flatMap((r) => r.phases.flatMap((p) => p.mutationErrors)))].slice(0, 3);
  const resent = sumOf(runs.flatMap((r) => r.phases.map((p) => p.resent)));
  const errors = runs.filter((r) => r.error).map((r) => `${r.variant} run ${r.run}: ${r.error}`);
  parts.push(
    'How it is measured. Requests: HTTP requests the simulated browsers sent for queries (a tab\u2019s queries due at once go in one batched request, as in the app), counted at their own sockets, not the actors\u2019 mutations (the same in both variants). ' +
      'Server CPU: utime + stime of the server process (and any children) from /proc/<pid>/stat between the phase\u2019s snapshots, per simulated minute; % of one core = that / 60 s. ' +
      'Bytes: read from the browsers\u2019 sockets (headers and framing included; responses gzip-encoded when the server compresses, as for a browser). ' +
      'Streams per user: the hub\u2019s connection count (/api/health) at the end of the last phase / users. TCP: sockets each browser holds open at the end of the phase (pool of 6 per browser, keep-alive). ' +
      `Freshness: for every committed mutation and every observer of its tenant whose query reads a key the mutation changed (decided by the app\u2019s registry and matcher for both variants), the time from the commit (the timestamp the server wrote with the change, returned to the actor) until that observer held data from a fetch started after the commit; a drain of one poll interval after the last phase lets the last changes land. ` +
      `Polling freshness is measured at the compressed ${pollS / F} s interval; the figure "at the real ${pollS} s interval" multiplies it by ${F} (a poll\u2019s wait scales with the interval). Live freshness is not scaled: it is measured while the server carries ${F}× the real request rate, which can only make it worse. ` +
      `Users\u2019 processes: ${plan.userProcesses}. Failed mutations: ${failed}${failedWhy.length ? ` (${failedWhy.join('; ')})` : ''}. ` +
      `1-minute load average when each run started (on ${cpus().length} cores): ${runs.map((r) => `${r.variant} ${fmt(r.loadAtStart, 1)}`).join(', ')}. ` +
      `Requests resent on a new connection because the server had closed the idle keep-alive socket under them (as browsers do): ${resent}.` +
      (errors.length ? ` Runs that failed: ${errors.join('; ')}.` : ''),
  );

  // Chart: pooled freshness of the mutation phases.
  const pool = (variant: Variant) => runs.filter((r) => r.variant === variant).flatMap((r) => r.phases.filter((p) => p.perTenantPerMinute > 0).flatMap((p) => p.freshness.samples));
  const live = pool('live');
  const polling = pool('polling');
  const chart = cdfChart({
    title: 'Time to see new data: polling vs live',
    subtitle: `${users} users × 6 pages, ${mutationPhases.map((p) => p.name).join(' + ')} phases, ${plan.runs} run(s) pooled; time ×${F} (polls every ${pollS / F} s)`,
    xLabel: 'from the mutation\u2019s commit until the observer holds the new data (log scale)',
    xMin: 1,
    xMax: 100_000,
    markers: [
      { at: 50, label: 'goal 50 ms' },
      { at: 200, label: 'article 200 ms' },
    ],
    series: [
      { label: 'live', color: '#1f77b4', values: live },
      { label: `polling every ${pollS / F} s (measured)`, color: '#ff7f0e', values: polling },
      { label: `polling every ${pollS} s (×${F})`, color: '#d62728', values: polling.map((v) => v * F) },
    ],
  });
  parts.push('', `![Freshness distribution, polling vs live](${CHART_FILE.replace(/^bench\//, 'bench/')})`);
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
    phases: r.phases.map(({ freshness, ...rest }) => ({
      ...rest,
      freshness: {
        count: freshness.samples.length,
        unresolved: freshness.unresolved,
        p50: quantile(freshness.samples, 0.5),
        p90: quantile(freshness.samples, 0.9),
        p99: quantile(freshness.samples, 0.99),
        max: freshness.samples.length ? Math.max(...freshness.samples) : NaN,
        startP50: quantile(freshness.startSamples, 0.5),
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
