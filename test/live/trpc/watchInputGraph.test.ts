import superjson from 'superjson';
import { describe, expect, it } from 'vitest';
import { watchKey } from 'trpc-live/shared';
import { liveWatchInput } from 'trpc-live/trpc';

// A watch input that is a shared graph, not a tree: superjson's referential equalities let 2 KB on the wire stand for
// an object referenced twice at every level. Found by a black-box probe of `npm start` (2026-12-08): at depth 20 the
// key's canonical JSON walked 2^20 values, holding the event loop 1.3 s before the length check answered 400 (5.7 s
// at depth 22). The oracle here counts the values the parse reads (a Proxy per level), not time.

const MAX_KEY = 2048;

/** `{ x: next, y: next }` at every level (one object twice), each level counting how often its keys are listed. */
function sharedGraph(depth: number): { input: unknown; visits: () => number } {
  let visits = 0;
  let node: unknown = 1;
  for (let i = 0; i < depth; i++) {
    const level = { x: node, y: node };
    node = new Proxy(level, {
      ownKeys(target) {
        visits++;
        return Reflect.ownKeys(target);
      },
    });
  }
  return { input: node, visits: () => visits };
}

const spec = (input: unknown) => ({ connectionId: 'c1', add: [{ path: 'orders.list', input }] });

describe('live.watch input: a shared graph is refused after a bounded walk', () => {
  it('reads at most as many values as the key may have characters, and refuses naming the bound', () => {
    const graph = sharedGraph(24);
    const parsed = liveWatchInput.safeParse(spec(graph.input));
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues.map((issue) => issue.message)).toEqual([`A watch (path and input) is at most ${MAX_KEY} characters`]);
    // As a tree this input has 2^24 objects; each value written costs at least one character of the key.
    expect(graph.visits()).toBeLessThanOrEqual(MAX_KEY);
  });

  it('refuses the same graph sent as superjson with referential equalities (as over HTTP)', () => {
    const depth = 22;
    let tree: unknown = 1;
    for (let i = 0; i < depth; i++) tree = { x: tree, y: null };
    const referentialEqualities: Record<string, string[]> = {};
    for (let k = 0; k < depth; k++) {
      const at = ['add', '0', 'input', ...Array<string>(k).fill('x')].join('.');
      referentialEqualities[`${at}.x`] = [`${at}.y`];
    }
    const wire = { json: { connectionId: 'c1', add: [{ path: 'orders.list', input: tree }] }, meta: { referentialEqualities } };
    expect(JSON.stringify(wire).length).toBeLessThan(3000);
    const input = superjson.deserialize(wire as never);
    const parsed = liveWatchInput.safeParse(input);
    expect(parsed.error?.issues.map((issue) => issue.message)).toEqual([`A watch (path and input) is at most ${MAX_KEY} characters`]);
  });

  it('still accepts an input whose key is exactly at the bound, and names a longer one', () => {
    const path = 'orders.list';
    const fill = (n: number) => ({ search: 'a'.repeat(n) });
    // path + ':' + {"search":"…"} is the key: find the longest string that fits.
    const overhead = watchKey(path, fill(0)).length;
    const fits = fill(MAX_KEY - overhead);
    expect(watchKey(path, fits)).toHaveLength(MAX_KEY);
    expect(liveWatchInput.safeParse({ connectionId: 'c1', add: [{ path, input: fits }] }).success).toBe(true);
    const over = liveWatchInput.safeParse({ connectionId: 'c1', add: [{ path, input: fill(MAX_KEY - overhead + 1) }] });
    expect(over.error?.issues.map((issue) => issue.message)).toEqual([`A watch (path and input) is at most ${MAX_KEY} characters`]);
  });

  it('gives the same key with or without a bound when it fits', () => {
    const input = { b: [1, 'two', null, { d: true, c: 3.5 }], a: 'x', skipped: undefined };
    expect(watchKey('p', input, MAX_KEY)).toBe(watchKey('p', input));
    expect(watchKey('p', input)).toBe('p:{"a":"x","b":[1,"two",null,{"c":3.5,"d":true}]}');
  });
});
