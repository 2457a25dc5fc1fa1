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
