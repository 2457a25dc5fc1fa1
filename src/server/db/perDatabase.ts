import type { Db } from './database';

/**
 * One `T` per database per process, kept on `globalThis` under `name` (like
 * the hub and the database themselves), so Next's route bundles and the Node
 * entry share it; created by `create` on first use.
 */
export function perDatabase<T extends object>(name: string, db: Db, create: (db: Db) => T): T {
  const key = Symbol.for(`trpc-live.app.${name}`);
  const g = globalThis as { [key: symbol]: WeakMap<Db, T> | undefined };
  const all = (g[key] ??= new WeakMap<Db, T>());
  let value = all.get(db);
  if (!value) all.set(db, (value = create(db)));
  return value;
}
