import { performance } from 'node:perf_hooks';
import superjson from 'superjson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyDelta, diffValues } from 'trpc-live/shared';
import { setupApp, type TestApp } from '../helpers/app';
import { insertManyOrders } from '../helpers/manyOrders';

// Delta against whole-result bytes for one new order, on the demo's own pushed queries and data (issue 17 item 9):
// the figures behind DELTA_MAX_SHARE in packages/trpc-live/src/trpc/pushResults.ts. Prints them; asserts only
// that a new order on top of a 50-row list and on products.list costs well under the whole result.

/** A frame's payload as the demo's hub encodes it (src/server/appHub.ts: superjson). */
const encode = (message: unknown) => JSON.stringify(superjson.serialize(message)).length;
const wholeBytes = (data: unknown) => encode({ kind: 'result', watch: 'w', epoch: 'e', seq: 2, data });
const deltaBytes = (before: unknown, after: unknown) =>
  encode({ kind: 'delta', watch: 'w', epoch: 'e', seq: 2, base: 1, ops: diffValues(before, after) });

let app: TestApp;
beforeAll(async () => {
  app = await setupApp();
  insertManyOrders(app.db, 'acme', 200);
});
afterAll(() => app.close());

describe('delta size on the demo queries', () => {
  it('sends a new order as a delta much smaller than the whole result of orders.list (50 rows) and products.list', async () => {
    const alice = await app.callerAs('alice@acme.test');
    const read = async () => ({
      'orders.list (50 rows)': await alice.orders.list({ limit: 50 }),
      'dashboard.stats': await alice.dashboard.stats(),
      'products.list': await alice.products.list(),
    });
    const before = await read();
    await alice.orders.create({ customer: 'Delta check', items: [{ productId: 'prd_acme_1', quantity: 1 }] });
    const after = await read();
    const rows: Record<string, { whole: number; delta: number; share: string; diffUs: number; applyUs: number }> = {};
    for (const name of Object.keys(before) as Array<keyof typeof before>) {
      const [b, a] = [before[name], after[name]];
      const ops = diffValues(b, a);
      // The oracle: the delta rebuilds exactly what the query returns now.
      expect(applyDelta(b, superjson.parse(superjson.stringify(ops)) as never)).toEqual(a);
      const time = (fn: () => unknown) => {
        const start = performance.now();
        for (let i = 0; i < 200; i++) fn();
        return Math.round(((performance.now() - start) / 200) * 1000);
      };
      const whole = wholeBytes(a);
      const delta = deltaBytes(b, a);
      rows[name] = { whole, delta, share: `${((delta / whole) * 100).toFixed(1)}%`, diffUs: time(() => diffValues(b, a)), applyUs: time(() => applyDelta(b, ops)) };
    }
    console.log('bytes of a new order, delta vs whole (superjson frames):');
    console.table(rows);
    expect(rows['orders.list (50 rows)']!.delta).toBeLessThan(rows['orders.list (50 rows)']!.whole / 10);
    expect(rows['products.list']!.delta).toBeLessThan(rows['products.list']!.whole / 3);
  });
});
