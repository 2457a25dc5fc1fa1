/**
 * Which observers a change affects, decided from the data itself (issue 19
 * item 4), not from the app's registry and matcher: after each mutation, the
 * actor of the tenant re-reads every query an observer of the tenant holds,
 * straight from the server's SQLite file (a read-only handle, through the
 * app's own data functions, the ones its procedures return), and the queries
 * whose result changed are the ones the mutation affected. An invalidation the
 * app forgets to declare then shows up as an observer that never got fresh,
 * instead of as no sample at all.
 *
 * Each tenant has one actor, whose mutations run one at a time, and nothing
 * else writes a tenant's data during the phases: the change between two
 * reads is the mutation's alone. Results are compared as JSON.
 */
import type { Db } from '../../src/server/db/database';
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

/** What every query of `queryKeys` returns now, as JSON by canonical key. */
export async function readAll(db: Db, tenantId: string, queryKeys: ReadonlyArray<readonly unknown[]>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const key of queryKeys) out.set(canonicalKey(key), JSON.stringify(await readerOf(key)(db, tenantId)));
  return out;
}

/** Canonical keys whose result differs between two reads. */
export function changedKeys(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  return [...after].filter(([key, json]) => before.get(key) !== json).map(([key]) => key);
}
