import { cpus, totalmem } from 'node:os';

/** What one benchmark returns. Everything in it is measured, never typed by hand. */
export interface BenchResult {
  /** Key of the benchmark (file name under bench/results). */
  readonly name: string;
  readonly title: string;
  /** Markdown body of its section in BENCHMARKS.md (tables, ratios, notes). */
  readonly markdown: string;
  /** Raw figures, kept in bench/results/<name>.json. */
  readonly data: unknown;
  /**
   * One line with the section's verdicts (e.g. "last client 1.12x batched bare, met; …"), quoted in
   * the section when a rerun of the same commit replaces this result. Optional.
   */
  readonly summary?: string;
  /** Extra files to write next to BENCHMARKS.md (e.g. an SVG chart): path → content. */
  readonly files?: Readonly<Record<string, string>>;
}

/** Options every benchmark accepts. */
export interface BenchOptions {
  /** Shorter runs for a smoke check (CI); figures are then only indicative. */
  readonly quick: boolean;
}

/** A benchmark module: `bench/<name>/index.ts` exports `run`. */
export interface BenchModule {
  run(options: BenchOptions): Promise<BenchResult>;
}

/** Machine facts printed with every report. */
export function machineFacts() {
  const cpu = cpus();
  return {
    cores: cpu.length,
    cpu: cpu[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** Median of numbers (NaN for none). */
export function median(values: readonly number[]): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The q-quantile (0..1) of numbers, nearest-rank. */
export function quantile(values: readonly number[], q: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

/** A markdown table from a header row and rows. */
export function table(header: readonly string[], rows: ReadonlyArray<ReadonlyArray<string | number>>): string {
  const line = (cells: ReadonlyArray<string | number>) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Formats a number with a fixed count of decimals, or an em dash for NaN. */
export function fmt(value: number, digits = 1): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '—';
}

/**
 * Fewest samples a p99 is computed from (issue 19). Nearest-rank p99 of fewer
 * samples is one of the few largest values, i.e. a maximum under another name;
 * below this count the maximum is printed instead, labelled `max`.
 */
export const P99_MIN_SAMPLES = 300;

/** A tail figure: p99 when there were enough samples, else the maximum; `n` samples either way. */
export interface Tail {
  readonly label: 'p99' | 'max';
  /** NaN when there were no samples. */
  readonly value: number;
  readonly n: number;
}

/** The tail of `samples`: nearest-rank p99 from ≥ {@link P99_MIN_SAMPLES} samples, else their maximum. */
export function tail(samples: readonly number[]): Tail {
  if (samples.length >= P99_MIN_SAMPLES) return { label: 'p99', value: quantile(samples, 0.99), n: samples.length };
  return { label: 'max', value: maxOf(samples), n: samples.length };
}

/** Largest of numbers (NaN for none); no spread, so any count works. */
function maxOf(values: readonly number[]): number {
  return values.length ? values.reduce((a, b) => (b > a ? b : a)) : NaN;
}

/** The tail of several runs: median, min and max of the runs' tails, and each run's sample count. */
export interface RunsTail {
  readonly label: Tail['label'];
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: readonly number[];
}

/**
 * The tail of several runs, each run's samples apart: the median (min–max) of
 * the runs' tails. The label is `p99` only when every run had enough samples
 * (one label for all runs: a median of p99s and maxima would be neither).
 */
export function tailOfRuns(runs: ReadonlyArray<readonly number[]>): RunsTail {
  const label: Tail['label'] = runs.length && runs.every((s) => s.length >= P99_MIN_SAMPLES) ? 'p99' : 'max';
  const values = runs
    .filter((s) => s.length)
    .map((s) => (label === 'p99' ? quantile(s, 0.99) : maxOf(s)));
  return {
    label,
    median: median(values),
    min: values.length ? Math.min(...values) : NaN,
    max: values.length ? Math.max(...values) : NaN,
    n: runs.map((s) => s.length),
  };
}

/**
 * The one way a tail figure is printed in bench/: `p99 12.3 ms (n=450)`, or
 * `max 8.1 ms (n=14)` under {@link P99_MIN_SAMPLES} samples. Several runs:
 * `p99 12.3 ms (9.8–14.0 ms, n=450/512/480)`. `value` formats one number
 * (default: one decimal and ' ms').
 */
export function formatTail(t: Tail | RunsTail, value: (v: number) => string = (v) => (Number.isFinite(v) ? `${fmt(v, 1)} ms` : '—')): string {
  if ('value' in t) return `${t.label} ${value(t.value)} (n=${t.n})`;
  const spread = t.n.length > 1 && t.min !== t.max ? `${value(t.min)}–${value(t.max)}, ` : '';
  return `${t.label} ${value(t.median)} (${spread}n=${t.n.join('/')})`;
}

/**
 * Whether a tail goal "p99 ≤ limit" holds: from the p99 when every run had
 * enough samples; from the maximum when even that is within the limit (a
 * p99 is never above the max); else `null`, undetermined (too few samples
 * for a p99, and the max is above the limit).
 */
export function tailWithin(t: Tail | RunsTail, limit: number): boolean | null {
  const value = 'value' in t ? t.value : t.median;
  if (!Number.isFinite(value)) return false;
  if (t.label === 'p99' || value <= limit) return value <= limit;
  return null;
}
