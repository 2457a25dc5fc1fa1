import { describe, expect, it } from 'vitest';
import { SeenSerials } from '../../../packages/trpc-live/src/redis/seenSerials.ts';

describe('SeenSerials', () => {
  it('answers new for the first copy of each serial and seen for every later copy, whatever the order', () => {
    const seen = new SeenSerials(64);
    // Oracle: a plain Set of everything checked so far (the window is wider than the spread used).
    const reference = new Set<number>();
    let state = 7;
    const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let newCount = 0;
    for (let i = 0; i < 5000; i++) {
      // Serials move forward with copies and stragglers up to 40 behind the newest.
      const serial = Math.max(1, Math.floor(i / 3) - Math.floor(random() * 40));
      const expected = reference.has(serial) ? 'seen' : 'new';
      reference.add(serial);
      if (expected === 'new') newCount++;
      expect(seen.check('o1', serial), `serial ${serial} at step ${i}`).toBe(expected);
    }
    expect(newCount).toBeGreaterThan(1000);
  });

  it('keeps origins apart', () => {
    const seen = new SeenSerials(64);
    expect(seen.check('a', 5)).toBe('new');
    expect(seen.check('b', 5)).toBe('new');
    expect(seen.check('a', 5)).toBe('seen');
  });

  it('answers unknown for a serial below the window, which it can no longer tell apart', () => {
    const seen = new SeenSerials(64);
    expect(seen.check('a', 1)).toBe('new');
    expect(seen.check('a', 100)).toBe('new');
    expect(seen.check('a', 1)).toBe('unknown');
    expect(seen.check('a', 36)).toBe('unknown');
    expect(seen.check('a', 37)).toBe('new');
    expect(seen.check('a', 37)).toBe('seen');
  });

  it('forgets serials the window slid past even after a jump larger than the window', () => {
    const seen = new SeenSerials(64);
    expect(seen.check('a', 10)).toBe('new');
    expect(seen.check('a', 20 + 64 * 5)).toBe('new');
    // 10 + 64 * 5 is in the new window and shares its slot with 10: it must not read as seen.
    expect(seen.check('a', 10 + 64 * 5)).toBe('new');
    expect(seen.check('a', 20 + 64 * 5 - 63)).toBe('new');
  });

  it('forgets the least recently seen origin past its origin bound', () => {
    const seen = new SeenSerials(32, 2);
    seen.check('a', 1);
    seen.check('b', 1);
    seen.check('a', 2);
    seen.check('c', 1);
    // b was the least recently seen: forgotten, so its serial 1 reads as new again; a is kept.
    expect(seen.check('a', 1)).toBe('seen');
    expect(seen.check('b', 1)).toBe('new');
  });
});
