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
  return envWholeNumber(name, fallback, 'a whole number of milliseconds', options);
}

/**
 * A whole number (a count, a size) from the environment, or `fallback` when
 * unset or empty; refuses anything else at startup like {@link envMs}.
 */
export function envCount(name: string, fallback: number, options: EnvMsOptions = {}): number {
  return envWholeNumber(name, fallback, 'a whole number', options);
}

/** The one parser behind {@link envMs} and {@link envCount}; `what` names the expected value in the error. */
function envWholeNumber(name: string, fallback: number, what: string, options: EnvMsOptions): number {
  const { min = 0, env = process.env } = options;
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be ${what}${min > 0 ? ` of at least ${min}` : ''}, got "${raw}"`);
  }
  return value;
}
