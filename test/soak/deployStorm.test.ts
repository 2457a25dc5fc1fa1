import { beforeAll, describe, expect, it } from 'vitest';
import { ci, ciRedis, run } from '../../soak/scenarios/deployStorm';
import type { ScenarioResult } from '../../soak/lib/scenario';
import type { VerifyResult } from '../../soak/lib/protocol';
import { expectEveryPublishReceived } from './recordVerdict';
import { redisServerBinary } from '../helpers/redis';
import { describeWithService } from '../helpers/services';

interface Figures {
  exitCode: number;
  resumed: number;
  gauge: number;
  resumedBy: { reset: number; data: number };
  resetReasons: Record<string, number>;
  epochs: { old: string; new: string };
  verify: VerifyResult;
}

// The short versions of `npm run soak -- deploy-storm deploy-storm-redis` (RELIABILITY.md, 3b and 3c), against the
// production build: SIGTERM (drain), a new process on the same port, every client back with its cursor.
describe('reconnect storm after a deploy, in-memory hub (short)', () => {
  let figures: Figures;
  beforeAll(async () => {
    const result: ScenarioResult = await run(ci);
    figures = result.figures as unknown as Figures;
  }, 180_000);

  it('drains and exits the old process cleanly, and every client resumes on the new one', () => {
    expect(figures.exitCode).toBe(0);
    expect(figures.resumed).toBe(ci.clients);
    expect(figures.gauge).toBe(ci.clients);
  });

  it('resets every client, whose cursor belongs to the old process’s history', () => {
    expect(figures.epochs.new).not.toBe(figures.epochs.old);
    expect(figures.resumedBy.reset).toBe(ci.clients);
    expect(figures.resetReasons.epoch).toBe(ci.clients);
  });

  it('lets no client miss a signal of either process', () => {
    expectEveryPublishReceived(figures.verify, ci.clients);
  });
});

describeWithService('redis-server', redisServerBinary, 'reconnect storm after a deploy, shared Redis (short)', () => {
  let figures: Figures & { resets?: number };
  beforeAll(async () => {
    const result: ScenarioResult = await run(ciRedis);
    figures = result.figures as unknown as Figures;
  }, 180_000);

  it('resumes every client on the new process by replay, without a reset, as the history survived', () => {
    expect(figures.exitCode).toBe(0);
    expect(figures.epochs.new).toBe(figures.epochs.old);
    expect(figures.resumed).toBe(ciRedis.clients);
    expect(figures.resumedBy).toEqual({ reset: 0, data: ciRedis.clients });
    expect(figures.resetReasons).toEqual({});
  });

  it('lets no client miss a signal of either process', () => {
    expectEveryPublishReceived(figures.verify, ciRedis.clients);
  });
});
