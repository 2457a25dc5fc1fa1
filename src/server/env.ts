/**
 * A whole number of milliseconds from the environment, or `fallback` when
 * unset or empty. Refuses anything else at startup, naming the variable, so
 * a typo fails the deploy instead of running with a surprise.
 */
export function envMs(name: string, fallback: number, env: Readonly<Record<string, string | undefined>> = process.env): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`${name} must be a whole number of milliseconds, got "${raw}"`);
  return value;
}
