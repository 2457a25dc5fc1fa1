import fc from 'fast-check';
import { TRPCError } from '@trpc/server';
import { describe, expect, it } from 'vitest';
import { intersectPatterns, intersectTopics } from 'trpc-live/trpc';

/** NATS semantics as a regular expression (the oracle; not the code under test). */
const compiled = new Map<string, RegExp>();
function referenceMatch(pattern: string, topic: string): boolean {
  let re = compiled.get(pattern);
  if (!re) {
    const source = pattern
      .split('.')
      .map((token) => (token === '*' ? '[^.]+' : token === '>' ? '.+' : token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
      .join('\\.');
    re = new RegExp(`^${source}$`);
    compiled.set(pattern, re);
  }
  return re.test(topic);
}

/** Every topic of 1-5 tokens over a, b and c (c never appears in a pattern: "any other token"). */
const UNIVERSE: string[] = (() => {
  const out: string[] = [];
  let level = [''];
  for (let n = 1; n <= 5; n++) {
    level = level.flatMap((prefix) => ['a', 'b', 'c'].map((t) => (prefix ? `${prefix}.${t}` : t)));
    out.push(...level);
  }
  return out;
})();

const pattern = fc
  .array(fc.constantFrom('a', 'b', '*'), { minLength: 0, maxLength: 3 })
  .chain((tokens) => fc.constantFrom(tokens, [...tokens, '>']))
  .filter((tokens) => tokens.length > 0)
  .map((tokens) => tokens.join('.'));

const matchedBy = (patterns: readonly string[]) => UNIVERSE.filter((t) => patterns.some((p) => referenceMatch(p, t)));

describe('topics a stream receives: what it asks for intersected with what its token allows', () => {
  it('gives a stream asking for everything exactly the topics its claim allows', () => {
    expect(intersectTopics(['>'], ['orders'])).toEqual(['orders']);
    expect(intersectTopics(['orders.*'], ['*.created'])).toEqual(['orders.created']);
    expect(intersectTopics(['orders.>'], ['orders.eu.*'])).toEqual(['orders.eu.*']);
    expect(intersectTopics(['a.>'], ['*.*.>'])).toEqual(['a.*.>']);
    expect(intersectTopics(undefined, ['orders'])).toEqual(['orders']);
    expect(intersectTopics(['products'], undefined)).toEqual(['products']);
  });

  it('refuses with FORBIDDEN only when no topic is both asked for and allowed', () => {
    expect(() => intersectTopics(['products'], ['orders'])).toThrowError(TRPCError);
    expect(() => intersectTopics(['orders'], ['orders.>'])).toThrowError(/None of the requested topics is allowed/);
    expect(() => intersectTopics(['orders.*'], ['orders'])).toThrowError(/None of the requested topics/);
    expect(intersectTopics(['products', 'orders.1'], ['orders.*'])).toEqual(['orders.1']);
  });

  it('matches exactly the topics both patterns match, for random patterns (checked against every topic of up to 5 tokens)', () => {
    fc.assert(
      fc.property(pattern, pattern, (a, b) => {
        const both = intersectPatterns(a, b);
        const expected = UNIVERSE.filter((t) => referenceMatch(a, t) && referenceMatch(b, t));
        if (both === null) expect(expected, `${a} ∩ ${b} is not empty`).toEqual([]);
        else expect(matchedBy([both]), `${a} ∩ ${b} = ${both}`).toEqual(expected);
      }),
      { numRuns: 3000 },
    );
  });

  it('gives a stream exactly the topics some asked and some allowed pattern match, or FORBIDDEN when none', () => {
    const list = fc.array(pattern, { minLength: 1, maxLength: 4 });
    fc.assert(
      fc.property(list, list, (asked, allowed) => {
        const expected = UNIVERSE.filter((t) => asked.some((p) => referenceMatch(p, t)) && allowed.some((p) => referenceMatch(p, t)));
        let result: readonly string[] | undefined;
        try {
          result = intersectTopics(asked, allowed);
        } catch (error) {
          expect((error as TRPCError).code).toBe('FORBIDDEN');
          expect(expected).toEqual([]);
          return;
        }
        expect(matchedBy(result!)).toEqual(expected);
        expect(new Set(result).size).toBe(result!.length);
      }),
      { numRuns: 2000 },
    );
  });
});
