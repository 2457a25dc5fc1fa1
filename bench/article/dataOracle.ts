/**
 * Which observers a change affects, decided from the data itself (issue 19
 * item 4), not from the app's registry and matcher: after each mutation (and
 * before the tenant's next one: schedule.ts), the actor of the tenant re-reads
 * every query an observer of the tenant holds, straight from the server's
 * SQLite file (a read-only handle, through the app's own data functions, the
 * ones its procedures return), and the queries whose result changed are the
 * ones the mutation affected. An invalidation the app forgets to declare then
 * shows up as an observer that never got fresh, instead of as no sample at all.
 *
 * Each tenant has one actor, whose mutations run one at a time, and nothing
 * else writes a tenant's data during the phases: the change between two
 * reads is the mutation's alone. Results are compared as JSON.
 *
 * {@link TenantOracle} does the same reads and reaches the same verdicts at
 * less CPU (it shares a core with the simulated browsers): one read
 * transaction per snapshot, and a result is serialized only when a walk of
 * it cannot prove it equal to the previous one ({@link sameJson}). A CPU
 * profile of the actors' process in (d)'s heavy phase (one run beside other
 * work) had `readAll` at 11% of that core, 47% of the process's own time:
 * SQL ~8 points, JSON.stringify ~2.
 */
import type { Db } from '../../src/server/db/database';
import { dataDigest } from './digest';
import { dashboardStats } from '../../src/server/data/dashboard';
import { listImports } from '../../src/server/data/imports';
import { listNotifications } from '../../src/server/data/notifications';
import { getOrder, listOrders } from '../../src/server/data/orders';
import { listProducts } from '../../src/server/data/products';

/** A tRPC query key as a string: `orders.byId{"id":"ord_1"}`, `products.list` (no input). */
export function canonicalKey(queryKey: readonly unknown[]): string {
  const [path, options] = queryKey as [unknown, { input?: unknown } | undefined];
  const name = Array.isArray(path) ? path.join('.') : String(path);
  const input = options?.input;
  return input === undefined ? name : `${name}${JSON.stringify(input)}`;
}

type Input = Record<string, unknown> | undefined;

/**
 * What each observed query returns, per procedure path, as its procedure does
 * (src/server/routers/*). A page query not listed here fails the run: the
 * oracle must read everything the observers hold.
 */
const READS: Readonly<Record<string, (db: Db, tenantId: string, input: Input) => unknown>> = {
  'orders.list': (db, tenant, input) => listOrders(db, tenant, input ?? {}),
  'orders.byId': (db, tenant, input) => getOrder(db, tenant, String(input?.id)),
  'dashboard.stats': (db, tenant) => dashboardStats(db, tenant),
  'products.list': (db, tenant) => listProducts(db, tenant),
  'notifications.list': (db, tenant, input) => listNotifications(db, tenant, (input?.limit as number | undefined) ?? 50),
  'imports.list': (db, tenant) => listImports(db, tenant),
};

/** The distinct queries the observers of one tenant hold (their tRPC query keys). */
export function readerOf(queryKey: readonly unknown[]): (db: Db, tenantId: string) => Promise<unknown> {
  const [path, options] = queryKey as [unknown, { input?: Input } | undefined];
  const name = Array.isArray(path) ? path.join('.') : String(path);
  const read = READS[name];
  if (!read) throw new Error(`the article's data oracle cannot read ${name}: add it to bench/article/dataOracle.ts`);
  return async (db, tenantId) => read(db, tenantId, options?.input);
}

/** What every query of `queryKeys` returns now, as JSON by canonical key (the plain reference {@link TenantOracle} is tested against). */
export async function readAll(db: Db, tenantId: string, queryKeys: ReadonlyArray<readonly unknown[]>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const key of queryKeys) out.set(canonicalKey(key), JSON.stringify(await readerOf(key)(db, tenantId)));
  return out;
}

/** Canonical keys whose result differs between two reads. */
export function changedKeys(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  return [...after].filter(([key, json]) => before.get(key) !== json).map(([key]) => key);
}

/** Which of a tenant's observed queries one mutation changed, and the digest (digest.ts) of each one's new result. */
export interface Affected {
  readonly affected: string[];
  readonly states: Record<string, string>;
}

