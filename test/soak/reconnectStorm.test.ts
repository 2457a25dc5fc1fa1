import { beforeAll, describe, expect, it } from 'vitest';
import { ci, run } from '../../soak/scenarios/reconnectStorm';
import type { ScenarioResult } from '../../soak/lib/scenario';
import type { VerifyResult } from '../../soak/lib/protocol';
import { expectEveryPublishReceived } from './recordVerdict';

// The short version of `npm run soak -- reconnect-storm` (RELIABILITY.md, scenario 3), against the production build.
describe('reconnect storm: every socket reset by the server at once while signals flow (short)', () => {
  let result: ScenarioResult;
  let figures: {
    reset: number;
    resumed: number;
    openErrors: number;
    resumeFirst: { p99: number; n: number };
    verify: VerifyResult;
    canary: { lost: number; unexpected: number; expected: number };
    eventsource: { resumed: number; of: number; openErrors: number; verify: VerifyResult; resumeFirst: { n: number } };
  };
  beforeAll(async () => {
    result = await run(ci);
    figures = result.figures as typeof figures;
  }, 180_000);

  it('resumes every client with its cursor (replay or reset) after the reset', () => {
    expect(figures.reset).toBe(ci.clients + ci.eventsourceClients);
    expect(figures.resumed).toBe(ci.clients);
    expect(figures.openErrors).toBe(0);
    expect(Number.isFinite(figures.resumeFirst.p99)).toBe(true);
  });

  it('lets no client miss a signal published before, during or after the storm', () => {
    expectEveryPublishReceived(figures.verify, ci.clients);
  });

  it('reports a loss when the record holds a publish the clients never got, and a stray frame when it lacks one', () => {
    // By hand: the clients of the first tenant (client i is in tenant i % tenants).
    const firstTenant = Array.from({ length: ci.clients }, (_, i) => i % ci.tenants).filter((t) => t === 0).length;
    expect(figures.canary).toEqual({ lost: firstTenant, unexpected: firstTenant, expected: firstTenant });
  });

  it('resumes the eventsource clients by themselves after their own retry delay, missing nothing', () => {
    expect(figures.eventsource.resumed).toBe(ci.eventsourceClients);
    expect(figures.eventsource.openErrors).toBe(0);
    expectEveryPublishReceived(figures.eventsource.verify, ci.eventsourceClients);
  });
});
