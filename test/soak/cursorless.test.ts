import { beforeAll, describe, expect, it } from 'vitest';
import { ci, run } from '../../soak/scenarios/cursorless';
import type { ScenarioResult } from '../../soak/lib/scenario';
import type { VerifyResult } from '../../soak/lib/protocol';
import { expectEveryPublishReceived } from './recordVerdict';

// RELIABILITY.md, scenario 4b: found by the chaos scenario.
describe('a stream cut and resumed by its client (as httpSubscriptionLink does)', () => {
  let result: ScenarioResult;
  let figures: { cursorless: { verify: VerifyResult }; withCursor: { verify: VerifyResult } };
  beforeAll(async () => {
    result = await run(ci);
    figures = result.figures as typeof figures;
  }, 120_000);

  it('replays what was published while it was away when it had received a signal before the cut', () => {
    expectEveryPublishReceived(figures.withCursor.verify, ci.streams);
    // By hand: the priming signal, the one published while away, the marker.
    expect(figures.withCursor.verify.expected).toBe(3 * ci.streams);
  });

  // Regression (RELIABILITY.md, scenario 4b, found by the chaos scenario): the hello carried no cursor, so a stream
  // cut before its first signal reconnected without lastEventId and silently missed what was published meanwhile.
  // A fresh stream's hello now carries the head as its starting cursor.
  it('misses nothing published while it was away when it was cut before its first signal', () => {
    expectEveryPublishReceived(figures.cursorless.verify, ci.streams);
    // By hand: the one published while away, the marker.
    expect(figures.cursorless.verify.expected).toBe(2 * ci.streams);
  });
});
