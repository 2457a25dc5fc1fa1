import type { Db } from '../db/database';
import { newId } from '../db/ids';
import type { OrderStatus } from './orders';
import { statements } from '../db/statements';

export type ImportStatus = 'queued' | 'running' | 'done' | 'failed';

/** A CSV import job as the UI shows it. */
export interface ImportRecord {
  id: string;
  fileName: string;
  status: ImportStatus;
  totalRows: number;
  processedRows: number;
  importedRows: number;
  failedRows: number;
  /** Job-level failure, or a summary of the first rejected rows. */
  error: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

interface ImportRow {
  id: string;
  file_name: string;
  status: ImportStatus;
  total_rows: number;
  processed_rows: number;
  imported_rows: number;
  failed_rows: number;
  error: string | null;
  created_at: number;
  finished_at: number | null;
}

const toRecord = (row: ImportRow): ImportRecord => ({
  id: row.id,
  fileName: row.file_name,
  status: row.status,
  totalRows: row.total_rows,
  processedRows: row.processed_rows,
  importedRows: row.imported_rows,
  failedRows: row.failed_rows,
  error: row.error,
  createdAt: new Date(row.created_at),
  finishedAt: row.finished_at === null ? null : new Date(row.finished_at),
});

const COLUMNS = `id, file_name, status, total_rows, processed_rows, imported_rows, failed_rows, error, created_at, finished_at`;

/** Records a queued import. */
export function createImport(
  db: Db,
  input: { tenantId: string; userId: string; fileName: string; totalRows: number },
  now = Date.now(),
): ImportRecord {
  const id = newId('imp');
  statements(db).prepare(
    `INSERT INTO imports (id, tenant_id, user_id, file_name, status, total_rows, created_at) VALUES (?, ?, ?, ?, 'queued', ?, ?)`,
  ).run(id, input.tenantId, input.userId, input.fileName, input.totalRows, now);
  return getImport(db, input.tenantId, id)!;
}

/** One import of a tenant, or `null`. */
export function getImport(db: Db, tenantId: string, id: string): ImportRecord | null {
  const row = statements(db).prepare(`SELECT ${COLUMNS} FROM imports WHERE tenant_id = ? AND id = ?`).get(tenantId, id) as
    | ImportRow
    | undefined;
  return row ? toRecord(row) : null;
}

/** Newest imports of a tenant. */
export function listImports(db: Db, tenantId: string, limit = 20): ImportRecord[] {
  const rows = statements(db)
    .prepare(`SELECT ${COLUMNS} FROM imports WHERE tenant_id = ? ORDER BY created_at DESC, rowid DESC LIMIT ?`)
    .all(tenantId, limit) as ImportRow[];
  return rows.map(toRecord);
}

/** Moves an import's state forward. */
export function updateImport(
  db: Db,
  id: string,
  patch: { status?: ImportStatus; processed?: number; imported?: number; failed?: number; error?: string | null; finishedAt?: number },
): void {
  statements(db).prepare(
    `UPDATE imports SET
       status = COALESCE(@status, status),
       processed_rows = COALESCE(@processed, processed_rows),
       imported_rows = COALESCE(@imported, imported_rows),
       failed_rows = COALESCE(@failed, failed_rows),
       error = CASE WHEN @setError THEN @error ELSE error END,
       finished_at = COALESCE(@finishedAt, finished_at)
     WHERE id = @id`,
  ).run({
    id,
    status: patch.status ?? null,
    processed: patch.processed ?? null,
    imported: patch.imported ?? null,
    failed: patch.failed ?? null,
    setError: patch.error !== undefined ? 1 : 0,
    error: patch.error ?? null,
    finishedAt: patch.finishedAt ?? null,
  });
}

/**
 * Marks imports left `queued` or `running` by a previous process as failed:
 * their rows lived in that process's memory. Returns how many.
 */
export function failInterruptedImports(db: Db, now = Date.now()): number {
  return statements(db)
    .prepare(
      `UPDATE imports SET status = 'failed', error = 'Interrupted by a server restart', finished_at = ?
       WHERE status IN ('queued', 'running')`,
    )
    .run(now).changes;
}

/** One valid row of an order import. */
export interface ImportedOrder {
  customer: string;
  productId: string;
  quantity: number;
  unitPriceCents: number;
  status: OrderStatus;
  createdAt: number;
}

/**
 * Inserts a chunk of imported orders in one transaction. Imported orders are
 * records of past sales: they get the next order numbers and do not take
 * stock. Returns their ids.
 */
export function insertImportedOrders(db: Db, tenantId: string, orders: readonly ImportedOrder[], now = Date.now()): string[] {
  const ids: string[] = [];
  db.transaction(() => {
    const next = statements(db).prepare('SELECT COALESCE(MAX(number), 0) + 1 AS n FROM orders WHERE tenant_id = ?').get(tenantId) as {
      n: number;
    };
    const insertOrder = statements(db).prepare(
      `INSERT INTO orders (id, tenant_id, number, customer, status, total_cents, source, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, 'import', ?, ?)`,
    );
    const insertItem = statements(db).prepare(
      'INSERT INTO order_items (order_id, product_id, quantity, unit_price_cents) VALUES (?, ?, ?, ?)',
    );
    orders.forEach((order, i) => {
      const id = newId('ord');
      insertOrder.run(id, tenantId, next.n + i, order.customer, order.status, order.quantity * order.unitPriceCents, order.createdAt, now);
      insertItem.run(id, order.productId, order.quantity, order.unitPriceCents);
      ids.push(id);
    });
  })();
  return ids;
}
