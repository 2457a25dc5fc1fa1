/** Options of {@link envMs}. */
export interface EnvMsOptions {
  /** Smallest value accepted. @default 0 */
  min?: number;
  /** Where to read. @default process.env */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * A whole number of milliseconds from the environment, or `fallback` when
 * unset or empty. Refuses anything else at startup, naming the variable, so
 * a typo fails the deploy instead of running with a surprise.
 */
export function envMs(name: string, fallback: number, options: EnvMsOptions = {}): number {
  const { min = 0, env = process.env } = options;
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be a whole number of milliseconds${min > 0 ? ` of at least ${min}` : ''}, got "${raw}"`);
  }
  return value;
}

/**
 * A whole number (a count, a size) from the environment, or `fallback` when
 * unset or empty; refuses anything else at startup like {@link envMs}.
 */
export function envCount(name: string, fallback: number, options: EnvMsOptions = {}): number {
  const { min = 0, env = process.env } = options;
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be a whole number${min > 0 ? ` of at least ${min}` : ''}, got "${raw}"`);
  }
  return value;
}
