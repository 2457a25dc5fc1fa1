import { beforeAll, describe, expect, it } from 'vitest';
import { ci, run } from '../../soak/scenarios/hostileInput';
import type { ScenarioResult } from '../../soak/lib/scenario';

// The short version of `npm run soak -- hostile-input` (RELIABILITY.md, scenario 6), against the production build.
describe('hostile input: fuzzed inputs to every procedure and to the stream’s parameters (short)', () => {
  let result: ScenarioResult;
  let figures: {
    requests: number;
    outcomes: Record<string, number>;
    failures: unknown[];
    crashLines: string[];
    health: { status: number };
  };
  beforeAll(async () => {
    result = await run(ci);
    figures = result.figures as typeof figures;
  }, 180_000);

  it('answers no request with a 5xx and drops none', () => {
    expect(figures.outcomes['server-error'] ?? 0, JSON.stringify(figures.failures, null, 1)).toBe(0);
    expect(figures.outcomes['no-response'] ?? 0, JSON.stringify(figures.failures, null, 1)).toBe(0);
  });

  it('answers every refused input with a typed client error (tRPC error shape, 4xx code)', () => {
    expect(figures.outcomes['untyped-4xx'] ?? 0, JSON.stringify(figures.failures, null, 1)).toBe(0);
    expect((figures.outcomes['typed-client-error'] ?? 0) + (figures.outcomes['stream-typed-error'] ?? 0)).toBeGreaterThan(figures.requests / 2);
  });

  it('refuses every cookie POST from another site or with a non-JSON body with 403/415', () => {
    const check = result.checks.find((c) => c.name.startsWith('cookie POSTs from another site'))!;
    expect(check.pass, check.value).toBe(true);
  });

  it('stays up and healthy, with no internal error in its log', () => {
    expect(figures.health.status).toBe(200);
    expect(figures.crashLines).toEqual([]);
  });
});
