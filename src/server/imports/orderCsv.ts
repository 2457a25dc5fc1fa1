import { DomainError } from '../data/domainError';
import type { ImportedOrder } from '../data/imports';
import { ORDER_STATUSES, type OrderStatus } from '../data/orders';
import { parseCsv } from './parseCsv';

/** Columns of an order import; `status` and `created_at` may be left out. */
export const ORDER_CSV_COLUMNS = ['customer', 'sku', 'quantity', 'status', 'created_at'] as const;
/** Most data rows one import accepts. */
export const MAX_IMPORT_ROWS = 50_000;

/** A parsed order CSV: data rows as named fields, numbered as in the file (header = line 1). */
export interface OrderCsv {
  readonly rows: ReadonlyArray<{ line: number; fields: Record<string, string> }>;
}

/**
 * Reads the header and rows of an order CSV.
 * @throws DomainError BAD_REQUEST for a missing column, no rows or too many rows.
 */
export function readOrderCsv(text: string): OrderCsv {
  const [header, ...data] = parseCsv(text);
  if (!header) throw new DomainError('BAD_REQUEST', 'The file is empty');
  const names = header.map((h) => h.trim().toLowerCase());
  for (const required of ['customer', 'sku', 'quantity']) {
    if (!names.includes(required)) {
      throw new DomainError('BAD_REQUEST', `Missing column "${required}" (expected: ${ORDER_CSV_COLUMNS.join(', ')})`);
    }
  }
  if (!data.length) throw new DomainError('BAD_REQUEST', 'The file has a header but no rows');
  if (data.length > MAX_IMPORT_ROWS) {
    throw new DomainError('BAD_REQUEST', `At most ${MAX_IMPORT_ROWS.toLocaleString('en-US')} rows per import (got ${data.length})`);
  }
  return {
    rows: data.map((fields, i) => ({
      line: i + 2,
      fields: Object.fromEntries(names.map((name, k) => [name, (fields[k] ?? '').trim()])),
    })),
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
