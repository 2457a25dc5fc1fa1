import { beforeAll, describe, expect, it } from 'vitest';
import { ci, run } from '../../soak/scenarios/stuckClient';
import type { ConnectionInfo } from '../../soak/lib/server';
import type { ScenarioResult } from '../../soak/lib/scenario';
import type { VerifyResult } from '../../soak/lib/protocol';
import { expectEveryPublishReceived } from './recordVerdict';

// The short version of `npm run soak -- stuck-client` (RELIABILITY.md, scenario 2), against the production build.
// Its latency ratio is reported, not asserted: tests never fail on machine speed.
describe('stuck client: one client stops reading its socket beside normal clients (short)', () => {
  let result: ScenarioResult;
  let stuck: {
    collapsedAfterMs: number | null;
    maxHeld: ConnectionInfo;
    heldByHeap: number;
    verify: VerifyResult;
    othersVerify: VerifyResult;
    stuckCounts: { data: number; resets: number };
  };
  let baseline: { verify: VerifyResult };
  beforeAll(async () => {
    result = await run(ci);
    ({ stuck, baseline } = result.figures as { stuck: typeof stuck; baseline: typeof baseline });
  }, 180_000);

  it('makes the server collapse the stuck client’s outbox once the kernel buffers are full', () => {
    expect(stuck.collapsedAfterMs).not.toBeNull();
  });

  it('keeps what the server holds for the stuck client under 1 MiB', () => {
    const held = stuck.maxHeld.heldBytes + stuck.maxHeld.sinkPendingBytes + stuck.maxHeld.heldFrames * 400;
    expect(held).toBeLessThan(ci.maxStuckBytes);
    expect(stuck.heldByHeap).toBeLessThan(ci.maxStuckBytes);
  });

  it('gives the stuck client collapsed keys or a reset when it reads again, never a silent gap', () => {
    expectEveryPublishReceived(stuck.verify, 1);
  });

  it('delivers every signal to the normal clients in both runs', () => {
    const streams = ci.normal + ci.bulkReaders + 1;
    expectEveryPublishReceived(baseline.verify, streams);
    expectEveryPublishReceived(stuck.othersVerify, streams - 1);
  });
});
