import type { Statement } from 'better-sqlite3';
import type { Db } from './database';

/** Prepares SQL once per database handle. */
export interface StatementCache {
  /** The statement for `sql`, prepared on first use and reused after. */
  prepare(sql: string): Statement;
}

const caches = new WeakMap<Db, StatementCache>();

/**
 * The statement cache of `db`: `statements(db).prepare(sql)` compiles `sql`
 * once per handle and reuses it. Compiling cost more than running most of the
 * app's queries (profiled: `prepare` was ~8% of a query request's server CPU).
 * SQL text must come from code, never from user input (values go in
 * parameters), so the number of distinct texts, and the cache, stay small.
 */
export function statements(db: Db): StatementCache {
  let cache = caches.get(db);
  if (!cache) {
    const prepared = new Map<string, Statement>();
    cache = {
      prepare(sql) {
        let statement = prepared.get(sql);
        if (!statement) {
          statement = db.prepare(sql);
          prepared.set(sql, statement);
        }
        return statement;
      },
    };
    caches.set(db, cache);
  }
  return cache;
}
