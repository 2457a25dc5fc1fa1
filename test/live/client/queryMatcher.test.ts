import { describe, expect, it } from 'vitest';
import { createQueryMatcher, parseQueryKey } from 'trpc-live/client';
import { defineResources } from '../../../packages/trpc-live/src/shared/registry';

const registry = defineResources({
  orders: { queries: [{ path: 'orders.list' }, { path: 'orders.byId', by: 'id' }], dependents: ['dashboard.stats'] },
  products: { queries: [{ path: 'products.list' }, { path: 'products.byId', by: 'id' }], dependents: ['dashboard.stats'] },
  invoices: { id: 'number', queries: [{ path: 'invoices.byNumber', by: 'number' }] },
});

type QueryType = 'any' | 'infinite' | 'query';

/** `@trpc/tanstack-react-query`'s key builder (11.22.1, internals/utils.ts getQueryKeyInternal), rebuilt. */
function tanstackKey(path: string[], input: unknown, type: QueryType, prefix?: string): unknown[] {
  const splitPath = path.flatMap((part) => part.split('.'));
  let key: unknown[];
  if (input === undefined && type === 'any') key = splitPath.length ? [splitPath] : [];
  else if (type === 'infinite' && input && typeof input === 'object' && ('cursor' in input || 'direction' in input)) {
    const { cursor: _cursor, direction: _direction, ...rest } = input as Record<string, unknown>;
    key = [splitPath, { input: rest, type: 'infinite' }];
  } else key = [splitPath, { ...(input !== undefined ? { input } : {}), ...(type !== 'any' ? { type } : {}) }];
  if (prefix) key.unshift([prefix]);
  return key;
}

/** Classic `@trpc/react-query`'s key builder (v11, internals/getQueryKey.ts getQueryKeyInternal), rebuilt. */
function classicKey(path: readonly string[], input: unknown, type: QueryType): unknown[] {
  const splitPath = path.flatMap((part) => part.split('.'));
  if (!input && (!type || type === 'any')) return splitPath.length ? [splitPath] : [];
  if (type === 'infinite' && input && typeof input === 'object' && ('cursor' in input || 'direction' in input)) {
    const { cursor: _cursor, direction: _direction, ...rest } = input as Record<string, unknown>;
    return [splitPath, { input: rest, type: 'infinite' }];
  }
  return [splitPath, { ...(input !== undefined ? { input } : {}), ...(type && type !== 'any' ? { type } : {}) }];
}

const matcher = createQueryMatcher(registry);
const ord1 = [{ resource: 'orders', id: 'ord_1' }];

describe('parseQueryKey', () => {
  it('reads path and input from @trpc/tanstack-react-query keys, with and without a key prefix', () => {
    expect(parseQueryKey(tanstackKey(['orders', 'byId'], { id: 'ord_1' }, 'query'))).toEqual({ path: 'orders.byId', input: { id: 'ord_1' } });
    expect(parseQueryKey(tanstackKey(['orders', 'byId'], { id: 'ord_1' }, 'query', 'tenant-a'))).toEqual({
      path: 'orders.byId',
      input: { id: 'ord_1' },
      prefix: 'tenant-a',
    });
    expect(parseQueryKey(tanstackKey(['health'], undefined, 'any', 'tenant-a'))).toEqual({ path: 'health', input: undefined, prefix: 'tenant-a' });
    expect(parseQueryKey(tanstackKey(['health'], undefined, 'any'))).toEqual({ path: 'health', input: undefined });
    expect(parseQueryKey(tanstackKey(['products', 'list'], undefined, 'query'))).toEqual({ path: 'products.list', input: undefined });
  });

  it('reads path and input from classic @trpc/react-query keys, including dotted paths and infinite queries', () => {
    expect(parseQueryKey(classicKey(['orders.byId'], { id: 'ord_1' }, 'query'))).toEqual({ path: 'orders.byId', input: { id: 'ord_1' } });
    expect(parseQueryKey(classicKey(['orders', 'list'], { status: 'paid', cursor: 3 }, 'infinite'))).toEqual({
      path: 'orders.list',
      input: { status: 'paid' },
    });
  });

  it('returns null for keys that are not tRPC keys', () => {
    expect(parseQueryKey(['todos', 1])).toBeNull();
    expect(parseQueryKey([])).toBeNull();
    expect(parseQueryKey([[1, 2]])).toBeNull();
  });
});