/**
 * The data oracle of one tenant, as the actor uses it: the queries its
 * observers hold, read after each mutation and compared with the previous
 * read. The verdict is {@link readAll} + {@link changedKeys}'s (a query is
 * affected when the JSON of its result differs), reached at less cost:
 *
 * - every query is still read, every time, through the app's data functions,
 *   but inside one read transaction (one snapshot, one lock and page-cache
 *   check instead of one per statement: ~13% less in a microbenchmark with a
 *   writer between reads);
 * - a result is serialized only when {@link sameJson} cannot prove it equal to
 *   the previous one; then its JSON text decides, and only a changed result
 *   is digested (once).
 *
 * Measured (microbenchmark, the benchmark's seed of 10 tenants, a writer
 * creating or changing something before each snapshot, the two alternating,
 * process CPU, beside other work): 0.99-1.07 ms per snapshot of a tenant's 16
 * queries with readAll + changedKeys + a digest each, 0.70-0.78 ms with this.
 * What remains is the SQL and row objects of the app's data functions.
 */
export class TenantOracle {
  private constructor(
    private readonly db: Db,
    private readonly tenantId: string,
    private readonly entries: Array<{ key: string; read: (db: Db, tenantId: string) => Promise<unknown>; value: unknown; json: string }>,
    /** What each query held when the oracle opened, as digests by canonical key: the state before the first mutation. */
    readonly initial: Record<string, string>,
  ) {}

  /** Reads every query of `queryKeys` once (their initial state). A query the oracle cannot read throws here. */
  static async open(db: Db, tenantId: string, queryKeys: ReadonlyArray<readonly unknown[]>): Promise<TenantOracle> {
    const keys = new Map(queryKeys.map((queryKey) => [canonicalKey(queryKey), readerOf(queryKey)]));
    const entries = [...keys].map(([key, read]) => ({ key, read, value: undefined as unknown, json: '' }));
    const values = await readInOneSnapshot(db, tenantId, entries);
    const initial: Record<string, string> = {};
    entries.forEach((entry, i) => {
      entry.value = values[i];
      entry.json = JSON.stringify(values[i]);
      initial[entry.key] = dataDigest(entry.json);
    });
    return new TenantOracle(db, tenantId, entries, initial);
  }

  /** Reads every query again: those whose result changed since the previous read, with their new digests. */
  async next(): Promise<Affected> {
    const values = await readInOneSnapshot(this.db, this.tenantId, this.entries);
    const affected: string[] = [];
    const states: Record<string, string> = {};
    this.entries.forEach((entry, i) => {
      const value = values[i];
      const same = sameJson(entry.value, value);
      entry.value = value;
      if (same) return;
      const json = JSON.stringify(value);
      if (json === entry.json) return;
      entry.json = json;
      affected.push(entry.key);
      states[entry.key] = dataDigest(json);
    });
    return { affected, states };
  }
}

/**
 * Every reader's result, their SQL run inside one read transaction: the
 * readers run their statements synchronously when called (an async data
 * function, `listOrders`, awaits only between slices of a customer search,
 * which no page uses; anything after such an await reads outside it, still
 * before the next mutation).
 */
async function readInOneSnapshot(db: Db, tenantId: string, entries: ReadonlyArray<{ read: (db: Db, tenantId: string) => Promise<unknown> }>): Promise<unknown[]> {
  db.exec('BEGIN');
  let pending: Array<Promise<unknown>>;
  try {
    pending = entries.map((entry) => entry.read(db, tenantId));
  } finally {
    db.exec('COMMIT');
  }
  return Promise.all(pending);
}

/**
 * True only when `JSON.stringify(a) === JSON.stringify(b)` is certain without
 * serializing: equal primitives, Dates of the same (valid) time, arrays of
 * the same length and plain objects with the same keys in the same order, all
 * the way down. Anything else (a class instance, a Map, NaN, a `toJSON` key,
 * the same object on both sides) answers false, and the caller then compares
 * JSON text: a false here never decides "changed" on its own.
 */
export function sameJson(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null) return a === b;
  if (typeof b !== 'object' || b === null || a === b) return false;
  if (a instanceof Date) {
    const time = a.getTime();
    return b instanceof Date && Object.getPrototypeOf(a) === Date.prototype && Object.getPrototypeOf(b) === Date.prototype && Number.isFinite(time) && time === b.getTime();
  }
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameJson(a[i], b[i])) return false;
    return true;
  }
  if (!isPlain(a) || !isPlain(b)) return false;
  const keys = Object.keys(a);
  const other = Object.keys(b);
  if (keys.length !== other.length) return false;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (key !== other[i] || key === 'toJSON') return false;
    if (!sameJson((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key])) return false;
  }
  return true;
}

function isPlain(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
