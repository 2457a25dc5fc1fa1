import { fmt, median, quantile, tailOfRuns } from '../lib/report';
import { histogramQuantile, histogramSum } from '../lib/serverMetrics';
import type { PhaseFigures, VariantRun } from './runVariant';
import type { Variant } from './variants';
import { DEFAULT_HOLD_MS } from 'trpc-live/client';

/** A figure over several runs: their median, min and max. */
export interface Stat {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Median, min and max of the finite values (NaN when none). */
export const stat = (values: readonly number[]): Stat => {
  const finite = values.filter(Number.isFinite);
  return finite.length ? { median: median(finite), min: Math.min(...finite), max: Math.max(...finite) } : { median: NaN, min: NaN, max: NaN };
};

/** "median (min–max)" when there are several runs. */
export const show = (s: Stat, digits = 1, unit = '') =>
  !Number.isFinite(s.median) ? '—' : s.min === s.max ? `${fmt(s.median, digits)}${unit}` : `${fmt(s.median, digits)}${unit} (${fmt(s.min, digits)}–${fmt(s.max, digits)}${unit})`;

/** A relative change, `−96%` / `+44%`. */
export const change = (before: number, after: number) =>
  before > 0 && Number.isFinite(after) ? `${after <= before ? '−' : '+'}${fmt((Math.abs(after - before) / before) * 100, 0)}%` : '—';

/** Milliseconds as `12 ms`, `1.25 s`, `13.1 s`. */
export const ms = (value: number) =>
  !Number.isFinite(value) ? '—' : value >= 10_000 ? `${fmt(value / 1000, 1)} s` : value >= 1000 ? `${fmt(value / 1000, 2)} s` : `${fmt(value, 0)} ms`;

/** A share as a whole percentage. */
export const pct = (share: number) => (Number.isFinite(share) ? `${fmt(share * 100, 0)}%` : '—');

export const sumOf = (values: readonly number[]) => values.reduce((a, b) => a + b, 0);

/** One phase of one variant, every run. */
export function phaseOf(runs: readonly VariantRun[], variant: Variant, phase: string): PhaseFigures[] {
  return runs.filter((r) => r.variant === variant).flatMap((r) => r.phases.filter((p) => p.name === phase));
}

/** A figure of one phase for one variant, per run: the runs' median (min–max). */
export function byPhase(runs: readonly VariantRun[], variant: Variant, phase: string, pick: (f: PhaseFigures) => number): Stat {
  return stat(phaseOf(runs, variant, phase).map(pick));
}

/**
 * A ratio `variant / base` of one phase, computed per run from the two
 * variants' runs of the same number (same seed, same workload), then the
 * runs' median (min–max).
 */
export function pairedRatio(runs: readonly VariantRun[], variant: Variant, base: Variant, phase: string, pick: (f: PhaseFigures) => number): Stat {
  const ratios: number[] = [];
  for (const r of runs.filter((x) => x.variant === variant)) {
    const mine = r.phases.find((p) => p.name === phase);
    const theirs = runs.find((x) => x.variant === base && x.run === r.run)?.phases.find((p) => p.name === phase);
    if (mine && theirs && pick(theirs) > 0) ratios.push(pick(mine) / pick(theirs));
  }
  return stat(ratios);
}

/** Freshness on the tab on screen of one phase over the runs (per run, then median of runs). */
export function freshnessStats(figures: readonly PhaseFigures[]) {
  const perRun = figures.filter((f) => f.freshness.samples.length);
  return {
    p50: stat(perRun.map((f) => quantile(f.freshness.samples, 0.5))),
    tail: tailOfRuns(perRun.map((f) => f.freshness.samples)),
    max: stat(perRun.map((f) => Math.max(...f.freshness.samples))),
    startP50: stat(perRun.map((f) => quantile(f.freshness.startSamples, 0.5))),
    startTail: tailOfRuns(perRun.filter((f) => f.freshness.startSamples.length).map((f) => f.freshness.startSamples)),
    samples: sumOf(figures.map((f) => f.freshness.samples.length)),
    unresolved: sumOf(figures.map((f) => f.freshness.unresolved)),
    leftBefore: sumOf(figures.map((f) => f.freshness.leftBefore)),
    undeclared: sumOf(figures.map((f) => f.freshness.undeclared ?? 0)),
    declaredUnchanged: sumOf(figures.map((f) => f.freshness.declaredUnchanged ?? 0)),
  };
}

/** Tab switches of one phase over the runs: share landing on outdated data and time to fresh (per run, then median of runs). */
export function switchStats(figures: readonly PhaseFigures[]) {
  const perRun = figures.filter((f) => f.switches.length);
  const outdated = (f: PhaseFigures) => f.switches.filter((s) => s.outdated);
  const fresh = (f: PhaseFigures) => outdated(f).flatMap((s) => (Number.isFinite(s.freshMs) ? [s.freshMs] : []));
  return {
    count: sumOf(figures.map((f) => f.switches.length)),
    outdatedCount: sumOf(figures.map((f) => outdated(f).length)),
    /** Outdated only by changes committed less than the client's hold bound before the switch: their result or signal was still in flight. */
    inFlightCount: sumOf(figures.map((f) => outdated(f).filter((s) => s.ageMs < DEFAULT_HOLD_MS).length)),
    unresolved: sumOf(figures.map((f) => f.switches.filter((s) => !Number.isFinite(s.freshMs)).length)),
    outdated: stat(perRun.map((f) => outdated(f).length / f.switches.length)),
    ageP50: stat(perRun.map((f) => quantile(outdated(f).map((s) => s.ageMs), 0.5))),
    freshP50: stat(perRun.map((f) => quantile(fresh(f), 0.5))),
    freshTail: tailOfRuns(perRun.map(fresh)),
    freshMax: stat(perRun.map((f) => (fresh(f).length ? Math.max(...fresh(f)) : NaN))),
  };
}

/**
 * The server's own part of (d)'s time to fresh data in one phase, from its
 * push-to-write histograms (one per run; see report.ts's method text): the
 * upper bounds (ms) of the buckets holding the pooled p50 and tail, and each
 * run's tail. As every tail here, the tail is a p99 only when every run has
 * at least 300 writes, else the largest. Null when nothing was measured.
 */
export function serverPushTail(figures: readonly PhaseFigures[]): { p50Ms: number; tailMs: number; isP99: boolean; perRunMs: number[]; counts: number[] } | null {
  const histograms = figures.flatMap((f) => (f.serverPushToWrite ? [f.serverPushToWrite] : []));
  const pooled = histogramSum(histograms);
  if (!pooled.count) return null;
  const isP99 = histograms.every((h) => h.count >= 300);
  const q = isP99 ? 0.99 : 1;
  return {
    p50Ms: histogramQuantile(pooled, 0.5) * 1000,
    tailMs: histogramQuantile(pooled, q) * 1000,
    isP99,
    perRunMs: histograms.map((h) => histogramQuantile(h, q) * 1000),
    counts: histograms.map((h) => h.count),
  };
}
