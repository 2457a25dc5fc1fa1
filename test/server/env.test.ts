import { describe, expect, it } from 'vitest';
import { envMs } from '../../src/server/env';

describe('envMs (durations read from the environment at startup)', () => {
  it('falls back when unset or empty, and refuses a value that is not whole milliseconds, naming the variable and the least value', () => {
    expect(envMs('X_MS', 7, { env: {} })).toBe(7);
    expect(envMs('X_MS', 7, { env: { X_MS: '' } })).toBe(7);
    expect(envMs('X_MS', 7, { env: { X_MS: '0' } })).toBe(0);
    expect(() => envMs('X_MS', 7, { min: 1, env: { X_MS: '0' } })).toThrow('X_MS must be a whole number of milliseconds of at least 1, got "0"');
    expect(() => envMs('X_MS', 7, { env: { X_MS: '-1' } })).toThrow('X_MS must be a whole number of milliseconds, got "-1"');
    expect(() => envMs('X_MS', 7, { env: { X_MS: '1.5' } })).toThrow('got "1.5"');
  });
});