describe('createQueryMatcher', () => {
  for (const [shape, key, keyPrefix] of [
    ['@trpc/tanstack-react-query', (path: string[], input: unknown) => tanstackKey(path, input, 'query')],
    ['@trpc/tanstack-react-query with keyPrefix', (path: string[], input: unknown) => tanstackKey(path, input, 'query', 'p'), 'p'],
    ['classic @trpc/react-query', (path: string[], input: unknown) => classicKey(path, input, 'query')],
    ['classic @trpc/react-query infinite', (path: string[], input: unknown) => classicKey(path, input, 'infinite')],
  ] as const) {
    it(`invalidates exactly orders.byId(ord_1), every orders.list and the dependents for orders/ord_1 (${shape} keys)`, () => {
      const own = keyPrefix === undefined ? matcher : createQueryMatcher(registry, { keyPrefix });
      const stale = (path: string[], input: unknown) => own.matches(key(path, input), ord1);
      expect(stale(['orders', 'byId'], { id: 'ord_1' })).toBe(true);
      expect(stale(['orders', 'byId'], { id: 'ord_2' })).toBe(false);
      expect(stale(['orders', 'list'], undefined)).toBe(true);
      expect(stale(['orders', 'list'], { status: 'paid', limit: 10 })).toBe(true);
      expect(stale(['dashboard', 'stats'], undefined)).toBe(true);
      expect(stale(['products', 'list'], undefined)).toBe(false);
      expect(stale(['products', 'byId'], { id: 'ord_1' })).toBe(false);
      expect(stale(['auth', 'me'], undefined)).toBe(false);
    });
  }

  it('matches only keys under its own keyPrefix: none matches only unprefixed keys', () => {
    const byId = (prefix?: string) => tanstackKey(['orders', 'byId'], { id: 'ord_1' }, 'query', prefix);
    expect(matcher.matches(byId('p'), ord1)).toBe(false);
    expect(createQueryMatcher(registry, { keyPrefix: 'p' }).matches(byId('p'), ord1)).toBe(true);
    expect(createQueryMatcher(registry, { keyPrefix: 'p' }).matches(byId('q'), ord1)).toBe(false);
    expect(createQueryMatcher(registry, { keyPrefix: 'p' }).matches(byId(), ord1)).toBe(false);
  });

  it('invalidates every query of a resource for a change without id', () => {
    const all = [{ resource: 'orders' }];
    expect(matcher.matches(tanstackKey(['orders', 'byId'], { id: 'ord_2' }, 'query'), all)).toBe(true);
    expect(matcher.matches(tanstackKey(['orders', 'list'], undefined, 'query'), all)).toBe(true);
    expect(matcher.matches(tanstackKey(['products', 'list'], undefined, 'query'), all)).toBe(false);
  });

  it('compares ids as strings, so numeric inputs match the string ids signals carry', () => {
    expect(matcher.matches(tanstackKey(['invoices', 'byNumber'], { number: 42 }, 'query'), [{ resource: 'invoices', id: '42' }])).toBe(true);
    expect(matcher.matches(tanstackKey(['invoices', 'byNumber'], { number: 43 }, 'query'), [{ resource: 'invoices', id: '42' }])).toBe(false);
  });

  it('treats a by-bound query whose input lacks the field as reading every id', () => {
    expect(matcher.matches(tanstackKey(['orders', 'byId'], {}, 'query'), ord1)).toBe(true);
  });

  it('matches any of several changes with one compiled predicate', () => {
    const stale = matcher.predicate([
      { resource: 'orders', id: 'ord_1' },
      { resource: 'products', id: 'prd_9' },
    ]);
    expect(stale(tanstackKey(['orders', 'byId'], { id: 'ord_1' }, 'query'))).toBe(true);
    expect(stale(tanstackKey(['products', 'byId'], { id: 'prd_9' }, 'query'))).toBe(true);
    expect(stale(tanstackKey(['products', 'byId'], { id: 'prd_1' }, 'query'))).toBe(false);
    expect(stale(tanstackKey(['orders', 'byId'], { id: 'ord_2' }, 'query'))).toBe(false);
  });

  it('lists the query paths of the registry', () => {
    expect(matcher.paths().sort()).toEqual(
      ['dashboard.stats', 'invoices.byNumber', 'orders.byId', 'orders.list', 'products.byId', 'products.list'].sort(),
    );
  });
});

describe('query matcher: one parse per key object', () => {
  it('parses a key once however many batches it is matched against, with the same answers', () => {
    const matcher = createQueryMatcher(registry);
    let reads = 0;
    // A cached query's key is one array for the query's life; count how often the matcher looks inside it.
    const key = new Proxy(tanstackKey(['orders', 'byId'], { id: 'ord_1' }, 'query'), {
      get(target, property, receiver) {
        if (property === '0' || property === '1') reads++;
        return Reflect.get(target, property, receiver) as unknown;
      },
    });
    expect(matcher.matches(key, [{ resource: 'orders', id: 'ord_1' }])).toBe(true);
    const once = reads;
    expect(once).toBeGreaterThan(0);
    expect(matcher.matches(key, [{ resource: 'orders', id: 'ord_2' }])).toBe(false);
    expect(matcher.predicate([{ resource: 'products' }])(key)).toBe(false);
    expect(matcher.predicate([{ resource: 'orders' }])(key)).toBe(true);
    expect(reads).toBe(once);
    // The same key content in another array is matched alike.
    expect(matcher.matches(tanstackKey(['orders', 'byId'], { id: 'ord_1' }, 'query'), [{ resource: 'orders', id: 'ord_1' }])).toBe(true);
  });
});
