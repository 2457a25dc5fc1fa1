import { beforeAll, describe, expect, it } from 'vitest';
import { ci, run } from '../../soak/scenarios/cursorless';
import type { ScenarioResult } from '../../soak/lib/scenario';

// RELIABILITY.md, scenario 4b: found by the chaos scenario.
describe('a stream cut and resumed by its client (as httpSubscriptionLink does)', () => {
  let result: ScenarioResult;
  let figures: { cursorless: { gaps: number }; withCursor: { gaps: number } };
  beforeAll(async () => {
    result = await run(ci);
    figures = result.figures as typeof figures;
  }, 120_000);

  it('replays what was published while it was away when it had received a signal before the cut', () => {
    expect(figures.withCursor.gaps).toBe(0);
  });

  // KNOWN BUG, reported to the lead (see RELIABILITY.md 4b): the hello carries no cursor, so a stream cut before its
  // first signal reconnects without lastEventId and silently misses what was published meanwhile (no replay, no
  // reset). `it.fails` keeps CI honest about it; once fixed this test fails: turn it into a plain `it`.
  it.fails('misses nothing published while it was away when it was cut before its first signal (no cursor yet)', () => {
    expect(figures.cursorless.gaps).toBe(0);
  });
});
