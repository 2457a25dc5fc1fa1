/**
 * The article's results table, reproduced on our app (`npm run bench -- article`),
 * with the four variants of issue 17 item 8 side by side.
 *
 * The production build (`node dist/main.js`), a fresh SQLite database per
 * run with 10 tenants × 10 users. 100 simulated browsers (child processes,
 * so their CPU is not the server's), each with the six live pages open in
 * six tabs, each tab issuing its page's queries as the app does
 * (bench/article/pages.ts). One tab per browser is on screen at a time; the
 * user brings another to the front every few simulated minutes (seeded, the
 * same schedule in every variant). Four variants (variants.ts), their order
 * rotated each run, several runs each:
 *
 * - polling: no stream; every tab's queries refetch every 30 s, on screen or
 *   not (the article's "before", its `setInterval`);
 * - polling-visible: TanStack Query's own polling: only the tab on screen
 *   polls, and a tab brought to the front refetches (refetch on focus);
 * - live: the app unchanged: one stream per browser shared by its tabs,
 *   refetch on signal through the real liveLink and LiveInvalidator, which
 *   defers a hidden tab's refetches until it is shown again;
 * - pushed: the same with pushed results: the browser watches the pushable
 *   queries it holds and applies the results the server pushes.
 *
 * The same seeded mutation workload hits every variant, through the real tRPC
 * API, from one actor account per tenant, in phases of rising rate (idle,
 * light, busy, heavy, heavier). Time is compressed by ONE factor for every
 * variant: the poll interval, the mutation rates, the tab switches and the
 * server's SSE ping interval. Where the machine allows it (taskset, ≥ 2
 * CPUs) the server runs on one core and the simulated browsers and actors on
 * the others (bench/lib/cpuPinning.ts).
 *
 * Measured per phase: requests per user per minute (counted at the users'
 * sockets, and by the server: serverRequestCounter.mjs), server CPU seconds
 * per minute (/proc/<pid>/stat of the server), bytes, live streams and TCP
 * connections per user, freshness on the tab on screen (commit to each
 * observer whose data it changed, decided from the database by
 * dataOracle.ts, holding data that reflects it: fetched after it, or pushed
 * data whose contents are a state after it; see freshness.ts and
 * reflects.ts) and what a tab shows when brought to the front (see
 * switches.ts); the rates at which one variant stops beating another; and
 * the pushed variant's goals (goals.ts). The report is report.ts.
 *
 * Duration: each variant run is its phases (FULL: 10 simulated minutes, 100
 * s of real time) plus ~50 s of start-up (100 sign-ins, 600 tabs), warm-up,
 * tour, drain and oracle (measured at 100 users: 41 s polling, 48 s live, 56
 * s pushed), so the full plan, 4 variants × 3 runs, takes about 30 minutes;
 * `--quick` (1 run, 10 users, 6 simulated minutes) about 6.5 minutes (389 s
 * measured).
 */
import { quantile, tail, type BenchOptions, type BenchResult } from '../lib/report';
import { planCpuPinning } from '../lib/cpuPinning';
import { pushedGoals } from './goals';
import { articleReport, CHART_FILE } from './report';
import { runVariant, type ArticlePlan, type VariantRun } from './runVariant';
import { VARIANTS, variantOrder, type Variant } from './variants';

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
    // The rate of issue 9's example.
    { name: 'heavy', perTenantPerMinute: 30, minutes: 2 },
    // Issue 17: where invalidate-and-refetch cannot follow. One minute gives thousands of freshness samples.
    { name: 'heavier', perTenantPerMinute: 120, minutes: 1 },
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
    { name: 'heavier', perTenantPerMinute: 120, minutes: 1 },
  ],
};

/**
 * `BENCH_ARTICLE_VARIANTS=polling-visible,pushed`: run only these variants
 * (checking one while developing it; the report shows — for the others).
 * Unset (the default): all four.
 */
export const VARIANTS_ENV = 'BENCH_ARTICLE_VARIANTS';

/** The variants to run: every one, or those {@link VARIANTS_ENV} names (an unknown name is an error). */
export function selectedVariants(env: Readonly<Record<string, string | undefined>> = process.env): Variant[] {
  const named = env[VARIANTS_ENV]?.split(',').map((v) => v.trim()).filter(Boolean);
  if (!named?.length) return [...VARIANTS];
  const unknown = named.filter((v) => !(VARIANTS as readonly string[]).includes(v));
  if (unknown.length) throw new Error(`${VARIANTS_ENV}: unknown variant(s) ${unknown.join(', ')}; known: ${VARIANTS.join(', ')}`);
  return VARIANTS.filter((v) => named.includes(v));
}

/** Runs the article benchmark. */
export async function run({ quick }: BenchOptions): Promise<BenchResult> {
  const plan = quick ? QUICK : FULL;
  const selected = selectedVariants();
  const pinning = planCpuPinning();
  console.log(`[article] ${pinning.note}`);
  const runs: VariantRun[] = [];
  for (let r = 1; r <= plan.runs; r++) {
    // The order rotates each run, so drift of a shared machine does not favour one variant.
    for (const variant of variantOrder(r).filter((v) => selected.includes(v))) {
      console.log(`[article] run ${r}/${plan.runs}: ${variant}`);
      runs.push(await runVariant(plan, variant, r, pinning, (line) => console.log(line)));
    }
  }
  const report = articleReport(plan, runs);
  const markdown =
    selected.length < VARIANTS.length ? `**Only ${selected.join(', ')} ran (${VARIANTS_ENV}); the other columns are empty.**\n\n${report.markdown}` : report.markdown;
  const goals = pushedGoals(plan, runs).filter((g) => g.verdict !== 'reported');
  const slim = runs.map((r) => ({
    ...r,
    phases: r.phases.map(({ freshness, switches, queryLatencies, pushPath, ...rest }) => ({
      ...rest,
      pushPath: { toFrameP50: quantile(pushPath.toFrame, 0.5), toFrameTail: tail(pushPath.toFrame), toHeldP50: quantile(pushPath.toHeld, 0.5), toHeldTail: tail(pushPath.toHeld), unmatched: pushPath.unmatched },
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
    title: 'The article\u2019s results table, reproduced: polling, TanStack\u2019s polling, live and pushed results on our app',
    markdown,
    summary: `(d) pushed results: ${goals.filter((g) => g.verdict === 'met').length} of ${goals.length} goals of issue 17 item 9 met`,
    data: { plan, pinning, variants: selected, runs: slim, goals: pushedGoals(plan, runs) },
    files: { [CHART_FILE]: report.chart },
  };
}
