/**
 * Issue 17 item 7: each query a page keeps live stays cheap at 100,000 orders
 * (`npm run bench -- queries` times them). This is the cheap guard, at a few
 * thousand orders: SQLite's own plan of every statement each query runs (with
 * the values it ran with) reads the big tables through an index, never a scan
 * of them; and a customer search that matches nothing runs a fixed number of
 * statements, whatever the number of orders (it used to read them all, a
 * slice at a time; a 1-2 character one still did until migration 7).
 */
import type { Statement } from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUERY_CASES, seedTenant, type CaseIds } from '../../bench/queries/cases';
import { listOrders, SEARCH_SLICE } from '../../src/server/data/orders';
import type { Db } from '../../src/server/db/database';
import { setupApp, type Caller, type TestApp } from '../helpers/app';
import { insertManyOrders } from '../helpers/manyOrders';

/**
 * Tables that grow with the orders; a plan may only SEARCH them (aliases as the data layer writes them).
 * Not here: `order_customers`, which a 1-2 character search reads whole for its tenant: it grows with the
 * customers, not the orders (`src/server/db/customersMigration.ts`).
 */
const BIG_TABLES = new Set(['orders', 'o', 'order_items', 'i', 'notifications', 'imports']);

interface Executed {
  readonly sql: string;
  readonly args: unknown[];
}

/** Records every statement run through `db.prepare` from now on (the data layer's statement cache prepares through it). */
function recordStatements(db: Db): Executed[] {
  const log: Executed[] = [];
  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) =>
    new Proxy(prepare(sql), {
      get(target, prop) {
        const value = Reflect.get(target, prop, target) as unknown;
        if (typeof value !== 'function') return value;
        if (prop === 'all' || prop === 'get' || prop === 'run' || prop === 'iterate') {
          return (...args: unknown[]) => {
            log.push({ sql, args });
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        return (value as (...a: unknown[]) => unknown).bind(target);
      },
    })) as Db['prepare'];
  return log;
}

/** SQLite's plan lines of one executed statement, with its values bound. */
function planOf(prepare: Db['prepare'], { sql, args }: Executed): string[] {
  const explain: Statement = prepare(`EXPLAIN QUERY PLAN ${sql}`);
  return (explain.all(...args) as Array<{ detail: string }>).map((row) => row.detail);
}

/** Index lookups of one row (or one order's items): bounded whatever the statement's LIMIT. */
const ONE_KEY = /\((id|rowid|order_id)=\?\)$/;

/**
 * Plan lines of `sql` that read a big table unbounded: a SCAN of it (or of a
 * full-text table without a MATCH), or a SEARCH that is neither a lookup by
 * one key nor in a statement with a LIMIT (`SEARCH orders ... (tenant_id=?)`
 * without a LIMIT reads every order of the tenant, as the dashboard's
 * COUNT/SUM did before its aggregates).
 */
function unbounded(sql: string, plan: readonly string[]): string[] {
  const limited = /\bLIMIT\b/i.test(sql);
  return plan.filter((line) => {
    const read = /^(SCAN|SEARCH) (\w+)/.exec(line);
    if (!read) return false;
    // json_each reads a bound value (the customers a short search matched), not stored rows.
    if (line.includes('VIRTUAL TABLE')) return read[2] !== 'json_each' && !/INDEX \d+:M/.test(line);
    if (!BIG_TABLES.has(read[2]!)) return false;
    return read[1] === 'SCAN' || !(limited || ONE_KEY.test(line));
  });
}

/** {@link unbounded} of every executed statement, with its SQL. */
const unboundedReads = (prepare: Db['prepare'], log: readonly Executed[]) =>
  log.flatMap((executed) => unbounded(executed.sql, planOf(prepare, executed)).map((line) => `${line} in ${executed.sql.replace(/\s+/g, ' ')}`));

describe('query plans of the live queries', () => {
  let app: TestApp;
  let alice: Caller;
  let ids: CaseIds;
  let log: Executed[];
  let prepare: Db['prepare'];
  beforeAll(async () => {
    app = await setupApp();
    prepare = app.db.prepare.bind(app.db);
    log = recordStatements(app.db);
    // More than a slice of the paid orders too, so that a search's later steps run with a status as well.
    ids = seedTenant(app.db, 5 * SEARCH_SLICE);
    alice = await app.callerAs('alice@acme.test');
  }, 60_000);
  afterAll(async () => {
    await app.close();
  });

  it('reads orders, items, notifications and imports by one key or a bounded index range in every query a page keeps live', async () => {
    const found: Record<string, string[]> = {};
    for (const c of QUERY_CASES) {
      log.length = 0;
      await c.call(alice, ids);
      expect(log.length, c.name).toBeGreaterThan(0);
      const bad = unboundedReads(prepare, log);
      if (bad.length) found[c.name] = bad;
    }
    expect(found).toEqual({});
  });

  it('sees a scan when a query loses its index (the check is not blind)', async () => {
    app.db.exec('DROP INDEX notifications_by_tenant_created');
    try {
      log.length = 0;
      await alice.notifications.list();
      expect(log.flatMap((executed) => unbounded(executed.sql, planOf(prepare, executed)))).toEqual(['SCAN notifications']);
    } finally {
      app.db.exec('CREATE INDEX notifications_by_tenant_created ON notifications (tenant_id, created_at DESC)');
    }
  });

  it('sees an aggregate over every order of a tenant (what the dashboard computed before its aggregates)', () => {
    const scan = { sql: "SELECT COUNT(*) AS n, SUM(total_cents) AS cents FROM orders WHERE tenant_id = ? AND status != 'cancelled'", args: ['acme'] };
    expect(unbounded(scan.sql, planOf(prepare, scan))).toHaveLength(1);
  });

  it('runs as many statements for a customer search that matches nothing whatever the number of orders', async () => {
    const statementsFor = async () => {
      log.length = 0;
      expect(await listOrders(app.db, 'acme', { search: 'nobody at all' })).toEqual([]);
      expect(await listOrders(app.db, 'acme', { status: 'paid', search: 'zzz' })).toEqual([]);
      expect(await listOrders(app.db, 'acme', { search: 'zq' })).toEqual([]);
      return log.length;
    };
    const before = await statementsFor();
    insertManyOrders(app.db, 'acme', 2 * SEARCH_SLICE);
    expect(await statementsFor()).toBe(before);
  });
});
