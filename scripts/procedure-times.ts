/**
 * How long each procedure holds the event loop with 100,000 orders in one
 * tenant (issue 15: no procedure may hold it more than 20 ms).
 *
 *   npx tsx scripts/procedure-times.ts [orders=100000]
 *
 * Seeds a throwaway database (acme gets the orders), then calls every query
 * and the order mutations through `createCaller` (real context, real
 * middleware) and prints median and max wall time per call. Queries are
 * synchronous SQLite, so a call's wall time is the time it holds the loop;
 * except a customer search, which yields between slices of its scan (over
 * HTTP it waits for the caller's next turn): its rows "(longest slice)" time
 * the longest stretch between two yields.
 *
 * One run, 2-core machine at load average ~2, medians (before issue 15's fixes -> after):
 *   dashboard.stats 302 -> 0.11 ms; orders.list search miss 24 ms in one stretch -> 1.1 ms
 *   per slice (19.5 ms in all, yielding between slices); status + search miss 24 -> 1.0 ms
 *   per slice; every other query 0.04-1.1 ms; orders.create 1.2 ms, updateStatus 0.7 ms,
 *   adjustStock 0.5 ms; a 250-row import chunk 7.4 -> 8.4 ms (the aggregates' triggers).
 */
import { performance } from 'node:perf_hooks';
import { setupApp } from '../test/helpers/app';
import { insertManyOrders } from '../test/helpers/manyOrders';
import { insertImportedOrders } from '../src/server/data/imports';
import { listOrders, type ListOrdersFilter } from '../src/server/data/orders';

const count = Number(process.argv[2] ?? 100_000);
const ROUNDS = 30;

async function main() {
  const app = await setupApp();
  const seeded = performance.now();
  insertManyOrders(app.db, 'acme', count);
  console.log(`seeded ${count} orders in ${(performance.now() - seeded).toFixed(0)} ms`);
  app.db.prepare("UPDATE products SET stock = 900000 WHERE id = 'prd_acme_2'").run();
  const alice = await app.callerAs('alice@acme.test');
  const anOrder = (app.db.prepare("SELECT id FROM orders WHERE tenant_id = 'acme' ORDER BY number DESC LIMIT 1").get() as { id: string }).id;
  let n = 0;
  /** Longest synchronous stretch of a search: the time between its yields. */
  const longestSlice = async (filter: ListOrdersFilter) => {
    let mark = performance.now();
    let longest = 0;
    const pause = async () => {
      longest = Math.max(longest, performance.now() - mark);
      await new Promise((resolve) => setImmediate(resolve));
      mark = performance.now();
    };
    await listOrders(app.db, 'acme', filter, pause);
    return Math.max(longest, performance.now() - mark);
  };
  const cases: Array<[string, () => Promise<unknown>]> = [
    ['dashboard.stats', () => alice.dashboard.stats()],
    ['orders.list', () => alice.orders.list()],
    ['orders.list {limit: 200}', () => alice.orders.list({ limit: 200 })],
    ['orders.list {status: cancelled, limit: 200}', () => alice.orders.list({ status: 'cancelled', limit: 200 })],
    ['orders.list {search: hit}', () => alice.orders.list({ search: 'Hopper 1' })],
    ['orders.list {search: miss, limit: 200}', () => alice.orders.list({ search: 'nobody at all', limit: 200 })],
    ['orders.list {status+search miss}', () => alice.orders.list({ status: 'paid', search: 'zzz' })],
    ['orders.list {search: miss, limit: 200} (longest slice)', () => longestSlice({ search: 'nobody at all', limit: 200 })],
    ['orders.list {status+search miss} (longest slice)', () => longestSlice({ status: 'paid', search: 'zzz' })],
    ['orders.byId', () => alice.orders.byId({ id: anOrder })],
    ['products.list', () => alice.products.list()],
    ['notifications.list {limit: 200}', () => alice.notifications.list({ limit: 200 })],
    ['imports.list', () => alice.imports.list()],
    ['orders.create', () => alice.orders.create({ customer: `Load ${n++}`, items: [{ productId: 'prd_acme_2', quantity: 1 }] })],
    ['orders.updateStatus', () => alice.orders.updateStatus({ id: anOrder, status: n++ % 2 ? 'cancelled' : 'paid' })],
    ['products.adjustStock', () => alice.products.adjustStock({ id: 'prd_acme_1', delta: n++ % 2 ? 1 : -1 })],
    [
      'import chunk (250 rows)',
      async () =>
        insertImportedOrders(
          app.db,
          'acme',
          Array.from({ length: 250 }, (_, i) => ({
            customer: `Imported ${i}`,
            productId: 'prd_acme_1',
            quantity: 1,
            unitPriceCents: 100,
            status: 'paid' as const,
            createdAt: Date.now(),
          })),
        ),
    ],
  ];
  const rows: string[] = [];
  for (const [name, call] of cases) {
    await call(); // warm the statement cache
    const times: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const start = performance.now();
      const slice = await call();
      times.push(name.endsWith('(longest slice)') ? (slice as number) : performance.now() - start);
    }
    times.sort((a, b) => a - b);
    rows.push(`${name.padEnd(44)} median ${times[ROUNDS >> 1]!.toFixed(2).padStart(8)} ms   max ${times.at(-1)!.toFixed(2).padStart(8)} ms`);
  }
  console.log(rows.join('\n'));
  await app.close();
}

void main();
