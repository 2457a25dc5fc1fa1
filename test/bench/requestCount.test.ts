import { describe, expect, it } from 'vitest';
import { requestCountCheck } from '../../bench/article/requestCount';
import type { PhaseFigures, VariantRun } from '../../bench/article/runVariant';
import type { Variant } from '../../bench/article/variants';

/** A run with one phase per [name, users' count, server's count] (per user per simulated minute), 2 simulated minutes each. */
const run = (variant: Variant, phases: Array<[string, number, number]>): VariantRun =>
  ({
    variant,
    run: 1,
    loadAtStart: 0,
    trpcHttp: 'direct',
    phases: phases.map(([name, users, server]) => ({ name, simMinutes: 2, requestsPerUserMinute: users, serverRequestsPerUserMinute: server }) as unknown as PhaseFigures),
  }) as VariantRun;

describe('requestCountCheck', () => {
  it('says the counts are equal when the server saw exactly what the users sent', () => {
    expect(requestCountCheck([run('live', [['idle', 0, 0], ['light', 0.5, 0.5]])], 100)).toBe('the two counts are equal in every phase of every run');
  });

  it('names the phase with the largest difference in requests, signed from the server’s side', () => {
    // light: 0.01 per user per minute × 100 users × 2 min = 2 requests more at the server; heavy: 0.1 × 200 = 20 fewer.
    const text = requestCountCheck([run('polling', [['light', 12, 12.01]]), run('live', [['heavy', 17.2, 17.1]])], 100);
    expect(text).toBe('largest difference −20 request(s) at the server (−0.100 per user per minute, 0.6%; live run 1, heavy)');
  });

  it('checks the TanStack polling and pushed variants too, naming the variant', () => {
    const text = requestCountCheck([run('polling-visible', [['busy', 2.3, 2.3]]), run('pushed', [['heavier', 0.02, 0.035]])], 100);
    expect(text).toBe('largest difference +3 request(s) at the server (+0.015 per user per minute, 75.0%; pushed run 1, heavier)');
  });

  it('shows a server count where the users counted none', () => {
    expect(requestCountCheck([run('live', [['idle', 0, 0.005]])], 100)).toContain('+1 request(s) at the server (+0.005 per user per minute, against none;');
  });
});
