import { beforeAll, describe, expect, it } from 'vitest';
import { ci, run } from '../../soak/scenarios/capacity';
import type { ScenarioResult } from '../../soak/lib/scenario';
import type { VerifyResult } from '../../soak/lib/protocol';
import { expectEveryPublishReceived } from './recordVerdict';

// The short version of `npm run soak -- capacity` (RELIABILITY.md, scenario 7: 10,000 streams there), against the
// production build. Timing figures are not asserted (a loaded CI machine); counts, the oracle and the samples are.
describe('capacity: idle streams on one instance, fan-out against the batched bare server, then a storm (short)', () => {
  let result: ScenarioResult;
  let figures: {
    heap: { growth: number; open: { connections: number } };
    gauge: number;
    health: { n: number; failures: number };
    idleHealth: { n: number; failures: number; windowMs: number };
    rounds: Array<{ server: 'bare' | 'app'; lastMs: number; firstMs: number; done: number; of: number }>;
    storm: {
      reset: number;
      resumed: number;
      openErrors: number;
      allResumedMs: number;
      stormCpuMs: number;
      flowFanouts: number;
      serverCpuPerReconnectMs: number;
      serverCpuPerReconnectWithoutFlowMs: number;
    };
    verify: VerifyResult;
    canaryLost: number;
  };
  beforeAll(async () => {
    result = await run(ci);
    figures = result.figures as typeof figures;
  }, 180_000);

  it('holds every stream open on the one instance and grows its heap by something under the bound when they open', () => {
    expect(figures.heap.open.connections).toBe(ci.streams);
    expect(figures.gauge).toBe(ci.streams);
    expect(figures.heap.growth).toBeGreaterThan(0);
    expect(figures.heap.growth).toBeLessThanOrEqual(ci.maxHeapGrowthBytes);
  });

  it('takes at least the p99 sample count of /api/health while the streams are open, all answered', () => {
    expect(figures.health.n).toBeGreaterThanOrEqual(ci.minHealthSamples);
    expect(figures.health.failures).toBe(0);
  });

  it('probes /api/health for longer than a ping interval with no fan-out (every idle stream pinged), all answered', () => {
    expect(figures.idleHealth.windowMs).toBeGreaterThan(15_000);
    expect(figures.idleHealth.n).toBeGreaterThan(100);
    expect(figures.idleHealth.failures).toBe(0);
  });

  it('times every round on both servers until every stream has the event, each stream counted once', () => {
    expect(figures.rounds.filter((r) => r.server === 'bare')).toHaveLength(ci.rounds);
    expect(figures.rounds.filter((r) => r.server === 'app')).toHaveLength(ci.rounds);
    for (const r of figures.rounds) {
      expect(r).toMatchObject({ of: ci.streams, done: ci.streams });
      expect(r.firstMs).toBeGreaterThanOrEqual(0);
      expect(r.lastMs).toBeGreaterThanOrEqual(r.firstMs);
    }
  });

  it('resumes every stream after the storm and lets none miss a round or a signal published around it', () => {
    expect(figures.storm).toMatchObject({ reset: ci.streams, resumed: ci.streams, openErrors: 0 });
    expectEveryPublishReceived(figures.verify, ci.streams);
  });

  it('counts the flow fan-outs inside the storm CPU window and takes them out of the per-reconnect figure', () => {
    const storm = figures.storm;
    // The flow runs at ci.flowRate per second through the whole window (from the reset until every stream resumed).
    expect(storm.flowFanouts).toBeGreaterThanOrEqual(Math.floor((storm.allResumedMs / 1000) * ci.flowRate) - 1);
    expect(storm.serverCpuPerReconnectMs).toBeCloseTo(storm.stormCpuMs / storm.reset, 6);
    expect(storm.serverCpuPerReconnectWithoutFlowMs).toBeLessThanOrEqual(storm.serverCpuPerReconnectMs);
  });

  it('reports a loss on every stream when the record holds a publish none of them got', () => {
    expect(figures.canaryLost).toBe(ci.streams);
  });
});
