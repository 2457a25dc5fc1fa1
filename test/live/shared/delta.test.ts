import { describe, expect, it } from 'vitest';
import { applyDelta, DeltaMismatch, diffValues } from 'trpc-live/shared';

// diffValues/applyDelta: the oracle is the `after` value itself (apply(before, diff(before, after)) equals it).

const row = (id: number, extra: Record<string, unknown> = {}) => ({ id, name: `row ${id}`, at: new Date(Date.UTC(2026, 0, id)), ...extra });
const roundTrip = (before: unknown, after: unknown) => applyDelta(structuredClone(before), structuredClone(diffValues(before, after)));

describe('diffValues and applyDelta', () => {
  it('rebuilds the new value from the old one and the patch, for objects, arrays, Dates and removed members', () => {
    const cases: Array<[unknown, unknown]> = [
      [{ a: 1, b: { c: [1, 2, 3] } }, { a: 2, b: { c: [1, 3] }, d: null }],
      [{ a: 1, gone: true }, { a: 1 }],
      [[row(1), row(2)], [row(3), row(1), row(2, { name: 'renamed' })]],
      [[row(1), row(2), row(3)], [row(3), row(1)]],
      [[1, 2, 3], [1, 5, 3, 4]],
      [{ at: new Date(0) }, { at: new Date(1) }],
      ['a', { now: 'an object' }],
      [[{ id: 1 }, { id: 1 }], [{ id: 1, x: 1 }]],
    ];
    for (const [before, after] of cases) expect(roundTrip(before, after), JSON.stringify([before, after])).toEqual(after);
  });

  it('returns null for values that are equal (Dates by time) and rebuilds the base itself from null', () => {
    expect(diffValues({ a: [row(1)] }, { a: [row(1)] })).toBeNull();
    const base = { a: 1 };
    expect(applyDelta(base, null)).toBe(base);
  });

  it('matches arrays of objects with ids by id: an item added on top costs one new item and one copied run', () => {
    const before = Array.from({ length: 50 }, (_, i) => row(i + 1));
    const after = [row(99), ...before];
    expect(diffValues(before, after)).toEqual({ a: [{ v: row(99) }, [0, 50]] });
    const rebuilt = applyDelta(before, diffValues(before, after)) as unknown[];
    expect(rebuilt[0]).toEqual(row(99));
    expect(rebuilt[0]).toBeInstanceOf(Object);
    expect((rebuilt[0] as { at: unknown }).at).toBeInstanceOf(Date);
  });

  it('keeps the identity of unchanged members and items, and leaves the base as it was', () => {
    const before = { list: [row(1), row(2)], totals: { a: 1 }, other: { b: 2 } };
    const after = { list: [row(1), row(2, { name: 'x' })], totals: { a: 2 }, other: { b: 2 } };
    const copy = structuredClone(before);
    const rebuilt = applyDelta(before, diffValues(before, after)) as typeof before;
    expect(rebuilt).toEqual(after);
    expect(rebuilt.other).toBe(before.other);
    expect(rebuilt.list[0]).toBe(before.list[0]);
    expect(rebuilt.list[1]).not.toBe(before.list[1]);
    expect(before).toEqual(copy);
  });

  it('throws DeltaMismatch for a patch that does not fit the base, and never sets a prototype', () => {
    const patch = diffValues([row(1), row(2)], [row(2, { name: 'y' })]);
    expect(() => applyDelta([row(1)], patch)).toThrow(DeltaMismatch);
    expect(() => applyDelta('text', { o: {} })).toThrow(DeltaMismatch);
    const hostile = applyDelta({}, { o: { ['__proto__']: { v: { polluted: true } } } }) as Record<string, unknown>;
    expect(Object.getPrototypeOf(hostile)).toBe(Object.prototype);
    expect((hostile as { polluted?: unknown }).polluted).toBeUndefined();
  });
});
