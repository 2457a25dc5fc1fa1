import type { Histogram } from './histogram';
import type { VerifyResult } from './protocol';

/** One pass/fail criterion of a scenario, with the measured value and the target. */
export interface Check {
  readonly name: string;
  readonly pass: boolean;
  /** What was measured, human readable. */
  readonly value: string;
  /** What it had to be. */
  readonly target: string;
  /**
   * `false` for timing figures on a shared machine: reported, but the CI
   * version does not fail on them (tests never fail on machine speed).
   */
  readonly strict?: boolean;
}

/**
 * The record oracle's row: every one of `streams` streams judged, at least
 * one publish expected, and none lost, received twice, or received without
 * being in the record for that stream (a leak, or a publish the record missed).
 */
export function recordCheck(name: string, verify: VerifyResult, streams: number): Check {
  const pass = verify.streams === streams && verify.expected > 0 && verify.lost === 0 && verify.duplicates === 0 && verify.unexpected === 0;
  const covered =
    `${int(verify.received)} received, ${int(verify.byReset)} covered by a reset, ${int(verify.replaced)} replaced by a later ` +
    `publish of their key, of ${int(verify.expected)} expected (stream, publish) pairs over ${int(verify.streams)}/${int(streams)} streams`;
  const faults = `${int(verify.lost)} lost, ${int(verify.duplicates)} duplicates, ${int(verify.unexpected)} not in the record`;
  return {
    name,
    pass,
    value: `${faults}; ${covered}${verify.lost ? `; e.g. ${JSON.stringify(verify.samples[0])}` : ''}`,
    target: `${int(streams)} streams, > 0 expected, 0 lost, 0 duplicates, 0 not in the record`,
  };
}

/** Fewer samples than this: a tail figure is the maximum, not a p99 (issue 19: a p99 of a handful of samples is a maximum). */
export const MIN_P99_SAMPLES = 100;

/** The tail of `histogram`: its p99 from {@link MIN_P99_SAMPLES} samples on, else its maximum; NaN when empty. */
export function tail(histogram: Histogram): { label: 'p99' | 'max'; ms: number; n: number } {
  if (histogram.n >= MIN_P99_SAMPLES) return { label: 'p99', ms: histogram.quantile(0.99), n: histogram.n };
  return { label: 'max', ms: histogram.n ? histogram.max : NaN, n: histogram.n };
}

/**
 * A time-to-resume row: one sample per stream that had to resume
 * (`expectedSamples`), judged on its tail ({@link tail}) against `targetMs`.
 * Fails when a resume is missing (fewer samples than streams) or none was
 * expected. A timing figure on a shared machine: reported, not enforced in CI.
 */
export function resumeCheck(name: string, histogram: Histogram, expectedSamples: number, targetMs: number, targetNote = ''): Check {
  const t = tail(histogram);
  return {
    name,
    pass: expectedSamples > 0 && histogram.n >= expectedSamples && t.ms <= targetMs,
    value: `${t.label} ${ms(t.ms)} over ${int(histogram.n)} of ${int(expectedSamples)} resumes`,
    target: `${t.label} ≤ ${ms(targetMs)}${targetNote}, every stream resumed`,
    strict: false,
  };
}

/** What a scenario returns; `npm run soak` stores it in soak/results/<name>.json. */
export interface ScenarioResult {
  readonly name: string;
  readonly title: string;
  /** The parameters it ran with (counts, rates, durations). */
  readonly params: Record<string, unknown>;
  /** One line of figures for the RELIABILITY.md table. */
  readonly summary: string;
  readonly checks: readonly Check[];
  /** Raw figures. */
  readonly figures: Record<string, unknown>;
  /** Markdown lines: how it was run and what the figures mean. */
  readonly method: readonly string[];
  readonly seconds: number;
}

/** Progress output; the runner prints it, tests stay quiet unless SOAK_VERBOSE is set. */
export type Log = (message: string) => void;

export const quietLog: Log = (message) => {
  if (process.env.SOAK_VERBOSE) console.log(`[soak] ${message}`);
};

/** Resolves once `condition()` holds (checked every `everyMs`), or rejects after `timeoutMs` naming `what`. */
export async function until(condition: () => Promise<boolean> | boolean, what: string, timeoutMs: number, everyMs = 100): Promise<number> {
  const started = Date.now();
  for (;;) {
    if (await condition()) return Date.now() - started;
    if (Date.now() - started > timeoutMs) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** `12.3 MB`, `456 KB`, `789 B` (binary units). */
export function bytes(n: number): string {
  const abs = Math.abs(n);
  if (abs >= 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  if (abs >= 1024) return `${(n / 1024).toFixed(0)} KiB`;
  return `${Math.round(n)} B`;
}

export const ms = (n: number) => (Number.isFinite(n) ? (n >= 100 ? `${Math.round(n)} ms` : `${n.toFixed(1)} ms`) : '—');

export const int = (n: number) => Math.round(n).toLocaleString('en-US');
