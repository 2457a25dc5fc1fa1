import { beforeAll, describe, expect, it } from 'vitest';
import { ci, run } from '../../soak/scenarios/chaos';
import type { ScenarioResult } from '../../soak/lib/scenario';
import type { VerifyResult } from '../../soak/lib/protocol';
import { expectEveryPublishReceived } from './recordVerdict';

// The short version of `npm run soak -- chaos` (RELIABILITY.md, scenario 4), against the production build.
describe('convergence under chaos: real mutations across 3 tenants while clients are cut, stall and pause (short)', () => {
  let result: ScenarioResult;
  let figures: {
    outcome: { ok: number; clientError: number; serverError: number };
    signals: number;
    perTenant: Record<string, number>;
    chaos: { disconnects: number; stalls: number; pauses: number };
    settled: { connected: number; of: number };
    verify: VerifyResult;
  };
  beforeAll(async () => {
    result = await run(ci);
    figures = result.figures as typeof figures;
  }, 180_000);

  it('runs every mutation through the app without a server error, publishing in all three tenants', () => {
    expect(figures.outcome.ok + figures.outcome.clientError).toBe(ci.mutations);
    expect(figures.outcome.serverError).toBe(0);
    expect(Object.keys(figures.perTenant)).toHaveLength(3);
    expect(Object.values(figures.perTenant).every((n) => n > 0)).toBe(true);
  });

  it('cuts, stalls and pauses clients while the mutations run, and gets them all back', () => {
    expect(figures.chaos.disconnects).toBeGreaterThan(0);
    expect(figures.chaos.stalls).toBeGreaterThan(0);
    expect(figures.chaos.pauses).toBeGreaterThan(0);
    expect(figures.settled.connected).toBe(figures.settled.of);
  });

  it('leaves every client with every publish the harness recorded for it, a reset after it, or a later publish of its key', () => {
    expectEveryPublishReceived(figures.verify, 3 * ci.clientsPerTenant);
    expect(figures.verify.expected).toBeGreaterThan(figures.signals);
  });
});
