import { DomainError } from '../data/domainError';
import type { ImportedOrder } from '../data/imports';
import { ORDER_STATUSES, type OrderStatus } from '../data/orders';
import { countCsvRows, readCsvRows } from './parseCsv';

/** Columns of an order import; `status` and `created_at` may be left out. */
export const ORDER_CSV_COLUMNS = ['customer', 'sku', 'quantity', 'status', 'created_at'] as const;
/** Most data rows one import accepts. */
export const MAX_IMPORT_ROWS = 50_000;

/** An order CSV whose header has been checked; its rows are read a chunk at a time ({@link orderRows}). */
export interface OrderCsv {
  /** Column names of the header, trimmed and lower-cased. */
  readonly names: readonly string[];
  /** Data rows (blank lines are not rows). */
  readonly rowCount: number;
  readonly text: string;
  /** Where the first data row starts in `text`. */
  readonly start: number;
}

/** One data row as named fields, numbered as in the file (header = line 1, blank lines not counted). */
export interface OrderCsvRow {
  readonly line: number;
  readonly fields: Record<string, string>;
}

/**
 * Checks the header and counts the rows of an order CSV, without building
 * them: the request that uploads a file only pays for a count.
 * @throws DomainError BAD_REQUEST for a missing column, no rows or too many rows.
 */
export function readOrderCsv(text: string): OrderCsv {
  const { rows: [header], next: start } = readCsvRows(text, 0, 1);
  if (!header) throw new DomainError('BAD_REQUEST', 'The file is empty');
  const names = header.map((h) => h.trim().toLowerCase());
  for (const required of ['customer', 'sku', 'quantity']) {
    if (!names.includes(required)) {
      throw new DomainError('BAD_REQUEST', `Missing column "${required}" (expected: ${ORDER_CSV_COLUMNS.join(', ')})`);
    }
  }
  const rowCount = countCsvRows(text, start);
  if (!rowCount) throw new DomainError('BAD_REQUEST', 'The file has a header but no rows');
  if (rowCount > MAX_IMPORT_ROWS) {
    throw new DomainError('BAD_REQUEST', `At most ${MAX_IMPORT_ROWS.toLocaleString('en-US')} rows per import (got ${rowCount})`);
  }
  return { names, rowCount, text, start };
}

/** Reads the rows of `csv` in order, `max` at a time (an empty array at the end). */
export function orderRows(csv: OrderCsv): { next(max: number): OrderCsvRow[] } {
  let position = csv.start;
  let line = 2;
  return {
    next(max) {
      const { rows, next } = readCsvRows(csv.text, position, max);
      position = next;
      return rows.map((fields) => ({
        line: line++,
        fields: Object.fromEntries(csv.names.map((name, k) => [name, (fields[k] ?? '').trim()])),
      }));
    },
  };
}

/** A product as row validation needs it. */
export interface ImportProduct {
  readonly id: string;
  readonly priceCents: number;
}

/** Validates one row; returns the order to insert or a message naming the problem. */
export function validateOrderRow(
  fields: Record<string, string>,
  productsBySku: ReadonlyMap<string, ImportProduct>,
  now: number,
): ImportedOrder | string {
  const customer = fields.customer ?? '';
  if (!customer || customer.length > 120) return 'customer must be 1 to 120 characters';
  const product = productsBySku.get((fields.sku ?? '').toUpperCase());
  if (!product) return `unknown SKU "${(fields.sku ?? '').slice(0, 40)}"`;
  const quantity = Number(fields.quantity);
  if (!Number.isInteger(quantity) || quantity < 1 || quantity > 1000) return 'quantity must be a whole number from 1 to 1000';
  const status = (fields.status || 'pending').toLowerCase() as OrderStatus;
  if (!ORDER_STATUSES.includes(status)) return `status must be one of ${ORDER_STATUSES.join(', ')}`;
  let createdAt = now;
  if (fields.created_at) {
    createdAt = Date.parse(fields.created_at);
    if (!Number.isFinite(createdAt) || createdAt > now + 86_400_000) return 'created_at must be a date, not in the future';
  }
  return { customer, productId: product.id, quantity, unitPriceCents: product.priceCents, status, createdAt };
}
