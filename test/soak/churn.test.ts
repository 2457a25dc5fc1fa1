import { beforeAll, describe, expect, it } from 'vitest';
import { ci, run } from '../../soak/scenarios/churn';
import type { ScenarioResult } from '../../soak/lib/scenario';

// The short version of `npm run soak -- churn` (RELIABILITY.md, scenario 1), against the production build.
describe('churn: waves of streams destroyed by TCP reset while signals flow (short)', () => {
  let result: ScenarioResult;
  let figures: {
    opened: number;
    failed: number;
    framesReceived: number;
    gauge: number;
    healthConnections: number;
    heap: { baseline: number; end: number; growth: number };
  };
  beforeAll(async () => {
    result = await run(ci);
    figures = result.figures as typeof figures;
  }, 180_000);

  it('opens every stream of every wave, and the waves receive signals', () => {
    expect(figures.failed).toBe(0);
    expect(figures.opened).toBe(ci.waves * ci.perWave);
    expect(figures.framesReceived).toBeGreaterThan(0);
  });

  it('reads 0 on the live-connection gauge and in /api/health after the last wave is destroyed', () => {
    expect(figures.gauge).toBe(0);
    expect(figures.healthConnections).toBe(0);
  });

  it('returns the heap after GC to within 10 % of the baseline', () => {
    expect(figures.heap.growth, `heap ${figures.heap.baseline} → ${figures.heap.end}`).toBeLessThanOrEqual(ci.maxHeapGrowth);
  });
});
