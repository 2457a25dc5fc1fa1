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

/** The oracle's row for `clients` streams: every stream checked, no (client, key) pair missed its last signal. */
export function noGapsCheck(
  name: string,
  verify: { readonly gaps: number; readonly streams: number; readonly keysChecked: number; readonly samples: readonly unknown[] },
  clients: number,
): Check {
  return {
    name,
    pass: verify.gaps === 0 && verify.streams === clients,
    value: verify.gaps === 0 ? `0 gaps over ${int(verify.keysChecked)} (client, key) pairs` : `${verify.gaps} gaps, e.g. ${JSON.stringify(verify.samples[0])}`,
    target: '0 gaps',
  };
}

/** A timing row that is reported, not judged (`strict: false`): it only has to have been measured. */
export function reportedTimeCheck(name: string, valueMs: number): Check {
  return { name, pass: Number.isFinite(valueMs), value: ms(valueMs), target: 'reported', strict: false };
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
