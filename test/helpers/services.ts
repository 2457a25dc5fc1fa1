import { existsSync } from 'node:fs';
import { describe } from 'vitest';

/** True when running in CI (`CI=true`): a missing service is a failure, not a skip. */
export const inCI = process.env.CI === 'true' || process.env.CI === '1';

/** Path of a system binary if present (checked at the usual Debian places and PATH). */
export function findBinary(name: string, candidates: string[] = []): string | null {
  for (const candidate of [...candidates, `/usr/bin/${name}`, `/usr/local/bin/${name}`, `/usr/sbin/${name}`]) {
    if (existsSync(candidate)) return candidate;
  }
  for (const dir of (process.env.PATH ?? '').split(':')) {
    if (dir && existsSync(`${dir}/${name}`)) return `${dir}/${name}`;
  }
  return null;
}

/**
 * `describe` that needs a system service. When the binary is missing it
 * prints a loud SKIP line and skips locally; in CI the suite fails instead.
 */
export function describeWithService(service: string, binary: string | null, name: string, fn: () => void): void {
  if (binary) {
    describe(name, fn);
    return;
  }
  const line = `\n*** SKIP: "${name}" needs ${service}, which is not installed on this machine. ***\n`;
  if (inCI) {
    describe(name, () => {
      throw new Error(`${service} is required in CI but was not found. ${line}`);
    });
    return;
  }
  console.warn(line);
  describe.skip(name, fn);
}
