import { beforeAll, describe, expect, it } from 'vitest';
import { ci, run } from '../../soak/scenarios/isolation';
import type { ScenarioResult } from '../../soak/lib/scenario';
import type { VerifyResult } from '../../soak/lib/protocol';

// The short version of `npm run soak -- isolation` (RELIABILITY.md, scenario 5), against the production build.
describe('isolation fuzz: random publishes across tenants, groups and topics against random streams (short)', () => {
  let result: ScenarioResult;
  let figures: {
    received: number;
    expectedTotal: number;
    verify: VerifyResult;
    resets: number;
    violations: number;
    violationSamples: string[];
    canaryViolations: number;
    refused: number;
    serializedErrors: Record<string, number>;
  };
  beforeAll(async () => {
    result = await run(ci);
    figures = result.figures as typeof figures;
  }, 180_000);

  it('delivers nothing outside a stream’s tenant ∩ groups ∩ topics', () => {
    expect(figures.received).toBeGreaterThan(0);
    expect(figures.violations, figures.violationSamples.join('\n')).toBe(0);
  });

  it('reports leaks when there are some: a canary checked against a narrower view than it asked for', () => {
    expect(figures.canaryViolations).toBeGreaterThan(0);
  });

  it('delivers each stream exactly the recorded publishes the reference matcher selects for it', () => {
    expect(figures.resets).toBe(0);
    const { lost, unexpected, duplicates } = figures.verify;
    expect({ lost, unexpected, duplicates }).toEqual({ lost: 0, unexpected: 0, duplicates: 0 });
    // The record agrees with the runner's own count of what it sent.
    expect(figures.verify.expected).toBe(figures.expectedTotal);
    expect(figures.expectedTotal).toBeGreaterThan(0);
  });

  it('refuses only streams whose token allows none of the topics they ask for, with FORBIDDEN', () => {
    expect(figures.refused).toBe(figures.serializedErrors.FORBIDDEN ?? 0);
  });
});
